"""How Moodle and Canvas import and grade the items gen exports: a model written from their sources.

The audit of issues #11 and #19 types answers the way students type them and needs the grade the
LMS itself would give. This module re-implements, in small Python functions, the rules of:

- Moodle (moodle/moodle): the Moodle XML importer (question/format/xml/format.php), the cloze
  parser (question/type/multianswer/questiontype.php, qtype_multianswer_extract_question), the
  numerical answer processor and tolerance (question/type/numerical/questiontype.php and
  question.php) and the grade_response of numerical, multichoice, truefalse and multianswer.
- Canvas (instructure/canvas-lms): the QTI 1.2 import path (the QTIMigrationTool converts 1.2 to
  2.1, then gems/plugins/qti_exporter/lib/qti/*.rb builds question data), the classic-quiz
  graders (app/models/quizzes/quiz_question/*_question.rb) and the numeric input of the quiz
  page (take_quiz.js, which rewrites a typed number before it is submitted).

Each rule names the upstream file and function it comes from; tests/LMS_GRADING_NOTES.md gives
the commits read and what could not be confirmed. No upstream code is copied: these are our own
functions written from reading it.
"""
from __future__ import annotations

import html as _html
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree


class ImportRejected(ValueError):
    """The LMS importer would reject this item (Moodle: the question is skipped with an error)."""


# ------------------------------------------------------------------------------------------------
# Moodle: numbers
# ------------------------------------------------------------------------------------------------

# PHP's default ini `precision` is 14 and Moodle does not change it, so the epsilon of
# qtype_numerical_answer::get_tolerance_interval() is 1e-14.
PHP_EPSILON = 1e-14

_MOODLE_EXPONENT = re.compile(r"(?:e|E|(?:x|\*|×)10(?:\^|\*\*))([+-]?[0-9]+)")
# PCRE without /u: \d is ASCII only, so [0-9] here (Python's \d would accept other digits).
_MOODLE_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[-+]?[0-9]+)?")


def moodle_apply_units(response: str | None) -> tuple[float | None, str | None]:
    """The number and trailing unit Moodle reads from a typed response, with no units defined.

    qtype_numerical_answer_processor::apply_units (numerical/questiontype.php): strip ASCII
    spaces (so "- 12" is -12), rewrite "x10^n"/"*10**n"/"E" exponents to "e", treat "," as a
    thousands separator when a "." is present or there are several commas, else as the decimal
    point; then match a number at the start. Whatever follows is the "unit" ("-56/13" is -56 with
    unit "/13"); a response that does not start with a number (U+2212 "−12") has no value.
    """
    if response is None or response.strip() == "":       # newer versions: [null, null, null]
        return None, None
    text = response.replace(" ", "")
    text = _MOODLE_EXPONENT.sub(r"e\1", text)
    if "." in text or text.count(",") > 1:
        text = text.replace(",", "")
    else:
        text = text.replace(",", ".")
    m = _MOODLE_NUMBER.match(text)
    if not m:
        return None, None
    return float(m.group(0)), text[m.end():]             # "$numberstring + 0" in PHP


@dataclass(frozen=True)
class NumericalAnswer:
    text: str                 # as written in the file ("*" matches anything)
    tolerance: float
    fraction: float
    feedback: str = ""

    @property
    def value(self) -> float | None:
        # save_question_options stores apply_unit(answer): the parsed number (no units).
        return None if self.text == "*" else moodle_apply_units(self.text)[0]

    def interval(self) -> tuple[float, float]:
        """qtype_numerical_answer::get_tolerance_interval, tolerancetype 2 (nominal)."""
        a, tol = self.value, abs(self.tolerance)
        tol = tol + PHP_EPSILON * max(tol, abs(a), PHP_EPSILON)
        return a - tol, a + tol

    def matches(self, value: float) -> bool:
        """qtype_numerical_answer::within_tolerance: inclusive at both ends."""
        if self.text == "*":
            return True
        if self.value is None:
            return False
        low, high = self.interval()
        return low <= value <= high


def moodle_numerical_fraction(answers, response: str | None) -> float:
    """qtype_numerical_question::grade_response with no units (what gen exports).

    The first answer whose interval holds the value gives its fraction (get_matching_answer).
    A trailing "unit" costs nothing: unitgradingtype 0 means apply_unit_penalty leaves the
    fraction as it is. An empty response is not gradable (gave up): 0.
    """
    if response is None:
        return 0.0
    response = response.strip(" \t\n\r\0\x0b")             # PARAM_RAW_TRIMMED (get_expected_data)
    if response == "":                                     # is_gradable_response: '0' is gradable
        return 0.0
    value, _unit = moodle_apply_units(response)
    if value is None:
        return 0.0
    for a in answers:
        if a.matches(value):
            return a.fraction
    return 0.0


# ------------------------------------------------------------------------------------------------
# Moodle: the XML importer and the question types
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MoodleChoice:
    text: str                 # the answer HTML as stored (import_text_with_files trims it)
    fraction: float
    feedback: str = ""


_NUMBERING = ("abc", "ABCD", "123", "iii", "IIII", "none")


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def moodle_choice_label(index: int, style: str) -> str:
    """qtype_multichoice renderer number_in_style/number_html: "a." before the choice text."""
    if style == "none":
        return ""
    number = {"abc": chr(ord("a") + index), "ABCD": chr(ord("A") + index), "123": str(index + 1),
              "iii": _roman(index + 1), "IIII": _roman(index + 1).upper()}.get(style)
    return "ERR" if number is None else number + "."


