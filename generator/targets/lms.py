"""How each problem becomes an LMS question: shared by Canvas QTI and Moodle XML so both ask and
grade the same parts.

A problem declares its parts (problem.Part); every part becomes a response box: a typed number
per number or vector component, a choice per choice part. The item type follows from the boxes
and the LMS (`layout`):

- one number → numerical, with a tolerance of half a unit in the asked place;
- one choice → multiple choice (true/false for a statement);
- several numbers → Canvas fill-in-multiple-blanks (each blank lists every typing of its value,
  see typed.py) and Moodle cloze with a NUMERICAL subquestion per box;
- several choices of plain words → Canvas multiple dropdowns and Moodle cloze dropdowns;
- anything Canvas cannot mix (typed numbers and choices in one item), or a Moodle item whose
  points are not a whole multiple of its boxes (Moodle gives every cloze box a whole mark and
  makes the item's mark their sum), → one multiple choice whose options combine every part.

Conceptual items become essays with the model answer for the grader.
"""
from __future__ import annotations

import html
import random
from dataclasses import dataclass

from ..families._common import as_float
from ..generate import Generated
from ..mathfmt import render
from ..problem import Part, Pt
from ._content import answer_html, option_rich, prompt_html, solution_html
from .typed import exact_text, instructions, tolerance, typings

CHOICES = 4           # options of a combined multiple choice: the answer and three combinations


@dataclass(frozen=True)
class Choice:
    html: str
    correct: bool
    feedback: str
    misconception: str | None
    plain: bool = False        # the option is plain words (fits a dropdown)
    feedback_text: str = ""    # the feedback without markup (for tooltips)
    text: str = ""             # the option without markup (Canvas's answer text when the HTML is images)


@dataclass(frozen=True)
class Box:
    """One response box: a typed number, or a choice among options."""
    name: str                  # unique within the item: the part name, plus the component number
    kind: str                  # "number" | "choice"
    value: float | None = None
    exact: str | None = None   # the value as a plain decimal a numerical grader parses
    form: str = "decimal"
    decimals: int = 2
    tolerance: float = 0.0
    typings: tuple[str, ...] = ()          # what Canvas accepts in a blank
    wrong: tuple[tuple[float, str, str, str], ...] = ()   # (value, feedback html, feedback text, misconception)
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class AskedPart:
    name: str
    label: str                 # html
    boxes: tuple[Box, ...]
    brackets: tuple[str, str] | None    # "⟨⟩" for vectors, "()" for points, None for one box
    prose: bool = False        # the label is words ("The value of f there"), not a symbol

    def line(self, boxes: list[str]) -> str:
        """The answer line: "∇f(P) = ⟨[a], [b]⟩" or "The value of f there: [c]"."""
        inner = ", ".join(boxes)
        if self.brackets:
            inner = f"{self.brackets[0]} {inner} {self.brackets[1]}"
        if self.prose:
            return f"<p>{self.label[:1].upper() + self.label[1:]}: {inner}</p>"
        return f"<p>{self.label}{': ' if self.boxes[0].kind == 'choice' else ' = '}{inner}</p>"


@dataclass(frozen=True)
class Question:
    stem: str                  # the problem's prompt (html)
    parts: tuple[AskedPart, ...]
    instructions: str          # how to type numbers ("" when nothing is typed)
    solution: str
    answer: str
    combined: tuple[Choice, ...]   # a multiple choice covering every part (single-choice items: its options)
    truth: bool | None = None
    ordered: bool = False      # the options carry their own letters (A: …): keep their order

    @property
    def boxes(self) -> tuple[Box, ...]:
        return tuple(b for p in self.parts for b in p.boxes)


def layout(q: Question, lms: str, points: float) -> str:
    """numerical | true_false | multiple_choice | blanks | dropdowns | cloze (see the docstring)."""
    boxes = q.boxes
    if q.truth is not None:
        return "true_false"
    if len(boxes) == 1:
        return "numerical" if boxes[0].kind == "number" else "multiple_choice"
    kinds = {b.kind for b in boxes}
    words = all(c.plain for b in boxes for c in b.choices)
    if lms == "canvas":
        if kinds == {"number"}:
            return "blanks"
        return "dropdowns" if kinds == {"choice"} and words else "multiple_choice"
    whole = float(points) / len(boxes)
    return "cloze" if whole == int(whole) and whole >= 1 else "multiple_choice"


def cloze_weight(q: Question, points: float) -> int:
    return int(float(points) / len(q.boxes))


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

    def drawn(group):
        # A pool draws from the random variants: the lesson's own instance is its worked example
        # (students may have read it solved) and often the easiest, so it stays on the worksheet
        # and in the deck. A problem with no random variants is its own instance.
        return tuple(g for g in group if g.slot.variant > 0) or tuple(group)

    def pools(item, points):
        return [Pool(f"{lesson.id}/{item.id}/{spec.id}", f"{item.id}{spec.id} {spec.family}", points,
                     drawn(members[f"{lesson.id}/{item.id}/{spec.id}"])) for spec in item.problems]

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
    """The LMS item for a problem: made where the problem was drawn (generate.Finish), or here,
    once per build (Canvas and Moodle share it)."""
    if g.question is not None:
        return g.question
    key = (g.slot.id, g.seed)
    if key not in _QUESTIONS:
        _QUESTIONS[key] = _question(g)
    return _QUESTIONS[key]


def make_question(g: Generated) -> Question:
    return _question(g)


