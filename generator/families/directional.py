"""directional_derivative: D_u f(P), direction given as a unit vector, a vector, or an angle."""
from __future__ import annotations

from typing import Literal

import mpmath
import sympy as sp
from pydantic import Field, model_validator

from .. import verify as V
from ..problem import DU_F, GRAD_F_AT_P, U_HAT, Dot, Equals, Norm, Over, Problem, Vec, rich
from ._common import (SPECIAL_ANGLES, Rejected, at, d, distinct_distractors, dot, norm, normalise,
                      random_integer_direction)
from ._point import PointParams, figure, gradient_steps, setting, setup

DirectionForm = Literal["unit", "vector", "angle"]


class Params(PointParams):
    direction_as: tuple[DirectionForm, ...] = Field(("unit", "vector", "angle"), min_length=1,
                                                    description="how the direction is given")

    @model_validator(mode="after")
    def _angle_needs_2d(self):
        if self.variables == 3 and set(self.direction_as) == {"angle"}:
            raise ValueError("an angle gives a direction only in the plane: use variables: 2, "
                             "or add 'unit' or 'vector' to direction_as")
        return self


def direction_from(form, given):
    """The unit vector a prompt's direction stands for, computed exactly."""
    if form == "angle":
        return Vec(sp.cos(given), sp.sin(given))
    return normalise(given)


class DirectionalFamily:
    name = "directional_derivative"
    Params = Params

    def generate(self, rng, params, fixed=None) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        forms = [m for m in params.direction_as if not (m == "angle" and len(vs) == 3)]
        form = rng.choice(forms)
        if fixed and "direction" in fixed:
            form = "vector"
            raw = Vec(*[sp.Integer(c) for c in fixed["direction"]])
            if all(c == 0 for c in raw):
                raise Rejected("the direction is the zero vector")
        elif form == "angle":
            raw = rng.choice(SPECIAL_ANGLES)
        else:
            raw = random_integer_direction(rng, len(vs))
            if form == "vector" and norm(raw) == 1:
                raw = Vec(*[2 * c for c in raw])
        u = direction_from(form, raw)
        answer = sp.radsimp(dot(g, u))
        if answer == 0:
            raise Rejected("D_u f(P) = 0 makes every sign mistake invisible")

        if form == "angle":
            direction_text = rich(" in the direction making angle ", Equals(sp.Symbol("θ"), raw),
                                  " with the positive x-axis.")
        elif form == "vector":
            direction_text = rich(" in the direction of ", Equals(sp.Symbol("v"), raw), ".")
        else:
            direction_text = rich(" in the direction of the unit vector ", Equals(U_HAT, u), ".")
        steps = gradient_steps(vs, f, P, grad, g)
        if form == "vector":
            steps.append(rich("Normalise the direction: ", Equals(U_HAT, Over(raw, Norm(raw)), u), "."))
        elif form == "angle":
            steps.append(rich("The unit vector at angle θ is ", Equals(U_HAT, Vec(sp.cos(sp.Symbol('θ')),
                                                                                  sp.sin(sp.Symbol('θ'))), u), "."))
        steps.append(rich(Equals(DU_F, Dot(GRAD_F_AT_P, U_HAT), Dot(g, u), answer), "."))

        wrong = Vec(*at(grad, vs, [c + 1 for c in P]))
        raw_vec = raw if form == "vector" else None
        candidates = [
            *( [d(dot(g, raw_vec), "not_normalised", "The direction vector was not divided by its length.")]
               if raw_vec is not None else [] ),
            d(-answer, "sign_error", "The sign is flipped."),
            d(sp.radsimp(norm(g)), "magnitude_instead", "That is |∇f(P)|, the largest rate over all directions,"
              " not the rate along u."),
            d(Vec(*[a * b for a, b in zip(g, u)]), "scalar_vs_vector",
              "The products were not added: the directional derivative is a scalar."),
            d(sp.radsimp(dot(wrong, u)), "wrong_point", "The gradient was evaluated at the wrong point."),
            d(sp.Integer(0), "evaluated_before_differentiating",
              "P was substituted before differentiating, which makes everything 0."),
            d(sum(c**2 for c in g), "squared_magnitude", "That is |∇f(P)|², not a rate along u."),
        ]
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + rich(" Find the directional derivative ", DU_F, " of f at P")
            + direction_text,
            answer=answer, answer_kind="scalar", point=P, direction=raw if form != "unit" else u,
            steps=tuple(steps), distractors=distinct_distractors(answer, candidates),
            data={"direction_form": form, "unit": u, "key": form},
            figure=figure(vs, f, P, [("∇f(P)", g), ("u", u)]),
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
