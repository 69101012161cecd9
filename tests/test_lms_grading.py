"""The LMS grading model (tests/lms_grading.py) on hand-written items in the shapes gen exports.

The snippets copy the shapes generator/targets/moodle.py and qti.py write today, plus the shapes
the lead is adding (a cloze mixing NUMERICAL and MULTICHOICE with weights; a Canvas
fill-in-multiple-blanks with several spellings per blank and a yes/no blank). The typed-forms
table is issue 19's, with the outcome our reading of each LMS's code predicts.
"""
from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

import pytest

from .lms_grading import (NO_ANSWER_TEXT, ImportRejected, canvas_browser_number, canvas_questions,
                          canvas_resolve_link, moodle_apply_units, moodle_questions, ruby_bigdecimal)

# ------------------------------------------------------------------------------------------------
# Moodle XML, as moodle.py writes it
# ------------------------------------------------------------------------------------------------

CATEGORY = """<question type="category"><category><text>$course$/top/{path}</text></category>
<info format="html"><text></text></info><idnumber>cat-1</idnumber></question>"""


def moodle_quiz(*questions: str, path="Lesson 1.2.32 Gradients//Directions/1.2.32.4a directional_derivative") -> bytes:
    body = CATEGORY.format(path=path) + "".join(questions)
    return f"<?xml version='1.0' encoding='UTF-8'?><quiz>{body}</quiz>".encode()


def header(qtype, text, grade=1, name="item v1", idnumber="gen-1"):
    return (f'<question type="{qtype}"><name><text>{name}</text></name>'
            f'<questiontext format="html"><text><![CDATA[{text}]]></text></questiontext>'
            f'<generalfeedback format="html"><text><![CDATA[<p>Answer</p>]]></text></generalfeedback>'
            f'<defaultgrade>{grade}</defaultgrade><penalty>0.3333333</penalty><hidden>0</hidden>'
            f'<idnumber>{idnumber}</idnumber>')


def moodle_numerical(answer="-4.2426", tolerance="0.01", grade=2):
    return (header("numerical", "Find D_u f(P).<p>Give a decimal rounded to 2 places.</p>", grade) +
            f'<answer fraction="100" format="moodle_auto_format"><text>{answer}</text>'
            f'<feedback format="html"><text><![CDATA[Correct.]]></text></feedback><tolerance>{tolerance}</tolerance>'
            '</answer><unitgradingtype>0</unitgradingtype><unitpenalty>0.1000000</unitpenalty>'
            '<showunits>3</showunits><unitsleft>0</unitsleft></question>')


def moodle_cloze(blanks: str, grade=1):
    return header("cloze", f"Compute the gradient.<p>Answer: ({blanks})</p>", grade) + "</question>"


def moodle_multichoice(choices, right):
    answers = "".join(f'<answer fraction="{100 if i == right else 0}" format="html"><text><![CDATA[{c}]]></text>'
                      f'<feedback format="html"><text><![CDATA[fb {i}]]></text></feedback></answer>'
                      for i, c in enumerate(choices))
    return (header("multichoice", "Which direction?") + "<single>true</single><shuffleanswers>true</shuffleanswers>"
            f"<answernumbering>abc</answernumbering>{answers}</question>")


def moodle_truefalse(truth: bool):
    answers = "".join(f'<answer fraction="{100 if (v == "true") == truth else 0}" format="moodle_auto_format">'
                      f'<text>{v}</text><feedback format="html"><text><![CDATA[why]]></text></feedback></answer>'
                      for v in ("true", "false"))
    return header("truefalse", "f increases along v.") + answers + "</question>"


def one(xml: bytes):
    [q] = moodle_questions(xml)
    return q


# ------------------------------------------------------------------------------------------------
# Canvas QTI 1.2, as qti.py writes it
# ------------------------------------------------------------------------------------------------

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"


def metadata(qtype, points, ident, answer_ids=""):
    fields = (("question_type", qtype), ("points_possible", points), ("original_answer_ids", answer_ids),
              ("assessment_question_identifierref", ident + "_ref"))
    return "<itemmetadata><qtimetadata>" + "".join(
        f"<qtimetadatafield><fieldlabel>{k}</fieldlabel><fieldentry>{v}</fieldentry></qtimetadatafield>"
        for k, v in fields) + "</qtimetadata></itemmetadata>"


def mattext(text, texttype="text/html"):
    return f'<material><mattext texttype="{texttype}">{escape(text)}</mattext></material>'


