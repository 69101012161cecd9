"""The deck, imported by Anki's own backend (the `anki` package) with default import options."""
from __future__ import annotations

import re
import sqlite3
import tempfile
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.pipeline import build
from generator.targets.anki import cloze_html

from .conftest import LESSONS, small_options

anki = pytest.importorskip("anki")


def fresh_collection(tmp_path):
    from anki.collection import Collection
    from anki.lang import set_lang
    set_lang("en_US")
    return Collection(str(tmp_path / "collection.anki2"))


def import_deck(col, apkg):
    from anki.collection import ImportAnkiPackageRequest
    from anki.import_export_pb2 import ImportAnkiPackageOptions
    return col.import_anki_package(ImportAnkiPackageRequest(package_path=str(apkg),
                                                            options=ImportAnkiPackageOptions()))


class _Balanced(HTMLParser):
    VOID = {"br", "hr", "img", "meta", "input", "link"}

    def __init__(self):
        super().__init__()
        self.stack = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()


def assert_card_html(html, literal_dollars=False):
    body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    text = re.sub(r"<[^>]+>", "", body).strip()
    assert text
    assert body.count(r"\(") == body.count(r"\)") and body.count(r"\[") == body.count(r"\]")
    assert literal_dollars or "$" not in body
    parser = _Balanced()
    parser.feed(body)
    parser.close()
    assert not parser.stack, parser.stack


@pytest.fixture(scope="module")
def imported(small_build, tmp_path_factory):
    out, files, manifest = small_build
    col = fresh_collection(tmp_path_factory.mktemp("anki"))
    result = import_deck(col, out / "lesson-1.2.32" / "lesson-1.2.32.apkg")
    yield col, result, manifest
    col.close()


def test_import_counts_per_deck(imported):
    col, result, manifest = imported
    root = "Calculus for ML::1.2.32 Gradients and Directional Derivatives"
    counts = {name: len(col.find_cards(f'"deck:{root}::{name}"')) for name in ("Concepts", "Practice", "Quiz")}
    problems = [p for p in manifest["problems"] if p["variant"] <= 2]
    practice = sum(1 for p in problems if p["section"] == "exercises")
    quiz_problems = sum(1 for p in problems if p["section"] != "exercises")
    # Concepts: 4 objectives + 5 explained exercises + cloze cards (2+2+1+1+1+2 deletions).
    assert counts == {"Concepts": 4 + 5 + 8, "Practice": practice, "Quiz": quiz_problems + 4 + 3}
    assert len(result.log.new) == col.note_count()
    assert not result.log.conflicting and not result.log.duplicate


def test_every_card_renders(imported):
    col, _, _ = imported
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        q, a = card.question(), card.answer()
        assert_card_html(q)
        assert_card_html(a)
        assert q != a


def test_media_referenced_are_present(small_build):
    out, _, _ = small_build
    with zipfile.ZipFile(out / "lesson-1.2.32" / "lesson-1.2.32.apkg") as zf:
        import json
        media = json.loads(zf.read("media"))
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "c.anki2"
            db.write_bytes(zf.read("collection.anki2"))
            fields = [r[0] for r in sqlite3.connect(db).execute("select flds from notes")]
        referenced = {m for f in fields for m in re.findall(r'src="([^"]+)"', f)}
        assert referenced and referenced <= set(media.values())
        for index in media:
            assert zf.read(index)[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_temporary_files_left_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    tempfile.tempdir = None
    try:
        build([LESSONS], tmp_path / "out", small_options(variants=1, targets=("anki",)))
    finally:
        tempfile.tempdir = None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_rebuild_with_a_fix_updates_notes_in_place(tmp_path, lesson_copy):
    col = fresh_collection(tmp_path)
    build([lesson_copy], tmp_path / "one", small_options(variants=1, targets=("anki",)))
    import_deck(col, tmp_path / "one" / "lesson-1.2.32" / "lesson-1.2.32.apkg")
    notes = col.note_count()
    text = lesson_copy.read_text("utf-8")
    text = text.replace("revised: 2026-11-27", "revised: 2026-12-01")
    text = text.replace('reason: "The gradient points uphill,', 'reason: "Corrected, the gradient points uphill,')
    lesson_copy.write_text(text, "utf-8")
    build([lesson_copy], tmp_path / "two", small_options(variants=1, targets=("anki",)))
    result = import_deck(col, tmp_path / "two" / "lesson-1.2.32" / "lesson-1.2.32.apkg")
    assert col.note_count() == notes
    assert not result.log.new
    assert len(result.log.updated) >= 1
    assert col.find_notes('"Reason:*Corrected, the gradient*"')
    col.close()


@pytest.mark.parametrize("source, expected", [
    ("The gradient collects the {{c1::partial derivatives}} of f",
     "The gradient collects the {{c1::partial derivatives}} of f"),
    (r"{{c1::\(\frac{a}{b}\)}} and x < y & z", r"{{c1::\(\frac{a}{b}\)}} and x &lt; y &amp; z"),
    (r"{{c1::\(\frac{1}{\sqrt{2}}\)}}", r"{{c1::\(\frac{1}{\sqrt{2} }\)}}"),
])
def test_cloze_html_keeps_deletions_and_escapes(source, expected):
    assert cloze_html(source) == expected
