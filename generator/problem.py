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


class Norm(_Shown):
    """|v|, kept unevaluated so a step can show the formula before its value."""


class Root(_Shown):
    """√n shown unevaluated (√208 before it becomes 4√13); survives pickling unlike evaluate=False."""


class Over(_Shown):
    """a / b shown as a fraction without evaluating (e.g. v / |v|)."""


class Equals(_Shown):
    """lhs = rhs (= rhs2 …) as shown in a worked step; never evaluated like sp.Eq."""


class Partial(_Shown):
    """∂f/∂v, the name of a partial derivative (args: the variable)."""


class Dot(_Shown):
    """a · b shown unevaluated."""


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
    value: Any                 # same kind as the answer, or deliberately another kind
    misconception: str         # tag, e.g. "not_normalised"
    feedback: Rich             # one sentence explaining the mistake


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


ANSWER_KINDS = ("scalar", "vector", "expr_vector", "vector_pair", "point", "choice", "boolean",
                "descent")


@dataclass(frozen=True)
class Problem:
    family: str
    variables: tuple[sp.Symbol, ...]
    function: sp.Expr
    prompt: Rich
    answer: Any
    answer_kind: str           # one of ANSWER_KINDS; decides the item type in each target
    steps: tuple[Rich, ...]
    distractors: tuple[Distractor, ...]
    point: tuple | None = None
    direction: Any = None      # as given in the prompt: Vec, or ("angle", theta)
    data: Mapping[str, Any] = field(default_factory=dict)   # family-specific extras for checks
    figure: Mapping[str, Any] | None = None                 # plot spec (function, point, arrows)

    def key(self) -> tuple:
        """Identity of the mathematical content, used to reject duplicate variants."""
        return (self.function, self.point, self.direction, self.data.get("key"))


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

    def generate(self, rng: random.Random, params: Any, fixed: Mapping[str, Any] | None) -> Problem: ...

    def verify(self, problem: Problem) -> list[Check]: ...
