"""Lesson files: YAML in, validated frozen objects out. No later stage sees a raw dict.

Loading is defensive because teachers edit these files by hand: size limit, strict UTF-8, no YAML
anchors/aliases (they can be built to explode in memory), no duplicate keys, and every error mapped
back to the field path and line in the file.
"""
from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import stat
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator,
                      model_validator)

from .errors import LessonError
from .families import CODE_FORMS, FAMILY_MODULES

MAX_BYTES = 1_000_000
MAX_DEPTH = 20              # nesting of mappings and lists; a real lesson needs 7
MAX_NUMBER_CHARS = 30       # digits of a number in the file; beyond that it is a typo or an attack
LAST_REVISED = dt.date(2107, 12, 31)   # zip archives (the deck, the Canvas package) end in 2107
SCHEMA_VERSION = 1

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _printable(value: str) -> str:
    m = CONTROL.search(value)
    if m:
        raise ValueError(f"contains the control character U+{ord(m.group()):04X}, which Anki strips and XML "
                         "forbids; remove it (it often comes from copying text out of a PDF)")
    return value


def _math_parses(value: str) -> str:
    if "$" in value:
        from .prose import ProseError, prose
        try:
            prose(value)
        except ProseError as exc:
            raise ValueError(f"{exc} (math in lesson text goes between $ signs in the formula language; "
                             "see 'Math in lesson text' in README.md)") from None
    return value


# Names Windows reserves for devices, with or without an extension ("CON", "com1.txt").
RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"{p}{n}" for p in ("COM", "LPT") for n in "0123456789¹²³")}


def _portable(value: str) -> str:
    """Ids become folder and file names: refuse what Windows or macOS cannot hold."""
    if value.split(".")[0].upper() in RESERVED_NAMES:
        raise ValueError(f"'{value}' is a device name on Windows ({value.split('.')[0].upper()}), which "
                         "cannot be a file or folder name there; choose another id")
    if value.endswith("."):
        raise ValueError(f"'{value}' ends with a dot, which Windows drops from file names; remove it")
    return value


def _one_deck_level(value: str) -> str:
    """The Anki deck is named topic::number title::section, and '::' starts a new deck level."""
    if "::" in value or value.startswith(":") or value.endswith(":"):
        raise ValueError("'::' (or a ':' at either end) would add a level to the Anki deck tree; "
                         "write it another way, e.g. ' - '")
    return value


Text = Annotated[str, StringConstraints(min_length=1, max_length=20_000), AfterValidator(_printable),
                 AfterValidator(_math_parses)]
DeckName = Annotated[Text, AfterValidator(_one_deck_level)]
ItemId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"), AfterValidator(_portable)]
LessonId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), AfterValidator(_portable)]
# What a gradebook receives: finite, positive, at most 100.
Points = Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]
CLOZE = re.compile(r"\{\{c(\d+)::(.+?)\}\}", re.S)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)   # no nan/inf anywhere


def _formula(variables: tuple[str, ...]):
    def check(value):
        if value is None:
            return value
        from .mathparse import FormulaError, parse_formula
        try:
            parse_formula(str(value), variables)
        except FormulaError as exc:
            raise ValueError(str(exc)) from None
        return value
    return check


Formula = Annotated[str, AfterValidator(_formula(("x", "y", "z")))]
Number = Annotated[str, AfterValidator(_formula(()))]
IntVector = Annotated[tuple[int, ...], Field(min_length=2, max_length=3)]