@dataclass(frozen=True)
class ClozeSubquestion:
    kind: str                 # numerical | multichoice
    weight: int               # the {n:...} integer; empty means 1
    answers: tuple            # NumericalAnswer or MoodleChoice, in the order written
    shuffle: bool = False     # multichoice only: MC keeps order, MCS/MCVS/MCHS shuffle
    layout: str = ""          # dropdown | vertical | horizontal

    def grade(self, response) -> float:
        if self.kind == "numerical":
            return moodle_numerical_fraction(self.answers, response)
        if response is None or response == "":
            return 0.0
        return _chosen(self.answers, response).fraction


def _chosen(choices, response):
    """The choice a response names: its index, or exactly its stored text."""
    if isinstance(response, int):
        return choices[response]
    hits = [c for c in choices if c.text == response]
    if len(hits) != 1:
        raise ValueError(f"{response!r} names {len(hits)} of the choices {[c.text for c in choices]}: "
                         "pass the choice's exact text or its index")
    return hits[0]


@dataclass
class MoodleQuestion:
    qtype: str                # numerical | multichoice | truefalse | multianswer | essay | ...
    name: str
    idnumber: str | None
    category: tuple[str, ...] | None    # names below "top", None before any category question
    mark: float                          # defaultmark; for cloze the sum of subquestion weights
    text: str                            # questiontext (cloze: with {#1}, {#2} placeholders)
    general_feedback: str = ""
    numerical_answers: tuple = ()
    choices: tuple = ()
    single: bool = True
    shuffle: bool = False
    answernumbering: str = "abc"
    right_answer: bool | None = None     # truefalse
    subquestions: tuple = ()             # multianswer
    files: dict = field(default_factory=dict)   # field name → file names shipped in <file>

    @property
    def numbered(self) -> bool:
        return self.qtype == "multichoice" and self.answernumbering != "none"

    def labels(self) -> list[str]:
        """What Moodle prints before each choice, in file order (the attempt may shuffle)."""
        return [moodle_choice_label(i, self.answernumbering) for i in range(len(self.choices))]

    def grade(self, response) -> float:
        """The fraction (0..1) Moodle's grade_response gives this response."""
        if self.qtype == "numerical":
            return moodle_numerical_fraction(self.numerical_answers, response)
        if self.qtype == "multichoice":
            if self.single:
                # qtype_multichoice_single_question::grade_response: the chosen answer's fraction.
                return 0.0 if response in (None, "") else _chosen(self.choices, response).fraction
            # qtype_multichoice_multi_question::grade_response: sum, clamped to [0, 1].
            total = sum(_chosen(self.choices, r).fraction for r in response)
            return min(max(0.0, total), 1.0)
        if self.qtype == "truefalse":
            # qtype_truefalse_question::grade_response: 1 when the response equals rightanswer.
            if response not in ("true", "false", True, False):
                raise ValueError(f"a truefalse response is 'true' or 'false', not {response!r}")
            return 1.0 if (response in ("true", True)) == self.right_answer else 0.0
        if self.qtype == "multianswer":
            return _grade_cloze(self.subquestions, response)
        raise ValueError(f"Moodle does not grade {self.qtype} questions automatically ({self.name})")


def _grade_cloze(subquestions, responses) -> float:
    """qtype_multianswer_question::grade_response: sum(fraction × weight) / sum(weight).

    A blank subquestion is not gradable and counts 0 (its state is "gave up").
    """
    if len(responses) != len(subquestions):
        raise ValueError(f"a cloze with {len(subquestions)} subquestions needs as many responses, "
                         f"got {len(responses)}")
    total = sum(s.weight for s in subquestions)
    return sum(s.grade(r) * s.weight for s, r in zip(subquestions, responses)) / total


def _text(node, path: str, default: str = "") -> str:
    """qformat_xml::getpath(..., istext=true): the text, trimmed."""
    found = node.find(path)
    return default if found is None or found.text is None else found.text.strip()


def _files(node) -> list[str]:
    return [f.get("name", "") for f in node.findall("file")] if node is not None else []


def _split_category_path(path: str) -> tuple[str, ...] | None:
    """qformat_default::split_category_path and create_category_path.

    Split on "/" not doubled, "//" means a literal "/", names trimmed; a leading "$course$"-like
    context token is dropped; since 3.5 every path hangs below "top" (prepended when the first
    name is not "top" or the path is shorter than 3 names).
    """
    names = [n.replace("//", "/").strip() for n in re.split(r"(?<!/)/(?!/)", path)]
    if names and re.fullmatch(r"\$[a-z]+\$", names[0]):
        names.pop(0)
    if names and (names[0] != "top" or len(names) < 3):
        names.insert(0, "top")
    return tuple(names[1:])


def moodle_questions(xml_bytes: bytes) -> list[MoodleQuestion]:
    """The questions Moodle's "Moodle XML format" import would create, in file order.

    qformat_xml::import_questions / import_question dispatch on <question type>; category
    questions set the category of the questions that follow.
    """
    root = etree.fromstring(xml_bytes)
    out: list[MoodleQuestion] = []
    category = None
    for q in root.findall("question"):
        qtype = q.get("type")
        if qtype == "category":
            category = _split_category_path(_text(q, "category/text"))
            continue
        reader = _MOODLE_READERS.get(qtype)
        if reader is None:
            raise ImportRejected(f"question type {qtype!r} is not modelled (question {_text(q, 'name/text')!r})")
        question = reader(q)
        question.category = category
        out.append(question)
    return out


