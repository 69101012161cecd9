"""The problem model: what a family produces and every target prints.

Problems hold SymPy objects, never pre-formatted strings: each target prints math with its own
printer (see mathfmt.py). Prose that mixes words and math is a `Rich` tuple of plain strings and
`Math` pieces.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Union

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

X, Y, Z = sp.symbols("x y z", real=True)
VARIABLES = (X, Y, Z)


class Vec(sp.Tuple):
    """A vector ⟨a, b⟩; a distinct class so every printer draws it as a vector, not a point."""


class Pt(sp.Tuple):
    """A point (a, b)."""


class _Shown(sp.Basic):
    """Base of the display-only nodes: arguments are sympified so printers see SymPy objects."""

    def __new__(cls, *args):
        return super().__new__(cls, *[sp.sympify(a) for a in args])


class Norm(sp.Expr):
    """|v|, kept unevaluated so a step can show the formula before its value. An expression, so
    −|∇f(P)| is an ordinary product every printer already handles."""
    is_commutative = True

    def __new__(cls, arg):
        return super().__new__(cls, sp.sympify(arg))


class Root(_Shown):
    """√n shown unevaluated (√208 before it becomes 4√13); survives pickling unlike evaluate=False."""


class Over(_Shown):
    """a / b shown as a fraction without evaluating (e.g. v / |v|)."""


class Equals(_Shown):
    """lhs = rhs (= rhs2 …) as shown in a worked step; never evaluated like sp.Eq."""


class Partial(_Shown):
    """∂f/∂v, the name of a partial derivative (args: the variable)."""


class Dot(sp.Expr):
    """a · b shown unevaluated; an expression, so h·(∇f·u) is an ordinary product."""
    is_commutative = True
    precedence = PRECEDENCE["Add"]          # printed in parentheses inside a product

    def __new__(cls, *args):
        return super().__new__(cls, *[sp.sympify(a) for a in args])


# Names that printers draw specially (see mathfmt.NOTATION).
GRAD_F = sp.Symbol("∇f")
GRAD_F_AT_P = sp.Symbol("∇f(P)")
F_AT = sp.Symbol("f")
DU_F = sp.Symbol("D_u f(P)")
U_HAT = sp.Symbol("û")
P_SYM = sp.Symbol("P")


@dataclass(frozen=True)
class Math:
    """Inline (or display) math inside rich text: a SymPy object, or a relation lhs = rhs."""
    expr: Any
    display: bool = False


Rich = tuple[Union[str, Math], ...]


def rich(*parts) -> Rich:
    """Build rich text: strings stay prose, everything else becomes inline math."""
    return tuple(p if isinstance(p, (str, Math)) else Math(p) for p in parts)


@dataclass(frozen=True)
class Distractor:
    value: Any                 # a wrong value of the part it belongs to (same kind as its answer)
    misconception: str         # tag, e.g. "not_normalised"
    feedback: Rich             # one sentence explaining the mistake


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


PART_KINDS = ("number", "vector", "choice", "boolean")
NUMBER_FORMS = ("integer", "decimal")


@dataclass(frozen=True)
class Part:
    """One thing a problem asks. Every target prints and grades each part from this record.

    kind: "number" (a real number), "vector" (numeric components, each typed), "choice" (one of
    the shown options: the answer and the part's distractors, or fixed `options`), "boolean".
    form: how numbers are typed ("integer" when every variant's answer is an integer by
    construction, else "decimal" rounded to `decimals` places). A pool holds the form fixed.
    """
    name: str                  # e.g. "direction", "rate", "gradient", "verdict_1"
    kind: str                  # one of PART_KINDS
    label: Rich                # how the part is named where it is asked, e.g. "û" or "the rate of change"
    answer: Any                # SymPy value (number, Vec, Pt, expression vector, pair), index, or bool
    distractors: tuple[Distractor, ...] = ()
    form: str = "decimal"      # number and vector parts: one of NUMBER_FORMS
    options: tuple | None = None   # choice parts with fixed options (labels, verdicts); else answer+distractors
    ordered: bool = False      # choice parts whose options must keep their order (labels A, B, C)
    equivalence: str = "exact"  # "exact", "unordered_pair" (a pair of vectors), "sampled" (expressions)
    decimals: int = 2

    @property
    def components(self) -> int:
        return len(self.answer) if self.kind == "vector" else 1


@dataclass(frozen=True)
class Problem:
    family: str
    variables: tuple[sp.Symbol, ...]
    function: sp.Expr
    prompt: Rich               # the setting and the question; the parts say what to give
    parts: tuple[Part, ...]
    steps: tuple[Rich, ...]
    point: tuple | None = None
    direction: Any = None      # as given in the prompt: Vec, or ("angle", theta)
    data: Mapping[str, Any] = field(default_factory=dict)   # family-specific extras for checks
    figure: Mapping[str, Any] | None = None                 # plot spec (function, point, arrows)
    # Lines of hand work the worked steps leave out (each descent step means evaluating ∇f at
    # the iterate, then the update): the worksheet sizes a problem's work box by steps + work.
    work: int = 0

    @property
    def answer(self):
        """The first part's answer (most problems ask one thing)."""
        return self.parts[0].answer

    @property
    def distractors(self) -> tuple[Distractor, ...]:
        return tuple(d for part in self.parts for d in part.distractors)

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)

    def shape(self) -> tuple:
        """What every variant of one pool must share: parts (name, kind, form, size) and the
        family's own shape data (number of steps, direction form, ...)."""
        return (self.family, len(self.variables),
                tuple((p.name, p.kind) + ((p.form, p.decimals, p.components) if p.kind in ("number", "vector")
                                          else (len(p.options or ()) or 1 + len(p.distractors),))
                      for p in self.parts),
                tuple(sorted((k, v) for k, v in self.data.get("shape", {}).items())))

    def key(self) -> tuple:
        """Identity of the mathematical content, used to reject duplicate variants."""
        return (self.family, self.function, self.point, self.direction, self.data.get("key"))


@dataclass(frozen=True)
class Verified:
    """A problem plus the evidence that its answer was checked by an independent route."""
    problem: Problem
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


class Family(Protocol):
    name: str                   # the `family:` key; its summary lives in families.FAMILY_MODULES
    Params: type                # a pydantic model of the `params:` block

    fixed_fields: frozenset[str]   # the `fixed:` fields this family honours

    def generate(self, rng: random.Random, params: Any, fixed: Mapping[str, Any] | None,
                 variant: int = 1) -> Problem: ...

    def verify(self, problem: Problem) -> list[Check]: ...
