"""What a problem says, as Rich text (prose + math): shared by every target so the same problem
reads the same in Anki, Canvas, Moodle and on paper. Each target renders it in its own language."""
from __future__ import annotations

import html

from ..generate import Generated
from ..mathfmt import render, tex
from ..problem import Problem, rich


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def math(expr) -> str:
    return r"\(" + html.escape(tex(expr), quote=False) + r"\)"


def decimal(value, digits=4) -> str:
    """A plain decimal for a scalar: '1.5', never '1,5' or '3/2'."""
    text = f"{float(value):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def value_rich(p: Problem, value):
    if p.answer_kind == "choice":
        i = int(value)
        return rich(f"{p.data['labels'][i]}: ", p.data["directions"][i])
    if p.answer_kind == "boolean":
        return rich("True" if value else "False")
    if isinstance(value, tuple):
        return rich(value[0], " and ", value[1])
    return rich(value)


def answer_rich(p: Problem):
    out = value_rich(p, p.answer)
    if p.answer_kind == "scalar" and not p.answer.is_Integer:
        out += rich(" ≈ " + decimal(p.answer))
    elif p.answer_kind in ("vector", "point", "vector_pair"):
        vectors = p.answer if p.answer_kind == "vector_pair" else (p.answer,)
        if not all(c.is_Integer for v in vectors for c in v):
            shown = " and ".join("(" + ", ".join(decimal(c) for c in v) + ")" for v in vectors)
            out += rich(" ≈ " + shown)
    if p.family == "steepest_ascent":
        out += rich("; rate ", p.data["rate"])
    if p.family == "gradient_descent_step":
        out += rich("; f " + ("decreased" if p.data["decreased"] else "did not decrease"))
    if p.family == "gradient_magnitude":
        out += rich(", in the direction of ", p.data["gradient"])
    return out


def prompt_html(p: Problem) -> str:
    return render(p.prompt, "html")


def value_html(p: Problem, value) -> str:
    return render(value_rich(p, value), "html")


def answer_html(p: Problem) -> str:
    return render(answer_rich(p), "html")


def solution_html(p: Problem) -> str:
    return "<ol>" + "".join(f"<li>{render(step, 'html')}</li>" for step in p.steps) + "</ol>"


def mistakes_html(p: Problem) -> str:
    items = []
    for d in p.distractors:
        value = "" if p.answer_kind == "choice" else value_html(p, d.value) + ": "
        items.append(f"<li>{value}{render(d.feedback, 'html')}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def source_text(g: Generated, lesson) -> str:
    s = g.slot
    variant = "from the lesson" if s.variant == 0 else f"variant {s.variant}"
    return f"Lesson {lesson.number}, {s.item}{s.spec.id} ({s.spec.family}, {variant}, seed {g.seed})"
