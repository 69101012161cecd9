"""The item audit (tests/item_audit.py) on real builds: every Canvas and Moodle item answered by
simulated students and graded by models of the LMSs' own graders (tests/lms_grading.py).

CI audits a class-sized build of the example lesson and of a lesson with every family, shape and
fixed field (tests/lessons/all-families.yaml); `-m slow` audits 500 variants of each. The audit is
shown to fail on broken items, so a passing run means something.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from generator.pipeline import build

from .conftest import LESSONS, small_options
from .item_audit import audit, table

ALL_FAMILIES = Path(__file__).parent / "lessons" / "all-families.yaml"


def _build(tmp_path_factory, lesson, variants, **kw):
    out = tmp_path_factory.mktemp("audit") / "build"
    build([lesson], out, small_options(variants=variants, targets=("qti", "moodle"), **kw))
    return out


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return _build(tmp_path_factory, LESSONS, 12)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return _build(tmp_path_factory, LESSONS, 2)


@pytest.fixture(scope="module")
def every_family(tmp_path_factory):
    return _build(tmp_path_factory, ALL_FAMILIES, 6)


def _assert_clean(folder):
    report = audit(folder)
    assert not report.findings, "\n".join(report.findings[:40]) + "\n" + table(report)
    return report


def test_example_lesson_passes_the_audit(example):
    report = _assert_clean(example)
    assert report.items[("moodle", "multianswer")] and report.items[("canvas", "fill_in_multiple_blanks_question")]
    assert report.items[("canvas", "multiple_dropdowns_question")] and report.items[("moodle", "numerical")]


def test_every_family_passes_the_audit(every_family):
    report = _assert_clean(every_family)
    # Level 1 gives 1 point: its multi-box items fall back to one multiple choice in Moodle only.
    assert report.items[("moodle", "multichoice")] > report.items[("canvas", "multiple_choice_question")]


def test_image_mode_and_figures_pass_the_audit(tmp_path_factory):
    _assert_clean(_build(tmp_path_factory, LESSONS, 2, canvas_math="image", lms_figures=True))


@pytest.mark.slow
@pytest.mark.parametrize("lesson", [LESSONS, ALL_FAMILIES], ids=["example", "all-families"])
def test_audit_passes_on_500_variants(tmp_path_factory, lesson):
    report = _assert_clean(_build(tmp_path_factory, lesson, 500))
    print(table(report))


# ---------------------------------------------------------------------------------------------
# The audit can fail: each broken item below is caught.

def _copy(src, tmp_path):
    dst = tmp_path / "build"
    shutil.copytree(src, dst)
    return dst


def _edit_moodle(folder, edit):
    path = folder / "lesson-1.2.32" / "moodle.xml"
    root = etree.fromstring(path.read_bytes())
    edit(root)
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _edit_qti(folder, edit):
    path = folder / "lesson-1.2.32" / "canvas-qti.zip"
    zin = zipfile.ZipFile(path)
    entries = {n: zin.read(n) for n in zin.namelist()}
    name = next(n for n in entries if n.count("/") == 1 and n.endswith(".xml") and "meta" not in n)
    entries[name] = edit(entries[name].decode("utf-8")).encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zout:
        for n, data in entries.items():
            zout.writestr(n, data)
    path.write_bytes(buf.getvalue())


def test_audit_catches_a_distractor_marked_right(tiny, tmp_path):
    folder = _copy(tiny, tmp_path)

    def edit(root):
        q = next(q for q in root.iter("question") if q.get("type") == "multichoice")
        next(a for a in q.iter("answer") if a.get("fraction") == "0").set("fraction", "100")
    _edit_moodle(folder, edit)
    assert any("fully right options" in f for f in audit(folder).findings)


def test_audit_catches_a_cloze_worth_the_wrong_marks(tiny, tmp_path):
    folder = _copy(tiny, tmp_path)

    def edit(root):
        q = next(q for q in root.iter("question") if q.get("type") == "cloze")
        node = q.find("questiontext/text")
        node.text = etree.CDATA(node.text.replace("{1:NUMERICAL:", "{2:NUMERICAL:", 1))
    _edit_moodle(folder, edit)
    findings = audit(folder).findings
    assert any("Moodle mark" in f for f in findings) and any("Moodle category" in f for f in findings)


def test_audit_catches_a_blank_that_refuses_two_decimals(tiny, tmp_path):
    folder = _copy(tiny, tmp_path)
    # Keep only the bare integer spellings of every blank, as the exporter used to.
    _edit_qti(folder, lambda xml: re.sub(r"<mattext texttype=\"text/plain\">[+\-−]?\d+\.\d+</mattext>",
                                         '<mattext texttype="text/plain">9999</mattext>', xml))
    assert any("typed" in f and "fill_in_multiple_blanks" in f for f in audit(folder).findings)


def test_audit_catches_a_prompt_in_two_pools_and_an_unfair_pool(tiny, tmp_path):
    folder = _copy(tiny, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    pa, pb = [p for p in manifest["problems"] if p["family"] == "gradient" and p["variant"] == 1][:2]
    pb["prompt"] = pa["prompt"]
    pc = next(p for p in manifest["problems"] if p["family"] == "gradient_at_point" and p["variant"] == 2)
    pc["shape"] = "another shape"
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    findings = audit(folder).findings
    assert any("appears in the pools" in f for f in findings)
    assert any("problems of 2 shapes" in f for f in findings)


def test_audit_catches_a_correct_answer_offered_as_a_distractor(tiny, tmp_path):
    folder = _copy(tiny, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    p = next(p for p in manifest["problems"] if p["family"] == "gradient" and p["variant"] == 1)
    part = p["parts"][0]
    part["distractors"][0]["value"] = part["answer"]
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    assert any("equals the answer" in f for f in audit(folder).findings)
