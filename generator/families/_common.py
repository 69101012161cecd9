"""Shared building blocks for families: parameter models, teachable random functions, directions.

Everything takes an explicit `random.Random`; nothing here touches global random state.
"""
from __future__ import annotations

import itertools
import random
from typing import Literal

import sympy as sp
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..problem import VARIABLES, Distractor, Pt, Vec, rich


class Rejected(Exception):
    """This draw is degenerate or not teachable; the generator retries with the next attempt."""


class BaseParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    variables: Literal[2, 3] = Field(2, description="number of variables: 2 (x, y) or 3 (x, y, z)")
    coefficients: tuple[int, int] = Field((-4, 4), description="inclusive range of integer coefficients")
    degree: int = Field(2, ge=1, le=4, description="highest total degree of polynomial terms")
    point_range: tuple[int, int] = Field((-3, 3), description="inclusive range of point coordinates")

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


def monomials(vs, degree):
    out = []
    for exps in itertools.product(range(degree + 1), repeat=len(vs)):
        if 1 <= sum(exps) <= degree:
            out.append(sp.Mul(*[v**e for v, e in zip(vs, exps)]))
    return sorted(out, key=sp.default_sort_key)


def random_polynomial(rng, vs, coefficients, degree, terms=None) -> sp.Expr:
    pool = monomials(vs, degree)
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


def gradient(f, vs) -> Vec:
    return Vec(*[sp.diff(f, v) for v in vs])


def at(expr, vs, point):
    return expr.xreplace(dict(zip(vs, point)))


def random_point(rng, params, vs) -> Pt:
    lo, hi = params.point_range
    return Pt(*[sp.Integer(rng.randint(lo, hi)) for _ in vs])


def dot(a, b):
    return sp.Add(*[x * y for x, y in zip(a, b)])


def norm(v):
    return sp.sqrt(sum(c**2 for c in v))


def normalise(v) -> Vec:
    n = norm(v)
    if all(c.is_Rational for c in v):
        return Vec(*[c / n for c in v])     # SymPy already rationalises c/√k as c√k/k
    return Vec(*[sp.radsimp(c / n) for c in v])


PYTHAGOREAN_2D = [(3, 4), (5, 12), (8, 15), (1, 0), (0, 1), (1, 1)]
PYTHAGOREAN_3D = [(1, 2, 2), (2, 3, 6), (1, 4, 8), (2, 6, 9), (1, 0, 0), (0, 1, 0), (0, 0, 1)]
SPECIAL_ANGLES = [sp.pi * k / 6 for k in range(12)] + [sp.pi * k / 4 for k in (1, 3, 5, 7)]


def random_integer_direction(rng, n: int) -> Vec:
    base = list(rng.choice(PYTHAGOREAN_2D if n == 2 else PYTHAGOREAN_3D))
    rng.shuffle(base)
    return Vec(*[sp.Integer(c * rng.choice((1, -1))) for c in base])


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
    return float(value)


def distinct_distractors(answer, candidates, minimum=3, limit=4, to_numbers=numeric
                         ) -> tuple[Distractor, ...]:
    """Keep candidates that differ numerically from the answer and from each other."""
    seen = [to_numbers(answer)]
    kept = []
    for d in candidates:
        try:
            n = to_numbers(d.value)
        except (TypeError, ValueError):
            continue
        if any(_close(n, s) for s in seen):
            continue
        seen.append(n)
        kept.append(d)
        if len(kept) == limit:
            break
    if len(kept) < minimum:
        raise Rejected("not enough distinct distractors")
    return tuple(kept)


def _close(a, b, tol=1e-9):
    if isinstance(a, list) != isinstance(b, list):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(abs(x - y) <= tol * max(1, abs(y)) for x, y in zip(a, b))
    return abs(a - b) <= tol * max(1, abs(b))


def d(value, misconception, *feedback) -> Distractor:
    return Distractor(value, misconception, rich(*feedback))


SAMPLE_POINTS = [(0.7, 1.3, 0.4), (1.6, 0.45, 1.1), (0.35, 0.9, 1.45)]


def sampler(vs):
    """Numbers standing for a symbolic vector: its values at three fixed points away from 0."""
    from ..verify import float_function

    def to_numbers(value):
        fns = [float_function(c, vs) for c in value]
        return [fn(*pt[: len(vs)]) for pt in SAMPLE_POINTS for fn in fns]
    return to_numbers


def f_of(vs):
    return sp.Function("f")(*vs)
