"""compare_directions: which of k given directions increases f fastest at P."""
from __future__ import annotations

import mpmath
import sympy as sp
from pydantic import Field

from .. import verify as V
from ..problem import DU_F, GRAD_F_AT_P, Dot, Equals, Problem, Vec, rich
from ._common import Rejected, d, dot, norm, random_integer_direction
from ._point import PointParams, figure, gradient_steps, setting, setup

LABELS = "ABCDEF"


class Params(PointParams):
    choices: int = Field(3, ge=2, le=5, description="how many directions to compare")


class CompareFamily:
    name = "compare_directions"
    Params = Params

    def generate(self, rng, params, fixed=None) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        dirs = []
        while len(dirs) < params.choices:
            v = Vec(*[c * rng.choice((1, 2)) for c in random_integer_direction(rng, len(vs))])
            if v not in dirs and Vec(*[-c for c in v]) not in dirs:
                dirs.append(v)
        rates = [sp.radsimp(dot(g, v) / norm(v)) for v in dirs]
        values = [float(r) for r in rates]
        best = max(range(len(dirs)), key=lambda i: values[i])
        if sorted(values)[-1] - sorted(values)[-2] < 0.05:
            raise Rejected("two directions are too close to call")
        raw_best = max(range(len(dirs)), key=lambda i: float(dot(g, dirs[i])))
        steps = gradient_steps(vs, f, P, grad, g)
        steps.append(rich("Normalise each direction and take ", Equals(DU_F, Dot(GRAD_F_AT_P, sp.Symbol("û"))), ":"))
        for label, v, r in zip(LABELS, dirs, rates):
            steps.append(rich(f"{label}: ", v, " gives ", r, "."))
        steps.append(rich(f"The largest rate is {LABELS[best]}."))
        distractors = []
        for i in range(len(dirs)):
            if i == best:
                continue
            if i == raw_best:
                tag, why = "not_normalised", "It wins only before normalising: longer vectors inflate ∇f·v."
            elif values[i] == min(values):
                tag, why = "sign_error", "f decreases fastest along this one of the choices, not increases."
            else:
                tag, why = "smaller_rate", "Its directional derivative is smaller than the best one's."
            distractors.append(d(sp.Integer(i), tag, f"Direction {LABELS[i]}: ", why))
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + rich(" Which of these directions increases f fastest at P? ")
            + sum((rich(f"{LABELS[i]}: ", v, "; " if i < len(dirs) - 1 else ".") for i, v in enumerate(dirs)), ()),
            answer=sp.Integer(best), answer_kind="choice", point=P, steps=tuple(steps),
            distractors=tuple(distractors),
            data={"directions": tuple(dirs), "labels": LABELS[: len(dirs)], "rates": tuple(rates),
                  "key": tuple(dirs)},
            figure=figure(vs, f, P, [("∇f(P)", g)] + [(LABELS[i], v) for i, v in enumerate(dirs)]),
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        P = V.mp_vec(problem.point)
        rates = []
        for v in problem.data["directions"]:
            raw = V.mp_vec(v)
            length = mpmath.sqrt(sum(c**2 for c in raw))
            rates.append(V.limit_directional(fn, P, [c / length for c in raw]))
        best = max(range(len(rates)), key=lambda i: rates[i])
        return [V.check("limit_definition_picks_same_direction", best == int(problem.answer),
                        f"rates by the limit definition {V.fmt(rates)}")]


FAMILY = CompareFamily()