class FixedValues(Strict):
    """The lesson's own instance of a problem (e.g. the text's f(x,y) = x^2 + y^2), shipped as
    variant 0. Each family honours the fields its problems state; any other field is an error."""
    function: Formula | None = Field(None, description="formula, e.g. 'x**2 + 3*y' (^ also accepted)")
    point: IntVector | None = Field(None, description="the point P (or the start x₀ of gradient descent)")
    direction: IntVector | None = Field(None, description="a direction vector v, e.g. [3, -4]")
    unit: tuple[Annotated[str | int, AfterValidator(_formula(()))], ...] | None = Field(
        None, min_length=2, max_length=3, description="a unit vector û given exactly, e.g. ['3/5', '4/5']")
    angle: Number | None = Field(None, description="an angle with the positive x-axis, e.g. 'pi/6'")
    eta: Number | None = Field(None, description="a learning rate η, e.g. '1/10'")
    steps: int | None = Field(None, ge=1, le=3, description="the number of gradient-descent steps")
    directions: tuple[IntVector, ...] | None = Field(None, min_length=2, max_length=5,
                                                     description="directions to compare or judge")
    claim: Literal["gradient_value", "increases_along", "max_rate", "level_tangent"] | None = Field(
        None, description="a true/false statement about f at P (its truth is computed)")
    vector: IntVector | None = Field(None, description="the gradient a 'gradient_value' claim states")
    value: Number | None = Field(None, description="the rate a 'max_rate' claim states, e.g. 'sqrt(13)'")

    @model_validator(mode="before")
    @classmethod
    def _numbers_as_text(cls, data):
        # YAML reads `eta: 0.1` as a float; keep every exact number as the text the teacher wrote.
        if isinstance(data, dict):
            data = {k: (str(v) if k in ("angle", "eta", "value") and isinstance(v, (int, float))
                        and not isinstance(v, bool) else v) for k, v in data.items()}
        return data


# The answer side of an Anki card: one idea a student can check at a glance.
MAX_ANSWER_WORDS = 25
ANSWER_DESCRIPTION = (f"the short answer, one idea in at most {MAX_ANSWER_WORDS} words (a $…$ formula counts as "
                      "one word): the answer side of the Anki card, with model_answer shown below it")


def answer_words(text: str) -> int:
    """Words a student reads in an answer: the prose's words, and each $…$ formula as one."""
    from .prose import prose
    return sum(len(re.findall(r"\S*\w\S*", piece)) if isinstance(piece, str) else 1 for piece in prose(text))


def _short(value: str) -> str:
    words = answer_words(value)
    if words > MAX_ANSWER_WORDS:
        raise ValueError(f"has {words} words, and a student checks it at a glance on an Anki card: keep it to one "
                         f"idea in at most {MAX_ANSWER_WORDS} words (a $…$ formula counts as one) and leave the "
                         "full explanation in model_answer")
    return value


ShortAnswer = Annotated[Text, AfterValidator(_short)]


def _answer_needs_model_answer(item):
    if item.answer is not None and item.model_answer is None:
        raise ValueError("answer is the short form of model_answer, which the card shows below it as the "
                         "explanation: add the model_answer it summarises, or remove answer")
    return item


class Objective(Strict):
    """A learning objective; with a model answer it also becomes a flashcard."""
    text: Text
    model_answer: Text | None = Field(None, description="what mastering it looks like, 2-4 sentences")
    answer: ShortAnswer | None = Field(None, description=ANSWER_DESCRIPTION)

    @model_validator(mode="before")
    @classmethod
    def _from_plain_text(cls, value):
        return {"text": value} if isinstance(value, str) else value

    _short_needs_long = model_validator(mode="after")(_answer_needs_model_answer)


