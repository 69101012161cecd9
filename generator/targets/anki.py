"""The Anki deck (.apkg via genanki), reproducible and updatable in place.

- Model IDs are constants: changing one (or a model's fields) makes Anki create "Name+" note
  types, so they never change. Fields are planned with room to grow (the Extra fields).
- Note GUIDs hash the problem's identity (lesson, item, spec, variant), namespaced by "gen", so a
  corrected answer updates the same note on re-import.
- Every note and card carries the build's fixed clock (SOURCE_DATE_EPOCH, else noon UTC of the
  lesson's `revised` date): same inputs, same bytes; a newer revision makes Anki update notes.
- The package is zipped by us with fixed entry dates, order and modes; the temporary SQLite file
  lives in a TemporaryDirectory that is always removed.
"""
from __future__ import annotations

import hashlib
import html
import io
import itertools
import json
import re
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import genanki

from ..figures import alt_text, figure_name, render_png
from ..mathfmt import render as render_rich
from ..resources import template_dir
from ._content import answer_html, esc, lesson_html, mistakes_html, prompt_html, solution_html, source_text

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


def figures(lb, options):
    """The plots this deck embeds, so a parallel build can draw them up front."""
    return [(g.problem.figure, {}) for g in lb.problems
            if g.slot.variant <= options.anki_variants and g.problem.figure is not None
            and g.problem.figure is not None]


def render(lb, options) -> dict[str, bytes]:
    lesson = lb.lesson
    problem_m, concept_m, truefalse_m, cloze_m = models()
    root = f"{lesson.topic}::{lesson.number} {lesson.title}"
    decks = {name: genanki.Deck(deck_id(f"{lesson.id}::{name}"), f"{root}::{name}")
             for name in ("Concepts", "Practice", "Quiz")}
    media: dict[str, bytes] = {}
    base_tags = _tags(f"lesson::{lesson.id}")

    for i, idea in enumerate((*lesson.core_ideas, *lesson.key_takeaways)):
        if idea.cloze is None:
            continue
        kind = "core_idea" if i < len(lesson.core_ideas) else "takeaway"
        decks["Concepts"].add_note(genanki.Note(
            cloze_m, [cloze_html(idea.cloze), "", esc(f"Lesson {lesson.number}: {kind.replace('_', ' ')}")],
            tags=base_tags + [kind], guid=guid(lesson.id, kind, i)))
    for i, objective in enumerate(lesson.objectives):
        if objective.model_answer is None:
            continue        # an objective without an answer would make a card that repeats itself
        decks["Concepts"].add_note(genanki.Note(
            concept_m, [lesson_html(objective.text), lesson_html(objective.model_answer),
                        esc(f"Lesson {lesson.number}: learning objective {i + 1}"), ""],
            tags=base_tags + ["objective"], guid=guid(lesson.id, "objective", i)))

    items = [(e, "Practice", f"level::{e.level}") for e in lesson.exercises] + \
            [(c, "Quiz", "quiz::conceptual") for c in lesson.quiz.conceptual] + \
            [(c, "Quiz", "quiz::coding") for c in lesson.quiz.coding]
    for item, deck, level_tag in items:
        if item.model_answer:
            decks["Concepts" if deck == "Practice" else "Quiz"].add_note(genanki.Note(
                concept_m, [lesson_html(item.prompt), lesson_html(item.model_answer),
                            esc(f"Lesson {lesson.number}, {item.id}"), ""],
                tags=base_tags + _tags(level_tag, f"exercise::{item.id}", "conceptual"),
                guid=guid(lesson.id, item.id, "concept")))
    for tf in lesson.quiz.true_false:
        decks["Quiz"].add_note(genanki.Note(
            truefalse_m, [lesson_html(tf.statement), "True" if tf.answer else "False", lesson_html(tf.reason),
                          esc(f"Lesson {lesson.number}, quiz {tf.id}"), ""],
            tags=base_tags + _tags("quiz::true_false", f"exercise::{tf.id}"), guid=guid(lesson.id, tf.id, "statement")))

    for g in lb.problems:
        if g.slot.variant > options.anki_variants:
            continue
        p, s = g.problem, g.slot
        deck = "Practice" if s.section == "exercises" else "Quiz"
        tags = base_tags + _tags(f"level::{s.level}" if s.level else f"quiz::{s.section}",
                                 f"family::{s.spec.family}", f"exercise::{s.item}",
                                 "fixed" if s.variant == 0 else "variant")
        identity = (lesson.id, s.item, s.spec.id, s.variant)
        source = esc(source_text(g, lesson))
        if p.parts[0].kind == "boolean":
            decks[deck].add_note(genanki.Note(
                truefalse_m, [prompt_html(p).replace("True or false: ", ""), "True" if p.answer else "False",
                              "".join(f"<p>{render_rich(step, 'html')}</p>" for step in p.steps), source, ""],
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
    with tempfile.TemporaryDirectory(prefix="gen-anki-") as tmp:
        db_path = Path(tmp) / "collection.anki2"
        conn = sqlite3.connect(db_path)
        package.write_to_db(conn.cursor(), timestamp, itertools.count(timestamp * 1000))
        conn.commit()
        conn.close()
        db = db_path.read_bytes()
    names = sorted(media)
    entries = [("collection.anki2", db),
               ("media", json.dumps({str(i): n for i, n in enumerate(names)}, sort_keys=True).encode())]
    entries += [(str(i), media[n]) for i, n in enumerate(names)]
    return zip_bytes(entries, timestamp)


def zip_bytes(entries, timestamp: int) -> bytes:
    """A zip whose bytes depend only on the entries and the timestamp."""
    import time
    date = time.gmtime(max(timestamp, 315532800))[:6]   # zip dates start in 1980
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=date)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, data)
    return buf.getvalue()