RESPROC = ('<resprocessing><outcomes><decvar maxvalue="100" minvalue="0" varname="SCORE" vartype="Decimal"/>'
           '</outcomes><respcondition continue="Yes"><conditionvar><other/></conditionvar>'
           '<displayfeedback feedbacktype="Response" linkrefid="general_fb"/></respcondition>')


def feedback(ident, html):
    return f'<itemfeedback ident="{ident}"><flow_mat>{mattext(html)}</flow_mat></itemfeedback>'


def qti_numerical(ident="g1", exact="-4.2426", low="-4.25264", high="-4.23264", points="2.0"):
    return (f'<item ident="{ident}" title="4a directional_derivative v1">'
            f'{metadata("numerical_question", points, ident)}'
            f'<presentation>{mattext("Find it.<p>Give a decimal rounded to 2 places.</p>")}'
            '<response_str ident="response1" rcardinality="Single"><render_fib fibtype="Decimal">'
            '<response_label ident="answer1"/></render_fib></response_str></presentation>' + RESPROC +
            '<respcondition continue="No"><conditionvar><or>'
            f'<varequal respident="response1">{exact}</varequal><and>'
            f'<vargte respident="response1">{low}</vargte><varlte respident="response1">{high}</varlte>'
            '</and></or></conditionvar><setvar action="Set" varname="SCORE">100</setvar></respcondition>'
            f'</resprocessing>{feedback("general_fb", "<p>Answer: -4.2426</p>")}</item>')


def qti_blanks(blanks: dict, ident="g2", qtype="fill_in_multiple_blanks_question", right=None):
    """blanks: name → accepted spellings (fill-in) or options (dropdowns, `right` names the key)."""
    lids, conds = "", ""
    share = f"{100 / len(blanks):.2f}"
    for name, spellings in blanks.items():
        labels = "".join(f'<response_label ident="a{name}{j}">{mattext(s, "text/plain")}</response_label>'
                         for j, s in enumerate(spellings))
        lids += (f'<response_lid ident="response_{name}">{mattext(name, "text/plain")}'
                 f'<render_choice>{labels}</render_choice></response_lid>')
        scored = range(len(spellings)) if right is None else [spellings.index(right[name])]
        conds += "".join(f'<respcondition><conditionvar><varequal respident="response_{name}">a{name}{j}</varequal>'
                         f'</conditionvar><setvar varname="SCORE" action="Add">{share}</setvar></respcondition>'
                         for j in scored)
    prompt = "Compute.<p>Answer: (" + ", ".join(f"[{n}]" for n in blanks) + ")</p>"
    return (f'<item ident="{ident}" title="2b gradient_at_point v1">{metadata(qtype, "1.0", ident)}'
            f'<presentation>{mattext(prompt)}{lids}</presentation>{RESPROC}{conds}</resprocessing>'
            f'{feedback("general_fb", "<p>Answer</p>")}</item>')


def qti_choice(choices, right, ident="g3", qtype="multiple_choice_question"):
    ids = [f"a{ident}c{i}" for i in range(len(choices))]
    labels = "".join(f'<response_label ident="{a}">{mattext(c)}</response_label>' for a, c in zip(ids, choices))
    conds = "".join(f'<respcondition continue="Yes"><conditionvar><varequal respident="response1">{a}</varequal>'
                    f'</conditionvar><displayfeedback feedbacktype="Response" linkrefid="{a}_fb"/></respcondition>'
                    for a in ids)
    conds += (f'<respcondition continue="No"><conditionvar><varequal respident="response1">{ids[right]}</varequal>'
              '</conditionvar><setvar action="Set" varname="SCORE">100</setvar></respcondition>')
    fbs = "".join(feedback(f"{a}_fb", f"why {i}") for i, a in enumerate(ids))
    return (f'<item ident="{ident}" title="3a steepest_ascent v1">{metadata(qtype, "1.0", ident, ",".join(ids))}'
            f'<presentation>{mattext("Which?")}<response_lid ident="response1" rcardinality="Single"><render_choice>'
            f'{labels}</render_choice></response_lid></presentation>{RESPROC}{conds}</resprocessing>'
            f'{feedback("general_fb", "<p>Answer</p>")}{fbs}</item>')


