"""gradient_magnitude: the maximal rate of change |∇f(P)|."""
from __future__ import annotations

import math

import mpmath
import sympy as sp

from .. import verify as V
from ..problem import GRAD_F_AT_P, Equals, Norm, Problem, Root, rich
from ._common import at, d, distinct_distractors, norm
from ._point import PointParams, figure, gradient_steps, setting, setup


class MagnitudeFamily:
    name = "gradient_magnitude"
    Params = PointParams

    def generate(self, rng, params, fixed=None) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        answer = sp.radsimp(norm(g))
        squares = sum(c**2 for c in g)
        steps = gradient_steps(vs, f, P, grad, g)
        steps.append(rich("The maximal rate of change is the length of the gradient: ",
                          Equals(Norm(GRAD_F_AT_P), Root(squares), answer), "."))
        steps.append(rich("It is attained moving along ∇f(P); f changes by about ", answer,
                          " per unit step in that direction."))
        candidates = [
            d(squares, "squared_magnitude", "That is |∇f(P)|²: the square root is missing."),
            d(g, "scalar_vs_vector", "That is the gradient vector itself; the rate is its length."),
            d(sum(g), "sum_of_components", "Adding the components is not the length of a vector."),
            d(max(abs(c) for c in g), "largest_component", "The largest partial is the rate along one axis only."),
            d(sp.radsimp(norm(at(grad, vs, [c + 1 for c in P]))), "wrong_point",
              "The gradient was evaluated at the wrong point."),
        ]
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + rich(" What is the maximal rate of change of f at P,"
                                            " and in which direction does it occur?"),
            answer=answer, answer_kind="scalar", point=P, steps=tuple(steps),
            distractors=distinct_distractors(answer, candidates),
            data={"gradient": g},
            figure=figure(vs, f, P, [("∇f(P)", g)]),
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        P = V.mp_vec(problem.point)
        num = V.numeric_gradient(fn, P)
        length = mpmath.sqrt(sum(c**2 for c in num))
        want = V.mp(problem.answer)
        along = V.limit_directional(fn, P, [c / length for c in num])
        checks = [V.check("norm_of_numeric_gradient", V.close(length, want, mpmath.mpf("1e-10")),
                          f"|finite-difference gradient| = {V.fmt(length)} vs answer {V.fmt(want)}"),
                  V.check("limit_definition_along_gradient", V.close(along, want, mpmath.mpf("1e-10")),
                          f"d/dt f(P + t·∇f/|∇f|) at t=0 = {V.fmt(along)}")]
        if len(P) == 2:
            gx, gy, w = float(num[0]), float(num[1]), float(want)
            best = max(gx * math.cos(t) + gy * math.sin(t) for t in [2 * math.pi * k / 360 for k in range(360)])
            checks.append(V.check("max_over_sampled_directions", best <= w + 1e-9 * max(1, w)
                                  and best >= w * math.cos(math.pi / 360) - 1e-9 * max(1, w),
                                  f"largest projection of the finite-difference gradient on 360 unit "
                                  f"directions {V.fmt(best)}"))
        return checks


FAMILY = MagnitudeFamily()