def _plain_words(text: str) -> bool:
    return "\\(" not in text and "<" not in text


def _options(g: Generated, part: Part) -> tuple[Choice, ...]:
    """A choice part's options: the answer and its distractors, each with its feedback."""
    if part.options is not None:
        feedback = {int(d.value): d for d in part.distractors}
        out = []
        for i in range(len(part.options)):
            text = render(option_rich(part, i), "html")
            d = feedback.get(i)
            right = i == int(part.answer)
            out.append(Choice(text, right, "Correct." if right else render(d.feedback, "html") if d else "Not this one.",
                              d.misconception if d else None, _plain_words(text),
                              "Correct." if right else render(d.feedback, "text") if d else "Not this one.",
                              render(option_rich(part, i), "text")))
        return tuple(out)
    out = [Choice(render(option_rich(part, part.answer), "html"), True, "Correct.", None, feedback_text="Correct.",
                  text=render(option_rich(part, part.answer), "text"))]
    out += [Choice(render(option_rich(part, d.value), "html"), False, render(d.feedback, "html"), d.misconception,
                   feedback_text=render(d.feedback, "text"), text=render(option_rich(part, d.value), "text"))
            for d in part.distractors]
    random.Random(f"{g.seed}/{part.name}").shuffle(out)       # the answer is not always first
    return tuple(out)


def _number_box(name, part, value, wrong=()) -> Box:
    return Box(name, "number", as_float(value), exact_text(value), part.form, part.decimals,
               tolerance(part.form, part.decimals), typings(value, part.form, part.decimals), tuple(wrong))


def _asked(g: Generated, part: Part) -> AskedPart:
    label = render(part.label, "html")
    # Words ("the value of $f$ there") rather than a symbol (û, ∇f(P)): a label with a phrase in it.
    prose = any(isinstance(piece, str) and " " in piece.strip() for piece in part.label)
    if part.kind == "number":
        wrong = [(as_float(d.value), render(d.feedback, "html"), render(d.feedback, "text"), d.misconception)
                 for d in part.distractors]
        return AskedPart(part.name, label, (_number_box(part.name, part, part.answer, wrong),), None, prose)
    if part.kind == "vector":
        boxes = tuple(_number_box(f"{part.name}_{i + 1}", part, c) for i, c in enumerate(part.answer))
        brackets = ("(", ")") if isinstance(part.answer, Pt) else ("⟨", "⟩")
        return AskedPart(part.name, label, boxes, brackets, prose)
    if part.kind == "boolean":
        truth = bool(part.answer)
        wrong = part.distractors[0].feedback if part.distractors else ("Not quite.",)
        choices = tuple(Choice(text, value == truth, "Correct." if value == truth else render(wrong, "html"), None,
                               True, "Correct." if value == truth else render(wrong, "text"), text)
                        for text, value in (("True", True), ("False", False)))
        return AskedPart(part.name, label, (Box(part.name, "choice", choices=choices),), None, prose)
    return AskedPart(part.name, label, (Box(part.name, "choice", choices=_options(g, part)),), None, prose)


def _combined(g: Generated, asked: tuple[AskedPart, ...]) -> tuple[Choice, ...]:
    """A multiple choice covering every part: the right answers together, and combinations with
    exactly one part wrong (its misconception's feedback), taken in turn from each part."""
    p = g.problem
    if len(p.parts) == 1 and p.parts[0].kind in ("choice", "boolean"):
        return asked[0].boxes[0].choices
    right = [(render(option_rich(part, part.answer), "html"), render(option_rich(part, part.answer), "text"))
             for part in p.parts]

    def joined(values, lang):
        k = 0 if lang == "html" else 1
        if len(values) == 1:
            return values[0][k]
        return "; ".join(f"{render(part.label, lang)} = {v[k]}" for part, v in zip(p.parts, values))

    wrong = []
    queues = [list(part.distractors) for part in p.parts]
    while len(wrong) < CHOICES - 1 and any(queues):
        for i, queue in enumerate(queues):
            if queue and len(wrong) < CHOICES - 1:
                d = queue.pop(0)
                values = list(right)
                values[i] = (render(option_rich(p.parts[i], d.value), "html"),
                             render(option_rich(p.parts[i], d.value), "text"))
                wrong.append(Choice(joined(values, "html"), False, render(d.feedback, "html"), d.misconception,
                                    feedback_text=render(d.feedback, "text"), text=joined(values, "text")))
    out = [Choice(joined(right, "html"), True, "Correct.", None, feedback_text="Correct.",
                  text=joined(right, "text"))] + wrong
    random.Random(f"{g.seed}/combined").shuffle(out)
    return tuple(out)


def _question(g: Generated) -> Question:
    p = g.problem
    asked = tuple(_asked(g, part) for part in p.parts)
    forms = {part.form for part in p.parts if part.kind in ("number", "vector")}
    decimals = max((part.decimals for part in p.parts if part.kind in ("number", "vector")), default=2)
    truth = bool(p.answer) if len(p.parts) == 1 and p.parts[0].kind == "boolean" else None
    stem = prompt_html(p)
    if truth is not None:
        stem = stem.replace("True or false: ", "")
    ordered = len(p.parts) == 1 and p.parts[0].ordered
    boxes = sum(len(a.boxes) for a in asked if a.boxes[0].kind == "number")
    return Question(stem, asked, instructions(forms, decimals, boxes) if forms else "", solution_html(p), answer_html(p),
                    _combined(g, asked), truth, ordered)