def _headers(q, qtype: str) -> MoodleQuestion:
    """qformat_xml::import_headers: name, text, general feedback, defaultgrade (default 1)."""
    grade = _text(q, "defaultgrade", "1")
    return MoodleQuestion(
        qtype=qtype, name=_text(q, "name/text"), idnumber=_text(q, "idnumber") or None, category=None,
        mark=float(grade), text=_text(q, "questiontext/text"),
        general_feedback=_text(q, "generalfeedback/text"),
        files={"questiontext": _files(q.find("questiontext")),
               "generalfeedback": _files(q.find("generalfeedback"))})


def _fraction(answer) -> float:
    return float(answer.get("fraction", "0")) / 100


def _read_numerical(q) -> MoodleQuestion:
    """qformat_xml::import_numerical: answers with <tolerance> (default 0); units none here."""
    mq = _headers(q, "numerical")
    answers = []
    for a in q.findall("answer"):
        text = _text(a, "text")
        answers.append(NumericalAnswer(text, float(_text(a, "tolerance", "0") or 0), _fraction(a),
                                       _text(a, "feedback/text")))
    if q.find("units/unit") is not None:
        raise ImportRejected(f"{mq.name}: numerical units are not modelled")
    mq.numerical_answers = tuple(answers)
    return mq


def _read_multichoice(q) -> MoodleQuestion:
    """qformat_xml::import_multichoice: single defaults to true, shuffleanswers to false,
    answernumbering to "abc" (also when empty)."""
    mq = _headers(q, "multichoice")
    mq.single = _text(q, "single", "true") not in ("false", "", "0")
    mq.shuffle = _text(q, "shuffleanswers", "false") not in ("false", "", "0")
    mq.answernumbering = _text(q, "answernumbering", "abc") or "abc"
    mq.choices = tuple(MoodleChoice(_text(a, "text"), _fraction(a), _text(a, "feedback/text"))
                       for a in q.findall("answer"))
    return mq


def _read_truefalse(q) -> MoodleQuestion:
    """qformat_xml::import_truefalse: the answer texts "true"/"false" say which is which (else
    file order true, false); the right answer is the one with fraction 100."""
    mq = _headers(q, "truefalse")
    for i, a in enumerate(q.findall("answer")):
        text = _text(a, "text")
        if text not in ("true", "false"):
            text = "true" if i == 0 else "false"
        full = float(a.get("fraction", "0")) == 100
        mq.right_answer = full if text == "true" else not full
    return mq


def _read_essay(q) -> MoodleQuestion:
    return _headers(q, "essay")


def _read_multianswer(q) -> MoodleQuestion:
    """qformat_xml::import_multianswer: everything comes from the question text. <defaultgrade>
    is not read: the mark is the sum of the subquestion weights (qtype_multianswer_extract_question
    adds each {n:...}); the question is rejected if qtype_multianswer_validate_question objects."""
    text = _text(q, "questiontext/text")
    placeholder_text, subs = cloze_extract(text)
    mq = MoodleQuestion(qtype="multianswer", name=_text(q, "name/text"), idnumber=_text(q, "idnumber") or None,
                        category=None, mark=float(sum(s.weight for s in subs)), text=placeholder_text,
                        general_feedback=_text(q, "generalfeedback/text"), subquestions=tuple(subs),
                        files={"questiontext": _files(q.find("questiontext")),
                               "generalfeedback": _files(q.find("generalfeedback"))})
    problems = cloze_validate(subs)
    if problems:
        raise ImportRejected(f"Moodle rejects cloze {mq.name!r}: " + "; ".join(problems))
    return mq


_MOODLE_READERS = {"numerical": _read_numerical, "multichoice": _read_multichoice,
                   "truefalse": _read_truefalse, "essay": _read_essay,
                   "cloze": _read_multianswer, "multianswer": _read_multianswer}


# --- the cloze syntax: qtype_multianswer_extract_question (multianswer/questiontype.php) ---------

_FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
# An answer ends before ~, # or } that is not escaped by "\", "&" or "&amp;" (PCRE lookbehind).
_ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
_FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
_ALTERNATIVE = f"({_FRACTION})?({_ANSWER})(#({_FEEDBACK}))?"
# Sub-question types: name → (kind, shuffle, layout). MULTIRESPONSE and SHORTANSWER are not
# modelled (gen does not write them) and are refused by cloze_extract.
_CLOZE_TYPES = {
    "NUMERICAL": ("numerical", False, ""), "NM": ("numerical", False, ""),
    "MULTICHOICE": ("multichoice", False, "dropdown"), "MC": ("multichoice", False, "dropdown"),
    "MULTICHOICE_S": ("multichoice", True, "dropdown"), "MCS": ("multichoice", True, "dropdown"),
    "MULTICHOICE_V": ("multichoice", False, "vertical"), "MCV": ("multichoice", False, "vertical"),
    "MULTICHOICE_VS": ("multichoice", True, "vertical"), "MCVS": ("multichoice", True, "vertical"),
    "MULTICHOICE_H": ("multichoice", False, "horizontal"), "MCH": ("multichoice", False, "horizontal"),
    "MULTICHOICE_HS": ("multichoice", True, "horizontal"), "MCHS": ("multichoice", True, "horizontal"),
}
_ALL_TYPES = ("NUMERICAL|NM|MULTICHOICE_VS|MCVS|MULTICHOICE_HS|MCHS|MULTICHOICE_V|MCV|MULTICHOICE_H|MCH|"
              "MULTICHOICE_S|MCS|MULTICHOICE|MC|SHORTANSWER_C|SAC|MWC|SHORTANSWER|SA|MW|"
              "MULTIRESPONSE_HS|MRHS|MULTIRESPONSE_H|MRH|MULTIRESPONSE_S|MRS|MULTIRESPONSE|MR")
