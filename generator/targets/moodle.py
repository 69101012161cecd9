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
from .lms import accepted_spellings, figure_html, figures, question  # noqa: F401 (figures: prefetch hook)
from .qti import level_points

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
    groups: dict[str, list] = {}
    for g in lb.problems:
        groups.setdefault(g.slot.group, []).append(g)

    def emit_group(item_id, spec):
        gid = f"{lesson.id}/{item_id}/{spec.id}"
        members = groups[gid]
        label = f"{item_id}{spec.id} {spec.family}"
        category(root, f"{top}/{_cat_name(label)}", ident(gid, prefix="cat-"))
        for g in members:
            problem_question(root, g, f"{label} v{g.slot.variant}", level_points(lesson, g), options.lms_figures)

    concept_items = []
    for item in lesson.exercises:
        for spec in item.problems:
            emit_group(item.id, spec)
        if item.model_answer:
            concept_items.append((item, lesson.level(item.level).points))
    for tf in lesson.quiz.true_false:
        for spec in tf.problems:
            emit_group(tf.id, spec)
    for c in lesson.quiz.coding:
        for spec in c.problems:
            emit_group(c.id, spec)
    category(root, f"{top}/Conceptual and true-false", ident(lesson.id, "concepts", prefix="cat-"))
    for item, pts in concept_items + [(c, lesson.quiz.points.get("conceptual", 2)) for c in lesson.quiz.conceptual]:
        essay(root, f"{item.id} (explain)", item.prompt, item.model_answer, pts,
              ident(lesson.id, item.id, "essay", prefix="gen-"))
    for tf in lesson.quiz.true_false:
        q = base(root, "truefalse", f"{tf.id} (true/false)", f"<p>{esc(tf.statement)}</p>",
                 f"<p>{esc(tf.reason)}</p>", lesson.quiz.points.get("true_false", 1),
                 ident(lesson.id, tf.id, "statement", prefix="gen-"))
        for value in ("true", "false"):
            right = (value == "true") == tf.answer
            answer(q, "100" if right else "0", value, esc(tf.reason), fmt="moodle_auto_format")
    return {"moodle.xml": tostring(root)}
