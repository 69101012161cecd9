"""Shared building blocks for families: parameter models, teachable random functions, directions.

Everything takes an explicit `random.Random`; nothing here touches global random state.
"""
from __future__ import annotations

import functools
import itertools
import random
from fractions import Fraction
from typing import Literal

import sympy as sp
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..problem import VARIABLES, Distractor, Math, Part, Pt, Vec, rich


class Rejected(Exception):
    """This draw is degenerate or not teachable; the generator retries with the next attempt.

    The message is the rule that rejected it: the generator counts draws per rule and names the
    most frequent one when it gives up.
    """


class BaseParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    variables: Literal[2, 3] = Field(2, description="number of variables: 2 (x, y) or 3 (x, y, z)")
    coefficients: tuple[int, int] = Field((-4, 4), description="inclusive range of integer coefficients")
    degree: int = Field(2, ge=1, le=4, description="highest total degree of polynomial terms")
    point_range: tuple[int, int] = Field((-3, 3), description="inclusive range of point coordinates")
    max_numerator: int = Field(999, ge=1, le=10**6, description="largest |numerator| (or integer) allowed in "
                               "answers and worked steps")
    max_denominator: int = Field(99, ge=1, le=10**6, description="largest denominator allowed in answers and "
                                 "worked steps")
    max_surd: int = Field(300, ge=2, le=10**6, description="largest n allowed under a square root √n in answers "
                          "and worked steps")

    @model_validator(mode="after")
    def _ranges(self):
        for name in ("coefficients", "point_range"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"{name} range [{lo}, {hi}] is empty: the first number must be <= the second")
            if max(abs(lo), abs(hi)) > 20:
                raise ValueError(f"{name} range [{lo}, {hi}] is too wide for teachable numbers: keep within -20..20")
        lo, hi = self.coefficients
        if lo == hi == 0:
            raise ValueError("coefficients range [0, 0] allows only zero coefficients")
        return self


def variables(params) -> tuple[sp.Symbol, ...]:
    return VARIABLES[: params.variables]


def nonzero(rng: random.Random, lo: int, hi: int) -> int:
    choices = [c for c in range(lo, hi + 1) if c != 0]
    if not choices:
        raise Rejected("no nonzero coefficient in range")
    return rng.choice(choices)


@functools.lru_cache(maxsize=64)
def monomials(vs, degree) -> tuple:
    """Every monomial of total degree 1..degree in vs, in SymPy's sort order (once per shape)."""
    out = []
    for exps in itertools.product(range(degree + 1), repeat=len(vs)):
        if 1 <= sum(exps) <= degree:
            out.append(sp.Mul(*[v**e for v, e in zip(vs, exps)]))
    return tuple(sorted(out, key=sp.default_sort_key))


def random_polynomial(rng, vs, coefficients, degree, terms=None) -> sp.Expr:
    pool = monomials(tuple(vs), degree)
    n_terms = terms or rng.randint(len(vs), min(len(vs) + 2, len(pool)))
    chosen = rng.sample(pool, n_terms)
    coeffs = [nonzero(rng, *coefficients) for _ in chosen]
    if not all(any(m.has(v) for m in chosen) for v in vs):
        raise Rejected("a variable does not appear")
    return sp.Add(*[c * m for c, m in zip(coeffs, chosen)])


def random_form(rng, vs, coefficients, degree, form) -> sp.Expr:
    """One function of the given form in the variables `vs` (all of them appear)."""
    a, b = nonzero(rng, -3, 3), nonzero(rng, -3, 3)
    c = nonzero(rng, *coefficients)
    v1, v2 = rng.sample(list(vs), 2)
    rest = [v for v in vs if v not in (v1, v2)]
    extra = sum(nonzero(rng, *coefficients) * v for v in rest)
    k = rng.randint(1, 2)
    if form == "polynomial":
        return random_polynomial(rng, vs, coefficients, degree)
    if form == "exp":
        return rng.choice([c * v1**k * sp.exp(a * v2), c * sp.exp(a * v1 * v2),
                           c * v1 * sp.exp(a * v1 + b * v2)]) + extra
    if form == "trig":
        trig = rng.choice([sp.sin, sp.cos])
        return rng.choice([c * v1**k * trig(a * v2), c * trig(a * v1 + b * v2)]) + extra
    if form == "log":
        return rng.choice([c * sp.log(v1**2 + v2**2 + 1), c * v1**k * sp.log(v2**2 + 1)]) + extra
    if form == "quotient":
        d = rng.randint(1, 4)
        return (a * v1 + c) / (v2**2 + d) + extra
    raise ValueError(f"unknown form {form}")


