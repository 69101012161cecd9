"""Accessibility of the HTML worksheets and the Anki cards.

- Structure, in the default run: one <main>, headings that never skip a level, every exercise
  under a heading, and figure captions that do not read the alt text out a second time.
- axe-core, with `-m a11y` (or tests/a11y/run.sh, which installs what it needs): every card side
  (question and answer) as Anki renders it, in day and both night modes, with MathJax 3, and both
  HTML worksheets, in one headless Chromium; 0 serious or critical violations. Without Chromium,
  node or the npm packages the test is skipped, unless CI and GEN_A11Y=1 are both set: then a CI
  job that opted in fails instead of passing with nothing checked.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from .conftest import LESSONS, small_options

LESSON = "lesson-1.2.32"


# --- structure (no browser) ---------------------------------------------------------------------

def _doc(small_build, name):
    from lxml import html as lhtml
    out, _, _ = small_build
    return lhtml.document_fromstring((out / LESSON / name).read_text("utf-8"))


def _text(el) -> str:
    return re.sub(r"\s+", " ", el.text_content()).strip()


@pytest.mark.parametrize("name", ["worksheet.html", "answer-key.html"])
def test_one_main_landmark_holding_every_section(small_build, name):
    doc = _doc(small_build, name)
    [main] = doc.xpath("//main")
    assert not doc.xpath("//body/*[not(self::main)][normalize-space()]"), "content outside <main>"
    assert main.xpath(".//section[contains(@class, 'version-block')]")


@pytest.mark.parametrize("name", ["worksheet.html", "answer-key.html"])
def test_headings_go_down_one_level_at_a_time(small_build, name):
    doc = _doc(small_build, name)
    levels = [int(h.tag[1]) for h in doc.xpath("//h1|//h2|//h3|//h4|//h5|//h6")]
    assert levels and levels[0] == 1
    jumps = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
    assert not jumps, f"heading levels skip: {jumps}"
    assert 3 in levels and 4 in levels


@pytest.mark.parametrize("name", ["worksheet.html", "answer-key.html"])
def test_sections_are_headings_not_bold_paragraphs(small_build, name):
    out, _, manifest = small_build
    doc = _doc(small_build, name)
    bold = [_text(b) for b in doc.xpath("//p/strong|//p/b|//div/strong")]
    for word in ("Exercise", "Quick check", "Conceptual questions", "Coding challenge", "Learning objectives"):
        assert not any(b.startswith(word) for b in bold), (word, bold)
    headings = {_text(h) for h in doc.xpath("//h2|//h3|//h4")}
    exercises = [i["id"] for i in manifest["lessons"][0]["items"] if i.get("section") == "exercises"]
    assert exercises and all(f"Exercise {e}" in headings for e in exercises), (exercises, headings)
    assert {"Quick check: true or false?", "Conceptual questions", "Coding challenge"} <= headings


def test_figure_captions_do_not_repeat_the_alt_text(small_build):
    doc = _doc(small_build, "answer-key.html")
    versions = doc.xpath("//section[contains(@class, 'version-block')]")
    assert len(versions) == 2 and doc.xpath("//figure")
    for version in versions:       # (a′) in version 2 is another variant than in version 1
        captions = []
        for fig in version.xpath(".//figure"):
            [img], [cap] = fig.xpath(".//img"), fig.xpath(".//figcaption")
            alt, caption = img.get("alt", "").strip(), _text(cap)
            assert alt and caption
            assert alt not in caption and caption not in alt, (alt, caption)
            captions.append(caption)
        assert len(set(captions)) == len(captions), f"two figures share a caption: {captions}"


# --- axe-core in Chromium (-m a11y) -------------------------------------------------------------

def _opted_in() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false") and os.environ.get("GEN_A11Y") == "1"


def _require(ok: bool, reason: str) -> None:
    if ok:
        return
    if _opted_in():
        pytest.fail(f"{reason} (CI and GEN_A11Y=1 are set, so this fails instead of skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def axe_report(tmp_path_factory):
    from .a11y.pages import NODE_MODULES, prepare, run_axe, summary
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    _require(Path(chromium).exists(), f"no Chromium at {chromium}: apt-get install -y chromium "
             "(or run tests/a11y/run.sh, which installs it)")
    _require(shutil.which("node") is not None, "node is not installed: apt-get install -y nodejs npm")
    _require(all((NODE_MODULES / p / "package.json").exists() for p in ("axe-core", "puppeteer-core", "mathjax")),
             "the npm packages are not installed: npm ci --prefix tests/a11y")
    try:
        import anki  # noqa: F401
    except ImportError:
        _require(False, "the anki package is not installed: python3 -m pip install -e '.[test]'")

    from generator.pipeline import build
    work = tmp_path_factory.mktemp("a11y")
    build([LESSONS], work / "build", small_options(variants=1, anki_variants=1, copies=1, pdf=False,
                                                   targets=("anki", "worksheet")))
    pages = prepare(work / "build" / LESSON, work / "pages")
    shots = os.environ.get("GEN_A11Y_SCREENSHOTS")
    report = run_axe(pages, work, Path(shots) if shots else None)
    print("\n" + summary(report))
    return pages, report


@pytest.mark.a11y
def test_axe_finds_no_serious_or_critical_violation(axe_report):
    from .a11y.pages import blocking
    _, report = axe_report
    found = blocking(report)
    lines = [f"{impact_line(v)} on {page} [{mode}]" for page, mode, v in found]
    assert not found, "axe-core:\n" + "\n".join(lines[:40])


def impact_line(v) -> str:
    node = v["nodes"][0]
    return f"{v['impact']} {v['id']} ({v['help']}): {node['target']} {node['summary'].splitlines()[-1].strip()}"


@pytest.mark.a11y
def test_every_card_side_and_mode_was_checked(axe_report):
    pages, report = axe_report
    checked = {(r["id"], r["mode"]) for r in report["results"]}
    cards = [p for p in pages.pages if p.path.startswith("cards/")]
    assert len({p.id for p in pages.pages}) == len(pages.pages)
    assert len(cards) >= 2 * 30, len(cards)     # this lesson's deck: 39 notes at --anki-variants 1
    assert {m.name for p in cards for m in p.modes} == {"day", "night", "night-legacy"}
    assert checked == {(p.id, m.name) for p in pages.pages for m in p.modes}
    assert {"worksheet.html", "answer-key.html"} <= {p.id for p in pages.pages}


@pytest.mark.a11y
def test_mathjax_typeset_every_card_and_every_file_loaded(axe_report):
    _, report = axe_report
    cards = [r for r in report["results"] if r["path"].startswith("cards/")]
    assert sum(r["math"]["rendered"] for r in cards) > 100
    assert all(r["math"]["untypeset"] == 0 and r["math"]["errors"] == 0 for r in cards), \
        [r["id"] for r in cards if r["math"]["untypeset"] or r["math"]["errors"]][:5]
    failed = {u for r in report["results"] for u in r["failedRequests"]}
    assert not failed, sorted(failed)[:10]
