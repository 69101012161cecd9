"""The item audit (issues #11 and #19): every Canvas and Moodle item of a build, answered by
simulated students and graded the way the LMSs' own code grades it (tests/lms_grading.py).

The audit reads only the build's files: manifest.json for what each problem asks (its parts,
answers and distractors, as exact strings that SymPy parses back) and the exported moodle.xml and
canvas-qti.zip as the LMSs import them. For every problem it checks that

- the correct answer, typed the way the prompt invites (a whole number; a decimal rounded to the
  asked places, or to more; a leading "+"; trailing zeros), gets full marks in both LMSs, and in
  Canvas's string-compared blanks also with a Unicode minus, a space after the minus or a fraction;
- every distractor, typed the same way or chosen, gets less than full marks;
- every part the problem asks is graded (a box per number, a choice per choice part, or one
  multiple choice whose options combine every part), and exactly one choice is right;
- no distractor equals the answer under the part's own equivalence (numbers apart by more than
  the typing tolerance, pairs compared as sets, expressions at sample points);
- every premise and feedback check of the problem passed;
- every pool (Canvas question group, Moodle category) holds one shape: item type, marks, boxes,
  choices; and marks equal the points the lesson gives;
- no prompt appears in two pools of one quiz; Moodle does not number choices that carry their
  own letters; no Canvas answer lost its text; every figure link resolves.

`audit(folder)` returns the findings (empty when the build passes) and the typed-forms table.
Run `python3 -m tests.item_audit BUILD_DIR` for a report.
"""
from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

import sympy as sp

from .lms_grading import canvas_questions, moodle_questions

FULL = 1 - 1e-9
FORMS = ("as_stated", "two_decimals", "more_decimals", "exact_decimal", "trailing_zero", "leading_plus",
         "space_after_minus", "unicode_minus", "fraction")
INVITED = {"as_stated", "two_decimals", "more_decimals", "exact_decimal", "trailing_zero", "leading_plus"}
EXACT_PLACES = 8           # a terminating decimal a student may type in full (−13/64 = −0.203125)


@dataclass
class Report:
    findings: list[str] = field(default_factory=list)
    # (lms, kind, form) -> [full, total]
    forms: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    items: Counter = field(default_factory=Counter)

    def fail(self, text: str):
        if len(self.findings) < 500:
            self.findings.append(text)


def _ident(*parts, prefix="g") -> str:
    """The exporters' stable identifiers (targets/_xml.py `ident`), recomputed here."""
    import hashlib
    return prefix + hashlib.sha256("|".join(map(str, parts)).encode("utf-8")).hexdigest()[:24]


@lru_cache(maxsize=None)
def _value(text: str):
    return sp.sympify(text)


def _decimal(value) -> Decimal:
    if value.is_Rational:
        return Decimal(int(value.p)) / Decimal(int(value.q))
    return Decimal(str(sp.N(value, 40)))


def typed(value, form: str, decimals: int, how: str) -> str | None:
    """How a student types `value` in the given style (None where the style does not apply)."""
    exact = _decimal(value)
    neg = exact < 0
    mag = abs(exact)
    integer = form == "integer"
    if how == "fraction":
        if not (value.is_Rational and not value.is_Integer):
            return None
        body = f"{abs(value.p)}/{value.q}"
    elif how == "as_stated":
        body = str(int(mag)) if integer else f"{mag.quantize(Decimal('0.0001'), ROUND_HALF_UP)}"
    elif how in ("two_decimals", "leading_plus", "space_after_minus", "unicode_minus"):
        places = 0 if integer else decimals
        body = str(mag.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)) if places else str(int(mag))
    elif how == "more_decimals":
        if integer:
            return None
        body = str(mag.quantize(Decimal(1).scaleb(-(decimals + 1)), ROUND_HALF_UP))
    elif how == "exact_decimal":
        # Every digit of a value that ends within EXACT_PLACES places (−13/64 typed −0.203125).
        if integer or value.is_Integer:
            body = str(int(mag))
        elif value.is_Rational and -mag.normalize().as_tuple().exponent <= EXACT_PLACES:
            body = f"{mag.normalize():f}"
        else:
            return None
    elif how == "trailing_zero":
        if not integer:
            return None
        body = f"{int(mag)}.00"
    else:
        raise ValueError(how)
    zero = set(body) <= set("0./")
    if how == "leading_plus":
        return None if neg and not zero else "+" + body
    if not neg or zero:
        return None if how in ("space_after_minus", "unicode_minus") else body
    return {"space_after_minus": "- ", "unicode_minus": "\u2212"}.get(how, "-") + body


def _numbers(part) -> list:
    answer = _value(part["answer"])
    return [answer] if part["kind"] == "number" else list(answer)


