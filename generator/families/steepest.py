"""steepest_ascent: the unit direction of fastest increase (or decrease) at P, and the rate of
change in that direction (|∇f(P)| for ascent, −|∇f(P)| for descent)."""
from __future__ import annotations

import math
from typing import Literal

import mpmath
from pydantic import Field

from .. import verify as V
from ..problem import GRAD_F_AT_P, U_HAT, Equals, Norm, Over, Problem, Vec, rich
from ._common import d, norm, normalise, number_part, radsimp, say, vector_part
from ._point import PointParams, figure, gradient_steps, setting, setup

class Params(PointParams):
    ask: Literal["ascent", "descent"] = Field("ascent", description="fastest increase or fastest decrease "
                                              "(one per problem, so a pool is fair)")
    parts: tuple[Literal["direction", "rate"], ...] = Field(
        ("direction", "rate"), min_length=1, description="what to ask: the unit direction, the rate of change "
        "in that direction, or both")


class SteepestFamily:
    name = "steepest_ascent"
    Params = Params
    fixed_fields = frozenset({"function", "point"})

    def generate(self, rng, params, fixed=None, variant=1) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        ask = params.ask
        sign = 1 if ask == "ascent" else -1
        u = Vec(*[sign * c for c in normalise(g)])
        length = radsimp(norm(g))
        rate = sign * length
        word = "increases" if ask == "ascent" else "decreases"
        steps = gradient_steps(vs, f, P, grad, g)
        steps.append(say(f"$f$ {word} fastest along ${'' if sign == 1 else '-'}grad(f)(P)$; as a unit vector ",
                          Equals(U_HAT, Over(Vec(*[sign * c for c in g]), Norm(GRAD_F_AT_P)), u), "."))
        if sign == 1:
            steps.append(rich("The rate of change in that direction is ", Equals(Norm(GRAD_F_AT_P), length), "."))
        else:
            steps.append(say("The rate of change in that direction is ", Equals(-Norm(GRAD_F_AT_P), rate),
                             ": negative, because $f$ decreases."))
        tangent = normalise(Vec(-g[1], g[0], *g[2:])) if len(vs) == 2 else Vec(*reversed(u))
        parts = []
        if "direction" in params.parts:
            parts.append(vector_part("direction", (U_HAT,), u, [
                d(Vec(*[-c for c in u]), "sign_error" if ask == "descent" else "ascent_descent_swapped",
                  "That is the opposite direction: $f$ " + ("increases" if ask == "descent" else "decreases")
                  + " fastest along it."),
                d(Vec(*[sign * c for c in g]), "not_normalised", "Right direction, but not a unit vector:"
                  " divide by $norm(grad(f)(P))$."),
                d(tangent, "tangent_vs_normal", "That direction is tangent to the level curve, where $f$ does not"
                  " change at first order."),
                d(Vec(*reversed(u)), "partials_swapped", "The components are in the wrong order."),
            ]))
        if "rate" in params.parts:
            parts.append(number_part("rate", say("the rate of change of $f$ in that direction"), rate, [
                d(-rate, "sign_error", "The sign is wrong: the rate of change is positive uphill and negative "
                  "downhill."),
                d(sum(c**2 for c in g), "squared_magnitude", "That is $norm(grad(f)(P))^2$: the square root is missing."),
                d(sign * sum(abs(c) for c in g), "sum_of_components", "Adding the components' sizes is not the "
                  "length of the gradient."),
            ]))
        asked = {("direction",): say(" Find the unit vector ", U_HAT, f" in the direction in which $f$ {word} most "
                                      "rapidly at $P$."),
                 ("rate",): say(" Find the rate of change of $f$ at $P$ in the direction in which ",
                                f"$f$ {word} most rapidly."),
                 ("direction", "rate"): say(" Find the unit vector ", U_HAT, f" in the direction in which $f$ {word} "
                                             "most rapidly at $P$, and the rate of change of $f$ in that direction.")
                 }[tuple(p.name for p in parts)]
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + asked,
            parts=tuple(parts), point=P, steps=tuple(steps),
            data={"ask": ask, "rate": rate, "unit": u, "key": ask, "shape": {"ask": ask}},
            figure=figure(vs, f, P, [("∇f(P)", g), ("û", u)]),
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        P = V.mp_vec(problem.point)
        num = V.numeric_gradient(fn, P)
        length = mpmath.sqrt(sum(c**2 for c in num))
        sign = 1 if problem.data["ask"] == "ascent" else -1
        expected = [sign * c / length for c in num]
        checks = []
        names = [p.name for p in problem.parts]
        if "direction" in names:
            unit = problem.part("direction").answer
            rate_along = V.limit_directional(fn, P, V.mp_vec(unit))
            checks += [
                V.unit_check(unit),
                V.check("direction_matches_numeric_gradient", V.close(V.mp_vec(unit), expected, mpmath.mpf("1e-10")),
                        f"±∇f/|∇f| by {V.derivative_route()} = {V.fmt(expected)}"),
            ]
            if len(P) == 2:
                # No sampled direction may do better than the answer (rates from the finite-difference
                # gradient, so no SymPy derivative is involved).
                gx, gy = float(num[0]), float(num[1])
                best = max(sign * (gx * math.cos(t) + gy * math.sin(t)) for t in [2 * math.pi * k / 72 for k in range(72)])
                checks.append(V.check("no_sampled_direction_is_steeper",
                                      float(sign * rate_along) >= best - 1e-9 * max(1, best),
                                      f"rate along answer (limit definition) {V.fmt(sign * rate_along)} ≥ best "
                                      f"projection of the gradient by {V.derivative_route()} on 72 directions {V.fmt(best)}"))
        if "rate" in names:
            rate = V.mp(problem.part("rate").answer)
            along = V.limit_directional(fn, P, expected)
            checks.append(V.check("rate_equals_limit_along_steepest_direction",
                                  V.close(rate, along, mpmath.mpf("1e-10")),
                                  f"d/dt f(P + t·(±∇f/|∇f|)) at t=0 = {V.fmt(along)} "
                                  f"({'positive uphill' if sign > 0 else 'negative downhill'})"))
        return checks


FAMILY = SteepestFamily()