_CLOZE = re.compile(r"\{([0-9]*):(" + _ALL_TYPES + r"):(" + _ALTERNATIVE + "(?:~" + _ALTERNATIVE + r")*)\}", re.S)
_ONE_ALTERNATIVE = re.compile("~?" + _ALTERNATIVE, re.S)
_NUMBER = r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)"
_NUMERICAL_ALTERNATIVE = re.compile(f"^({_NUMBER})(:{_NUMBER})?$", re.S)


def _unescape(text: str) -> str:
    """Answers and feedback: html_entity_decode, then "\\}" → "}" and "\\#" → "#" (not "\\~")."""
    return _html.unescape(text).replace("\\}", "}").replace("\\#", "#")


def cloze_extract(text: str) -> tuple[str, list[ClozeSubquestion]]:
    """Find each {weight:TYPE:alternatives} in order, replace it by {#n}, parse its answers."""
    subs = []
    n = 1
    while True:
        m = _CLOZE.search(text)
        if not m:
            break
        weight = int(m.group(1)) if m.group(1) != "" else 1          # "empty = 1", integers only
        type_name = m.group(2)
        if type_name not in _CLOZE_TYPES:
            raise ImportRejected(f"cloze subquestion type {type_name} is not modelled")
        kind, shuffle, layout = _CLOZE_TYPES[type_name]
        answers = []
        rest = m.group(3)
        while True:
            alt = _ONE_ALTERNATIVE.search(rest)
            if not alt or alt.group(0) == "":
                break
            marker, percent, answer, feedback = alt.group(1), alt.group(2), alt.group(3), alt.group(5)
            if marker == "=":
                fraction = 1.0
            elif percent and float(percent.replace(",", ".")) != 0:    # PHP: "0" is falsy → 0
                fraction = float(percent.replace(",", ".")) / 100
            else:
                fraction = 0.0
            feedback = _unescape(feedback or "")
            if kind == "numerical" and (num := _NUMERICAL_ALTERNATIVE.match(answer)):
                # NUMERICAL_CORRECT_ANSWER = group 1 (with its sign), NUMERICAL_ABS_ERROR_MARGIN =
                # group 6 (the margin without a sign; it is abs() anyway); absent margin → 0.
                answers.append(NumericalAnswer(num.group(1), float((num.group(6) or "0").replace(",", ".")),
                                               fraction, feedback))
            elif kind == "numerical":
                answers.append(NumericalAnswer(_unescape(answer), 0.0, fraction, feedback))
            else:
                answers.append(MoodleChoice(_unescape(answer), fraction, feedback))
            rest = rest.split(alt.group(0), 1)[1]                          # explode($altregs[0], ..., 2)
        subs.append(ClozeSubquestion(kind, weight, tuple(answers), shuffle, layout))
        text = text.replace(m.group(0), f"{{#{n}}}", 1)
        n += 1
    return text, subs


def cloze_validate(subs) -> list[str]:
    """qtype_multianswer_validate_question: what makes Moodle refuse the question."""
    if not subs:
        return ["no subquestions"]
    problems = []
    for i, s in enumerate(subs, 1):
        texts = [a.text for a in s.answers if a.text.strip() != ""]
        if s.kind == "numerical":
            for t in texts:
                value, unit = moodle_apply_units(t.strip())
                if t.strip() != "*" and (value is None or unit):          # qtype_numerical::is_valid_number
                    problems.append(f"subquestion {i}: answer {t!r} is not a number")
        if s.kind == "multichoice" and len(texts) < 2:
            problems.append(f"subquestion {i}: a multichoice needs 2 answers")
        elif not texts:
            problems.append(f"subquestion {i}: no answer")
        if not any(a.fraction == 1 for a in s.answers if a.text.strip() != ""):
            problems.append(f"subquestion {i}: no answer has full marks")
    return problems


# ------------------------------------------------------------------------------------------------
# Canvas: numbers
# ------------------------------------------------------------------------------------------------

# parse-decimal-number (npm, used by @canvas/i18n/numberHelper.parse) with the English separators
# and enforceGroupSize: optional sign, digits (or groups of 3 after a comma), optional ".digits".
_CANVAS_TYPED = re.compile(r"^\s*([+\-]?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+)|[0-9]*))(?:\.([0-9]*))?\s*$")
_JS_SCIENTIFIC = re.compile(r"^[+-]?[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)$")   # numberHelper.isScientific
_JS_FLOAT_PREFIX = re.compile(r"^\s*([+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?))")


def _js_parse_float(text: str) -> float | None:
    """JavaScript parseFloat: the longest numeric prefix, else NaN (None)."""
    m = _JS_FLOAT_PREFIX.match(text)
    return float(m.group(1).replace("Infinity", "inf")) if m else None


