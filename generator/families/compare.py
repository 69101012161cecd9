"""compare_directions: which of k given directions increases f fastest at P.

The premise ("increases fastest") holds only if some choice increases f, with a clear margin
between the best two; every feedback sentence is chosen from, and checked against, the rates it
talks about; no two choices are parallel.
"""
from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import sympy as sp
from pydantic import Field

from .. import verify as V
from ..problem import DU_F, GRAD_F_AT_P, Dot, Equals, Part, Problem, Vec, rich
from ._common import Rejected, bounds_violation, d, dot, norm, radsimp, random_integer_direction, say
from ._point import PointParams, figure, gradient_steps, setting, setup

LABELS = "ABCDEF"
MARGIN = 0.05          # the best rate must beat the second best by this much (rates per unit length)


class Params(PointParams):
    choices: int = Field(3, ge=2, le=5, description="how many directions to compare")


def parallel(a, b) -> bool:
    """a ∥ b (integer vectors): every 2×2 minor of [a; b] vanishes."""
    n = len(a)
    return all(a[i] * b[j] == a[j] * b[i] for i in range(n) for j in range(i + 1, n))


def feedback_for(i, rates, raw):
    """The misconception a wrong choice shows, picked from the numbers: it wins before
    normalising, f decreases along it, or its rate is merely smaller."""
    best = max(range(len(rates)), key=lambda k: rates[k])
    raw_best = max(range(len(raw)), key=lambda k: raw[k])
    raw_unique = sorted(raw)[-1] - sorted(raw)[-2] > 1e-9
    if i == raw_best and raw_best != best and raw_unique:
        return "not_normalised", "It wins only before normalising: longer vectors inflate $dot(grad(f)(P), v)$."
    if rates[i] < 0:
        return "decreases", "$f$ decreases along this direction (its directional derivative is negative)."
    return "smaller_rate", "Its directional derivative is smaller than the best one's."


def _refuse_early(g, dirs) -> None:
    """The two refusals below, made before SymPy builds the rates where they leave no doubt (about
    half the draws): the sign exactly, by Fractions; the margin in float64 only when it misses by
    more than rounding could explain (1e-9 against float64's 1e-16). Otherwise the draw goes on
    and the exact rates decide, as before."""
    gs = [Fraction(c.p, c.q) for c in g]
    dots = [sum(x * int(c) for x, c in zip(gs, v)) for v in dirs]
    if max(dots) <= 0:
        raise Rejected("f increases along none of the directions, so 'increases fastest' would be false")
    approx = sorted(float(d) / math.sqrt(sum(int(c) ** 2 for c in v)) for d, v in zip(dots, dirs))
    if approx[-1] - approx[-2] < MARGIN - 1e-9:
        raise Rejected("the two best directions are too close to call")


def _angle_cosine(a, b):
    return abs(sum(x * y for x, y in zip(a, b))) / mpmath.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


