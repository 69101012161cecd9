"""Moodle XML (moodle.xml): one category per problem group holding all its variants, so a teacher
adds "random question from category"; numerical, multichoice, truefalse, essay and cloze items.

Question text goes in CDATA, except text that itself contains "]]>", which lxml then writes as
escaped text: the same string to Moodle's XML parser, and still well-formed.
"""
from __future__ import annotations

import base64
import functools

from lxml import etree

from ..figures import render_png

from ._content import esc, lesson_html
from ._xml import Streamed, ident, sub
from .lms import Essay, Pool, Statement, cloze_weight, figure_html, figures, layout, question, quiz_parts  # noqa: F401 (figures: prefetch hook)
from .typed import exact_text

ALLOWED_FRACTIONS = ("100", "90", "83.33333", "80", "75", "70", "66.66667", "60", "50", "40", "33.33333", "30",
                     "25", "20", "16.66667", "14.28571", "12.5", "11.11111", "10", "5", "0")


def _cdata(value):
    return etree.CDATA(value) if "]]>" not in value and value else value


def text(parent, tag, value, fmt="html", cdata=True):
    node = sub(parent, tag, format=fmt) if fmt else sub(parent, tag)
    t = sub(node, "text")
    t.text = _cdata(value) if cdata else value
    return node


def category(root, path: str, idnumber: str):
    q = sub(root, "question", type="category")
    cat = sub(q, "category")
    sub(cat, "text", "$course$/top/" + path)
    text(q, "info", "")
    sub(q, "idnumber", idnumber)


def _cat_name(name: str) -> str:
    return name.replace("/", "//")   # Moodle reads "/" as a category separator


def _question():
    """What base() fills in, built once: a question of thousands is a copy with its texts set (lxml
    copies a subtree for less than the SubElement calls of building it cost)."""
    q = etree.Element("question", {"type": ""})
    sub(sub(q, "name"), "text")
    text(q, "questiontext", "")
    text(q, "generalfeedback", "")
    for tag in ("defaultgrade", "penalty", "hidden", "idnumber"):
        sub(q, tag)
    return q


def _answer(fmt, tolerance):
    a = etree.Element("answer", {"fraction": "", "format": fmt})
    sub(a, "text")
    text(a, "feedback", "")
    if tolerance:
        sub(a, "tolerance")
    return a


_QUESTION = _question()
_ANSWERS = {(fmt, tolerance): _answer(fmt, tolerance) for fmt in ("html", "moodle_auto_format")
            for tolerance in (False, True)}


def base(root, qtype, name, prompt, feedback, grade, idnumber):
    q = _QUESTION.__copy__()
    q.set("type", qtype)
    name_, question, general, default, penalty, hidden, number = q
    name_[0].text = name
    question[0].text = _cdata(prompt)
    general[0].text = _cdata(feedback)
    default.text = f"{float(grade):g}"
    penalty.text = "0.3333333"
    hidden.text = "0"
    number.text = idnumber
    root.append(q)
    return q


def answer(q, fraction, value, feedback, fmt="html", tolerance=None):
    assert fraction in ALLOWED_FRACTIONS
    a = _ANSWERS[fmt, tolerance is not None].__copy__()
    a.set("fraction", fraction)
    a[0].text = etree.CDATA(value) if fmt == "html" and "]]>" not in value else value
    a[1][0].text = _cdata(feedback)
    if tolerance is not None:
        a[2].text = tolerance
    q.append(a)


def problem_question(root, g, name, grade, with_figure=False):
    qn = question(g)
    picture, image = figure_html(g, "@@PLUGINFILE@@/") if with_figure else ("", None)
    feedback = f"<p>Answer: {qn.answer}</p>{qn.solution}{picture}"
    idn = ident(g.slot.id, prefix="gen-")
    kind = layout(qn, "moodle", grade)
    q = BODIES[kind](root, qn, name, grade, feedback, idn)
    if image:
        data = base64.b64encode(render_png(g.problem.figure)).decode("ascii")
        sub(q.find("generalfeedback"), "file", data, name=image, path="/", encoding="base64")


def _with_instructions(qn, text):
    return text + (f"<p>{esc(qn.instructions)}</p>" if qn.instructions else "")


def _numerical(root, qn, name, grade, feedback, idn):
    [box] = qn.boxes
    q = base(root, "numerical", name, _with_instructions(qn, qn.stem), feedback, grade, idn)
    answer(q, "100", box.exact, "Correct.", fmt="moodle_auto_format", tolerance=f"{box.tolerance:g}")
    for value, fb, _, _ in box.wrong:
        answer(q, "0", exact_text(value), fb, fmt="moodle_auto_format", tolerance=f"{box.tolerance:g}")
    sub(q, "unitgradingtype", "0")
    sub(q, "unitpenalty", "0.1000000")
    sub(q, "showunits", "3")
    sub(q, "unitsleft", "0")
    return q


