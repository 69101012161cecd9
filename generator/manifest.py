"""build/manifest.json: the machine-readable answer key and audit trail."""
from __future__ import annotations

import hashlib
import json
import secrets
from typing import NamedTuple

from . import __version__
from .families._common import numeric
from .generate import Generated
from sympy import Tuple

from .mathfmt import plain, render
from .output import MARKER
from .prose import prose
from .targets._content import answer_rich, option_rich


def exact(value) -> str:
    """A string `sympy.sympify` parses back to the value (vectors and points as tuples)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (tuple, Tuple)):
        return "(" + ", ".join(exact(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return plain(value)     # the plain printer is SymPy's str printer, memoized


def part_entry(part) -> dict:
    numeric_kind = part.kind in ("number", "vector")
    return {
        "name": part.name,
        "kind": part.kind,
        "label": render(part.label, "text"),
        "answer": exact(part.answer),
        "answer_numeric": numeric(part.answer) if numeric_kind or part.kind == "boolean" else None,
        "form": part.form if numeric_kind else None,
        "decimals": part.decimals if numeric_kind else None,
        "options": [render(option_rich(part, i), "text") for i in range(len(part.options))]
        if part.options is not None else None,
        "equivalence": part.equivalence,
        "distractors": [{"value": exact(d.value), "misconception": d.misconception,
                         "feedback": render(d.feedback, "text")} for d in part.distractors],
    }


def problem_entry(g: Generated) -> dict:
    p, s = g.problem, g.slot
    return {
        "id": s.id,
        "lesson": s.lesson,
        "exercise": s.item,
        "problem": s.spec.id,
        "section": s.section,
        "level": s.level,
        "family": s.spec.family,
        "variant": s.variant,
        "fixed": s.variant == 0,
        "seed": g.seed,
        "attempt": g.attempt,
        "variables": [str(v) for v in p.variables],
        "function": exact(p.function),
        "point": None if p.point is None else [exact(c) for c in p.point],
        "direction": None if p.direction is None else exact(p.direction),
        "direction_form": p.data.get("direction_form"),
        "prompt": render(p.prompt, "text"),
        "parts": [part_entry(part) for part in p.parts],
        "shape": repr(p.shape()),
        "answer": exact(p.answer),
        "answer_text": render(answer_rich(p), "text"),
        "solution": [render(step, "text") for step in p.steps],
        "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in g.checks],
    }


class EntryText(NamedTuple):
    """A problem's manifest entry, already encoded where it was made (in a worker, for a large
    build): one string crosses to the parent instead of a tree of dicts and lists, and the
    parent's manifest costs a join."""
    text: bytes                # json.dumps(entry, indent=1, sort_keys=True), lines after the first indented, UTF-8
    checks: int
    passed: int


ENTRY_DEPTH = 2                # manifest → "problems" list → entry


def encode_entry(entry: dict) -> EntryText:
    text = json.dumps(entry, indent=1, sort_keys=True, ensure_ascii=False)
    # JSON text has no raw newline inside a string, so each line break is the encoder's own.
    # Encoded here, in the worker: bytes cross to the parent without a UTF-8 decode there, and
    # the manifest is one join of them.
    return EntryText(text.replace("\n", "\n" + " " * ENTRY_DEPTH).encode("utf-8"), len(entry["checks"]),
                     sum(c["passed"] for c in entry["checks"]))


def _text(prose_text):
    """Lesson prose as readable text (its $…$ math in Unicode)."""
    return None if prose_text is None else render(prose(prose_text), "text")


def item_entries(lesson) -> list[dict]:
    out = []
    for section, items in (("exercises", lesson.exercises), ("true_false", lesson.quiz.true_false),
                           ("conceptual", lesson.quiz.conceptual), ("coding", lesson.quiz.coding)):
        for item in items:
            entry = {"id": item.id, "section": section, "problems": [p.id for p in item.problems]}
            if section == "true_false":
                entry.update(statement=_text(item.statement), answer=item.answer, reason=_text(item.reason))
            else:
                entry.update(prompt=_text(item.prompt), model_answer=_text(item.model_answer),
                             level=getattr(item, "level", None))
            out.append(entry)
    return out


def build_manifest(options, lessons, problems: list[EntryText], outputs) -> bytes:
    """The manifest from the problems' encoded entries (see problem_entry, encode_entry) and the
    rendered files. Its bytes are json.dumps of the whole document with the entries in it."""
    placeholder = f"gen-problems-{secrets.token_hex(8)}"
    doc = {
        "generator": MARKER,
        "version": __version__,
        "seed": options.seed,
        "variants": options.variants,
        "source_date_epoch": options.epoch_override,
        "lessons": [{"id": lb.lesson.id, "title": lb.lesson.title, "number": lb.lesson.number,
                     "revised": lb.lesson.revised.isoformat(), "source": lb.source_name,
                     "source_sha256": lb.source_sha256, "timestamp": lb.timestamp,
                     "levels": [{"level": lv.level, "name": lv.name, "points": lv.points} for lv in lb.lesson.levels],
                     "quiz_points": dict(lb.lesson.quiz.points),
                     "items": item_entries(lb.lesson)} for lb in lessons],
        "summary": {"problems": len(problems), "checks": sum(p.checks for p in problems),
                    "checks_passed": sum(p.passed for p in problems)},
        "problems": placeholder,
        "outputs": [{"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                    for path, data in sorted(outputs.items())],
    }
    text = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False)
    before, after = (part.encode("utf-8") for part in text.split(json.dumps(placeholder)))
    if not problems:
        return b"".join((before, b"[]", after, b"\n"))
    pad = b"\n" + b" " * ENTRY_DEPTH
    # One join: a large build's manifest is tens of MB, each concatenation a copy of all of it.
    return b"".join((before, b"[", pad, (b"," + pad).join(p.text for p in problems),
                     b"\n", b" " * (ENTRY_DEPTH - 1), b"]", after, b"\n"))


def summary_of(manifest: bytes) -> dict:
    """The manifest's summary, without decoding its problem list (34 MB for 10,000 problems, 0.3 s
    of json.loads at the end of a large build): its keys are sorted, so the top-level "summary"
    comes after that list, as the last key of that name."""
    at = manifest.rindex(b'"summary": ') + len(b'"summary": ')
    return json.JSONDecoder().raw_decode(manifest[at:].decode("utf-8"))[0]