def derivative(expr, v):
    """sp.diff(expr, v), the same expression, without SymPy's Derivative machinery (argument
    checks, assumption queries, a Derivative object per node): the rules SymPy applies for one
    derivative of an Add, a Mul (its Leibniz rule), a Pow and a one-argument function (its own
    fdiff), applied in the same way so the result is structurally identical. Anything else goes
    to sp.diff. tests/test_derivative.py compares the two over random formulas."""
    return _derivative(expr, v) if _depends(expr, v) else sp.S.Zero


def _depends(expr, v) -> bool:
    return expr == v if expr.is_Atom else v in expr.free_symbols


def _derivative(expr, v):
    """derivative() of an expr that depends on v. Each node's free symbols are found once, by
    its parent (free_symbols is not cached: it walks the subtree)."""
    if expr == v:
        return sp.S.One
    if expr.is_Add:
        return sp.Add(*[_derivative(a, v) for a in expr.args if _depends(a, v)])
    if expr.is_Mul:
        # Mul._eval_derivative: a term of the Leibniz rule only for a factor whose derivative is
        # not zero (a factor without v has none, and its term is not built).
        args = expr.args
        return sp.Add(*[sp.Mul(*args[:i], _derivative(a, v), *args[i + 1:])
                        for i, a in enumerate(args) if _depends(a, v)])
    if expr.is_Pow:
        base, exp = expr.args
        if _depends(exp, v):
            return sp.diff(expr, v)
        if base == v and exp.is_Integer:
            # v**n · (n / v), as below, is n·v**(n − 1): built directly, without the product that
            # merges v**n with 1/v.
            return sp.Mul(exp, v ** (exp - 1))
        return expr * (_derivative(base, v) * exp / base)      # Pow._eval_derivative with d(exp) = 0
    if isinstance(expr, _ELEMENTARY) and len(expr.args) == 1:
        inner = _derivative(expr.args[0], v)
        return sp.S.Zero if inner.is_zero else sp.Add(expr.fdiff(1) * inner)
    return sp.diff(expr, v)


_ELEMENTARY = (sp.exp, sp.sin, sp.cos, sp.tan, sp.log)


def gradient(f, vs) -> Vec:
    return Vec(*[derivative(f, v) for v in vs])


def at(expr, vs, point):
    """expr with the point's coordinates for the variables: expr.xreplace, the same value, by exact
    arithmetic where expr is a polynomial (or a vector of them) with rational coefficients and the
    point is rational. There SymPy's substitution rebuilds every node only for Add and Mul to fold
    the numbers back into one Rational, which Fractions reach directly (a gradient at a fresh
    rational point: 26 µs against 152; at small integer points SymPy's cache often answers
    xreplace as fast). Anything else (exp, √, a pole) goes to xreplace. tests/test_families.py
    compares the two."""
    values = {}
    for v, c in zip(vs, point):
        if not getattr(c, "is_Rational", False):
            return expr.xreplace(dict(zip(vs, point)))
        values[v] = Fraction(c.p, c.q)
    try:
        if isinstance(expr, sp.Tuple):
            return type(expr)(*[sympy_rational(_exact_value(e, values)) for e in expr.args])
        return sympy_rational(_exact_value(expr, values))
    except (_NotRational, ZeroDivisionError):
        return expr.xreplace(dict(zip(vs, point)))


class _NotRational(Exception):
    pass


def _exact_value(expr, values) -> Fraction:
    if expr.is_Rational:
        return Fraction(expr.p, expr.q)
    if expr.is_Symbol:
        try:
            return values[expr]
        except KeyError:
            raise _NotRational from None
    if expr.is_Add:
        return sum((_exact_value(a, values) for a in expr.args), Fraction(0))
    if expr.is_Mul:
        out = Fraction(1)
        for a in expr.args:
            out *= _exact_value(a, values)
        return out
    if expr.is_Pow and expr.exp.is_Integer:
        return _exact_value(expr.base, values) ** int(expr.exp)
    raise _NotRational


def sympy_rational(q: int | Fraction) -> sp.Rational:
    """An int or a Fraction as SymPy's Integer or Rational."""
    q = Fraction(q)
    return sp.Integer(q.numerator) if q.denominator == 1 else sp.Rational(q.numerator, q.denominator)


def random_point(rng, params, vs) -> Pt:
    lo, hi = params.point_range
    return Pt(*[sp.Integer(rng.randint(lo, hi)) for _ in vs])


def dot(a, b):
    return sp.Add(*[x * y for x, y in zip(a, b)])


def norm(v):
    return sp.sqrt(sum(c**2 for c in v))