def cloze_escape(text: str) -> str:
    """Text inside a cloze subquestion. Moodle ends an answer or feedback at an unescaped } # or ~
    and turns \\} and \\# back into } and # (qtype_multianswer_extract_question); it does not
    unescape \\~, so a tilde becomes the similar-looking U+223C instead."""
    return text.replace("}", "\\}").replace("#", "\\#").replace("~", "\u223c")


def _cloze_box(box, weight) -> str:
    if box.kind == "number":
        alternatives = [f"={box.exact}:{box.tolerance:g}#Correct."]
        alternatives += [f"%0%{exact_text(v)}:{box.tolerance:g}#{cloze_escape(fb)}" for v, _, fb, _ in box.wrong]
        return f"{{{weight}:NUMERICAL:" + "~".join(alternatives) + "}"
    # Dropdowns (MULTICHOICE) show plain text only; options with math are vertical radio buttons
    # (MULTICHOICE_V), which render HTML.
    kind = "MULTICHOICE" if all(c.plain for c in box.choices) else "MULTICHOICE_V"
    options = [("=" if c.correct else "%0%") + cloze_escape(c.html) + "#" + cloze_escape(c.feedback_text)
               for c in box.choices]
    return f"{{{weight}:{kind}:" + "~".join(options) + "}"


def _cloze(root, qn, name, grade, feedback, idn):
    weight = cloze_weight(qn, grade)
    lines = [part.line([_cloze_box(b, weight) for b in part.boxes]) for part in qn.parts]
    q = base(root, "cloze", name, _with_instructions(qn, qn.stem + "".join(lines)), feedback, grade, idn)
    return q


def _truefalse(root, qn, name, grade, feedback, idn):
    q = base(root, "truefalse", name, qn.stem, feedback, grade, idn)
    for c in qn.boxes[0].choices:
        answer(q, "100" if c.correct else "0", c.html.lower(), c.feedback, fmt="moodle_auto_format")
    return q


def _multichoice(root, qn, name, grade, feedback, idn):
    single = len(qn.boxes) == 1
    text = _with_instructions(qn, qn.stem) if single and qn.boxes[0].kind == "number" else \
        qn.stem if single else qn.stem + "<p>Choose the option that gets every part right.</p>"
    q = base(root, "multichoice", name, text, feedback, grade, idn)
    labelled = qn.ordered
    sub(q, "single", "true")
    # Options that carry their own letters (A: ⟨…⟩) keep their order and get no second numbering.
    sub(q, "shuffleanswers", "false" if labelled else "true")
    sub(q, "answernumbering", "none" if labelled else "abc")
    for c in qn.combined:
        answer(q, "100" if c.correct else "0", c.html, c.feedback)
    return q


BODIES = {"numerical": _numerical, "cloze": _cloze, "true_false": _truefalse, "multiple_choice": _multichoice}


def essay(root, name, prompt, model_answer, grade, idnumber):
    q = base(root, "essay", name, f"<p>{lesson_html(prompt)}</p>", "", grade, idnumber)
    sub(q, "responseformat", "editor")
    sub(q, "responserequired", "1")
    sub(q, "responsefieldlines", "10")
    sub(q, "attachments", "0")
    text(q, "graderinfo", f"<p>Model answer: {lesson_html(model_answer)}</p>")
    text(q, "responsetemplate", "")


def render(lb, options) -> dict[str, bytes]:
    lesson = lb.lesson
    root = etree.Element("quiz")
    top = _cat_name(f"Lesson {lesson.number} {lesson.title}")
    parts = quiz_parts(lb)
    stream = Streamed()
    for pool in (p for p in parts if isinstance(p, Pool)):
        category(root, f"{top}/{_cat_name(pool.label)}", ident(pool.key, prefix="cat-"))
        for g in pool.members:
            stream.later(root, functools.partial(problem_question, g=g, name=f"{pool.label} v{g.slot.variant}",
                                                 grade=pool.points, with_figure=options.lms_figures))
    category(root, f"{top}/Conceptual and true-false", ident(lesson.id, "concepts", prefix="cat-"))
    for e in (p for p in parts if isinstance(p, Essay)):
        essay(root, e.label, e.prompt, e.model_answer, e.points, ident(*e.key, prefix="gen-"))
    for tf in (p for p in parts if isinstance(p, Statement)):
        q = base(root, "truefalse", tf.label, f"<p>{lesson_html(tf.statement)}</p>", f"<p>{lesson_html(tf.reason)}</p>",
                 tf.points, ident(*tf.key, prefix="gen-"))
        # The reason is the general feedback, shown after either answer; repeating it as each
        # answer's feedback printed it twice.
        verdict = "true" if tf.answer else "false"
        for value in ("true", "false"):
            right = value == verdict
            answer(q, "100" if right else "0", value,
                   "Correct." if right else f"Not quite: the statement is {verdict}.",
                   fmt="moodle_auto_format")
    return {"moodle.xml": stream.tostring(root)}