def canvas_browser_number(typed: str) -> str:
    """What Canvas's quiz page submits for a numerical answer after the student leaves the field.

    take_quiz.js, on "change" of .numerical_question_input: numberHelper.parse(value); NaN → the
    field is emptied; else it becomes I18n.n(val.toFixed(4), {strip_insignificant_zeros: true}).
    So "- 12", "−12" (U+2212) and "-56/13" are emptied; "+2" and "2.00" become "2"; a value is
    rounded to 4 decimals; I18n.localizeNumber adds the locale's thousands delimiter (",").
    """
    value = None
    m = _CANVAS_TYPED.match(typed)
    if m:
        value = _js_parse_float(m.group(1) + "." + (m.group(2) if m.group(2) is not None else "undefined"))
    if value is None and _JS_SCIENTIFIC.match(typed):
        value = _js_parse_float(typed)
    if value is None:
        return ""
    # Number.prototype.toFixed(4): exact binary value, ties away from zero; then strip zeros.
    fixed = Decimal(value).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    sign, digits = ("-" if fixed < 0 else ""), f"{abs(fixed):f}"
    whole, _, frac = digits.partition(".")
    frac = frac.rstrip("0")
    whole = f"{int(whole):,}"                         # number.format.delimiter for "en"
    return sign + whole + ("." + frac if frac else "")


_RUBY_DIGITS = r"[0-9](?:_?[0-9])*"
_RUBY_BIGDECIMAL = re.compile(rf"^\s*[+-]?(?:{_RUBY_DIGITS}(?:\.(?:{_RUBY_DIGITS})?)?|\.{_RUBY_DIGITS})"
                              rf"(?:[eEdD][+-]?[0-9]+)?\s*$")


def ruby_bigdecimal(text: str) -> Decimal | None:
    """Kernel#BigDecimal(str) as NumericalQuestion uses it: the decimal, or None where Ruby raises
    ArgumentError ("- 12", "−12", "12/5", "1,000", "abc")."""
    if not _RUBY_BIGDECIMAL.match(text):
        return None
    return Decimal(text.strip().replace("_", "").replace("d", "e").replace("D", "e"))


def _ruby_float_decimal(value: float) -> Decimal:
    """BigDecimal(answer[:exact].to_s): the stored Float printed the Ruby way (shortest repr)."""
    return Decimal(repr(float(value)))


# ------------------------------------------------------------------------------------------------
# Canvas: question data and graders
# ------------------------------------------------------------------------------------------------

NO_ANSWER_TEXT = "No answer text provided."          # Qti::ChoiceInteraction::DEFAULT_ANSWER_TEXT


@dataclass
class CanvasAnswer:
    migration_id: str | None          # our response_label ident (Canvas's own :id is random for it)
    text: str = ""
    html: str | None = None
    weight: int = 0
    blank_id: str | None = None
    comments_html: str = ""
    numerical_answer_type: str | None = None      # exact_answer | range_answer
    exact: float | None = None
    margin: float | None = None
    start: float | None = None
    end: float | None = None


@dataclass
class CanvasGroup:
    migration_id: str
    title: str
    pick_count: int
    question_points: float
    questions: list = field(default_factory=list)


@dataclass
class CanvasQuestion:
    migration_id: str
    title: str
    question_type: str
    points_possible: float
    question_text: str
    answers: list
    neutral_comments_html: str = ""
    group: CanvasGroup | None = None
    images: list = field(default_factory=list)    # (field, src, course file it resolves to | None)

    @property
    def points(self) -> float:
        """What the question is worth in the quiz: the group's points per item when grouped."""
        return self.group.question_points if self.group else self.points_possible

    @property
    def blanks(self) -> dict[str, list[CanvasAnswer]]:
        out: dict[str, list[CanvasAnswer]] = {}
        for a in self.answers:
            out.setdefault(a.blank_id, []).append(a)
        return out

    def grade(self, response, typed_in_browser: bool = True) -> float:
        """The fraction (0..1) of the points Canvas's classic-quiz grader gives this response.

        Quizzes::QuizQuestion::Base#score_question and UserAnswer#score: correct parts / parts.
        """
        grader = _CANVAS_GRADERS.get(self.question_type)
        if grader is None:
            raise ValueError(f"Canvas does not grade {self.question_type} automatically ({self.title})")
        return grader(self, response, typed_in_browser)


def _grade_numerical(q, response, typed_in_browser) -> float:
    """NumericalQuestion#correct_answer_parts: nil → unanswered, blank → wrong; BigDecimal of the
    text, an unparseable text counts as 0.0 (rescue ArgumentError); the first answer whose
    exact ± margin (inclusive) or [start, end] range covers it makes the question right."""
    if response is None:
        return 0.0
    text = canvas_browser_number(response) if typed_in_browser else response
    if text.strip() == "":
        return 0.0
    number = ruby_bigdecimal(text)
    if number is None:
        number = Decimal("0.0")
    for a in q.answers:
        if a.numerical_answer_type == "exact_answer":
            exact, margin = _ruby_float_decimal(a.exact), _ruby_float_decimal(a.margin or 0.0)
            if exact - margin <= number <= exact + margin:
                return 1.0
        elif a.numerical_answer_type == "range_answer":
            low, high = sorted((_ruby_float_decimal(a.start or 0.0), _ruby_float_decimal(a.end or 0.0)))
            if low <= number <= high:                    # FlexRange#cover?
                return 1.0
    return 0.0


def _choice(q, response) -> CanvasAnswer:
    hits = [a for a in q.answers if response in (a.migration_id, a.text)]
    if len(hits) != 1:
        raise ValueError(f"{response!r} names {len(hits)} of the answers {[a.text for a in q.answers]} "
                         f"of {q.title!r}: pass the answer's text or its migration id")
    return hits[0]


