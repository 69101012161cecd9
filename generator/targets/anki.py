"""The Anki deck (.apkg via genanki), reproducible and updatable in place.

- Model IDs are constants: changing one (or a model's fields) makes Anki create "Name+" note
  types, so they never change. Fields are planned with room to grow (the Extra fields).
- Note GUIDs hash the problem's identity (lesson, item, spec, variant), namespaced by "gen", so a
  corrected answer updates the same note on re-import.
- Every note and card carries the build's fixed clock (SOURCE_DATE_EPOCH, else noon UTC of the
  lesson's `revised` date): same inputs, same bytes; a newer revision makes Anki update notes.
- The package is zipped by us with fixed entry dates, order and modes; its SQLite collection is
  built in memory, so no scratch file exists for a stopped build to leave behind.

What the cards say follows the rules for formulating knowledge (minimum information, no redundant
siblings, no answer visible in its own question): one idea on each answer side, at most 25 words,
with the explanation below it in the note's Extra field; `deck_problems` says which problems the
deck holds. tests/test_deck_rules.py checks every rule a program can check, on a real import.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import re
import sqlite3
from dataclasses import dataclass

import genanki

from ..figures import alt_text, figure_name, render_png
from ..generate import Generated
from ..lesson import MAX_ANSWER_WORDS, answer_words
from ..resources import template_dir
from ._content import answer_html, esc, lesson_html, mistakes_html, prompt_html, solution_html, source_text
from ._zip import zip_bytes

TEMPLATES = template_dir("anki")

PROBLEM_MODEL_ID = 1735017429001
CONCEPT_MODEL_ID = 1735017429002
TRUEFALSE_MODEL_ID = 1735017429003
CLOZE_MODEL_ID = 1735017429004


def _t(name):
    return (TEMPLATES / name).read_text("utf-8")


def models():
    css = _t("style.css")
    problem = genanki.Model(
        PROBLEM_MODEL_ID, "gen: Problem",
        fields=[{"name": n} for n in ("Prompt", "Answer", "Solution", "Mistakes", "Figure", "Source", "Extra")],
        templates=[{"name": "Problem", "qfmt": _t("problem_front.html"), "afmt": _t("problem_back.html")}],
        css=css, sort_field_index=5)
    concept = genanki.Model(
        CONCEPT_MODEL_ID, "gen: Concept",
        fields=[{"name": n} for n in ("Question", "Answer", "Source", "Extra")],
        templates=[{"name": "Concept", "qfmt": _t("concept_front.html"), "afmt": _t("concept_back.html")}],
        css=css, sort_field_index=2)
    truefalse = genanki.Model(
        TRUEFALSE_MODEL_ID, "gen: True/False",
        fields=[{"name": n} for n in ("Statement", "Verdict", "Reason", "Source", "Extra")],
        templates=[{"name": "True/False", "qfmt": _t("truefalse_front.html"), "afmt": _t("truefalse_back.html")}],
        css=css, sort_field_index=3)
    cloze = genanki.Model(
        CLOZE_MODEL_ID, "gen: Cloze",
        fields=[{"name": n} for n in ("Text", "Extra", "Source")],
        templates=[{"name": "Cloze", "qfmt": _t("cloze_front.html"), "afmt": _t("cloze_back.html")}],
        css=css, model_type=genanki.Model.CLOZE)
    return problem, concept, truefalse, cloze


def deck_id(name: str) -> int:
    return int.from_bytes(hashlib.sha256(("gen-deck|" + name).encode()).digest()[:4], "big") | (1 << 31)


def guid(*identity) -> str:
    return genanki.guid_for("gen", *identity)


CLOZE_OPEN = re.compile(r"\{\{c\d+::")


def cloze_html(text: str) -> str:
    """Lesson text for a Cloze field: prose and $…$ math as HTML and MathJax, keeping the
    deletions and separating a `}}` that belongs to math inside a deletion, which would otherwise
    end the deletion early."""
    out, pos = [], 0
    for m in CLOZE_OPEN.finditer(text):
        if m.start() < pos:
            continue
        out.append(lesson_html(text[pos:m.start()]))
        depth, i = 0, m.end()
        while i < len(text):
            if text.startswith("}}", i) and depth == 0:
                break
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body = re.sub(r"\}(?=\})", "} ", lesson_html(text[m.end():i]))
        out.append(m.group(0) + body + "}}")
        pos = i + 2
    out.append(lesson_html(text[pos:]))
    return "".join(out)


def _tags(*parts):
    return [re.sub(r"[^\w.:-]+", "_", str(p)) for p in parts if p is not None]


def deck_problems(lb, options) -> list[Generated]:
    """The problems the deck holds, in build order. Each problem brings the lesson's own instance
    (when the lesson fixes one) and `anki_variants` practice versions, except that

    - a problem that repeats an earlier problem's drill (same family and parameters, like a coding
      challenge that asks exercise 1.2.32.2a again) brings only its own instance: its practice
      versions would be the same card twice;
    - an iterated problem (gradient descent over several steps) stays on the worksheet and in the
      LMS: it chains skills the deck drills one at a time, and would take minutes at every review;
    - true/false statements take, of the versions built, those that balance the deck's true and
      false verdicts (the lesson's own statements included), so that "True" is no safe guess.
    """
    truths = [tf.answer for tf in lb.lesson.quiz.true_false]
    groups: dict[str, list[Generated]] = {}
    for g in lb.problems:
        groups.setdefault(g.slot.group, []).append(g)
    drills, chosen = set(), set()
    for group in groups.values():
        spec = group[0].slot.spec
        if getattr(spec.family_params(), "steps", 1) > 1:
            continue
        own = [g for g in group if g.slot.variant == 0]
        versions = sorted((g for g in group if g.slot.variant > 0), key=lambda g: g.slot.variant)
        drill = (spec.family, json.dumps(spec.params, sort_keys=True, default=str))
        wanted = 0 if drill in drills else options.anki_variants
        drills.add(drill)
        truths += [bool(g.problem.answer) for g in own if _boolean(g)]
        # Not one version wanted (--anki-variants 0): a parallel build kept none of their problems.
        picked = [] if not wanted else \
            _balanced(versions, wanted, truths) if versions and _boolean(versions[0]) else versions[:wanted]
        chosen.update(g.slot.id for g in (*own, *picked))
    return [g for g in lb.problems if g.slot.id in chosen]


def _boolean(g: Generated) -> bool:
    return g.problem.parts[0].kind == "boolean"


def _balanced(versions: list[Generated], wanted: int, truths: list[bool]) -> list[Generated]:
    """`wanted` of the versions: each time the lowest-numbered one with the verdict the deck has
    fewer of so far (`truths` grows with every pick)."""
    left, picked = list(versions), []
    while left and len(picked) < wanted:
        trues, falses = truths.count(True), truths.count(False)
        g = next((g for g in left if trues == falses or bool(g.problem.answer) == (trues < falses)), left[0])
        left.remove(g)
        picked.append(g)
        truths.append(bool(g.problem.answer))
    return picked


def figures(lb, options):
    """The plots this deck embeds, so a parallel build can draw them up front."""
    return [(g.problem.figure, {}) for g in deck_problems(lb, options) if g.problem.figure is not None]


@dataclass(frozen=True)
class ConceptCard:
    """A question, its answer as one idea, and the explanation shown below the answer."""
    question: str        # lesson text, with $…$ math
    answer: str
    extra: str | None


def concept_card(question: str, answer: str | None, model_answer: str | None) -> ConceptCard | None:
    """The lesson's short answer with the model answer below it; without a short answer, the model
    answer's first sentence if it is short enough, with the rest below it; otherwise no card, since
    a 60-word answer cannot be checked at a glance."""
    if model_answer is None:
        return None
    if answer is not None:
        return ConceptCard(question, answer, model_answer)
    first, rest = first_sentence(model_answer)
    if answer_words(first) > MAX_ANSWER_WORDS:
        return None
    return ConceptCard(question, first, rest or None)


MATH = re.compile(r"(?<!\\)\$.*?(?<!\\)\$", re.S)
# A sentence ends at . ! or ? before a space, but not inside an abbreviation such as "e.g.".
SENTENCE_END = re.compile(r"(?<![A-Za-z]\.[A-Za-z])[.!?](?=\s)")


def first_sentence(text: str) -> tuple[str, str]:
    """(the first sentence, the rest) of lesson prose; a period inside $…$ math ends nothing."""
    masked = MATH.sub(lambda m: "x" * len(m.group()), text)
    end = SENTENCE_END.search(masked)
    if end is None:
        return text.strip(), ""
    return text[:end.end()].strip(), text[end.end():].strip()


def render(lb, options) -> dict[str, bytes]:
    lesson = lb.lesson
    problem_m, concept_m, truefalse_m, cloze_m = models()
    root = f"{lesson.topic}::{lesson.number} {lesson.title}"
    decks = {name: genanki.Deck(deck_id(f"{lesson.id}::{name}"), f"{root}::{name}")
             for name in ("Concepts", "Practice", "Quiz")}
    media: dict[str, bytes] = {}
    # revised::<date> tells a student which cards the current build holds: after a re-import, a
    # search for the lesson's cards without it finds the ones a newer build dropped.
    base_tags = _tags(f"lesson::{lesson.id}", f"revised::{lesson.revised.isoformat()}")

    def concept(deck, card, source, tags, identity):
        decks[deck].add_note(genanki.Note(
            concept_m, [lesson_html(card.question), lesson_html(card.answer), esc(source),
                        lesson_html(card.extra) if card.extra else ""],
            tags=base_tags + tags, guid=guid(lesson.id, *identity)))

    for i, idea in enumerate((*lesson.core_ideas, *lesson.key_takeaways)):
        if idea.cloze is None:
            continue
        kind = "core_idea" if i < len(lesson.core_ideas) else "takeaway"
        # The back explains with the idea's own statement, which the front never shows.
        decks["Concepts"].add_note(genanki.Note(
            cloze_m, [cloze_html(idea.cloze), lesson_html(idea.text),
                      esc(f"Lesson {lesson.number}: {kind.replace('_', ' ')}")],
            tags=base_tags + [kind], guid=guid(lesson.id, kind, i)))
    for i, objective in enumerate(lesson.objectives):
        card = concept_card(objective.text, objective.answer, objective.model_answer)
        if card:        # an objective without a model answer would make a card that repeats itself
            concept("Concepts", card, f"Lesson {lesson.number}: learning objective {i + 1}", ["objective"],
                    ("objective", i))
    items = [(e, "Concepts", f"level::{e.level}", "exercise") for e in lesson.exercises] + \
            [(c, "Quiz", "quiz::conceptual", "quiz") for c in lesson.quiz.conceptual] + \
            [(c, "Quiz", "quiz::coding", "quiz") for c in lesson.quiz.coding]
    for item, deck, level_tag, where in items:
        card = concept_card(item.prompt, item.answer, item.model_answer)
        if card:
            concept(deck, card, f"Lesson {lesson.number}, {where} {item.id}",
                    _tags(level_tag, f"exercise::{item.id}", "conceptual"), (item.id, "concept"))
    for tf in lesson.quiz.true_false:
        decks["Quiz"].add_note(genanki.Note(
            truefalse_m, [lesson_html(tf.statement), "True" if tf.answer else "False", lesson_html(tf.reason),
                          esc(f"Lesson {lesson.number}, quiz {tf.id}"), ""],
            tags=base_tags + _tags("quiz::true_false", f"exercise::{tf.id}"), guid=guid(lesson.id, tf.id, "statement")))

    for g in deck_problems(lb, options):
        p, s = g.problem, g.slot
        deck = "Practice" if s.section == "exercises" else "Quiz"
        tags = base_tags + _tags(f"level::{s.level}" if s.level else f"quiz::{s.section}",
                                 f"family::{s.spec.family}", f"exercise::{s.item}",
                                 "fixed" if s.variant == 0 else "variant")
        identity = (lesson.id, s.item, s.spec.id, s.variant)
        source = esc(source_text(g, lesson))
        if _boolean(g):
            # The verdict is the answer; the worked steps (Extra) explain it, as a problem's solution does.
            decks[deck].add_note(genanki.Note(
                truefalse_m, [prompt_html(p).replace("True or false: ", ""), "True" if p.answer else "False",
                              "", source, solution_html(p)],
                tags=tags, guid=guid(*identity)))
            continue
        figure = ""
        if p.figure is not None:
            name = f"gen_{lesson.id}_" + figure_name(p.figure)
            media.setdefault(name, render_png(p.figure))
            figure = f'<img src="{esc(name)}" alt="{esc(alt_text(p.figure))}">'
        decks[deck].add_note(genanki.Note(
            problem_m, [prompt_html(p), answer_html(p), solution_html(p), mistakes_html(p), figure, source, ""],
            tags=tags, guid=guid(*identity)))

    package = genanki.Package([d for d in decks.values() if d.notes])
    return {f"{lesson.id}.apkg": write_apkg(package, media, lb.timestamp)}


def write_apkg(package: genanki.Package, media: dict[str, bytes], timestamp: int) -> bytes:
    db = _collection(package, timestamp)
    names = sorted(media)
    entries = [("collection.anki2", db),
               ("media", json.dumps({str(i): n for i, n in enumerate(names)}, sort_keys=True).encode())]
    entries += [(str(i), media[n]) for i, n in enumerate(names)]
    return zip_bytes(entries, timestamp)


def _collection(package: genanki.Package, timestamp: int) -> bytes:
    """The deck's SQLite database, built in memory where this Python's SQLite can serialize one
    (3.36 and later): a worker stopped while it writes the deck (SIGTERM ends it at once) would
    leave a scratch file behind. The pages are those sqlite writes to a file; the header's change
    counter and library version, which only a file records, stay zero (tests/test_anki.py)."""
    if not hasattr(sqlite3.Connection, "serialize"):
        return _collection_via_file(package, timestamp)
    conn = sqlite3.connect(":memory:")
    try:
        package.write_to_db(conn.cursor(), timestamp, itertools.count(timestamp * 1000))
        conn.commit()
        return conn.serialize()
    finally:
        conn.close()


def _collection_via_file(package: genanki.Package, timestamp: int) -> bytes:
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory(prefix="gen-anki-") as tmp:
        path = Path(tmp) / "collection.anki2"
        conn = sqlite3.connect(path)
        # A scratch file, read back at once and deleted: no fsync of it or of its journal.
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA journal_mode = MEMORY")
        package.write_to_db(conn.cursor(), timestamp, itertools.count(timestamp * 1000))
        conn.commit()
        conn.close()
        return path.read_bytes()
