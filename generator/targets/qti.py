"""Canvas-flavoured QTI 1.2 package: canvas-qti.zip.

Shaped like Canvas's own export: imsmanifest.xml, <A>/<A>.xml (one assessment) and
<A>/assessment_meta.xml whose quiz identifier equals the assessment ident. Every randomized
problem is a question group (a <section> with selection_number 1) holding all its variants, so each
student draws one.
"""
from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import quote

from lxml import etree

from ..figures import render_png
from ._content import esc, lesson_html, strip_tags
from ._xml import Streamed, ident, numbered_idents, points, sub, tostring
from ._zip import zip_bytes
from .lms import Essay, Statement, figure_html, figures, layout, question, quiz_parts  # noqa: F401 (figures: prefetch hook)

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
META_NS = "http://canvas.instructure.com/xsd/cccv1p0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def canvas_math_images(text: str) -> str:
    """Replace \\( … \\) with Canvas equation images, for courses without MathJax."""
    def image(m):
        latex = html.unescape(m.group(1))
        src = "/equation_images/" + quote(quote(latex, safe=""), safe="")
        return (f'<img class="equation_image" title="{esc(latex)}" src="{src}" alt="LaTeX: {esc(latex)}" '
                f'data-equation-content="{esc(latex)}">')
    return re.sub(r"\\\((.+?)\\\)", image, text, flags=re.S)


FIGURES = "gen-figures/"       # under web_resources/, the folder the course-files token points at
# Canvas's QTI importer (Qti::HtmlHelper) resolves only $TOKEN$ names of capitals and underscores;
# the hyphenated $IMS-CC-FILEBASE$ of Common Cartridge exports stays a dead link there.
FIGURE_LINK = "$IMS_CC_FILEBASE$/" + FIGURES


# The parts every item repeats, built once here and copied into each item with its texts set: a
# 10,000-variant package has half a million elements, and lxml copies a subtree for less than the
# first SubElement call of building it costs (a Python call, an attribute dict, a proxy each).
def _material(texttype):
    material = etree.Element("material")
    sub(material, "mattext", texttype=texttype)
    return material


def _label(texttype):
    """<response_label ident=…>: a blank's typing, or a choice."""
    label = etree.Element("response_label", {"ident": ""})
    label.append(_material(texttype))
    return label


def _metadata():
    md = etree.Element("itemmetadata")
    fields = sub(md, "qtimetadata")
    for label in ("question_type", "points_possible", "original_answer_ids", "assessment_question_identifierref"):
        field = sub(fields, "qtimetadatafield")
        sub(field, "fieldlabel", label)
        sub(field, "fieldentry")
    return md