def _grade_choice(q, response, typed_in_browser) -> float:
    """MultipleChoiceQuestion#correct_answer_parts (TrueFalseQuestion inherits it): the chosen
    answer counts when its weight is 100."""
    if response is None:
        return 0.0
    return 1.0 if _choice(q, response).weight == 100 else 0.0


def _grade_blanks(q, responses: dict, typed_in_browser) -> float:
    """FillInMultipleBlanksQuestion#correct_answer_parts: per blank, the typed text with
    strip.downcase equals some accepted text of that blank (also strip.downcase); partial credit
    is on (allow_partial_credit absent), so the fraction is right blanks / blanks. All blanks
    empty → unanswered (nil) → 0."""
    blanks = q.blanks
    unknown = set(responses) - set(blanks)
    if unknown:
        raise ValueError(f"{q.title!r} has blanks {sorted(blanks)}, not {sorted(unknown)}")
    if not any((responses.get(b) or "").strip() for b in blanks):
        return 0.0
    right = 0
    for blank, answers in blanks.items():
        typed = _ruby_strip(responses.get(blank) or "").lower()
        chosen = next((a for a in answers if _ruby_strip(a.text or "").lower() == typed), None)   # detect
        if chosen is not None and chosen.weight == 100:
            right += 1
    return right / len(blanks)


def _grade_dropdowns(q, responses: dict, typed_in_browser) -> float:
    """MultipleDropdownsQuestion#find_chosen_answer: the chosen option of each blank (by id), right
    when its weight is 100; fraction right blanks / blanks."""
    blanks = q.blanks
    if not any(responses.get(b) for b in blanks):
        return 0.0
    right = 0
    for blank, answers in blanks.items():
        chosen = responses.get(blank)
        hits = [a for a in answers if chosen in (a.migration_id, a.text)]
        if len(hits) > 1:
            raise ValueError(f"{chosen!r} names {len(hits)} options of blank {blank} in {q.title!r}")
        if hits and hits[0].weight == 100:
            right += 1
    return right / len(blanks)


def _ruby_strip(text: str) -> str:
    """String#strip: ASCII whitespace and NUL only (a no-break space stays)."""
    return text.strip(" \t\n\v\f\r\0")


_CANVAS_GRADERS = {"numerical_question": _grade_numerical, "multiple_choice_question": _grade_choice,
                   "true_false_question": _grade_choice, "fill_in_multiple_blanks_question": _grade_blanks,
                   "multiple_dropdowns_question": _grade_dropdowns}


# ------------------------------------------------------------------------------------------------
# Canvas: the QTI 1.2 import (QTIMigrationTool → Qti::AssessmentItemConverter & friends)
# ------------------------------------------------------------------------------------------------

# AssessmentQuestion::ALL_QUESTION_TYPES (the metadata question_type is taken when it is one).
CANVAS_TYPES = {"multiple_choice_question", "true_false_question", "short_answer_question",
                "fill_in_multiple_blanks_question", "multiple_answers_question",
                "multiple_dropdowns_question", "matching_question", "numerical_question",
                "calculated_question", "essay_question", "file_upload_question", "text_only_question"}


def canvas_clear_html(text: str) -> str:
    """Qti::HtmlHelper#clear_html: drop tags, decode numeric entities, drop named entities.

    An <img> has no text, so a choice whose HTML is only an image clears to "" (alt is an
    attribute, not text) and ChoiceInteraction stores NO_ANSWER_TEXT as its text."""
    text = re.sub(r"</?[^>\n]*>", "", text)
    text = re.sub(r"&#([0-9]+);", lambda m: chr(int(m.group(1))), text)
    text = re.sub(r"&\w+;", "", text)
    return text.replace("\\r\\n", "\n")


_TOKEN = re.compile(r"\$[A-Z_]*\$")                    # Qti::HtmlHelper#sanitize_html!
_CC_FILEBASE = re.compile(r"\$IMS(?:-|_)CC(?:-|_)FILEBASE\$/(.*)")   # CanvasLinkMigrator::LinkParser


def canvas_resolve_link(src: str, package_files: list[str], strip_web_resources: bool = False) -> str | None:
    """The package file an <img src> ends up linked to in the course, or None for a dead link.

    Files: every <file href> of the package that is not an item or metadata file becomes a course
    file (Qti.convert_files on the QTIMigrationTool's manifest); its path_name is the href — newer
    Canvas may drop the "web_resources/" prefix (`strip_web_resources`, unconfirmed, see notes).

    1. Qti::HtmlHelper#sanitize_html!: remove tokens matching \\$[A-Z_]*\\$ ($IMS_CC_FILEBASE$ yes,
       $IMS-CC-FILEBASE$ no: hyphens), then the path_map entry equal to the rest, else the first
       (shortest) path ending with it → $CANVAS_OBJECT_REFERENCE$/attachments/<id>: resolved.
    2. Otherwise the untouched src reaches LinkParser/LinkResolver: $IMS-CC-FILEBASE$/a/b.png (or
       the underscore form) is looked up as "a/b.png", then "b.png", against the imported paths.
    Equation images (/equation_images/…) are left alone by LinkParser and work.
    """
    from urllib.parse import unquote
    paths = {(p[len("web_resources/"):] if strip_web_resources and p.startswith("web_resources/") else p): p
             for p in package_files}
    if src.startswith("/equation_images/"):
        return src
    value = _TOKEN.sub("", unquote(src))
    if value in paths:
        return paths[value]
    for key in sorted(paths, key=len):
        if value and key.endswith(value):
            return paths[key]
    m = _CC_FILEBASE.match(src)
    if m:
        parts = [p for p in unquote(m.group(1)).split("?")[0].split("/") if p]
        lower = {k.lower(): v for k, v in paths.items()}
        while parts:
            sub = "/".join(parts)
            if sub in paths or sub.lower() in lower:
                return paths.get(sub) or lower[sub.lower()]
            parts.pop(0)
    return None


