"""steepest_ascent: the unit direction of fastest increase (or decrease) at P, and its rate."""
from __future__ import annotations

from typing import Literal

import math

import mpmath
import sympy as sp
from pydantic import Field

from .. import verify as V
from ..problem import GRAD_F_AT_P, U_HAT, Equals, Norm, Over, Problem, Vec, rich
from ._common import d, distinct_distractors, norm, normalise
from ._point import PointParams, figure, gradient_steps, setting, setup


class Params(PointParams):
    ask: tuple[Literal["ascent", "descent"], ...] = Field(("ascent", "descent"), min_length=1,
                                                          description="fastest increase, decrease, or either")


class SteepestFamily:
    name = "steepest_ascent"
    Params = Params

    def generate(self, rng, params, fixed=None) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        ask = rng.choice(params.ask)
        sign = 1 if ask == "ascent" else -1
        u = Vec(*[sign * c for c in normalise(g)])
        rate = sp.radsimp(norm(g))
        word = "increases" if ask == "ascent" else "decreases"
        steps = gradient_steps(vs, f, P, grad, g)
        steps.append(rich(f"f {word} fastest along {'+' if sign == 1 else '−'}∇f(P); as a unit vector ",
                          Equals(U_HAT, Over(Vec(*[sign * c for c in g]), Norm(GRAD_F_AT_P)), u), "."))
        steps.append(rich(f"The rate of {'increase' if sign == 1 else 'decrease'} in that direction is ",
                          Equals(Norm(GRAD_F_AT_P), rate), "."))
        tangent = normalise(Vec(-g[1], g[0], *g[2:])) if len(vs) == 2 else Vec(*reversed(u))
        candidates = [
            d(Vec(*[-c for c in u]), "sign_error" if ask == "descent" else "ascent_descent_swapped",
              "That is the opposite direction: f " + ("increases" if ask == "descent" else "decreases")
              + " fastest along it."),
            d(Vec(*[sign * c for c in g]), "not_normalised", "Right direction, but not a unit vector:"
              " divide by |∇f(P)|."),
            d(tangent, "tangent_vs_normal", "That direction is tangent to the level curve, where f does not"
              " change at first order."),
            d(rate, "scalar_vs_vector", "That is the rate |∇f(P)|, a number; the question asks for a direction."),
            d(Vec(*reversed(u)), "partials_swapped", "The components are in the wrong order."),
        ]
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + rich(f" Find the unit vector in the direction in which f {word}"
                                            " most rapidly at P, and the rate of change in that direction."),
            answer=u, answer_kind="vector", point=P, steps=tuple(steps),
            distractors=distinct_distractors(u, candidates),
            data={"ask": ask, "rate": rate, "key": ask},
            figure=figure(vs, f, P, [("∇f(P)", g), ("û", u)]),
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        P = V.mp_vec(problem.point)
        num = V.numeric_gradient(fn, P)
        length = mpmath.sqrt(sum(c**2 for c in num))
        sign = 1 if problem.data["ask"] == "ascent" else -1
        expected = [sign * c / length for c in num]
        rate_along = V.limit_directional(fn, P, V.mp_vec(problem.answer))
        checks = [
            V.unit_check(problem.answer),
            V.check("direction_matches_numeric_gradient", V.close(V.mp_vec(problem.answer), expected,
                                                                  mpmath.mpf("1e-10")),
                    f"±∇f/|∇f| by finite differences = {V.fmt(expected)}"),
            V.check("rate_equals_numeric_norm", V.close(V.mp(problem.data["rate"]), length, mpmath.mpf("1e-10")),
                    f"|∇f(P)| numerically {V.fmt(length)}"),
        ]
        if len(P) == 2:
            # No sampled direction may do better than the answer (rates from the finite-difference
            # gradient, so no SymPy derivative is involved).
            gx, gy = float(num[0]), float(num[1])
            best = max(sign * (gx * math.cos(t) + gy * math.sin(t)) for t in [2 * math.pi * k / 72 for k in range(72)])
            checks.append(V.check("no_sampled_direction_is_steeper", float(sign * rate_along) >= best - 1e-9 * max(1, best),
                                  f"rate along answer (limit definition) {V.fmt(sign * rate_along)} ≥ best projection of the "
                                  f"finite-difference gradient on 72 directions {V.fmt(best)}"))
        return checks


FAMILY = SteepestFamily()
