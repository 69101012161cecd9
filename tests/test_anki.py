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
    # small_options: 3 variants, 2 of them in the deck.
    # Concepts: 6 clozes (one deletion each) + the 5 exercises with a model answer.
    # Practice: 1.2.32.2a's own instance + 2 practice versions of each of its 10 problems, but none
    # of the 2-step descent 1.2.32.8a.
    # Quiz: q5-q7, the 4 lesson statements, 2 practice statements (false first: 3 true to 1 so
    # far), and the coding challenge's own instance (its practice versions would repeat 1.2.32.2a).
    assert counts == {"Concepts": 6 + 5, "Practice": 1 + 2 * 10, "Quiz": 3 + 4 + 2 + 1}
    assert len(result.log.new) == col.note_count()
    assert not result.log.conflicting and not result.log.duplicate
    in_deck = {(p["exercise"], p["problem"], p["variant"]) for p in manifest["problems"]}
    assert ("1.2.32.8", "a", 1) in in_deck      # built for the worksheet and the LMS, not the deck
    assert not col.find_cards('"tag:exercise::1.2.32.8" "tag:family::gradient_descent_step"')
    assert len(col.find_cards('"tag:exercise::q8" tag:fixed')) == 1 and not col.find_cards('"tag:exercise::q8" tag:variant')


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
    text = re.sub(r"revised: \S+", "revised: 2107-01-01", text)
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


# --- what goes on a Concept card ------------------------------------------------------------------

@pytest.mark.parametrize("source, first, rest", [
    ("One. Two three.", "One.", "Two three."),
    ("Just one sentence", "Just one sentence", ""),
    ("For $f(x, y, ...)$, it is a vector. At each point, e.g. here, it is one.",
     "For $f(x, y, ...)$, it is a vector.", "At each point, e.g. here, it is one."),
    ("Is it? Yes! Then $x = 1.5$ holds.", "Is it?", "Yes! Then $x = 1.5$ holds."),
    (r"It costs \$3. So it goes.", r"It costs \$3.", "So it goes."),
])
def test_first_sentence_ends_outside_math_and_abbreviations(source, first, rest):
    from generator.targets.anki import first_sentence
    assert first_sentence(source) == (first, rest)


def test_concept_card_short_answer_first_sentence_or_none():
    from generator.targets.anki import ConceptCard, concept_card
    long = "A first sentence of " + "many " * 22 + "words. A second."
    assert concept_card("Q?", "Short.", long) == ConceptCard("Q?", "Short.", long)
    assert concept_card("Q?", None, "Short first. Then more.") == ConceptCard("Q?", "Short first.", "Then more.")
    assert concept_card("Q?", None, "Only this.") == ConceptCard("Q?", "Only this.", None)
    assert concept_card("Q?", None, long) is None          # 26 words: too long to check at a glance
    assert concept_card("Q?", None, None) is None


@pytest.mark.parametrize("index, field, value, says", [
    (0, "answer", "This answer has " + "far " * 18 + "too many words, $x$ included.", "has 26 words"),
    (2, "model_answer", None, "answer is the short form of model_answer"),     # 1.2.32.3 has problems too
])
def test_short_answers_are_checked_at_load(lesson_copy, index, field, value, says):
    import yaml

    from generator.errors import LessonError
    from generator.lesson import load_lesson
    data = yaml.safe_load(lesson_copy.read_text("utf-8"))
    data["exercises"][index][field] = value
    lesson_copy.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.raises(LessonError) as info:
        load_lesson(lesson_copy)
    assert says in info.value.message and info.value.field.startswith(f"exercises[{index}]"), info.value.message
    assert "25 words" in info.value.message or "add the model_answer" in info.value.message


def test_without_short_answers_cards_take_a_short_first_sentence(tmp_path, lesson_copy):
    text = re.sub(r"\n *answer: \".*\"", "", lesson_copy.read_text("utf-8"))
    assert "answer: \"" not in text
    lesson_copy.write_text(text, "utf-8")
    build([lesson_copy], tmp_path / "out", small_options(variants=1, targets=("anki",)))
    col = fresh_collection(tmp_path)
    import_deck(col, tmp_path / "out" / "lesson-1.2.32" / "lesson-1.2.32.apkg")
    concepts = {col.get_note(n)["Question"]: col.get_note(n) for n in col.find_notes('"note:gen: Concept"')}
    col.close()
    # 1.2.32.1's only sentence is 39 words long: no card. 1.2.32.3's first sentence has 22.
    assert "Define gradient in one sentence." not in concepts
    steepest = concepts["Explain steepest ascent."]
    assert steepest["Answer"].startswith("Among all unit directions") and steepest["Answer"].endswith(".")
    assert steepest["Extra"].startswith("So ")


# --- which problems the deck holds ------------------------------------------------------------------

def _versions(*truths):
    from types import SimpleNamespace as NS
    return [NS(problem=NS(answer=t), slot=NS(variant=i + 1)) for i, t in enumerate(truths)]