class ProblemSpec(Strict):
    id: ItemId = Field(description="short id, unique within its exercise, e.g. 'a'")
    family: str = Field(description="problem family name; `gen list` shows them")
    params: dict[str, Any] = Field(default_factory=dict, description="family parameters; see README")
    fixed: FixedValues | None = Field(None, description="the lesson's own instance, shipped as variant 0")
    randomized: bool = Field(True, description="add randomized siblings (variants 1..N) from the family")

    @field_validator("family")
    @classmethod
    def _known_family(cls, value):
        if value not in FAMILY_MODULES:
            near = difflib.get_close_matches(value, FAMILY_MODULES, n=1)
            hint = f" Did you mean '{near[0]}'?" if near else ""
            raise ValueError(f"unknown family '{value}'.{hint} Known families: {', '.join(FAMILY_MODULES)}")
        return value

    @model_validator(mode="after")
    def _params_fit_family(self):
        from pydantic import ValidationError as PVE

        from .families import get_family
        try:
            get_family(self.family).Params(**self.params)
        except PVE as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ValueError(f"params{'.' + where if where else ''}: {_describe(err)}") from None
        except TypeError as exc:
            raise ValueError(f"params: {exc}") from None
        if not self.randomized and self.fixed is None:
            raise ValueError("randomized: false needs a fixed instance, otherwise there is nothing to build")
        if self.fixed is not None:
            family = get_family(self.family)
            unused = sorted(set(self.fixed_dict) - family.fixed_fields)
            if unused:
                raise ValueError(f"fixed.{unused[0]}: the {self.family} family does not use '{unused[0]}'; "
                                 f"its fixed fields are {', '.join(sorted(family.fixed_fields))}")
            params = self.family_params()
            n = getattr(params, "variables", 2)
            names = ("x", "y", "z")[:n]
            if "function" in self.fixed_dict:
                from .mathparse import FormulaError, parse_formula
                try:
                    parse_formula(self.fixed.function, names)
                except FormulaError as exc:
                    raise ValueError(f"fixed.function: {exc} (this problem has variables: {n})") from None
            for name in ("point", "direction", "unit", "vector"):
                value = self.fixed_dict.get(name)
                if value is not None and len(value) != n:
                    raise ValueError(f"fixed.{name} has {len(value)} components, but this problem has "
                                     f"variables: {n}")
            for v in self.fixed_dict.get("directions", ()):
                if len(v) != n:
                    raise ValueError(f"fixed.directions: {list(v)} has {len(v)} components, but this problem "
                                     f"has variables: {n}")
        return self

    def family_params(self):
        from .families import get_family
        return get_family(self.family).Params(**self.params)

    @property
    def fixed_dict(self) -> dict | None:
        return None if self.fixed is None else self.fixed.model_dump(exclude_none=True)


class Level(Strict):
    level: int = Field(ge=1, le=10)
    name: Text
    points: Points = Field(1, description="LMS points per question at this level")


class Item(Strict):
    """Anything a student answers: an exercise, a quiz question. Conceptual items carry a model
    answer; computational items carry problem specs; some carry both."""
    id: ItemId
    prompt: Text
    model_answer: Text | None = None
    answer: ShortAnswer | None = Field(None, description=ANSWER_DESCRIPTION)
    problems: tuple[ProblemSpec, ...] = ()

    @model_validator(mode="after")
    def _has_answer(self):
        if self.model_answer is None and not self.problems:
            raise ValueError("needs a model_answer (conceptual) or problems (computational), or both")
        _answer_needs_model_answer(self)
        ids = [p.id.lower() for p in self.problems]     # case-insensitive disks would merge 'A' and 'a'
        dup = {p.id for p in self.problems if ids.count(p.id.lower()) > 1}
        if dup:
            raise ValueError(f"problem ids {sorted(dup)} repeat within this item; make them unique")
        return self


class Exercise(Item):
    level: int = Field(ge=1, le=10)


class CodingChallenge(Item):
    """A quiz coding challenge: its problems become code cells in the Jupyter notebook, so each
    family needs a code form there."""

    @field_validator("problems")
    @classmethod
    def _has_code_form(cls, specs):
        for spec in specs:
            if spec.family not in CODE_FORMS:
                raise ValueError(
                    f"problem '{spec.id}' uses family '{spec.family}', which has no code form in the Jupyter "
                    f"notebook, so it cannot be a coding challenge. Use one of {', '.join(CODE_FORMS)}, "
                    "or move the problem to an exercise")
        return specs


class TrueFalse(Strict):
    id: ItemId
    statement: Text
    answer: bool
    reason: Text
    problems: tuple[ProblemSpec, ...] = ()


class Cloze(Strict):
    text: Text = Field(description="plain statement")
    cloze: Text | None = Field(None, description="the same with {{c1::…}} deletions, for Anki")

    @field_validator("cloze")
    @classmethod
    def _has_deletion(cls, value):
        if value is not None and not CLOZE.search(value):
            raise ValueError("a cloze needs at least one deletion like {{c1::partial derivatives}}; "
                             "without one Anki makes no card")
        if value is not None:
            for segment in re.split(r"\{\{c\d+::|\}\}", value):
                if segment.replace("\\$", "").count("$") % 2:
                    raise ValueError("math between $ signs must lie wholly inside or wholly outside a "
                                     "{{c1::…}} deletion")
        return value