def _equivalent(part, a, b, variables) -> bool:
    """Under the part's own equivalence (recomputed with SymPy from the manifest's strings)."""
    if part["kind"] in ("number", "vector"):
        xs, ys = _flat(a), _flat(b)
        if len(xs) != len(ys):
            return False                 # another kind of value: it cannot be typed into these boxes
        gap = max(abs(float(x) - float(y)) for x, y in zip(xs, ys))
        return gap <= 2 * 0.5 * 10.0 ** -part["decimals"] + 1e-12
    if part["equivalence"] == "unordered_pair":
        key = lambda pair: sorted(tuple(round(float(c), 9) for c in v) for v in pair)   # noqa: E731
        return key(a) == key(b)
    if part["equivalence"] == "sampled":
        syms = [sp.Symbol(v) for v in variables]
        rng = random.Random(0)
        for _ in range(3):
            point = {s: sp.Rational(rng.randint(11, 29), 10) for s in syms}
            if any(abs(complex(sp.N((x - y).xreplace(point)))) > 1e-9 for x, y in zip(a, b)):
                return False
        return True
    return a == b


def _flat(value) -> list:
    return list(value) if isinstance(value, (tuple, sp.Tuple)) else [value]


def _points(lesson, problem) -> float:
    if problem["section"] == "exercises":
        return next(lv["points"] for lv in lesson["levels"] if lv["level"] == problem["level"])
    return lesson["quiz_points"][{"true_false": "true_false", "coding": "coding"}[problem["section"]]]


def quiz_problems(problems: list[dict]) -> list[dict]:
    """The problems a quiz draws from: every random variant, and a lesson's own instance only where
    its problem has no random variants (the worked example stays out of the pools)."""
    randomized = {(p["lesson"], p["exercise"], p["problem"]) for p in problems if p["variant"] > 0}
    return [p for p in problems if p["variant"] > 0 or (p["lesson"], p["exercise"], p["problem"]) not in randomized]


def audit(folder: Path) -> Report:
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    report = Report()
    for lesson in manifest["lessons"]:
        problems = [p for p in manifest["problems"] if p["lesson"] == lesson["id"]]
        base = folder / lesson["id"]
        moodle = {q.idnumber: q for q in moodle_questions((base / "moodle.xml").read_bytes())} \
            if (base / "moodle.xml").exists() else {}
        canvas = {q.migration_id: q for q in canvas_questions((base / "canvas-qti.zip").read_bytes())} \
            if (base / "canvas-qti.zip").exists() else {}
        _check_manifest(problems, report)
        _check_pools(lesson, problems, moodle, canvas, report)
        asked = {p["id"] for p in quiz_problems(problems)}
        for p in problems:
            if p["id"] not in asked:
                if _ident(p["id"], prefix="gen-") in moodle or _ident(p["id"]) in canvas:
                    report.fail(f"{p['id']}: the lesson's own worked instance is in a quiz pool")
                continue
            points = _points(lesson, p)
            if moodle:
                q = moodle.get(_ident(p["id"], prefix="gen-"))
                if q is None:
                    report.fail(f"{p['id']}: no Moodle question")
                else:
                    _audit_moodle(p, q, points, report)
            if canvas:
                q = canvas.get(_ident(p["id"]))
                if q is None:
                    report.fail(f"{p['id']}: no Canvas question")
                else:
                    _audit_canvas(p, q, points, report)
    return report


def _check_manifest(problems, report):
    """Premises, feedback and distractors, from the manifest's own numbers."""
    pools = defaultdict(set)
    for p in problems:
        failed = [c["name"] for c in p["checks"] if not c["passed"]]
        if failed:
            report.fail(f"{p['id']}: failed checks {failed}")
        if "parts" not in p:
            report.fail(f"{p['id']}: the manifest does not say what the problem asks (no parts)")
            continue
        for part in p["parts"]:
            answer = _value(part["answer"])
            values = [answer]
            for d in part["distractors"]:
                v = _value(d["value"])
                if part["kind"] == "choice" and part["options"] is not None:
                    if v == answer:
                        report.fail(f"{p['id']} {part['name']}: the answer is offered as a distractor")
                    continue
                if any(_equivalent(part, v, w, p["variables"]) for w in values):
                    report.fail(f"{p['id']} {part['name']}: distractor {d['value']} ({d['misconception']}) "
                                "equals the answer or another option under the part's equivalence")
                values.append(v)
        pools[p["prompt"]].add(f"{p['exercise']}/{p['problem']}")
    for prompt, where in pools.items():
        if len(where) > 1:
            report.fail(f"the prompt {prompt[:60]!r} appears in the pools {sorted(where)}")


def _pool_key(p):
    return f"{p['lesson']}/{p['exercise']}/{p['problem']}"