class CompareFamily:
    name = "compare_directions"
    Params = Params
    fixed_fields = frozenset({"function", "point", "directions"})

    def generate(self, rng, params, fixed=None, variant=1) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        if fixed and "directions" in fixed:
            dirs = [Vec(*[sp.Integer(c) for c in v]) for v in fixed["directions"]]
            if any(len(v) != len(vs) for v in dirs):
                raise Rejected("every fixed direction needs one component per variable")
            if any(all(c == 0 for c in v) for v in dirs):
                raise Rejected("a fixed direction is the zero vector")
        else:
            dirs = []
            for _ in range(50):
                v = Vec(*[c * rng.choice((1, 2)) for c in random_integer_direction(rng, len(vs))])
                if not any(parallel(v, w) for w in dirs):
                    dirs.append(v)
                if len(dirs) == params.choices:
                    break
        if len(dirs) < 2 or any(parallel(a, b) for i, a in enumerate(dirs) for b in dirs[i + 1:]):
            raise Rejected("two of the directions are parallel")
        if all(c.is_Rational for c in g) and all(c.is_Integer for v in dirs for c in v):
            _refuse_early(g, dirs)
        rates = [radsimp(dot(g, v) / norm(v)) for v in dirs]
        values = [float(r) for r in rates]
        raw = [float(dot(g, v)) for v in dirs]
        best = max(range(len(dirs)), key=lambda i: values[i])
        if values[best] <= 0:
            raise Rejected("f increases along none of the directions, so 'increases fastest' would be false")
        if sorted(values)[-1] - sorted(values)[-2] < MARGIN:
            raise Rejected("the two best directions are too close to call")
        # The rates are worked steps: a rate beyond the bounds refuses the draw before the steps
        # are built (draw() checks every step afterwards).
        broken = bounds_violation(rates, params)
        if broken:
            raise Rejected(broken)
        steps = gradient_steps(vs, f, P, grad, g)
        steps.append(rich("Normalise each direction and take ", Equals(DU_F, Dot(GRAD_F_AT_P, sp.Symbol("û"))), ":"))
        for label, v, r in zip(LABELS, dirs, rates):
            steps.append(rich(f"{label}: ", v, " gives ", r, "."))
        steps.append(rich(f"The largest rate is {LABELS[best]}."))
        distractors = []
        for i in range(len(dirs)):
            if i != best:
                tag, why = feedback_for(i, values, raw)
                distractors.append(d(sp.Integer(i), tag, f"Direction {LABELS[i]}: ", why))
        labels = LABELS[: len(dirs)]
        part = Part("choice", "choice", rich("the fastest direction"), sp.Integer(best), tuple(distractors),
                    options=tuple(rich(f"{label}: ", v) for label, v in zip(labels, dirs)), ordered=True)
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + say(" Which of these directions increases $f$ fastest at $P$? ")
            + sum((rich(f"{LABELS[i]}: ", v, "; " if i < len(dirs) - 1 else ".") for i, v in enumerate(dirs)), ()),
            parts=(part,), point=P, steps=tuple(steps),
            data={"directions": tuple(dirs), "labels": labels, "rates": tuple(rates), "key": tuple(dirs),
                  "shape": {"choices": len(dirs)}},
            figure=figure(vs, f, P, [("∇f(P)", g)] + [(LABELS[i], v) for i, v in enumerate(dirs)]),
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        P = V.mp_vec(problem.point)
        dirs = [V.mp_vec(v) for v in problem.data["directions"]]
        rates, raw = [], []
        for v in dirs:
            length = mpmath.sqrt(sum(c**2 for c in v))
            rates.append(V.limit_directional(fn, P, [c / length for c in v]))
            raw.append(V.limit_directional(fn, P, v))
        best = max(range(len(rates)), key=lambda i: rates[i])
        ordered = sorted(rates)
        checks = [
            V.check("limit_definition_picks_same_direction", best == int(problem.answer),
                    f"rates by the limit definition {V.fmt(rates)}"),
            V.check("premise_some_direction_increases_f", rates[best] > 0,
                    f"largest rate {V.fmt(rates[best])} > 0"),
            V.check("premise_clear_margin", ordered[-1] - ordered[-2] >= MARGIN * (1 - 1e-9),
                    f"best two rates differ by {V.fmt(ordered[-1] - ordered[-2])} ≥ {MARGIN}"),
            V.check("premise_no_two_directions_parallel",
                    all(_angle_cosine(a, b) < 1 - 1e-9 for i, a in enumerate(dirs) for b in dirs[i + 1:]),
                    "|cos| of the angle between any two directions < 1"),
        ]
        # Each feedback sentence's claim, against the numbers it talks about.
        raw_best = max(range(len(raw)), key=lambda i: raw[i])
        for dist in problem.distractors:
            i = int(dist.value)
            if dist.misconception == "not_normalised":
                holds = raw_best == i and best != i and sorted(raw)[-1] - sorted(raw)[-2] > 1e-9
                claim = f"{problem.data['labels'][i]} has the largest ∇f·v ({V.fmt(raw)}) but not the largest rate"
            elif dist.misconception == "decreases":
                holds, claim = rates[i] < 0, f"rate along {problem.data['labels'][i]} is {V.fmt(rates[i])} < 0"
            else:
                holds, claim = rates[i] < rates[best], f"rate {V.fmt(rates[i])} < best {V.fmt(rates[best])}"
            checks.append(V.check(f"feedback_{problem.data['labels'][i]}_{dist.misconception}_holds", holds, claim))
        return checks


FAMILY = CompareFamily()