def _resprocessing():
    rp = etree.Element("resprocessing")
    sub(sub(rp, "outcomes"), "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    cond = sub(rp, "respcondition", continue_="Yes")
    sub(sub(cond, "conditionvar"), "other")
    sub(cond, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
    return rp


def _feedback():
    fb = etree.Element("itemfeedback", {"ident": ""})
    sub(fb, "flow_mat").append(_material("text/html"))
    return fb


def _chosen():
    """The condition that shows a choice's feedback when it is chosen."""
    cond = etree.Element("respcondition", {"continue": "Yes"})
    sub(sub(cond, "conditionvar"), "varequal", respident="response1")
    sub(cond, "displayfeedback", feedbacktype="Response", linkrefid="")
    return cond


_MATERIAL = {t: _material(t) for t in ("text/html", "text/plain")}
_LABEL, _CHOICE_LABEL = _label("text/plain"), _label("text/html")
_METADATA, _RESPROCESSING, _FEEDBACK, _CHOSEN = _metadata(), _resprocessing(), _feedback(), _chosen()


class _Writer:
    def __init__(self, options):
        self.math = canvas_math_images if options.canvas_math == "image" else (lambda s: s)
        self.with_figures = options.lms_figures
        self.images: dict[str, dict] = {}

    def shown(self, text, fallback=""):
        """HTML as the item shows it. In image mode a choice's HTML may hold nothing but equation
        images, and Canvas takes an answer's text by stripping tags: `fallback` keeps a hidden
        plain-text copy there, so the answer is not "No answer text provided"."""
        shown = self.math(text)
        if fallback and shown != text:
            shown += f'<span style="display: none" aria-hidden="true">{esc(fallback)}</span>'
        return shown

    def mattext(self, parent, text, texttype="text/html", fallback=""):
        """Material for an item: <material><mattext texttype=…>text</mattext></material>."""
        material = _MATERIAL[texttype].__copy__()
        material[0].text = self.shown(text, fallback) if texttype == "text/html" else text
        parent.append(material)
        return material

    def metadata(self, item, qtype, pts, answer_ids=""):
        md = _METADATA.__copy__()
        for field, entry in zip(md[0], (qtype, points(pts), answer_ids, item.get("ident") + "_ref")):
            field[1].text = entry
        item.append(md)

    def feedback(self, item, fb_ident, text):
        fb = _FEEDBACK.__copy__()
        fb.set("ident", fb_ident)
        fb[0][0][0].text = self.math(text)
        item.append(fb)

    def resprocessing(self, item):
        rp = _RESPROCESSING.__copy__()
        item.append(rp)
        return rp

    def problem_item(self, parent, g, title, pts):
        q = question(g)
        item = sub(parent, "item", ident=ident(g.slot.id), title=title)
        kind = layout(q, "canvas", pts)
        handlers = {"numerical": self._numerical, "blanks": self._blanks, "dropdowns": self._dropdowns,
                    "multiple_choice": self._choice, "true_false": self._choice}
        choice_ids = handlers[kind](item, g, q, pts, kind)
        picture = self.figure(g) if self.with_figures else ""
        self.feedback(item, "general_fb", f"<p>Answer: {q.answer}</p>{q.solution}{picture}")
        for aid, choice in choice_ids:
            self.feedback(item, f"{aid}_fb", choice.feedback)
        return item

    def figure(self, g) -> str:
        picture, name = figure_html(g, FIGURE_LINK)
        if name:
            self.images[name] = g.problem.figure
        return picture

    def _text(self, q, template: str) -> str:
        return q.stem + template + (f"<p>{esc(q.instructions)}</p>" if q.instructions else "")

    def _numerical(self, item, g, q, pts, kind):
        [box] = q.boxes
        self.metadata(item, "numerical_question", pts)
        pres = sub(item, "presentation")
        self.mattext(pres, self._text(q, ""))
        resp = sub(pres, "response_str", ident="response1", rcardinality="Single")
        sub(sub(resp, "render_fib", fibtype="Decimal"), "response_label", ident="answer1")
        rp = self.resprocessing(item)
        cond = sub(rp, "respcondition", continue_="No")
        either = sub(sub(cond, "conditionvar"), "or")
        sub(either, "varequal", box.exact, respident="response1")
        # Canvas keeps exact and takes margin = upper bound − exact: bounds symmetric about the
        # exact text as written, so the margin is the tolerance.
        exact, margin = Decimal(box.exact), Decimal(repr(box.tolerance))
        both = sub(either, "and")
        sub(both, "vargte", str(exact - margin), respident="response1")
        sub(both, "varlte", str(exact + margin), respident="response1")
        sub(cond, "setvar", "100", action="Set", varname="SCORE")
        return []

    def _template(self, q) -> str:
        """The answer line of a blanks/dropdowns item: each part's label and its [boxes]."""
        return "".join(part.line([f"[{b.name}]" for b in part.boxes]) for part in q.parts)

    def _blank_item(self, item, g, q, pts, qtype, accepted):
        self.metadata(item, qtype, pts)
        pres = sub(item, "presentation")
        self.mattext(pres, self._text(q, self._template(q)))
        conditions = []
        for box in q.boxes:
            lid = sub(pres, "response_lid", ident=f"response_{box.name}")
            self.mattext(lid, box.name, texttype="text/plain")
            rc = sub(lid, "render_choice")
            idents = []
            answers = accepted(box)
            # What self.mattext(sub(rc, "response_label", ident=aid), text, texttype="text/plain")
            # builds, copied from one built here: a blank has up to 36 typings, 100+ per item, and
            # lxml copies a subtree for less than three SubElement calls cost.
            for aid, (text, correct) in zip(numbered_idents(len(answers), g.slot.id, box.name, prefix="a"), answers):
                label = _LABEL.__copy__()       # lxml copies the whole subtree; copy.deepcopy only adds a detour
                label.set("ident", aid)
                label[0][0].text = text
                rc.append(label)
                if correct:
                    idents.append(aid)
            conditions.append((box.name, idents))
        rp = self.resprocessing(item)
        share = f"{100 / len(conditions):.2f}"
        for name, idents in conditions:
            # one condition per accepted typing: <respcondition><conditionvar><varequal respident=…>
            # aid</varequal></conditionvar><setvar varname="SCORE" action="Add">share</setvar>
            template = etree.Element("respcondition")
            etree.SubElement(etree.SubElement(template, "conditionvar"), "varequal", {"respident": f"response_{name}"})
            etree.SubElement(template, "setvar", {"varname": "SCORE", "action": "Add"}).text = share
            for aid in idents:
                cond = template.__copy__()
                cond[0][0].text = aid
                rp.append(cond)
        return []

    def _blanks(self, item, g, q, pts, kind):
        return self._blank_item(item, g, q, pts, "fill_in_multiple_blanks_question",
                                lambda box: [(t, True) for t in box.typings])

    def _dropdowns(self, item, g, q, pts, kind):
        return self._blank_item(item, g, q, pts, "multiple_dropdowns_question",
                                lambda box: [(strip_tags(c.html), c.correct) for c in box.choices])

    def _choice(self, item, g, q, pts, kind):
        is_tf = kind == "true_false"
        choices = q.boxes[0].choices if is_tf else q.combined
        ids = numbered_idents(len(choices), g.slot.id, "choice", prefix="a")
        self.metadata(item, "true_false_question" if is_tf else "multiple_choice_question", pts, ",".join(ids))
        pres = sub(item, "presentation")
        self.mattext(pres, q.stem if is_tf else self._text(q, "") if len(q.boxes) == 1 else
                     q.stem + "<p>Choose the option that gets every part right.</p>")
        rc = sub(sub(pres, "response_lid", ident="response1", rcardinality="Single"), "render_choice")
        for aid, choice in zip(ids, choices):
            label = _CHOICE_LABEL.__copy__()
            label.set("ident", aid)
            label[0][0].text = self.shown(choice.html, choice.text)
            rc.append(label)
        rp = self.resprocessing(item)
        for aid in ids:
            cond = _CHOSEN.__copy__()
            cond[0][0].text = aid
            cond[1].set("linkrefid", f"{aid}_fb")
            rp.append(cond)
        correct = ids[[c.correct for c in choices].index(True)]
        cond = sub(rp, "respcondition", continue_="No")
        sub(sub(cond, "conditionvar"), "varequal", correct, respident="response1")
        sub(cond, "setvar", "100", action="Set", varname="SCORE")
        return list(zip(ids, choices))

    def essay_item(self, parent, e):
        item = sub(parent, "item", ident=ident(*e.key), title=e.label)
        self.metadata(item, "essay_question", e.points)
        pres = sub(item, "presentation")
        self.mattext(pres, f"<p>{lesson_html(e.prompt)}</p>")
        sub(sub(sub(pres, "response_str", ident="response1", rcardinality="Single"), "render_fib"),
            "response_label", ident="answer1", rshuffle="No")
        self.resprocessing(item)
        self.feedback(item, "general_fb", f"<p>Model answer: {lesson_html(e.model_answer)}</p>")

    def statement_item(self, parent, tf):
        item = sub(parent, "item", ident=ident(*tf.key), title=tf.label)
        ids = [ident(*tf.key, v, prefix="a") for v in ("true", "false")]
        self.metadata(item, "true_false_question", tf.points, ",".join(ids))
        pres = sub(item, "presentation")
        self.mattext(pres, f"<p>{lesson_html(tf.statement)}</p>")
        rc = sub(sub(pres, "response_lid", ident="response1", rcardinality="Single"), "render_choice")
        for aid, text in zip(ids, ("True", "False")):
            self.mattext(sub(rc, "response_label", ident=aid), text)
        rp = self.resprocessing(item)
        cond = sub(rp, "respcondition", continue_="No")
        sub(sub(cond, "conditionvar"), "varequal", ids[0 if tf.answer else 1], respident="response1")
        sub(cond, "setvar", "100", action="Set", varname="SCORE")
        self.feedback(item, "general_fb", f"<p>{'True' if tf.answer else 'False'}: {lesson_html(tf.reason)}</p>")


def assessment_xml(lb, options, assessment_id) -> tuple[Iterator[bytes], float, dict]:
    lesson = lb.lesson
    w = _Writer(options)
    root = etree.Element(f"{{{QTI_NS}}}questestinterop", nsmap={None: QTI_NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{QTI_NS} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd")
    assessment = sub(root, "assessment", ident=assessment_id, title=f"{lesson.number} {lesson.title}")
    md = sub(assessment, "qtimetadata")
    field = sub(md, "qtimetadatafield")
    sub(field, "fieldlabel", "cc_maxattempts")
    sub(field, "fieldentry", "1")
    top = sub(assessment, "section", ident="root_section")
    stream = Streamed()
    total = 0.0
    for part in quiz_parts(lb):
        total += part.points
        if isinstance(part, Essay):
            w.essay_item(top, part)
        elif isinstance(part, Statement):
            w.statement_item(top, part)
        else:
            section = sub(top, "section", ident=ident(part.key, prefix="s"), title=part.label)
            sel = sub(sub(section, "selection_ordering"), "selection")
            sub(sel, "selection_number", "1")
            sub(sub(sel, "selection_extension"), "points_per_item", points(part.points))
            for g in part.members:
                stream.later(section, functools.partial(w.problem_item, g=g, title=f"{part.label} v{g.slot.variant}",
                                                        pts=part.points))
                if w.with_figures:
                    w.figure(g)            # the package manifest lists the figures before the items are built
    from ..pipeline import workers
    return stream.chunks(root, jobs=workers(options, len(lb.problems))), total, w.images


def assessment_meta(lesson, assessment_id, total) -> bytes:
    root = etree.Element(f"{{{META_NS}}}quiz", nsmap={None: META_NS, "xsi": XSI}, identifier=assessment_id)
    root.set(f"{{{XSI}}}schemaLocation", f"{META_NS} https://canvas.instructure.com/xsd/cccv1p0.xsd")
    for tag, text in (("title", f"{lesson.number} {lesson.title}"),
                      ("description", f"<p>{esc(lesson.title)}: every randomized question is drawn from a "
                                      "pool of verified variants.</p>"),
                      ("shuffle_answers", "false"), ("scoring_policy", "keep_highest"), ("quiz_type", "assignment"),
                      ("points_possible", points(total)), ("show_correct_answers", "true"),
                      ("allowed_attempts", "1"), ("one_question_at_a_time", "false"), ("available", "false")):
        sub(root, tag, text)
    return tostring(root)


def manifest_xml(lesson, assessment_id, meta_id, images=()) -> bytes:
    root = etree.Element(f"{{{CP_NS}}}manifest", nsmap={None: CP_NS, "xsi": XSI},
                         identifier=ident(lesson.id, "manifest", prefix="m"))
    root.set(f"{{{XSI}}}schemaLocation", f"{CP_NS} http://www.imsglobal.org/xsd/imscp_v1p1.xsd")
    md = sub(root, "metadata")
    sub(md, "schema", "IMS Content")
    sub(md, "schemaversion", "1.1.3")
    sub(root, "organizations")
    resources = sub(root, "resources")
    res = sub(resources, "resource", identifier=assessment_id, type="imsqti_xmlv1p2")
    sub(res, "file", href=f"{assessment_id}/{assessment_id}.xml")
    sub(res, "dependency", identifierref=meta_id)
    meta = sub(resources, "resource", identifier=meta_id,
               type="associatedcontent/imscc_xmlv1p1/learning-application-resource",
               href=f"{assessment_id}/assessment_meta.xml")
    sub(meta, "file", href=f"{assessment_id}/assessment_meta.xml")
    for name in sorted(images):
        href = f"web_resources/{FIGURES}{name}"
        res = sub(resources, "resource", identifier=ident(lesson.id, name, prefix="w"), type="webcontent", href=href)
        sub(res, "file", href=href)
    return tostring(root)


def render(lb, options) -> dict[str, bytes]:
    lesson = lb.lesson
    aid = ident(lesson.id, "assessment", prefix="q")
    meta_id = ident(lesson.id, "assessment_meta", prefix="r")
    body, total, images = assessment_xml(lb, options, aid)
    entries = [("imsmanifest.xml", manifest_xml(lesson, aid, meta_id, images)),
               (f"{aid}/{aid}.xml", body),
               (f"{aid}/assessment_meta.xml", assessment_meta(lesson, aid, total))]
    entries += [(f"web_resources/{FIGURES}{name}", render_png(images[name])) for name in sorted(images)]
    return {"canvas-qti.zip": zip_bytes(entries, lb.timestamp)}