class Resource(Strict):
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]
    title: Text | None = None


class Quiz(Strict):
    true_false: tuple[TrueFalse, ...] = ()
    conceptual: tuple[Item, ...] = ()
    coding: tuple[CodingChallenge, ...] = ()
    points: dict[Literal["true_false", "conceptual", "coding"], Points] = Field(
        default_factory=lambda: {"true_false": 1, "conceptual": 2, "coding": 2})


PLOT_RADIUS = 2.5          # figures.py draws P ± 2.5


class PlotFunction(Strict):
    function: str
    point: tuple[Annotated[int, Field(ge=-100, le=100)], Annotated[int, Field(ge=-100, le=100)]]
    note: Text

    @field_validator("function")
    @classmethod
    def _parses_in_the_plane(cls, value):
        from .mathparse import FormulaError, parse_formula
        try:
            parse_formula(value, ("x", "y"))
        except FormulaError as exc:
            raise ValueError(f"{exc} (plots are of f(x, y))") from None
        return value

    @model_validator(mode="after")
    def _drawable(self):
        """The plot evaluates f around P and draws the level curve through P: f must be usable there."""
        import sympy as sp

        from .domain import where_unusable
        from .mathparse import parse_formula
        f = parse_formula(self.function, ("x", "y"))
        reason = where_unusable(f, (sp.Symbol("x", real=True), sp.Symbol("y", real=True)), self.point,
                                radius=max(map(abs, self.point)) + PLOT_RADIUS + 1)
        if reason:
            raise ValueError(f"f = {self.function} cannot be plotted around P = {tuple(self.point)}: {reason}")
        return self


class MiniProject(Strict):
    title: Text
    description: Text
    functions: tuple[PlotFunction, ...] = ()


class NextLesson(Strict):
    number: Text
    title: Text
    points: tuple[Text, ...] = ()


class Homework(Strict):
    items: tuple[Text, ...]
    expected_time: Text | None = None


class Lesson(Strict):
    schema_version: Literal[1] = Field(description="format version of this file; currently 1")
    id: LessonId = Field(description="folder name under build/, e.g. 'lesson-1.2.32'")
    number: DeckName
    title: DeckName
    revised: dt.date = Field(description="date of the last content change; newer dates make Anki update cards")
    estimated_time: Text
    difficulty: Text
    prerequisites: tuple[Text, ...] = ()
    topic: DeckName
    objectives: tuple[Objective, ...] = Field(min_length=1, description="plain text, or {text, model_answer}")
    core_ideas: tuple[Cloze, ...] = ()
    levels: tuple[Level, ...] = Field(min_length=1)
    exercises: tuple[Exercise, ...] = ()
    mini_project: MiniProject | None = None
    quiz: Quiz = Quiz()
    key_takeaways: tuple[Cloze, ...] = ()
    resources: tuple[Resource, ...] = ()
    next_lesson: NextLesson | None = None
    homework: Homework | None = None

    @field_validator("revised")
    @classmethod
    def _zip_can_hold(cls, value):
        if value > LAST_REVISED:
            raise ValueError(f"{value} is after {LAST_REVISED}, the last date a zip archive (the Anki deck, "
                             "the Canvas package) can hold")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        ids = [i.id for i in self.all_items()]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate exercise/question ids {dup}: every id must be unique in a lesson")
        folded = [i.lower() for i in ids]
        same = sorted({i for i in ids if folded.count(i.lower()) > 1})
        if same:
            raise ValueError(f"the ids {same} differ only in upper/lower case, which Windows and macOS "
                             "treat as the same name: make them differ in more than case")
        levels = {lv.level for lv in self.levels}
        for ex in self.exercises:
            if ex.level not in levels:
                raise ValueError(f"exercise {ex.id} has level {ex.level}, which is not among levels "
                                 f"{sorted(levels)}")
        return self

    def all_items(self):
        return [*self.exercises, *self.quiz.true_false, *self.quiz.conceptual, *self.quiz.coding]

    def level(self, number: int) -> Level:
        return next(lv for lv in self.levels if lv.level == number)


