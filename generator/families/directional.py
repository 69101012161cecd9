"""directional_derivative: D_u f(P), direction given as a unit vector, a vector, or an angle.

One direction form per problem, so every variant of a pool asks the same thing.
"""
from __future__ import annotations

from typing import Literal

import mpmath
import sympy as sp
from pydantic import Field, model_validator

from .. import verify as V
from ..mathparse import parse_formula
from ..problem import DU_F, GRAD_F_AT_P, U_HAT, Dot, Equals, Norm, Over, Problem, Vec, rich
from ._common import (Rejected, SPECIAL_ANGLES, at, d, dot, norm, normalise, number_part, radsimp,
                     random_integer_direction, say)
from ._point import PointParams, figure, gradient_steps, setting, setup

DirectionForm = Literal["unit", "vector", "angle"]
THETA = sp.Symbol("θ")


class Params(PointParams):
    direction_as: DirectionForm = Field("unit", description="how the direction is given: a unit vector, a "
                                        "vector to normalise, or an angle with the x-axis")

    @model_validator(mode="after")
    def _angle_needs_2d(self):
        if self.variables == 3 and self.direction_as == "angle":
            raise ValueError("an angle gives a direction only in the plane: use variables: 2, "
                             "or direction_as: unit or vector")
        return self


def direction_from(form, given):
    """The unit vector a prompt's direction stands for, computed exactly."""
    if form == "angle":
        return Vec(sp.cos(given), sp.sin(given))
    return normalise(given)


def fixed_direction(fixed, form, n):
    """The direction the lesson gives, checked against the problem's direction form."""
    given = {"unit": "unit", "vector": "direction", "angle": "angle"}
    present = [k for k in ("unit", "direction", "angle") if k in fixed]
    if not present:
        return None
    if len(present) > 1:
        raise Rejected(f"the fixed instance gives both {present[0]} and {present[1]}: give one direction")
    if present[0] != given[form]:
        raise Rejected(f"the fixed instance gives '{present[0]}' but direction_as is '{form}': they must agree")
    if form == "angle":
        theta = parse_formula(fixed["angle"], ())
        if not theta.is_real:
            raise Rejected("the fixed angle is not a real number")
        return theta
    raw = Vec(*[parse_formula(str(c), ()) if isinstance(c, str) else sp.Integer(c) for c in fixed[present[0]]])
    if len(raw) != n:
        raise Rejected(f"the fixed direction has {len(raw)} components but the problem has {n} variables")
    if all(c == 0 for c in raw):
        raise Rejected("the fixed direction is the zero vector")
    if form == "unit" and sp.simplify(sum(c**2 for c in raw) - 1) != 0:
        raise Rejected("the fixed unit vector does not have length 1")
    return raw


class DirectionalFamily:
    name = "directional_derivative"
    Params = Params
    fixed_fields = frozenset({"function", "point", "unit", "direction", "angle"})

    def generate(self, rng, params, fixed=None, variant=1) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        form = params.direction_as
        raw = fixed_direction(fixed, form, len(vs)) if fixed else None
        if raw is None:
            if form == "angle":
                raw = rng.choice(SPECIAL_ANGLES)
            else:
                raw = random_integer_direction(rng, len(vs))
                if form == "vector" and norm(raw) == 1:
                    raw = Vec(*[2 * c for c in raw])
                if form == "unit":
                    raw = normalise(raw)
        u = direction_from(form, raw)
        answer = radsimp(dot(g, u))
        if answer == 0:
            raise Rejected("D_u f(P) = 0 makes every sign mistake invisible")

        if form == "angle":
            direction_text = rich(" in the direction making angle ", Equals(THETA, raw),
                                  " with the positive x-axis.")
        elif form == "vector":
            direction_text = rich(" in the direction of ", Equals(sp.Symbol("v"), raw), " (so ",
                                  Equals(U_HAT, Over(sp.Symbol("v"), Norm(sp.Symbol("v")))), ").")
        else:
            direction_text = rich(" in the direction of the unit vector ", Equals(U_HAT, u), ".")
        steps = gradient_steps(vs, f, P, grad, g)
        if form == "vector":
            steps.append(rich("Normalise the direction: ", Equals(U_HAT, Over(raw, Norm(raw)), u), "."))
        elif form == "angle":
            steps.append(rich("The unit vector at angle θ is ", Equals(U_HAT, Vec(sp.cos(THETA), sp.sin(THETA)), u),
                              "."))
        steps.append(rich(Equals(DU_F, Dot(GRAD_F_AT_P, U_HAT), Dot(g, u), answer), "."))

        wrong = Vec(*at(grad, vs, [c + 1 for c in P]))
        candidates = [
            *([d(dot(g, raw), "not_normalised", "The direction vector was not divided by its length.")]
              if form == "vector" else []),
            d(-answer, "sign_error", "The sign is flipped."),
            d(radsimp(norm(g)), "magnitude_instead", "That is $norm(grad(f)(P))$, the largest rate over all directions,"
              " not the rate along $hat(u)$."),
            d(radsimp(dot(wrong, u)), "wrong_point", "The gradient was evaluated at the wrong point."),
            d(sum(c**2 for c in g), "squared_magnitude", "That is $norm(grad(f)(P))^2$, not a rate along $hat(u)$."),
            d(sp.Integer(0), "evaluated_before_differentiating",
              "$P$ was substituted before differentiating, which makes everything 0."),
        ]
        part = number_part("rate", (DU_F,), answer, candidates)
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + say(" Find the directional derivative ", DU_F, " of $f$ at $P$")
            + direction_text,
            parts=(part,), point=P, direction=raw if form != "unit" else u,
            steps=tuple(steps),
            data={"direction_form": form, "unit": u, "key": form, "shape": {"direction_as": form}},
            figure=figure(vs, f, P, [("∇f(P)", g), ("û", u)]),
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        form, given = problem.data["direction_form"], problem.direction
        # Rebuild u from what the prompt shows, in floating point, independently of direction_from.
        if form == "angle":
            theta = V.mp(given)
            u = [mpmath.cos(theta), mpmath.sin(theta)]
        else:
            raw = V.mp_vec(given)
            length = mpmath.sqrt(sum(c**2 for c in raw))
            u = [c / length for c in raw]
        rate = V.limit_directional(fn, V.mp_vec(problem.point), u)
        want = V.mp(problem.answer)
        return [
            V.unit_check(problem.data["unit"]),
            V.check("unit_vector_matches_prompt", V.close(V.mp_vec(problem.data["unit"]), u),
                    f"{V.fmt(u)} from the prompt"),
            V.check("limit_definition", V.close(rate, want, mpmath.mpf("1e-10")),
                    f"d/dt f(P + t·u) at t=0 = {V.fmt(rate)} vs answer {V.fmt(want)}"),
        ]


FAMILY = DirectionalFamily()