@pytest.mark.parametrize("lesson, pool, wanted, picked", [
    ([True, True, True, False], [True, False, True, False], 1, [2]),
    ([True, True, True, False], [True, False, True, False], 2, [2, 4]),
    ([True, True, True, False], [True, False, True], 2, [2, 1]),      # no second false version
    ([True, False], [True, False, True, False], 2, [1, 2]),           # balanced: in order
    ([], [True, False, True, False], 3, [1, 2, 3]),
    ([False, False], [True, True, False], 0, []),
])
def test_true_false_versions_balance_the_verdicts(lesson, pool, wanted, picked):
    from generator.targets.anki import _balanced
    chosen = _balanced(_versions(*pool), wanted, list(lesson))
    assert [g.slot.variant for g in chosen] == picked


def test_a_deck_from_older_templates_updates_in_place(tmp_path, lesson_copy, monkeypatch):
    """A student's deck made by an earlier gen (other templates, same fields, more practice
    versions) updates on re-import: the note types keep their names (no 'gen: Concept+') and take
    the new templates, and the cards the new build dropped are found by their old revised:: tag."""
    import shutil

    import generator.targets.anki as target
    old = tmp_path / "old-templates"
    shutil.copytree(target.TEMPLATES, old)
    (old / "concept_back.html").write_text('{{FrontSide}}<hr id="answer"><div class="answer">{{Answer}}</div>'
                                           '<div class="source">{{Source}}</div>', "utf-8")
    monkeypatch.setattr(target, "TEMPLATES", old)
    build([lesson_copy], tmp_path / "one", small_options(variants=2, anki_variants=2, targets=("anki",)))
    monkeypatch.undo()
    lesson_copy.write_text(re.sub(r"revised: \S+", "revised: 2107-01-01", lesson_copy.read_text("utf-8")), "utf-8")
    build([lesson_copy], tmp_path / "two", small_options(variants=2, anki_variants=1, targets=("anki",)))
    col = fresh_collection(tmp_path)
    import_deck(col, tmp_path / "one" / "lesson-1.2.32" / "lesson-1.2.32.apkg")
    before = col.note_count()

    def concept_back():
        [cid] = col.find_cards('"note:gen: Concept" "tag:exercise::1.2.32.1"')
        return col.get_card(cid).answer()
    assert 'class="extra"' not in concept_back()
    result = import_deck(col, tmp_path / "two" / "lesson-1.2.32" / "lesson-1.2.32.apkg")
    names = sorted(m.name for m in col.models.all_names_and_ids() if m.name.startswith("gen"))
    back = concept_back()
    # README, "Anki": the search a student runs to find the cards the new build no longer holds.
    stale = col.find_notes('"deck:Calculus for ML::1.2.32 Gradients and Directional Derivatives" '
                           '-tag:revised::2107-01-01')
    stale_sources = sorted(col.get_note(n)["Source"] for n in stale)
    col.close()
    assert names == ["gen: Cloze", "gen: Concept", "gen: Problem", "gen: True/False"], names
    assert 'class="extra"' in back and "which at each point gives the direction" in back
    assert not result.log.new and not result.log.conflicting
    assert len(stale) == before - len(result.log.updated) > 0
    assert all("practice version" in s for s in stale_sources), stale_sources


def test_the_collection_is_built_in_memory_with_the_pages_sqlite_writes_to_a_file():
    """write_apkg builds the collection in memory (no scratch file for a stopped build to leave).
    Its bytes are those of the database the fallback (for a SQLite that cannot serialize) writes
    to a file, but for the header's change counter (offset 24) and version-valid-for number and
    library version (92-99), which only a file records: zero here."""
    import io

    import genanki

    from generator.targets.anki import _collection_via_file, models, write_apkg
    deck = genanki.Deck(2059400110, "Test")
    for i in range(40):
        deck.add_note(genanki.Note(models()[0], [f"q{i}", "a", "s", "m", "", "source", ""], guid=f"g{i}"))
    package = genanki.Package([deck])
    on_disk = _collection_via_file(package, 1_700_000_000)
    with zipfile.ZipFile(io.BytesIO(write_apkg(package, {}, 1_700_000_000))) as zf:
        collection = zf.read("collection.anki2")
    assert collection[24:28] == bytes(4) and collection[92:100] == bytes(8)
    if on_disk[16:18] == collection[16:18]:         # the same page size (a file's can follow the disk's)
        header_only = {24, 25, 26, 27, *range(92, 100)}
        assert len(collection) == len(on_disk)
        assert {i for i, (a, b) in enumerate(zip(collection, on_disk)) if a != b} <= header_only
    for data in (collection, on_disk):
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "c.anki2").write_bytes(data)
            conn = sqlite3.connect(Path(tmp) / "c.anki2")
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("SELECT count(*) FROM notes").fetchone() == (40,)
            conn.close()