def radsimp(expr):
    """sp.radsimp(expr), without its work where the result is expr itself: a rational number, √n,
    or q·√n (SymPy already writes c/√n as (c/n)·√n). Those are most of the rates and lengths the
    families make; tests/test_families.py compares the two."""
    if expr.is_Rational or _rational_surd(expr) or (
            expr.is_Mul and len(expr.args) == 2 and expr.args[0].is_Rational and _rational_surd(expr.args[1])):
        return expr
    return sp.radsimp(expr)


def _rational_surd(expr) -> bool:
    return expr.is_Pow and expr.exp is sp.S.Half and expr.base.is_Integer and expr.base > 0


def normalise(v) -> Vec:
    n = norm(v)
    if all(c.is_Rational for c in v):
        return Vec(*[c / n for c in v])     # SymPy already rationalises c/√k as c√k/k
    return Vec(*[radsimp(c / n) for c in v])


PYTHAGOREAN_2D = [(3, 4), (5, 12), (8, 15), (1, 0), (0, 1), (1, 1)]
PYTHAGOREAN_3D = [(1, 2, 2), (2, 3, 6), (1, 4, 8), (2, 6, 9), (1, 0, 0), (0, 1, 0), (0, 0, 1)]
SPECIAL_ANGLES = [sp.pi * k / 6 for k in range(12)] + [sp.pi * k / 4 for k in (1, 3, 5, 7)]


def random_integer_direction(rng, n: int) -> Vec:
    base = list(rng.choice(PYTHAGOREAN_2D if n == 2 else PYTHAGOREAN_3D))
    rng.shuffle(base)
    return Vec(*[sp.Integer(c * rng.choice((1, -1))) for c in base])


def as_float(value) -> float:
    """float(value), remembered for SymPy's irrational values (c·√n/m, an angle's cosine): SymPy
    evaluates those afresh each time, and a part's answer is converted once per distractor, in
    the part, its checks and its LMS item."""
    if isinstance(value, (int, float)) or getattr(value, "is_Rational", False):
        return float(value)
    return _irrational_float(value)


@functools.lru_cache(maxsize=1024)
def _irrational_float(value) -> float:
    return float(value)


