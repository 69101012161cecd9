"""uphill: for each of k directions, does f increase, decrease or stay level (to first order)
when moving from P that way? The sign of ∇f(P)·v decides: that is why the gradient points uphill.

The verdicts are balanced by construction (one of each of increases / decreases / stays level,
then cycling), so no variant is all "increases".
"""
from __future__ import annotations

from math import gcd

import mpmath
import sympy as sp
from pydantic import Field

from .. import verify as V
from ..problem import GRAD_F_AT_P, Dot, Equals, Part, Problem, Vec, rich
from ._common import Rejected, d, dot, random_integer_direction, say
from ._point import PointParams, figure, gradient_steps, setting, setup
from .compare import parallel

VERDICTS = ("increases", "decreases", "stays level")
NAMES = [sp.Symbol(f"v{s}") for s in "₁₂₃₄₅"]


class Params(PointParams):
    directions: int = Field(3, ge=2, le=5, description="how many directions to judge")


def _level_direction(rng, g):
    """A nonzero integer vector perpendicular to g, reduced to lowest terms."""
    if len(g) == 2:
        v = [-g[1], g[0]]
    else:
        other = [rng.choice((-1, 1, 2)) for _ in g]
        v = [g[1] * other[2] - g[2] * other[1], g[2] * other[0] - g[0] * other[2], g[0] * other[1] - g[1] * other[0]]
    v = [int(c) for c in v]
    if not any(v):
        raise Rejected("no level direction found")
    k = 0
    for c in v:
        k = gcd(k, abs(c))
    return Vec(*[sp.Integer(c // k) for c in v])


class UphillFamily:
    name = "uphill"
    Params = Params
    fixed_fields = frozenset({"function", "point", "directions"})

    def generate(self, rng, params, fixed=None, variant=1) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        if any(not c.is_Integer for c in g):
            raise Rejected("∇f(P) must have integer components for exact verdicts")
        if fixed and "directions" in fixed:
            dirs = [Vec(*[sp.Integer(c) for c in v]) for v in fixed["directions"]]
            if any(len(v) != len(vs) or all(c == 0 for c in v) for v in dirs):
                raise Rejected("every fixed direction must be a nonzero vector with one component per variable")
        else:
            wanted = [VERDICTS[i % 3] for i in range(params.directions)]
            rng.shuffle(wanted)
            dirs = []
            for verdict in wanted:
                for _ in range(40):
                    if verdict == "stays level":
                        v = _level_direction(rng, g)
                        v = v if rng.random() < 0.5 else Vec(*[-c for c in v])
                    else:
                        v = Vec(*[c * rng.choice((1, 2)) for c in random_integer_direction(rng, len(vs))])
                        s = dot(g, v)
                        if s == 0:
                            continue
                        if (s > 0) != (verdict == "increases"):
                            v = Vec(*[-c for c in v])
                    if not any(parallel(v, w) for w in dirs):
                        dirs.append(v)
                        break
                else:
                    raise Rejected("could not find non-parallel directions with the planned verdicts")
        if any(parallel(a, b) for i, a in enumerate(dirs) for b in dirs[i + 1:]):
            raise Rejected("two of the directions are parallel")
        products = [dot(g, v) for v in dirs]
        steps = gradient_steps(vs, f, P, grad, g)
        steps.append(say("Moving a small step $h$ along $v$ changes $f$ by about $h$ ",
                         Dot(GRAD_F_AT_P, sp.Symbol("v")),
                         ": $f$ increases if this is positive, decreases if negative, and stays level (to first "
                         "order) if it is zero."))
        parts = []
        for name, v, s in zip(NAMES, dirs, products):
            truth = 0 if s > 0 else 1 if s < 0 else 2
            steps.append(say(Equals(Dot(GRAD_F_AT_P, name), Dot(g, v), s), f", so $f$ {VERDICTS[truth]} along ",
                             name, "."))
            why = say(Equals(Dot(GRAD_F_AT_P, name), s), f", so $f$ {VERDICTS[truth]} along ", name, ".")
            distractors = tuple(d(sp.Integer(i), "uphill_sign", *why) for i in range(3) if i != truth)
            parts.append(Part(f"verdict_{len(parts) + 1}", "choice", rich(name), sp.Integer(truth), distractors,
                              options=VERDICTS, ordered=True))
        listing = sum((rich(Equals(n, v), ", " if i < len(dirs) - 1 else ".") for i, (n, v) in
                       enumerate(zip(NAMES, dirs))), ())
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + say(" For each direction, does $f$ increase, decrease or stay level (to first"
                                           " order) when moving from $P$ in that direction? ") + listing,
            parts=tuple(parts), point=P, steps=tuple(steps),
            data={"directions": tuple(dirs), "products": tuple(products), "key": tuple(dirs),
                  "shape": {"directions": len(dirs)}},
            figure=figure(vs, f, P, [("∇f(P)", g)] + [(str(n), v) for n, v in zip(NAMES, dirs)]),
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        P = V.mp_vec(problem.point)
        checks = []
        for part, v in zip(problem.parts, problem.data["directions"]):
            rate = V.limit_directional(fn, P, V.mp_vec(v), precise=True)    # a sign: at 30 digits
            numeric = 0 if rate > mpmath.mpf("1e-10") else 1 if rate < -mpmath.mpf("1e-10") else 2
            checks.append(V.check(f"{part.name}_sign_by_limit_definition", numeric == int(part.answer),
                                  f"d/dt f(P + t·v) at t=0 = {V.fmt(rate)}: f {VERDICTS[numeric]}"))
        return checks


FAMILY = UphillFamily()