def _check_pools(lesson, problems, moodle, canvas, report):
    by_pool = defaultdict(list)
    for p in problems:
        by_pool[_pool_key(p)].append(p)
    for key, members in by_pool.items():
        shapes = {p.get("shape") for p in members}
        if len(shapes) > 1:
            report.fail(f"pool {key}: problems of {len(shapes)} shapes: {sorted(map(str, shapes))[:3]}")
        if moodle:
            qs = [moodle.get(_ident(p["id"], prefix="gen-")) for p in members]
            kinds = {(q.qtype, q.mark, tuple((s.kind, s.weight, len(s.answers) if s.kind != "numerical" else 0)
                                              for s in q.subquestions), len(q.choices))
                     for q in qs if q is not None}
            if len(kinds) > 1:
                report.fail(f"Moodle category of {key}: items of {len(kinds)} shapes {sorted(map(str, kinds))[:3]}")
            cats = {q.category for q in qs if q is not None}
            if len(cats) != 1:
                report.fail(f"Moodle: pool {key} spans categories {cats}")
        if canvas:
            qs = [canvas.get(_ident(p["id"])) for p in members]
            kinds = {(q.question_type, q.points, len(q.blanks) if "blanks" in q.question_type else len(q.answers))
                     for q in qs if q is not None}
            if len(kinds) > 1:
                report.fail(f"Canvas group of {key}: items of {len(kinds)} shapes {sorted(map(str, kinds))[:3]}")
            groups = {q.group.migration_id if q.group else None for q in qs if q is not None}
            if len(groups) != 1 or None in groups:
                report.fail(f"Canvas: pool {key} is not one question group ({groups})")


# ---------------------------------------------------------------------------------------------
# Moodle

def _audit_moodle(p, q, points, report):
    report.items[("moodle", q.qtype)] += 1
    if abs(q.mark - points) > 1e-9:
        report.fail(f"{p['id']}: Moodle mark {q.mark:g}, the lesson gives {points:g}")
    parts = p["parts"]
    if q.qtype == "multichoice":
        _audit_choices(p, "moodle", [(c.text, c.fraction) for c in q.choices], report)
        if q.numbered and any(re.match(r"^[A-F]:", c.text) for c in q.choices):
            report.fail(f"{p['id']}: Moodle numbers choices that carry their own letters ({q.labels()[0]} A: …)")
        return
    if q.qtype == "truefalse":
        truth = parts[0]["answer"] == "True"
        for response, right in (("true", truth), ("false", not truth)):
            if (q.grade(response) >= FULL) != right:
                report.fail(f"{p['id']}: Moodle true/false grades {response} wrongly")
        return
    boxes = _boxes(parts)
    if q.qtype == "numerical":
        subs = None
        if len(boxes) != 1:
            report.fail(f"{p['id']}: a numerical item cannot grade {len(boxes)} answers")
            return
    elif q.qtype == "multianswer":
        subs = q.subquestions
        if len(subs) != len(boxes):
            report.fail(f"{p['id']}: the cloze has {len(subs)} boxes but the problem asks {len(boxes)}")
            return
    else:
        report.fail(f"{p['id']}: unexpected Moodle type {q.qtype}")
        return
    _audit_boxes(p, boxes, report, "moodle", q.qtype,
                 grade=lambda responses: q.grade(responses[0] if subs is None else responses))


def _boxes(parts):
    """One entry per response box, in order: (part, component index or None)."""
    out = []
    for part in parts:
        if part["kind"] == "vector":
            out += [(part, i) for i in range(len(_value(part["answer"])))]
        else:
            out.append((part, None))
    return out


def _right_response(box, how):
    part, i = box
    if part["kind"] in ("number", "vector"):
        value = _numbers(part)[i or 0]
        return typed(value, part["form"], part["decimals"], how)
    answer = _value(part["answer"])
    if part["kind"] == "boolean":
        return "True" if answer else "False"
    return part["options"][int(answer)]


