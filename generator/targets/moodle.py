"""Moodle XML (moodle.xml): one category per problem group holding all its variants, so a teacher
adds "random question from category"; numerical, multichoice, truefalse, essay and cloze items.

Question text goes in CDATA, except text that itself contains "]]>", which lxml then writes as
escaped text: the same string to Moodle's XML parser, and still well-formed.
"""
from __future__ import annotations

import base64

from lxml import etree

from ..figures import render_png

from ._content import esc
from ._xml import ident, sub, tostring
from .lms import Essay, Pool, Statement, figure_html, figures, question, quiz_parts  # noqa: F401 (figures: prefetch hook)

ALLOWED_FRACTIONS = ("100", "90", "83.33333", "80", "75", "70", "66.66667", "60", "50", "40", "33.33333", "30",
                     "25", "20", "16.66667", "14.28571", "12.5", "11.11111", "10", "5", "0")


def text(parent, tag, value, fmt="html", cdata=True):
    node = sub(parent, tag, format=fmt) if fmt else sub(parent, tag)
    t = sub(node, "text")
    t.text = etree.CDATA(value) if cdata and "]]>" not in value and value else value
    return node


def category(root, path: str, idnumber: str):
    q = sub(root, "question", type="category")
    cat = sub(q, "category")
    sub(cat, "text", "$course$/top/" + path)
    text(q, "info", "")
    sub(q, "idnumber", idnumber)


def _cat_name(name: str) -> str:
    return name.replace("/", "//")   # Moodle reads "/" as a category separator


def base(root, qtype, name, prompt, feedback, grade, idnumber):
    q = sub(root, "question", type=qtype)
    sub(sub(q, "name"), "text", name)
    text(q, "questiontext", prompt)
    text(q, "generalfeedback", feedback)
    sub(q, "defaultgrade", f"{float(grade):g}")
    sub(q, "penalty", "0.3333333")
    sub(q, "hidden", "0")
    sub(q, "idnumber", idnumber)
    return q


def answer(q, fraction, value, feedback, fmt="html", tolerance=None):
    assert fraction in ALLOWED_FRACTIONS
    a = sub(q, "answer", fraction=fraction, format=fmt)
    t = sub(a, "text")
    t.text = etree.CDATA(value) if fmt == "html" and "]]>" not in value else value
    text(a, "feedback", feedback)
    if tolerance is not None:
        sub(a, "tolerance", tolerance)


def problem_question(root, g, name, grade, with_figure=False):
    qn = question(g)
    picture, image = figure_html(g, "@@PLUGINFILE@@/") if with_figure else ("", None)
    feedback = f"<p>Answer: {qn.answer}</p>{qn.solution}{picture}"
    idn = ident(g.slot.id, prefix="gen-")
    q = _problem_body(root, qn, name, grade, feedback, idn)
    if image:
        data = base64.b64encode(render_png(g.problem.figure)).decode("ascii")
        sub(q.find("generalfeedback"), "file", data, name=image, path="/", encoding="base64")


def _problem_body(root, qn, name, grade, feedback, idn):
    if qn.kind == "numerical":
        q = base(root, "numerical", name, qn.prompt, feedback, grade, idn)
        answer(q, "100", f"{qn.value:.{qn.decimals + 2}f}", "Correct.", fmt="moodle_auto_format",
               tolerance=f"{qn.margin:g}")
        sub(q, "unitgradingtype", "0")
        sub(q, "unitpenalty", "0.1000000")
        sub(q, "showunits", "3")
        sub(q, "unitsleft", "0")
    elif qn.kind == "components":
        blanks = ", ".join(f"{{1:NUMERICAL:={n}:0.001}}" for n in qn.components)
        q = base(root, "cloze", name, qn.prompt + f"<p>Answer: ({blanks})</p>", feedback, grade, idn)
    elif qn.kind == "true_false":
        q = base(root, "truefalse", name, qn.prompt, feedback, grade, idn)
        for c in qn.choices:
            answer(q, "100" if c.correct else "0", c.html.lower(), c.feedback, fmt="moodle_auto_format")
    else:
        q = base(root, "multichoice", name, qn.prompt, feedback, grade, idn)
        sub(q, "single", "true")
        sub(q, "shuffleanswers", "true")
        sub(q, "answernumbering", "abc")
        for c in qn.choices:
            answer(q, "100" if c.correct else "0", c.html, c.feedback)
    return q


def essay(root, name, prompt, model_answer, grade, idnumber):
    q = base(root, "essay", name, f"<p>{esc(prompt)}</p>", "", grade, idnumber)
    sub(q, "responseformat", "editor")
    sub(q, "responserequired", "1")
    sub(q, "responsefieldlines", "10")
    sub(q, "attachments", "0")
    text(q, "graderinfo", f"<p>Model answer: {esc(model_answer)}</p>")
    text(q, "responsetemplate", "")


def render(lb, options) -> dict[str, bytes]:
    lesson = lb.lesson
    root = etree.Element("quiz")
    top = _cat_name(f"Lesson {lesson.number} {lesson.title}")
    parts = quiz_parts(lb)
    for pool in (p for p in parts if isinstance(p, Pool)):
        category(root, f"{top}/{_cat_name(pool.label)}", ident(pool.key, prefix="cat-"))
        for g in pool.members:
            problem_question(root, g, f"{pool.label} v{g.slot.variant}", pool.points, options.lms_figures)
    category(root, f"{top}/Conceptual and true-false", ident(lesson.id, "concepts", prefix="cat-"))
    for e in (p for p in parts if isinstance(p, Essay)):
        essay(root, e.label, e.prompt, e.model_answer, e.points, ident(*e.key, prefix="gen-"))
    for tf in (p for p in parts if isinstance(p, Statement)):
        q = base(root, "truefalse", tf.label, f"<p>{esc(tf.statement)}</p>", f"<p>{esc(tf.reason)}</p>",
                 tf.points, ident(*tf.key, prefix="gen-"))
        for value in ("true", "false"):
            right = (value == "true") == tf.answer
            answer(q, "100" if right else "0", value, esc(tf.reason), fmt="moodle_auto_format")
    return {"moodle.xml": tostring(root)}