_IMG_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']([^"']*)["']""", re.I)

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"


def _q(tag: str) -> str:
    return QTI + tag


def _mattext(node) -> tuple[str, str]:
    """(text, texttype) of a material's mattext; no texttype is read as text/html."""
    mt = node.find(f"{_q('material')}/{_q('mattext')}") if node is not None else None
    if mt is None:
        return "", "text/plain"
    return mt.text or "", mt.get("texttype", "text/html")


def canvas_questions(zip_bytes: bytes, strip_web_resources: bool = False) -> list[CanvasQuestion]:
    """The questions a Canvas "QTI .zip file" import makes from our canvas-qti.zip, in quiz order.

    Grouped questions carry their CanvasGroup (Qti::AssessmentTestConverter#process_section:
    a section with selection_number > 0 is a group; pick_count = that number, question_points =
    points_per_item, else the common points_possible of its questions, else 1).
    """
    zf = zipfile.ZipFile(io.BytesIO(zip_bytes))
    manifest = etree.fromstring(zf.read("imsmanifest.xml"))
    resources = manifest.iter(f"{CP}resource")
    files, assessment = [], None
    for r in resources:
        if r.get("type") == "imsqti_xmlv1p2":
            assessment = r.find(f"{CP}file").get("href")
        elif r.get("type") == "webcontent":
            files += [f.get("href") for f in r.findall(f"{CP}file")]
    if assessment is None:
        raise ImportRejected("imsmanifest.xml has no imsqti_xmlv1p2 resource: Canvas finds no quiz")
    root = etree.fromstring(zf.read(assessment))
    out: list[CanvasQuestion] = []
    top = root.find(f"{_q('assessment')}/{_q('section')}")
    _canvas_section(top, None, out, files, strip_web_resources)
    return out


def _canvas_section(section, group, out, files, strip) -> None:
    for child in section:
        if child.tag == _q("item"):
            q = canvas_item(child, files, strip)
            q.group = group
            if group:
                group.questions.append(q)
            out.append(q)
        elif child.tag == _q("section"):
            number = child.findtext(f"{_q('selection_ordering')}/{_q('selection')}/{_q('selection_number')}")
            if not (number and int(number) > 0):
                _canvas_section(child, group, out, files, strip)
                continue
            ppi = child.findtext(f".//{_q('points_per_item')}")
            sub = CanvasGroup(child.get("ident"), child.get("title", ""), int(number), float(ppi or 0))
            _canvas_section(child, sub, out, files, strip)
            if not ppi:
                # No points_per_item: the questions' common points_possible if > 0, else 1.
                points = {q.points_possible for q in sub.questions}
                sub.question_points = points.pop() if len(points) == 1 and min(points) > 0 else 1.0


def _metadata(item) -> dict[str, str]:
    md = {}
    for f in item.iter(_q("qtimetadatafield")):
        md[f.findtext(_q("fieldlabel")) or ""] = f.findtext(_q("fieldentry")) or ""
    return md


def canvas_item(item, files=(), strip_web_resources=False) -> CanvasQuestion:
    """One QTI 1.2 <item> as Canvas question data (the question_type from the metadata when it is
    a Canvas type, Qti::AssessmentItemConverter#parse_instructure_metadata; points_possible from
    the metadata, default 1 and never below 0)."""
    md = _metadata(item)
    qtype = md.get("question_type", "").lower()
    if qtype not in CANVAS_TYPES:
        raise ImportRejected(f"item {item.get('ident')}: question_type {qtype!r} is not one Canvas knows")
    points = max(float(md.get("points_possible") or 1), 0.0)
    pres = item.find(_q("presentation"))
    text, _ = _mattext(pres)
    feedback = {fb.get("ident"): _mattext(fb.find(_q("flow_mat")))[0] for fb in item.findall(_q("itemfeedback"))}
    q = CanvasQuestion(item.get("ident"), item.get("title", ""), qtype, points, text, [],
                       neutral_comments_html=feedback.get("general_fb", ""))
    conditions = item.findall(f"{_q('resprocessing')}/{_q('respcondition')}")
    if qtype == "numerical_question":
        q.answers = _numerical_answers(conditions)
    elif qtype in ("fill_in_multiple_blanks_question", "multiple_dropdowns_question"):
        q.answers = _blank_answers(pres, conditions, qtype)
    elif qtype in ("multiple_choice_question", "true_false_question", "multiple_answers_question"):
        q.answers = _choice_answers(pres, conditions, feedback)
        q.question_type = _check_true_false(q)
    html_fields = [("question_text", q.question_text), ("neutral_comments_html", q.neutral_comments_html)]
    html_fields += [(f"answer {a.migration_id}", a.html or "") for a in q.answers]
    html_fields += [(f"answer {a.migration_id} comments", a.comments_html) for a in q.answers]
    for name, value in html_fields:
        for src in _IMG_SRC.findall(value):
            q.images.append((name, src, canvas_resolve_link(src, list(files), strip_web_resources)))
    return q