def _audit_boxes(p, boxes, report, lms, kind, grade):
    numeric = [b for b in boxes if b[0]["kind"] in ("number", "vector")]
    for how in FORMS:
        responses = [_right_response(b, how) if b in numeric else _right_response(b, "two_decimals") for b in boxes]
        if any(r is None for r in responses):
            continue
        if numeric:
            cell = report.forms[(lms, kind, how)]
            cell[1] += 1
        try:
            score = grade(responses)
        except ValueError as exc:
            report.fail(f"{p['id']}: {lms} cannot take the response {responses}: {exc}")
            continue
        if numeric:
            cell[0] += score >= FULL
        lenient = lms == "canvas" and kind == "fill_in_multiple_blanks_question"
        if score < FULL and (how in INVITED or lenient):
            report.fail(f"{p['id']}: {lms} {kind} gives {score:.2f} for the right answer typed {responses} ({how})")
    # Every distractor, typed as invited, scores below full marks.
    for bi, (part, i) in enumerate(boxes):
        for d in part["distractors"]:
            value = _value(d["value"])
            if part["kind"] in ("number", "vector"):
                wrong = _flat(value)
                if i not in (None, 0) or len(wrong) != len(_numbers(part)):
                    continue     # typed once into all of its part's boxes; another kind cannot be typed
                responses = [_right_response(b, "two_decimals") for b in boxes]
                start = bi
                for k, w in enumerate(wrong):
                    # The student who made this mistake types the value they got, to the asked places.
                    form = "integer" if w.is_Integer else "decimal"
                    responses[start + k] = typed(w, form, part["decimals"], "two_decimals") or \
                        typed(w, form, part["decimals"], "leading_plus")
            else:
                responses = [_right_response(b, "two_decimals") for b in boxes]
                responses[bi] = part["options"][int(value)] if part["options"] else None
                if responses[bi] is None:
                    continue
            try:
                score = grade(responses)
            except ValueError as exc:
                report.fail(f"{p['id']}: {lms} cannot take the distractor {responses}: {exc}")
                continue
            if score >= FULL:
                report.fail(f"{p['id']}: {lms} gives full marks to the distractor {d['value']} ({d['misconception']})")


def _audit_choices(p, lms, choices, report):
    """A multiple choice: exactly one right option, the one that holds every part's answer."""
    right = [text for text, fraction in choices if fraction >= FULL]
    if len(right) != 1:
        report.fail(f"{p['id']}: {lms} multiple choice has {len(right)} fully right options")
    if len({t for t, _ in choices}) != len(choices):
        report.fail(f"{p['id']}: {lms} multiple choice repeats an option")
    if len(choices) < 3:
        report.fail(f"{p['id']}: {lms} multiple choice offers only {len(choices)} options")


# ---------------------------------------------------------------------------------------------
# Canvas

def _audit_canvas(p, q, points, report):
    report.items[("canvas", q.question_type)] += 1
    if abs(q.points - points) > 1e-9:
        report.fail(f"{p['id']}: Canvas points {q.points:g}, the lesson gives {points:g}")
    for where, src, resolved in q.images:
        if resolved is None and not src.startswith("/equation_images/"):
            report.fail(f"{p['id']}: Canvas image {src} in {where} does not resolve to a package file")
    parts = p["parts"]
    if q.question_type in ("multiple_choice_question", "true_false_question"):
        for a in q.answers:
            if not a.text or a.text == "No answer text provided.":
                report.fail(f"{p['id']}: a Canvas answer has no text ({(a.html or '')[:60]})")
        if q.question_type == "true_false_question":
            truth = parts[0]["answer"] == "True"
            right = [a.text for a in q.answers if a.weight == 100]
            if right != ["True" if truth else "False"]:
                report.fail(f"{p['id']}: Canvas true/false keys {right}, the answer is {truth}")
        else:
            _audit_choices(p, "canvas", [(a.text, a.weight / 100) for a in q.answers], report)
        return
    boxes = _boxes(parts)
    if q.question_type == "numerical_question":
        if len(boxes) != 1:
            report.fail(f"{p['id']}: a numerical item cannot grade {len(boxes)} answers")
            return
        grade = lambda responses: q.grade(responses[0])            # noqa: E731
    elif q.question_type in ("fill_in_multiple_blanks_question", "multiple_dropdowns_question"):
        names = [part["name"] if i is None else f"{part['name']}_{i + 1}" for part, i in boxes]
        if sorted(q.blanks) != sorted(names):
            report.fail(f"{p['id']}: Canvas blanks {sorted(q.blanks)} but the problem asks {names}")
            return
        grade = lambda responses: q.grade(dict(zip(names, responses)))   # noqa: E731
    else:
        report.fail(f"{p['id']}: unexpected Canvas type {q.question_type}")
        return
    _audit_boxes(p, boxes, report, "canvas", q.question_type, grade)


def table(report: Report) -> str:
    rows = ["| LMS | item type | " + " | ".join(FORMS) + " |", "|---|---|" + "---|" * len(FORMS)]
    keys = sorted({(lms, kind) for lms, kind, _ in report.forms})
    for lms, kind in keys:
        cells = []
        for how in FORMS:
            full, total = report.forms.get((lms, kind, how), (0, 0))
            cells.append(f"{full}/{total}" if total else "—")
        rows.append(f"| {lms} | {kind} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv):
    report = audit(Path(argv[0]))
    print(f"items: {dict(report.items)}")
    print(table(report))
    print(f"{len(report.findings)} findings")
    for f in report.findings[:60]:
        print("  -", f)
    return 1 if report.findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
