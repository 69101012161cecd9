"""How each problem becomes an LMS question: shared by Canvas QTI and Moodle XML so both grade
the same way.

- scalar answers → numerical, with a tolerance that accepts the answer rounded to the stated
  decimals and rejects every numerical distractor (checked here; a problem whose distractors sit
  too close falls back to multiple choice);
- integer vectors and points → one number per component (fill-in-multiple-blanks / cloze);
- any other vector, symbolic gradients, pairs and direction choices → multiple choice with the
  misconception distractors and per-answer feedback;
- true/false → true/false; conceptual items → essay with the model answer for the grader.
"""
from __future__ import annotations

import html
import random
from dataclasses import dataclass


from ..families._common import numeric
from ..generate import Generated
from ..mathfmt import render
from ._content import answer_html, prompt_html, solution_html, value_html

TOLERANCES = ((0.01, 2), (0.001, 3))   # (margin, decimals asked for)
TINY = 1e-4                            # Canvas rounds numbers below this to 0


@dataclass(frozen=True)
class Choice:
    html: str
    correct: bool
    feedback: str
    misconception: str | None


@dataclass(frozen=True)
class Question:
    kind: str              # numerical | components | multiple_choice | true_false
    prompt: str
    solution: str
    answer: str
    value: float | None = None
    margin: float | None = None
    decimals: int | None = None
    components: tuple[int, ...] = ()
    choices: tuple[Choice, ...] = ()
    truth: bool | None = None


@dataclass(frozen=True)
class Pool:
    """All variants of one randomized problem: a Canvas question group, a Moodle category."""
    key: str                       # lesson/item/spec
    label: str
    points: float
    members: tuple[Generated, ...]


@dataclass(frozen=True)
class Essay:
    key: tuple[str, ...]
    label: str
    prompt: str
    model_answer: str
    points: float


@dataclass(frozen=True)
class Statement:
    """A true/false statement from the lesson text."""
    key: tuple[str, ...]
    label: str
    statement: str
    answer: bool
    reason: str
    points: float


def quiz_parts(lb) -> list[Pool | Essay | Statement]:
    """The lesson as LMS questions, in lesson order, with the points each is worth."""
    lesson, quiz_points = lb.lesson, lb.lesson.quiz.points
    members: dict[str, list] = {}
    for g in lb.problems:
        members.setdefault(g.slot.group, []).append(g)

    def pools(item, points):
        return [Pool(f"{lesson.id}/{item.id}/{spec.id}", f"{item.id}{spec.id} {spec.family}", points,
                     tuple(members[f"{lesson.id}/{item.id}/{spec.id}"])) for spec in item.problems]

    def essay(item, points):
        return Essay((lesson.id, item.id, "essay"), f"{item.id} (explain)", item.prompt, item.model_answer, points)

    parts: list = []
    for item in lesson.exercises:
        points = lesson.level(item.level).points
        parts += pools(item, points) + ([essay(item, points)] if item.model_answer else [])
    for tf in lesson.quiz.true_false:
        points = quiz_points.get("true_false", 1)
        parts.append(Statement((lesson.id, tf.id, "statement"), f"{tf.id} (true/false)", tf.statement,
                               tf.answer, tf.reason, points))
        parts += pools(tf, points)
    parts += [essay(c, quiz_points.get("conceptual", 2)) for c in lesson.quiz.conceptual]
    for c in lesson.quiz.coding:
        parts += pools(c, quiz_points.get("coding", 2))
    return parts


def figures(lb, options):
    """Plots the LMS feedback embeds (only with --lms-figures)."""
    if not options.lms_figures:
        return []
    return [(g.problem.figure, {}) for g in lb.problems if g.problem.figure is not None]


def figure_html(g: Generated, src_prefix: str) -> tuple[str, str | None]:
    """An <img> for the problem's plot, and the file name it refers to."""
    from ..figures import alt_text, figure_name
    if g.problem.figure is None:
        return "", None
    name = figure_name(g.problem.figure)
    alt = html.escape(alt_text(g.problem.figure), quote=True)
    return f'<p><img src="{src_prefix}{name}" alt="{alt}"></p>', name


_QUESTIONS: dict[tuple, Question] = {}


def question(g: Generated) -> Question:
    """The LMS item for a problem; computed once per build (Canvas and Moodle share it, and a
    parallel build computes them in workers up front, see pipeline.render_all)."""
    key = (g.slot.id, g.seed)
    if key not in _QUESTIONS:
        _QUESTIONS[key] = _question(g)
    return _QUESTIONS[key]


def precompute(problems) -> dict[tuple, Question]:
    return {(g.slot.id, g.seed): question(g) for g in problems}


def _question(g: Generated) -> Question:
    p = g.problem
    prompt, solution, answer = prompt_html(p), solution_html(p), answer_html(p)
    if p.answer_kind == "boolean":
        truth = bool(p.answer)
        wrong = render(p.distractors[0].feedback, "html") if p.distractors else "Not quite."
        verdicts = tuple(Choice(label, value == truth, "Correct." if value == truth else wrong, None)
                         for label, value in (("True", True), ("False", False)))
        return Question("true_false", prompt.replace("True or false: ", ""), solution, answer, truth=truth,
                        choices=verdicts)
    if p.answer_kind == "scalar":
        value = float(p.answer)
        others = [numeric(d.value) for d in p.distractors]
        scalars = [o for o in others if not isinstance(o, list)]
        for margin, decimals in TOLERANCES:
            if abs(value) >= TINY and all(abs(o - value) > 2 * margin for o in scalars):
                return Question("numerical", prompt + f"<p>Give a decimal rounded to {decimals} places.</p>",
                                solution, answer, value=value, margin=margin, decimals=decimals)
    if p.answer_kind in ("vector", "point") and all(c.is_Integer for c in p.answer):
        return Question("components", prompt, solution, answer, components=tuple(int(c) for c in p.answer))
    return Question("multiple_choice", prompt, solution, answer, choices=choices(g))


def choices(g: Generated) -> tuple[Choice, ...]:
    p = g.problem
    out = [Choice(value_html(p, p.answer), True, "Correct.", None)]
    out += [Choice(value_html(p, d.value), False, render(d.feedback, "html"), d.misconception)
            for d in p.distractors]
    if p.answer_kind == "choice":
        out = sorted(out, key=lambda c: c.html)  # A, B, C in order
    else:
        random.Random(g.seed).shuffle(out)       # the correct answer is not always first
    return tuple(out)


def accepted_spellings(n: int) -> list[str]:
    return [str(n), f"{n}.0", f"+{n}"] if n > 0 else [str(n), f"{n}.0"]
