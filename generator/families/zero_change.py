"""zero_change_direction: both unit vectors along which f does not change at P (2 variables).

Asked as a choice between pairs; a pair is the same answer in either order.
"""
from __future__ import annotations

from typing import Literal

import mpmath
from pydantic import Field

from .. import verify as V
from ..problem import GRAD_F_AT_P, U_HAT, Dot, Equals, Problem, Vec
from ._common import choice_part, d, normalise, say
from ._point import PointParams, figure, gradient_steps, setting, setup


class Params(PointParams):
    variables: Literal[2] = Field(2, description="only 2: in 3D the zero-change directions form a plane")


class ZeroChangeFamily:
    name = "zero_change_direction"
    Params = Params
    fixed_fields = frozenset({"function", "point"})

    def generate(self, rng, params, fixed=None, variant=1) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        u = normalise(Vec(-g[1], g[0]))
        if u[0] < 0 or (u[0] == 0 and u[1] < 0):
            u = Vec(*[-c for c in u])
        answer = (u, Vec(*[-c for c in u]))
        steps = gradient_steps(vs, f, P, grad, g)
        steps.append(say("$f$ does not change along $hat(u)$ exactly when ", Equals(Dot(GRAD_F_AT_P, U_HAT), 0),
                         ": $hat(u)$ is perpendicular to $grad(f)(P)$, i.e. tangent to the level curve through $P$."))
        steps.append(say("Rotate $grad(f)(P)$ by 90° and normalise: ", Equals(U_HAT, u), " or ",
                          Equals(U_HAT, answer[1]), "."))
        normal = normalise(g)
        part = choice_part("pair", ("the two unit vectors",), answer, [
            d((normal, Vec(*[-c for c in normal])), "tangent_vs_normal",
              "Those are normal to the level curve: $f$ changes fastest along them."),
            d((Vec(-g[1], g[0]), Vec(g[1], -g[0])), "not_normalised", "Right directions, but not unit vectors."),
            d((Vec(g[1], g[0]), Vec(-g[1], -g[0])), "swapped_without_sign",
              "Swapping the components without changing a sign does not give a perpendicular vector."),
            d((normalise(Vec(g[1], g[0])), normalise(Vec(-g[1], -g[0]))), "swapped_without_sign",
              "Swapping the components without changing a sign does not give a perpendicular vector."),
            d((u, normal), "one_tangent_one_normal", "Only the first is along the level curve; the second is "
              "normal to it."),
        ], equivalence="unordered_pair")
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + say(" Which pair of unit vectors are the two directions ", U_HAT,
                                           " along which the rate of change of $f$ at $P$ is zero?"),
            parts=(part,), point=P, steps=tuple(steps),
            figure=figure(vs, f, P, [("∇f(P)", g), ("û", u), ("−û", answer[1])]),
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        P = V.mp_vec(problem.point)
        checks = []
        for i, u in enumerate(problem.answer):
            checks.append(V.unit_check(u))
            rate = V.limit_directional(fn, P, V.mp_vec(u), precise=True)     # must be zero: at 30 digits
            checks.append(V.check(f"zero_rate_along_{i}", abs(rate) < mpmath.mpf("1e-10"),
                                  f"d/dt f(P + t·u) at t=0 = {V.fmt(rate)}"))
        a, b = (V.mp_vec(u) for u in problem.answer)
        checks.append(V.check("opposite_pair", V.close(a, [-c for c in b]), "second vector is −first"))
        # Every other pair offered must fail the same test: some vector in it is not a unit vector
        # along which f stays level.
        for i, dist in enumerate(problem.distractors):
            ok = True
            for v in dist.value:
                vec = V.mp_vec(v)
                length = mpmath.sqrt(sum(c**2 for c in vec))
                level = abs(V.limit_directional(fn, P, [c / length for c in vec], precise=True)) < mpmath.mpf("1e-10")
                ok = ok and level and abs(length - 1) < mpmath.mpf("1e-10")
            checks.append(V.check(f"distractor_{i}_is_not_a_level_unit_pair", not ok,
                                  f"{dist.misconception}: not both unit vectors along the level curve"))
        return checks


FAMILY = ZeroChangeFamily()