# ---------------------------------------------------------------------------------------------
# Loading

def read_source(path) -> bytes:
    """The bytes of a lesson file: regular files only (a FIFO or a device could block or never
    end), and never more than MAX_BYTES + 1 of them."""
    name = str(path)
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                st = os.fstat(fd)        # the file we opened, not the one we looked at
                raw = os.read(fd, MAX_BYTES + 1) if stat.S_ISREG(st.st_mode) else b""
                while stat.S_ISREG(st.st_mode) and len(raw) <= MAX_BYTES:
                    more = os.read(fd, MAX_BYTES + 1 - len(raw))
                    if not more:
                        break
                    raw += more
            finally:
                os.close(fd)
    except OSError as exc:
        raise LessonError(f"cannot read the file ({exc.strerror}).", file=name) from None
    if not stat.S_ISREG(st.st_mode):
        kind = "folder" if stat.S_ISDIR(st.st_mode) else "FIFO" if stat.S_ISFIFO(st.st_mode) else \
            "device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "socket or special file"
        raise LessonError(f"this is a {kind}, not a regular file; gen reads lesson files only.", file=name,
                          fix="pass a .yaml file (or a folder of them).")
    if len(raw) > MAX_BYTES:
        raise LessonError(f"the file is larger than {MAX_BYTES:,} bytes; lesson files are limited to {MAX_BYTES:,}.",
                          file=name, fix="split it into several lessons.")
    return raw


def load_lesson(path: Path) -> Lesson:
    path = Path(path)
    name = str(path)
    raw = read_source(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LessonError(f"the file is not UTF-8 (byte {exc.start} is 0x{raw[exc.start]:02x}).",
                          file=name, line=line, fix="save it as UTF-8 in your editor.") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise LessonError("the file is empty.", file=name,
                          fix="start from lesson_data/lesson-1.2.32.yaml or `gen schema`.")
    node = data = None
    try:       # libyaml when present (~10× faster); anything it objects to is re-read by PyYAML, for its words
        if not yaml.reader.Reader.NON_PRINTABLE.search(text):
            node = _compose(text, name, FAST_LOADER)
            data = yaml.load(text, Loader=FAST_LOADER)
    except (LessonError, yaml.YAMLError, ValueError, OverflowError):
        node, data = None, None
    if node is None or data is None:
        node = _compose(text, name)
    try:
        if data is None:
            data = yaml.load(text, Loader=yaml.SafeLoader)  # safe: plain data only, aliases and tags already refused
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        line = _unreadable_line(node)
        raise LessonError(f"a value cannot be read ({exc}).", file=name, line=line,
                          fix="check the value on that line (dates are YYYY-MM-DD; quote text that looks "
                              "like a number or a date).") from None
    if not isinstance(data, dict):
        raise LessonError(f"the top level must be a mapping of fields, not a {type(data).__name__}.",
                          file=name, line=1, fix="start the file with fields like 'id:' and 'title:'.")
    try:
        return Lesson.model_validate(data)
    except ValidationError as exc:
        raise _lesson_error(exc, node, name) from None


FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str, name: str, loader=yaml.SafeLoader):
    """Check the event stream before building anything: no anchors or aliases (they can explode
    in memory), no tags (they name constructors), no nesting deeper than MAX_DEPTH (PyYAML
    composes recursively); then no over-long numbers and no duplicate keys."""
    try:
        depth = 0
        for event in yaml.parse(text, Loader=loader):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise LessonError("YAML anchors and aliases (&name, *name) are not allowed in lesson files.",
                                  file=name, line=line, fix="write the repeated value out in full.")
            if getattr(event, "tag", None) is not None and not _implicit(event):
                raise LessonError(f"YAML tags ({event.tag}) are not allowed in lesson files.", file=name,
                                  line=line, fix="remove the tag; quote the value if it must stay text.")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise LessonError(f"the file nests lists and mappings more than {MAX_DEPTH} levels deep.",
                                      file=name, line=line, fix="flatten the structure; see the lesson format in README.md.")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        node = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise LessonError(f"YAML syntax error: {exc.problem or exc.context}.", file=name,
                          line=mark.line + 1 if mark else None,
                          fix="check indentation and quoting on that line (quote text containing ': ' or '#').") from None
    except yaml.YAMLError as exc:
        raise LessonError(f"YAML error: {exc}.", file=name) from None
    _refuse_long_numbers(node, name)
    _refuse_duplicate_keys(node, name)
    return node


