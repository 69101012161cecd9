"""zero_change_direction: both unit vectors along which f does not change at P (2 variables)."""
from __future__ import annotations

from typing import Literal

import mpmath
from pydantic import Field

from .. import verify as V
from ..problem import GRAD_F_AT_P, U_HAT, Dot, Equals, Problem, Vec, rich
from ._common import d, distinct_distractors, normalise
from ._point import PointParams, figure, gradient_steps, setting, setup


class Params(PointParams):
    variables: Literal[2] = Field(2, description="only 2: in 3D the zero-change directions form a plane")


class ZeroChangeFamily:
    name = "zero_change_direction"
    Params = Params

    def generate(self, rng, params, fixed=None) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        u = normalise(Vec(-g[1], g[0]))
        if u[0] < 0 or (u[0] == 0 and u[1] < 0):
            u = Vec(*[-c for c in u])
        answer = (u, Vec(*[-c for c in u]))
        steps = gradient_steps(vs, f, P, grad, g)
        steps.append(rich("f does not change along û exactly when ", Equals(Dot(GRAD_F_AT_P, U_HAT), 0),
                          ": û is perpendicular to ∇f(P), i.e. tangent to the level curve through P."))
        steps.append(rich("Rotate ∇f(P) by 90° and normalise: ", Equals(U_HAT, u), " or ",
                          Equals(U_HAT, answer[1]), "."))
        normal = normalise(g)
        candidates = [
            d((normal, Vec(*[-c for c in normal])), "tangent_vs_normal",
              "Those are normal to the level curve: f changes fastest along them."),
            d((u, u), "only_one_of_pm_u", "There are two such directions, û and −û."),
            d((Vec(-g[1], g[0]), Vec(g[1], -g[0])), "not_normalised", "Right directions, but not unit vectors."),
            d((Vec(g[1], g[0]), Vec(-g[1], -g[0])), "swapped_without_sign",
              "Swapping the components without changing a sign does not give a perpendicular vector."),
        ]
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + rich(" Find both unit vectors ", U_HAT,
                                            " along which the rate of change of f at P is zero."),
            answer=answer, answer_kind="vector_pair", point=P, steps=tuple(steps),
            distractors=distinct_distractors(answer, candidates),
            figure=figure(vs, f, P, [("∇f(P)", g), ("û", u), ("−û", answer[1])]),
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        P = V.mp_vec(problem.point)
        checks = []
        for i, u in enumerate(problem.answer):
            checks.append(V.unit_check(u))
            rate = V.limit_directional(fn, P, V.mp_vec(u))
            checks.append(V.check(f"zero_rate_along_{i}", abs(rate) < mpmath.mpf("1e-10"),
                                  f"d/dt f(P + t·u) at t=0 = {V.fmt(rate)}"))
        a, b = (V.mp_vec(u) for u in problem.answer)
        checks.append(V.check("opposite_pair", V.close(a, [-c for c in b]), "second vector is −first"))
        return checks


FAMILY = ZeroChangeFamily()
