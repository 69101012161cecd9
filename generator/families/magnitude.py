"""gradient_magnitude: ∇f(P) and the maximal rate of change |∇f(P)|, attained along ∇f(P)."""
from __future__ import annotations

import math
from typing import Literal

import mpmath
from pydantic import Field

from .. import verify as V
from ..problem import GRAD_F_AT_P, Equals, Norm, Problem, Root, Vec, rich
from ._common import at, d, norm, number_part, radsimp, say, vector_part
from ._point import PointParams, figure, gradient_steps, setting, setup
from .at_point import integer_form


class Params(PointParams):
    parts: tuple[Literal["gradient", "rate"], ...] = Field(
        ("gradient", "rate"), min_length=1, description="what to ask: ∇f(P), the maximal rate of change, or both")


class MagnitudeFamily:
    name = "gradient_magnitude"
    Params = Params
    fixed_fields = frozenset({"function", "point"})

    def generate(self, rng, params, fixed=None, variant=1) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        answer = radsimp(norm(g))
        squares = sum(c**2 for c in g)
        steps = gradient_steps(vs, f, P, grad, g)
        # √101 is already simplest: say it once, not "√101 = √101" (but √208 = 4√13, √25 = 5).
        length = (answer,) if answer.is_Pow else (Root(squares), answer)
        steps.append(rich("The maximal rate of change is the length of the gradient: ",
                          Equals(Norm(GRAD_F_AT_P), *length), "."))
        steps.append(say("It is attained moving along $grad(f)(P)$; $f$ changes by about ", answer,
                          " per unit step in that direction."))
        parts = []
        if "gradient" in params.parts:
            parts.append(vector_part("gradient", (GRAD_F_AT_P,), g, [
                d(Vec(*reversed(g)), "partials_swapped", "The components are in the wrong order."),
                d(Vec(*[-c for c in g]), "sign_error", "The signs are flipped: that is $-grad(f)(P)$."),
                d(Vec(*at(grad, vs, [c + 1 for c in P])), "wrong_point", "The gradient was evaluated at the "
                  "wrong point."),
            ], form=integer_form(g)))
        if "rate" in params.parts:
            parts.append(number_part("rate", say("the maximal rate of change of $f$ at $P$"), answer, [
                d(squares, "squared_magnitude", "That is $norm(grad(f)(P))^2$: the square root is missing."),
                d(sum(g), "sum_of_components", "Adding the components is not the length of a vector."),
                d(max(abs(c) for c in g), "largest_component", "The largest partial is the rate along one axis only."),
                d(radsimp(norm(at(grad, vs, [c + 1 for c in P]))), "wrong_point",
                  "The gradient was evaluated at the wrong point."),
            ]))
        names = tuple(p.name for p in parts)
        asked = {("gradient",): rich(" Compute ", GRAD_F_AT_P, ", the direction of the maximal rate of change."),
                 ("rate",): say(" What is the maximal rate of change of $f$ at $P$?"),
                 ("gradient", "rate"): say(" Compute ", GRAD_F_AT_P, " (it points the way $f$ increases fastest)"
                                           " and the maximal rate of change of $f$ at $P$.")}[names]
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + asked,
            parts=tuple(parts), point=P, steps=tuple(steps),
            data={"gradient": g, "rate": answer},
            figure=figure(vs, f, P, [("∇f(P)", g)]),
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        P = V.mp_vec(problem.point)
        num = V.numeric_gradient(fn, P)
        length = mpmath.sqrt(sum(c**2 for c in num))
        names = [p.name for p in problem.parts]
        checks = []
        if "gradient" in names:
            checks.append(V.gradient_at_check(problem, problem.part("gradient").answer, problem.point))
        if "rate" in names:
            want = V.mp(problem.part("rate").answer)
            along = V.limit_directional(fn, P, [c / length for c in num])
            checks += [V.check("norm_of_numeric_gradient", V.close(length, want, mpmath.mpf("1e-10")),
                               f"|gradient by {V.derivative_route()}| = {V.fmt(length)} vs answer {V.fmt(want)}"),
                       V.check("limit_definition_along_gradient", V.close(along, want, mpmath.mpf("1e-10")),
                               f"d/dt f(P + t·∇f/|∇f|) at t=0 = {V.fmt(along)}")]
            if len(P) == 2:
                gx, gy, w = float(num[0]), float(num[1]), float(want)
                best = max(gx * math.cos(t) + gy * math.sin(t) for t in [2 * math.pi * k / 360 for k in range(360)])
                checks.append(V.check("max_over_sampled_directions", best <= w + 1e-9 * max(1, w)
                                      and best >= w * math.cos(math.pi / 360) - 1e-9 * max(1, w),
                                      f"largest projection of the gradient by {V.derivative_route()} on 360 unit "
                                      f"directions {V.fmt(best)}"))
        return checks


FAMILY = MagnitudeFamily()