def _implicit(event) -> bool:
    """True for the tags PyYAML itself puts on plain events (none are written by the author)."""
    implicit = getattr(event, "implicit", None)
    return implicit is True or (isinstance(implicit, tuple) and implicit[0])


def _refuse_long_numbers(node, name):
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            if node.tag.rsplit(":", 1)[-1] in ("int", "float") and len(node.value) > MAX_NUMBER_CHARS:
                raise LessonError(f"the number {node.value[:20]}… is {len(node.value)} characters long; numbers "
                                  f"in a lesson file are limited to {MAX_NUMBER_CHARS}.", file=name,
                                  line=node.start_mark.line + 1, fix="use a smaller number, or quote it if it is text.")
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(v for pair in node.value for v in pair)


def _unreadable_line(node) -> int | None:
    """The line of the first scalar PyYAML cannot construct (a date like 2026-13-45)."""
    stack = [node]
    while stack:
        node = stack.pop(0)
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node)
            except (yaml.YAMLError, ValueError, OverflowError):
                return node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            stack[:0] = node.value
        elif isinstance(node, yaml.MappingNode):
            stack[:0] = [v for pair in node.value for v in pair]
    return None


def _refuse_duplicate_keys(node, name, path=""):
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key, value in node.value:
            if key.value in seen:
                raise LessonError(f"the key '{key.value}' appears twice.", file=name, field=(path + "." + key.value).lstrip("."),
                                  line=key.start_mark.line + 1, fix="keep one of them.")
            seen.add(key.value)
            _refuse_duplicate_keys(value, name, f"{path}.{key.value}")
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicate_keys(item, name, f"{path}[{i}]")


def _node_at(node, loc):
    """The YAML node for a pydantic error location, and the line it starts on."""
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            match = [(k, v) for k, v in node.value if k.value == part]
            if not match:
                break
            key, node = match[0]
            if part == loc[-1]:
                return key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    return node.start_mark.line + 1 if node is not None else None


def field_path(loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out.lstrip(".")


def _all_field_names():
    names = set()
    for model in Strict.__subclasses__() + [Exercise]:
        names.update(model.model_fields)
    return sorted(names)


def _describe(err) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        key = str(err["loc"][-1]) if err["loc"] else ""
        near = difflib.get_close_matches(key, _all_field_names(), n=1)
        return f"unknown field '{key}'." + (f" Did you mean '{near[0]}'?" if near else " Remove it.")
    if kind == "missing":
        return "this required field is missing."
    msg = msg.removeprefix("Value error, ")
    got = err.get("input")
    if kind.endswith("_type") or kind.endswith("_parsing") or kind == "literal_error":
        return f"{msg[0].lower() + msg[1:]}, got {got!r:.60}."
    return msg if msg.endswith(".") else msg + "."


def _lesson_error(exc: ValidationError, node, name) -> LessonError:
    # A typo shows up twice (unknown 'famly', missing 'family'): report the typo, it says more.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    err = errors[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    line = _node_at(node, loc) if node is not None else None
    more = f" ({len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} in this file after fixing this one.)" \
        if len(errors) > 1 else ""
    return LessonError(_describe(err) + more, file=name, field=field_path(loc) or "(top level)", line=line,
                       fix="see the lesson format in README.md, or run `gen schema` for the full schema.")


def lesson_schema() -> dict:
    return Lesson.model_json_schema()


def discover(paths) -> list[Path]:
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")))
        else:
            out.append(p)
    return out
