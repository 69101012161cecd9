"""gradient_at_point: ∇f(P)."""
from __future__ import annotations

import sympy as sp

from .. import verify as V
from ..problem import GRAD_F_AT_P, Problem, Pt, Vec, rich
from ._common import at, d, vector_part
from ._point import PointParams, figure, gradient_steps, setting, setup
from .gradient import sloppy_diff


def integer_form(vector) -> str:
    return "integer" if all(c.is_Integer for c in vector) else "decimal"


class AtPointFamily:
    name = "gradient_at_point"
    Params = PointParams
    fixed_fields = frozenset({"function", "point"})

    def generate(self, rng, params, fixed=None, variant=1) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        wrong_point = Pt(*reversed(P)) if len(set(P)) > 1 else Pt(*[c + 1 for c in P])
        candidates = [
            d(Vec(*reversed(g)), "partials_swapped", "The components are in the wrong order."),
            d(Vec(*[-c for c in g]), "sign_error", "The signs are flipped: that is $-grad(f)(P)$."),
            d(Vec(*at(grad, vs, wrong_point)), "wrong_point",
              "The gradient was evaluated at ", wrong_point, " instead of $P$."),
            d(Vec(*[sp.Integer(0)] * len(vs)), "evaluated_before_differentiating",
              "$P$ was substituted before differentiating, so every partial became 0."),
            d(Vec(*[at(sloppy_diff(f, v, "chain"), vs, P) for v in vs]), "dropped_chain_rule",
              "The chain rule's inner derivative is missing."),
        ]
        part = vector_part("gradient", (GRAD_F_AT_P,), g, candidates, form=integer_form(g))
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + rich(" Compute ", GRAD_F_AT_P, "."),
            parts=(part,), point=P, steps=tuple(gradient_steps(vs, f, P, grad, g)),
            figure=figure(vs, f, P, [("∇f(P)", g)]),
        )

    def verify(self, problem):
        return [V.gradient_at_check(problem, problem.answer, problem.point)]


FAMILY = AtPointFamily()