def _numerical_answers(conditions) -> list[CanvasAnswer]:
    """Qti::NumericInteraction#get_canvas_answers on the QTIMigrationTool's output: a condition
    with <or> gives exact = the varequal (stringMatch) text and margin = varlte − exact computed
    in BigDecimal (not the vargte side: an asymmetric pair is made symmetric around exact); a
    condition with only <and> gives a range vargte..varlte."""
    answers = []
    for cond in conditions:
        var = cond.find(_q("conditionvar"))
        either = var.find(_q("or")) if var is not None else None
        both = var.find(_q("and")) if var is not None else None
        if either is not None:
            exact = either.findtext(_q("varequal"))
            if exact is None:
                continue
            upper = either.findtext(f"{_q('and')}/{_q('varlte')}")
            try:
                margin = float(Decimal(upper) - Decimal(exact)) if upper is not None else None
            except InvalidOperation:
                margin = 0.0
            answers.append(CanvasAnswer(None, "answer_text", weight=100, numerical_answer_type="exact_answer",
                                        exact=_ruby_to_f(exact), margin=margin))
        elif both is not None:
            low, high = both.findtext(_q("vargte")), both.findtext(_q("varlte"))
            if low is not None or high is not None:
                answers.append(CanvasAnswer(None, "answer_text", weight=100, numerical_answer_type="range_answer",
                                            start=_ruby_to_f(low or "0"), end=_ruby_to_f(high or "0")))
    return answers


def _ruby_to_f(text: str) -> float:
    """String#to_f: the leading number, 0.0 when there is none."""
    m = re.match(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", text)
    return float(m.group(0)) if m else 0.0


def _label_text(label) -> tuple[str, str | None]:
    """The answer text and html ChoiceInteraction#get_answers stores for a response_label.

    text/plain material → <div class="text"> → its text as it is. text/html → <div class="html">
    → text = clear_html(html) with whitespace collapsed, html kept when it is more than that text
    (a choice that is only an image: text "" → NO_ANSWER_TEXT, html = the <img>)."""
    raw, texttype = _mattext(label)
    if texttype == "text/plain":
        return raw.strip(), None
    text = re.sub(r"\s+", " ", canvas_clear_html(raw).strip())
    html_part = raw.strip() if raw.strip() and raw.strip() != _html.escape(text, quote=False) else None
    return text, html_part


def _choice_answers(pres, conditions, feedback) -> list[CanvasAnswer]:
    answers = []
    for label in pres.iter(_q("response_label")):
        text, html_part = _label_text(label)
        if text == "":
            text = canvas_clear_html(label.get("ident")) if re.search("true|false", label.get("ident", ""), re.I) \
                else NO_ANSWER_TEXT
        answers.append(CanvasAnswer(label.get("ident"), text, html_part))
    by_id = {a.migration_id: a for a in answers}
    # ChoiceInteraction#process_response_conditions: every condition naming an answer sets its
    # weight (100 when it sets or adds a SCORE > 0, else 0), so the last one naming it wins; a
    # displayfeedback there links that answer's comments.
    for cond in conditions:
        ident = cond.findtext(f"{_q('conditionvar')}/{_q('varequal')}")
        answer = by_id.get(ident) or next((a for a in answers if (a.text or "").lower() == (ident or "").lower()), None)
        if answer is None:
            continue
        setvar = cond.find(_q("setvar"))
        answer.weight = 100 if setvar is not None and setvar.get("varname", "SCORE").endswith("SCORE") \
            and _ruby_to_f(setvar.text or "0") > 0 else 0
        fb = cond.find(_q("displayfeedback"))
        if fb is not None and not answer.comments_html:
            answer.comments_html = feedback.get(fb.get("linkrefid"), "")
    return answers


def _check_true_false(q) -> str:
    """ChoiceInteraction#process_true_false_question: a true_false_question stays one only with
    exactly two answers whose texts match /true/i and /false/i (renamed "True", "False"); else it
    becomes a multiple_choice_question. Other types keep the metadata's type."""
    if q.question_type != "true_false_question":
        return q.question_type
    true = next((a for a in q.answers if re.search("true", a.text, re.I)), None)
    false = next((a for a in q.answers if a is not true and re.search("false", a.text, re.I)), None)
    if len(q.answers) == 2 and true and false:
        true.text, false.text = "True", "False"
        q.answers = [true, false]
        return "true_false_question"
    return "multiple_choice_question"


def _blank_answers(pres, conditions, qtype) -> list[CanvasAnswer]:
    """Qti::FillInTheBlank#process_canvas: one answer per response_label of each response_lid;
    blank_id = the response_lid ident without "response_"; text = the label's text, stripped.
    Fill-in-multiple-blanks: every label is accepted (weight 100). Dropdowns: weight 100 only for
    labels named by a condition that adds to SCORE."""
    answers = []
    for lid in pres.iter(_q("response_lid")):
        blank = re.sub(r"^response_", "", lid.get("ident", ""))
        for label in lid.iter(_q("response_label")):
            raw, _ = _mattext(label)
            answers.append(CanvasAnswer(label.get("ident"), raw.strip(), None,
                                        100 if qtype == "fill_in_multiple_blanks_question" else 0, blank))
    if qtype == "multiple_dropdowns_question":
        by_id = {a.migration_id: a for a in answers}
        for cond in conditions:
            setvar = cond.find(_q("setvar"))
            ident = cond.findtext(f"{_q('conditionvar')}/{_q('varequal')}")
            if setvar is not None and setvar.get("action") == "Add" and ident in by_id:
                by_id[ident].weight = 100
    return answers
