"""critical_point: where ∇f = 0 for a quadratic in two variables."""
from __future__ import annotations

import sympy as sp
from pydantic import Field

from .. import verify as V
from ..problem import GRAD_F, Equals, Problem, Pt, Vec, rich
from ._common import BaseParams, Rejected, d, distinct_distractors, f_of, nonzero, random_point


class Params(BaseParams):
    degree: int = Field(2, ge=2, le=2, description="quadratics only, so the critical point is unique")


class CriticalFamily:
    name = "critical_point"
    Params = Params

    def generate(self, rng, params, fixed=None) -> Problem:
        x, y = vs = (sp.Symbol("x", real=True), sp.Symbol("y", real=True))
        lo, hi = params.coefficients
        a, c = nonzero(rng, lo, hi), nonzero(rng, lo, hi)
        b = rng.randint(lo, hi)
        if 4 * a * c - b * b == 0:
            raise Rejected("singular Hessian: no unique critical point")
        p, q = random_point(rng, params, vs)
        # Choose the linear terms so that (p, q) is the critical point: ∇f = H·(v − P).
        dcoef, ecoef = -(2 * a * p + b * q), -(b * p + 2 * c * q)
        f = a * x**2 + b * x * y + c * y**2 + dcoef * x + ecoef * y
        if (p, q) == (0, 0):
            raise Rejected("origin makes the linear terms vanish; too easy")
        fx, fy = sp.diff(f, x), sp.diff(f, y)
        solutions = list(sp.linsolve([fx, fy], [x, y]))
        if len(solutions) != 1 or any(c.free_symbols for c in solutions[0]):
            raise Rejected("not a unique critical point")
        answer = Pt(*solutions[0])
        steps = (
            rich(Equals(GRAD_F, Vec(fx, fy)), "."),
            rich("Set both partial derivatives to zero: ", Equals(fx, 0), " and ", Equals(fy, 0), "."),
            rich("Solving the linear system gives ", Equals(sp.Symbol("P"), answer), "."),
        )
        candidates = [
            d(Pt(-answer[0], -answer[1]), "sign_error", "A sign was lost when solving the linear equations."),
            d(Pt(answer[1], answer[0]), "coordinates_swapped", "The coordinates are swapped."),
            d(Pt(sp.Rational(-dcoef, 2 * a), sp.Rational(-ecoef, 2 * c)), "dropped_cross_term",
              "The xy-term contributes to both partial derivatives; it was dropped."),
            d(Pt(0, 0), "origin_assumed", "The origin is a critical point only when f has no linear terms."),
        ]
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=rich("Find the point where the gradient of ", Equals(f_of(vs), f), " is zero."),
            answer=answer, answer_kind="point", steps=steps,
            distractors=distinct_distractors(answer, candidates),
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        P = V.mp_vec(problem.answer)
        num = V.numeric_gradient(fn, P)
        return [V.check("numeric_gradient_vanishes", all(abs(c) < V.mpmath.mpf("1e-10") for c in num),
                        f"finite-difference gradient at the answer {V.fmt(num)}")]


FAMILY = CriticalFamily()
