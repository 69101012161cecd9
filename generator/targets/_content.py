"""What a problem says in HTML with MathJax math: shared by Anki, Canvas and Moodle.

Each LMS/flashcard target decides its own item structure; the words and math come from here so
the same problem reads the same everywhere.
"""
from __future__ import annotations

import html

from ..generate import Generated
from ..mathfmt import render, tex
from ..problem import Problem


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def math(expr) -> str:
    return r"\(" + html.escape(tex(expr), quote=False) + r"\)"


def prompt_html(p: Problem) -> str:
    return render(p.prompt, "html")


def value_html(p: Problem, value) -> str:
    if p.answer_kind == "choice":
        i = int(value)
        return f"{p.data['labels'][i]}: " + math(p.data["directions"][i])
    if p.answer_kind == "boolean":
        return "True" if value else "False"
    if isinstance(value, tuple):
        return " and ".join(math(v) for v in value)
    return math(value)


def decimal(value, digits=4) -> str:
    """A plain decimal for a scalar: '1.5', never '1,5' or '3/2'."""
    text = f"{float(value):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def answer_html(p: Problem) -> str:
    out = value_html(p, p.answer)
    if p.answer_kind == "scalar" and not p.answer.is_Integer:
        out += r" \(\approx\) " + decimal(p.answer)
    if p.family == "steepest_ascent":
        out += " ; rate " + math(p.data["rate"])
    if p.family == "gradient_descent_step":
        out += "; f " + ("decreased" if p.data["decreased"] else "did not decrease")
    if p.family == "gradient_magnitude":
        out += ", in the direction of " + math(p.data["gradient"])
    return out


def solution_html(p: Problem) -> str:
    return "<ol>" + "".join(f"<li>{render(step, 'html')}</li>" for step in p.steps) + "</ol>"


def mistakes_html(p: Problem) -> str:
    return "<ul>" + "".join(f"<li>{value_html(p, d.value) if p.answer_kind != 'choice' else ''}"
                            f"{': ' if p.answer_kind != 'choice' else ''}{render(d.feedback, 'html')}</li>"
                            for d in p.distractors) + "</ul>"


def source_text(g: Generated, lesson) -> str:
    s = g.slot
    variant = "from the lesson" if s.variant == 0 else f"variant {s.variant}"
    return f"Lesson {lesson.number}, {s.item}{s.spec.id} ({s.spec.family}, {variant}, seed {g.seed})"


def scalar_parts(p: Problem) -> list | None:
    """The numbers an LMS can grade: one per scalar, per vector component, or none."""
    kind = p.answer_kind
    if kind == "scalar":
        return [p.answer]
    if kind in ("vector", "point"):
        return list(p.answer)
    return None
