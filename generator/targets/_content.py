"""What a problem says, as Rich text (prose + math): shared by every target so the same problem
reads the same in Anki, Canvas, Moodle and on paper. Each target renders it in its own language."""
from __future__ import annotations

import html
import re

from ..generate import Generated
from ..mathfmt import render, tex
from ..prose import prose
from ..problem import Part, Problem, Vec, rich


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def lesson_html(text: str) -> str:
    """Lesson prose (with $…$ math) as HTML with MathJax math, for Anki and the LMSs."""
    return render(prose(text), "html")


def strip_tags(text: str) -> str:
    """The text of an HTML fragment (for places that show plain text: dropdowns, tooltips)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def math(expr) -> str:
    return r"\(" + html.escape(tex(expr), quote=False) + r"\)"


def decimal(value, digits=4) -> str:
    """A plain decimal for a scalar: '1.5', never '1,5' or '3/2'; a true minus sign."""
    text = f"{float(value):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text.replace("-", "\u2212")


def option_rich(part: Part, value):
    """One option of a choice part (or a distractor's value) as shown to the student."""
    if part.options is not None:
        option = part.options[int(value)]
        return option if isinstance(option, tuple) else rich(str(option))
    if isinstance(value, tuple) and not isinstance(value, Vec) and len(value) == 2 and all(
            isinstance(v, Vec) for v in value):
        return rich(value[0], " and ", value[1])
    return rich(value)


def value_rich(part: Part, value):
    if part.kind == "boolean":
        return rich("True" if value else "False")
    if part.kind == "choice":
        return option_rich(part, value)
    return rich(value)


def _approx(part: Part):
    """ ≈ decimals, where the exact answer is not an integer (what a student types)."""
    if part.kind == "number" and not part.answer.is_Integer:
        return rich(" ≈ " + decimal(part.answer))
    if part.kind == "vector" and not all(c.is_Integer for c in part.answer):
        return rich(" ≈ (" + ", ".join(decimal(c) for c in part.answer) + ")")
    return ()


def part_answer_rich(part: Part):
    return value_rich(part, part.answer) + _approx(part)


def answer_rich(p: Problem):
    """Every part's answer, labelled when the problem asks more than one thing."""
    if len(p.parts) == 1:
        return part_answer_rich(p.parts[0])
    out = ()
    for i, part in enumerate(p.parts):
        out += (rich("; ") if i else ()) + part.label + rich(": ") + part_answer_rich(part)
    return out


def prompt_html(p: Problem) -> str:
    return render(p.prompt, "html")


def answer_html(p: Problem) -> str:
    return render(answer_rich(p), "html")


def solution_html(p: Problem) -> str:
    return "<ol>" + "".join(f"<li>{render(step, 'html')}</li>" for step in p.steps) + "</ol>"


def mistakes_html(p: Problem) -> str:
    items = []
    for part in p.parts:
        for d in part.distractors:
            value = "" if part.options is not None or part.kind == "boolean" else \
                render(value_rich(part, d.value), "html") + ": "
            items.append(f"<li>{value}{render(d.feedback, 'html')}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def source_text(g: Generated, lesson) -> str:
    """Where a problem comes from, for students: no seeds (those belong in the teacher's key and
    the manifest)."""
    s = g.slot
    variant = "from the lesson" if s.variant == 0 else f"practice version {s.variant}"
    return f"Lesson {lesson.number}, exercise {s.item}{s.spec.id} ({variant})"