def group(items: str, points="2.0", pick=1, ident="s1", title="1.2.32.4a directional_derivative"):
    return (f'<section ident="{ident}" title="{title}"><selection_ordering><selection>'
            f'<selection_number>{pick}</selection_number><selection_extension><points_per_item>{points}'
            f'</points_per_item></selection_extension></selection></selection_ordering>{items}</section>')


def qti_package(body: str, files=()) -> bytes:
    webcontent = "".join(f'<resource identifier="w{i}" type="webcontent" href="{f}"><file href="{f}"/></resource>'
                         for i, f in enumerate(files))
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" '
                'identifier="m1"><metadata><schema>IMS Content</schema><schemaversion>1.1.3</schemaversion></metadata>'
                '<organizations/><resources><resource identifier="q1" type="imsqti_xmlv1p2">'
                '<file href="q1/q1.xml"/><dependency identifierref="r1"/></resource>'
                '<resource identifier="r1" type="associatedcontent/imscc_xmlv1p1/learning-application-resource" '
                f'href="q1/assessment_meta.xml"><file href="q1/assessment_meta.xml"/></resource>{webcontent}'
                '</resources></manifest>')
    assessment = (f'<?xml version="1.0" encoding="UTF-8"?><questestinterop xmlns="{QTI_NS}">'
                  '<assessment ident="q1" title="1.2.32"><qtimetadata><qtimetadatafield><fieldlabel>cc_maxattempts'
                  '</fieldlabel><fieldentry>1</fieldentry></qtimetadatafield></qtimetadata>'
                  f'<section ident="root_section">{body}</section></assessment></questestinterop>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("imsmanifest.xml", manifest)
        zf.writestr("q1/q1.xml", assessment)
        zf.writestr("q1/assessment_meta.xml", "<quiz/>")
        for f in files:
            zf.writestr(f, b"png")
    return buf.getvalue()


def canvas_one(body: str):
    [q] = canvas_questions(qti_package(body))
    return q


# ------------------------------------------------------------------------------------------------
# Issue 19's table: the correct value typed as students type it
# ------------------------------------------------------------------------------------------------

# (form, typed, correct value, Moodle full?, Canvas numerical full?, Canvas blank full with today's
# spellings n, n.0, +n (n > 0) or n, n.0 — None where the item would not be a blank).
# Where issue 19 states an outcome the row agrees with it: Moodle is full for every form but U+2212
# and fractions ("Moodle reads −56 and a unit /13"); Canvas fill-in blanks fail 2 decimals, "+0",
# "- 12", U+2212; Canvas numerical fails "- 12", U+2212 and fractions.
TYPED_FORMS = [
    ("as stated", "-4.2426", -4.2426, True, True, None),
    ("as stated", "2", 2, True, True, True),
    ("2 decimals", "2.00", 2, True, True, False),
    ("2 decimals", "-12.00", -12, True, True, False),
    ("trailing .0", "2.0", 2, True, True, True),
    ("leading +", "+2", 2, True, True, True),
    ("leading +", "+0", 0, True, True, False),
    ("space after the minus", "- 12", -12, True, False, False),
    ("U+2212 minus", "\u221212", -12, False, False, False),
    ("fraction", "-56/13", -56 / 13, False, False, None),
]


@pytest.mark.parametrize("form,typed,value,moodle_full,canvas_numerical_full,canvas_blank_full", TYPED_FORMS,
                         ids=[f"{row[0]}:{row[1]}" for row in TYPED_FORMS])
def test_typed_forms_of_the_correct_value(form, typed, value, moodle_full, canvas_numerical_full, canvas_blank_full):
    if float(value).is_integer():
        # An integer component: today a Moodle cloze blank and a Canvas fill-in blank.
        n = int(value)
        q = one(moodle_quiz(moodle_cloze(f"{{1:NUMERICAL:={n}:0.001}}")))
        assert q.grade([typed]) == (1.0 if moodle_full else 0.0)
        spellings = [str(n), f"{n}.0", f"+{n}"] if n > 0 else [str(n), f"{n}.0"]
        blank = canvas_one(qti_blanks({"c1": spellings}))
        assert blank.grade({"c1": typed}) == (1.0 if canvas_blank_full else 0.0)
    # A scalar: a Moodle numerical and a Canvas numerical question with the exporter's margins.
    exact = f"{value:.4f}"
    q = one(moodle_quiz(moodle_numerical(exact, "0.01")))
    assert q.grade(typed) == (1.0 if moodle_full else 0.0)
    c = canvas_one(qti_numerical(exact=exact, low=f"{value - 0.01:.5f}", high=f"{value + 0.01:.5f}"))
    assert c.grade(typed) == (1.0 if canvas_numerical_full else 0.0)


def test_what_each_lms_reads_from_the_forms_that_fail():
    assert moodle_apply_units("-56/13") == (-56.0, "/13")        # the rest is taken as a unit
    assert moodle_apply_units("\u221212") == (None, None)        # no number at the start
    assert moodle_apply_units("- 12") == (-12.0, "")             # spaces are removed first
    assert canvas_browser_number("- 12") == ""                   # the quiz page empties the field
    assert canvas_browser_number("\u221212") == ""
    assert canvas_browser_number("-56/13") == ""
    assert canvas_browser_number("+0") == "0" and canvas_browser_number("2.00") == "2"
    assert ruby_bigdecimal("- 12") is None and ruby_bigdecimal("12/5") is None and ruby_bigdecimal("+0") == 0


# ------------------------------------------------------------------------------------------------
# Moodle
# ------------------------------------------------------------------------------------------------

def test_moodle_numerical_tolerance_and_parsing():
    q = one(moodle_quiz(moodle_numerical("-4.2426", "0.01")))
    assert (q.qtype, q.mark, q.idnumber) == ("numerical", 2.0, "gen-1")
    assert q.category == ("Lesson 1.2.32 Gradients/Directions", "1.2.32.4a directional_derivative")
    assert q.grade("-4.24") == q.grade("-4.25") == q.grade("-4,24") == 1.0   # one comma is a decimal point
    assert q.grade("-4.2527") == q.grade("4.24") == q.grade("") == 0.0
    assert q.grade("-4.24 m/s") == 1.0            # trailing text is a unit, and units cost nothing here
    assert q.grade("-424e-2") == q.grade("-4.24x10^0") == 1.0
    edge = one(moodle_quiz(moodle_numerical("2.5", "0.005")))
    assert edge.grade("2.505") == 1.0 and edge.grade("2.5051") == 0.0   # inclusive, epsilon 1e-14


def test_moodle_cloze_as_exported_today_has_the_mark_of_its_blanks():
    q = one(moodle_quiz(moodle_cloze("{1:NUMERICAL:=2:0.001}, {1:NUMERICAL:=-12:0.001}", grade=1)))
    assert q.qtype == "multianswer" and q.mark == 2.0          # <defaultgrade>1</defaultgrade> is ignored
    assert q.text.endswith("<p>Answer: ({#1}, {#2})</p>")
    assert q.grade(["2", "-12"]) == 1.0 and q.grade(["2", "12"]) == 0.5 and q.grade(["2", ""]) == 0.5


def test_moodle_cloze_mixing_numerical_and_multichoice_with_weights():
    text = ("{2:NUMERICAL:=2.5:0.005#right~%0%-2.5:0.005#that is the opposite sign} and f "
            "{1:MULTICHOICE:=yes#it did~no#it did not}")
    q = one(moodle_quiz(moodle_cloze(text, grade=5)))
    assert q.mark == 3.0
    num, mc = q.subquestions
    assert (num.kind, num.weight, mc.kind, mc.weight, mc.shuffle) == ("numerical", 2, "multichoice", 1, False)
    assert [(a.text, a.tolerance, a.fraction, a.feedback) for a in num.answers] == [
        ("2.5", 0.005, 1.0, "right"), ("-2.5", 0.005, 0.0, "that is the opposite sign")]
    assert [(c.text, c.fraction) for c in mc.answers] == [("yes", 1.0), ("no", 0.0)]
    assert q.grade(["2.5", "yes"]) == q.grade(["2.504", "yes"]) == 1.0
    assert q.grade(["-2.5", "yes"]) == pytest.approx(1 / 3)
    assert q.grade(["2.5", "no"]) == pytest.approx(2 / 3)
    assert q.grade(["", None]) == 0.0


def test_moodle_cloze_weights_default_and_shuffled_multichoice():
    q = one(moodle_quiz(moodle_cloze("{:NUMERICAL:=1} {3:MCS:=a~b~c}")))
    assert [s.weight for s in q.subquestions] == [1, 3] and q.mark == 4.0
    assert q.subquestions[1].shuffle is True
    assert q.subquestions[0].answers[0].tolerance == 0.0


def test_moodle_cloze_braces_in_answers_must_be_escaped():
    good = one(moodle_quiz(moodle_cloze(r"{1:MULTICHOICE:=\(\frac{1\}{2\}\)#half~\(2\)#two}")))
    assert [c.text for c in good.subquestions[0].answers] == [r"\(\frac{1}{2}\)", r"\(2\)"]
    with pytest.raises(ImportRejected, match="multichoice needs 2 answers"):
        moodle_questions(moodle_quiz(moodle_cloze(r"{1:MULTICHOICE:=\(\frac{1}{2}\)~\(2\)}")))


def test_moodle_cloze_rejects_what_moodle_rejects():
    with pytest.raises(ImportRejected, match="not a number"):
        moodle_questions(moodle_quiz(moodle_cloze("{1:NUMERICAL:=12/5}")))
    with pytest.raises(ImportRejected, match="full marks"):
        moodle_questions(moodle_quiz(moodle_cloze("{1:NUMERICAL:%50%2}")))


def test_moodle_multichoice_labels_and_grade():
    choices = ["A: \\(\\langle 1, 0\\rangle\\)", "B: \\(\\langle 0, 1\\rangle\\)", "C: \\(\\langle 1, 1\\rangle\\)"]
    q = one(moodle_quiz(moodle_multichoice(choices, right=1)))
    assert q.numbered and q.shuffle and q.labels() == ["a.", "b.", "c."]
    assert [f"{label} {c.text}" for label, c in zip(q.labels(), q.choices)][0].startswith("a. A:")
    assert [q.grade(c) for c in choices] == [0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="names 0 of the choices"):
        q.grade("D")


def test_moodle_truefalse():
    assert one(moodle_quiz(moodle_truefalse(False))).grade("false") == 1.0
    q = one(moodle_quiz(moodle_truefalse(True)))
    assert q.right_answer is True and q.grade("true") == 1.0 and q.grade("false") == 0.0


# ------------------------------------------------------------------------------------------------
# Canvas
# ------------------------------------------------------------------------------------------------

def test_canvas_numerical_margin_is_upper_bound_minus_exact():
    q = canvas_one(group(qti_numerical()))
    [a] = q.answers
    assert (q.question_type, a.numerical_answer_type, a.exact, a.margin) == ("numerical_question", "exact_answer",
                                                                             -4.2426, 0.00996)
    assert (q.points_possible, q.group.pick_count, q.group.question_points, q.points) == (2.0, 1, 2.0, 2.0)
    assert q.grade("-4.25") == q.grade("-4.24") == q.grade("-4.2327") == 1.0
    assert q.grade("-4.2526") == 0.0         # inside the exported [-4.25264, -4.23264], outside exact ± margin
    assert q.grade("-4.2326") == 0.0
    assert q.grade("-4.24264") == 1.0        # the page rounds to 4 decimals before submitting


def test_canvas_numerical_unparseable_text_counts_as_zero_outside_the_browser():
    body = qti_numerical(exact="0.0000", low="-0.01000", high="0.01000")
    q = canvas_one(body)
    assert q.grade("abc") == 0.0                           # the quiz page empties the field: blank is wrong
    assert q.grade("abc", typed_in_browser=False) == 1.0   # BigDecimal raises, rescued as 0.0


def test_canvas_fill_in_blanks_as_exported_today():
    q = canvas_one(qti_blanks({"c1": ["2", "2.0", "+2"], "c2": ["-12", "-12.0"]}))
    assert q.question_type == "fill_in_multiple_blanks_question"
    assert {b: [a.text for a in v] for b, v in q.blanks.items()} == {"c1": ["2", "2.0", "+2"], "c2": ["-12", "-12.0"]}
    assert q.grade({"c1": "2", "c2": "-12"}) == 1.0
    assert q.grade({"c1": " +2 ", "c2": "-12.00"}) == 0.5
    assert q.grade({"c1": "", "c2": ""}) == 0.0


def test_canvas_fill_in_blanks_with_spellings_and_a_yes_no_blank():
    q = canvas_one(qti_blanks({"c1": ["2", "2.0", "2.00", "+2"], "c2": ["-12", "\u221212", "- 12", "-12.00"],
                               "decreased": ["yes"]}))
    assert q.grade({"c1": "2.00", "c2": "\u221212", "decreased": "Yes "}) == 1.0    # strip.downcase
    assert q.grade({"c1": "2", "c2": "- 12", "decreased": "no"}) == pytest.approx(2 / 3)
    assert q.grade({"c1": "2\u00a0", "c2": "-12", "decreased": "yes"}) == pytest.approx(2 / 3)   # NBSP stays
    with pytest.raises(ValueError, match="has blanks"):
        q.grade({"c3": "1"})


def test_canvas_multiple_dropdowns():
    q = canvas_one(qti_blanks({"dir": ["ascent", "descent"], "f": ["decreased", "increased"]},
                              qtype="multiple_dropdowns_question", right={"dir": "descent", "f": "decreased"}))
    assert {a.text: a.weight for a in q.answers} == {"ascent": 0, "descent": 100, "decreased": 100, "increased": 0}
    assert q.grade({"dir": "descent", "f": "decreased"}) == 1.0
    assert q.grade({"dir": "ascent", "f": "decreased"}) == 0.5


def test_canvas_choice_texts_and_grade():
    q = canvas_one(qti_choice(["\\(\\langle 1, 0\\rangle\\)", "\\(\\langle 0, 1\\rangle\\)"], right=0))
    assert [a.text for a in q.answers] == ["\\(\\langle 1, 0\\rangle\\)", "\\(\\langle 0, 1\\rangle\\)"]
    assert [a.html for a in q.answers] == [None, None]
    assert q.grade("\\(\\langle 1, 0\\rangle\\)") == 1.0 and q.grade("ag3c1") == 0.0
    assert q.answers[1].comments_html == "why 1"


def test_canvas_image_only_choices_have_no_answer_text():
    img = '<img class="equation_image" title="\\langle 1, 0\\rangle" src="/equation_images/x" alt="LaTeX: 1, 0">'
    q = canvas_one(qti_choice([img, img.replace("1, 0", "0, 1"), "A: " + img], right=0))
    assert [a.text for a in q.answers] == [NO_ANSWER_TEXT, NO_ANSWER_TEXT, "A:"]
    assert q.answers[0].html == img
    with pytest.raises(ValueError, match="names 2 of the answers"):
        q.grade(NO_ANSWER_TEXT)
    assert q.grade("ag3c0") == 1.0


def test_canvas_true_false():
    q = canvas_one(qti_choice(["True", "False"], right=1, qtype="true_false_question"))
    assert q.question_type == "true_false_question" and q.grade("False") == 1.0 and q.grade("True") == 0.0
    odd = canvas_one(qti_choice(["Yes", "No"], right=1, qtype="true_false_question"))
    assert odd.question_type == "multiple_choice_question"


def test_canvas_groups_pick_count_and_points():
    questions = canvas_questions(qti_package(group(qti_numerical("g1") + qti_numerical("g2"), points="3.0", pick=1)
                                             + qti_choice(["True", "False"], 0, "g4", "true_false_question")))
    assert [(q.migration_id, q.group and q.group.pick_count, q.points) for q in questions] == [
        ("g1", 1, 3.0), ("g2", 1, 3.0), ("g4", None, 1.0)]
    assert questions[0].group is questions[1].group and len(questions[0].group.questions) == 2


@pytest.mark.parametrize("src,kept,stripped", [
    ("$IMS-CC-FILEBASE$/gen-figures/f.png", None, "web_resources/gen-figures/f.png"),
    ("$IMS_CC_FILEBASE$/gen-figures/f.png", "web_resources/gen-figures/f.png", "web_resources/gen-figures/f.png"),
    ("gen-figures/f.png", "web_resources/gen-figures/f.png", "web_resources/gen-figures/f.png"),
    ("web_resources/gen-figures/f.png", "web_resources/gen-figures/f.png", None),
    ("../web_resources/gen-figures/f.png", None, None),
])
def test_canvas_image_links(src, kept, stripped):
    files = ["web_resources/gen-figures/f.png"]
    assert canvas_resolve_link(src, files) == kept
    assert canvas_resolve_link(src, files, strip_web_resources=True) == stripped


def test_canvas_images_of_an_item_are_listed_with_their_resolution():
    body = qti_numerical().replace(escape("<p>Answer: -4.2426</p>"),
                                   escape('<p><img src="$IMS-CC-FILEBASE$/gen-figures/f.png" alt="plot"></p>'))
    [q] = canvas_questions(qti_package(body, files=["web_resources/gen-figures/f.png"]))
    assert q.images == [("neutral_comments_html", "$IMS-CC-FILEBASE$/gen-figures/f.png", None)]