def numeric(value) -> list[float] | float:
    """Float(s) for comparison; a pair of vectors flattens to one list."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (tuple, list, sp.Tuple)):
        out = []
        for item in value:
            n = numeric(item)
            out.extend(n if isinstance(n, list) else [n])
        return out
    return as_float(value)


def _close(a, b, tol=1e-9):
    if isinstance(a, list) != isinstance(b, list):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    return abs(a - b) <= tol * max(1, abs(b))


def say(*parts):
    """Rich text whose strings may carry $…$ math in the lesson's prose syntax (prose.py), so family
    prose writes notation like $-grad(f)(P)$ as math that every target typesets."""
    from ..prose import prose
    return rich(*[piece for part in parts for piece in (prose(part) if isinstance(part, str) else (part,))])


def d(value, misconception, *feedback) -> Distractor:
    return Distractor(value, misconception, say(*feedback))


SAMPLE_POINTS = [(0.7, 1.3, 0.4), (1.6, 0.45, 1.1), (0.35, 0.9, 1.45)]


def sampler(vs):
    """Numbers standing for a symbolic vector: its values at three fixed points away from 0."""
    vs = tuple(vs)

    def to_numbers(value):
        columns = [_samples(c, vs) for c in value]
        return [column[i] for i in range(len(SAMPLE_POINTS)) for column in columns]
    return to_numbers


@functools.lru_cache(maxsize=1024)
def _samples(expr, vs) -> tuple[float, ...]:
    """expr at each of SAMPLE_POINTS. Cached (for the few problems in hand: the cache holds their
    trees): a part's answer is sampled once for each distractor it is compared with, when the part
    is made and again when it is checked. A failed evaluation raises, and is not cached."""
    from ..verify import float_function
    fn = float_function(expr, vs)
    return tuple(fn(*pt[: len(vs)]) for pt in SAMPLE_POINTS)


def f_of(vs):
    return sp.Function("f")(*vs)


# ---------------------------------------------------------------------------------------------
# Teachable numbers: the bounds every answer and worked step must keep (per family, in params).

def fraction_violation(p: int, q: int, params) -> str | None:
    """The bound the fraction p/q (in lowest terms) breaks, in words, or None."""
    if abs(p) > params.max_numerator:
        return f"a number with numerator {p} exceeds max_numerator {params.max_numerator}"
    if q > params.max_denominator:
        return f"a fraction with denominator {q} exceeds max_denominator {params.max_denominator}"
    return None


def bounds_violation(values, params) -> str | None:
    """The first bound a value breaks, in words, or None: the first in preorder over every SymPy
    node in values (nested lists, tuples and Math pieces of rich text)."""
    return _first_violation(values, params, set())


def _first_violation(obj, params, seen: set) -> str | None:
    # A subtree met before (f, ∇f and P recur in every step) was searched then and broke
    # nothing, or the search would have stopped: skipping it keeps the first violation the same.
    # Preorder with a stack of iterators (a node's children, then its siblings'): no Python call
    # per node, which was half of the search.
    stack = [iter((obj,))]
    while stack:
        for item in stack[-1]:
            if isinstance(item, sp.Basic):
                if item in seen:
                    continue
                seen.add(item)
                if item.is_Rational:
                    broken = fraction_violation(item.p, item.q, params)
                    if broken:
                        return broken
                    continue
                if item.is_Pow and item.exp == sp.S.Half and item.base.is_Integer and item.base > params.max_surd:
                    return f"the surd √{item.base} exceeds max_surd {params.max_surd}"
                children = item.args
            elif isinstance(item, Math):
                children = (item.expr,)
            elif isinstance(item, (tuple, list)):
                children = item
            else:
                continue
            if children:
                stack.append(iter(children))
                break
        else:
            stack.pop()
    return None


# ---------------------------------------------------------------------------------------------
# Parts: what a problem asks, with distractors that are wrong under the part's own equivalence.

CHOICES = 4     # options of a multiple choice: the answer and three distractors, in every variant


def typed_tolerance(decimals: int) -> float:
    """Half a unit in the last asked place: a value typed correctly rounded is within it."""
    return 0.5 * 10.0 ** -decimals


def _typed_apart(a, b, decimals) -> bool:
    """Two numbers a student cannot confuse when typing to `decimals` places: no rounding of one
    is accepted for the other (they are more than two tolerances apart)."""
    return abs(a - b) > 2 * typed_tolerance(decimals) + 1e-12


def number_part(name, label, answer, candidates, form="decimal", decimals=2, minimum=CHOICES - 1) -> Part:
    value = as_float(answer)
    kept, seen = [], [value]
    for c in candidates:
        if isinstance(c.value, (tuple, sp.Tuple)) or isinstance(c.value, bool):
            continue                        # not a number: cannot be typed into this part
        v = as_float(c.value)
        if all(_typed_apart(v, s, decimals) for s in seen):
            kept.append(c)
            seen.append(v)
    if len(kept) < minimum:
        raise Rejected("a distractor would be accepted as the answer when typed")
    return Part(name, "number", rich(*label) if isinstance(label, tuple) else rich(label), answer,
                tuple(kept), form=form, decimals=decimals)


def vector_part(name, label, answer, candidates, form="decimal", decimals=2, minimum=CHOICES - 1) -> Part:
    comps = [as_float(c) for c in answer]
    kept, seen = [], [comps]
    for c in candidates:
        if not isinstance(c.value, (tuple, sp.Tuple)) or len(c.value) != len(comps):
            continue
        v = [as_float(x) for x in c.value]
        if all(any(_typed_apart(x, y, decimals) for x, y in zip(v, s)) for s in seen):
            kept.append(c)
            seen.append(v)
    if len(kept) < minimum:
        raise Rejected("a distractor vector would be accepted as the answer when typed")
    return Part(name, "vector", rich(*label) if isinstance(label, tuple) else rich(label), answer,
                tuple(kept), form=form, decimals=decimals)


def choice_part(name, label, answer, candidates, equivalence="exact", to_numbers=None, minimum=CHOICES - 1,
                limit=CHOICES - 1) -> Part:
    """A multiple-choice part whose options are the answer and its distractors. Distractors are
    kept only if they differ from the answer and from each other under `equivalence`."""
    key = _equivalence_key(equivalence, to_numbers)
    seen = [key(answer)]
    kept = []
    for c in candidates:
        try:
            k = key(c.value)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            continue
        if any(_close(k, s, 1e-6) for s in seen):
            continue
        seen.append(k)
        kept.append(c)
        if len(kept) == limit:
            break
    if len(kept) < minimum:
        raise Rejected("not enough distinct distractors")
    return Part(name, "choice", rich(*label) if isinstance(label, tuple) else rich(label), answer, tuple(kept),
                equivalence=equivalence)


def _equivalence_key(equivalence, to_numbers):
    numbers = to_numbers or numeric
    if equivalence == "unordered_pair":
        # A pair of vectors is the same answer in either order.
        return lambda pair: sorted((numbers(v) for v in pair), key=lambda xs: [round(x, 9) for x in xs])
    return numbers

