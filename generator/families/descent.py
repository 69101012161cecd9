"""gradient_descent_step: one or two steps x_{k+1} = x_k − η∇f(x_k), and whether f decreased."""
from __future__ import annotations

import mpmath
import sympy as sp
from pydantic import Field

from .. import verify as V
from ..mathparse import parse_formula
from ..problem import Equals, Problem, Pt, Vec, rich
from ._common import BaseParams, Rejected, at, d, distinct_distractors, f_of, gradient, random_point, random_polynomial, variables

LEARNING_RATES = [sp.Rational(1, 10), sp.Rational(1, 4), sp.Rational(1, 2), sp.Rational(1, 5)]


class Params(BaseParams):
    degree: int = Field(2, ge=2, le=2, description="quadratics, so that descent has a minimum to approach")
    steps: tuple[int, ...] = Field((1, 2), min_length=1, description="how many steps to take (1 or 2)")


class DescentFamily:
    name = "gradient_descent_step"
    Params = Params

    def generate(self, rng, params, fixed=None) -> Problem:
        if any(n not in (1, 2) for n in params.steps):
            raise Rejected("steps must be 1 or 2")
        vs = variables(params)
        if fixed and "function" in fixed:
            f = parse_formula(fixed["function"], tuple(str(v) for v in vs))
        else:
            f = random_polynomial(rng, vs, params.coefficients, min(params.degree, 2))
            if sp.Poly(f, *vs).total_degree() < 2:
                raise Rejected("a linear f has no minimum to descend to")
        x0 = Pt(*fixed["point"]) if fixed and "point" in fixed else random_point(rng, params, vs)
        eta = rng.choice(LEARNING_RATES)
        n = rng.choice(params.steps)
        grad = gradient(f, vs)
        xs, steps = [x0], [rich(Equals(sp.Symbol("∇f"), grad), ".")]
        for k in range(n):
            g = Vec(*at(grad, vs, xs[-1]))
            if all(c == 0 for c in g):
                raise Rejected("zero gradient: descent does not move")
            nxt = Pt(*[p - eta * c for p, c in zip(xs[-1], g)])
            steps.append(rich(f"Step {k + 1}: ", Equals(sp.Symbol(f"∇f(x{_sub(k)})"), g), ", so ",
                              Equals(sp.Symbol(f"x{_sub(k + 1)}"), nxt), "."))
            xs.append(nxt)
        f0, fn_ = at(f, vs, x0), at(f, vs, xs[-1])
        decreased = bool(fn_ < f0)
        if max(abs(c) for c in xs[-1]) > 60 or any(sp.Rational(c).q > 100 for c in xs[-1]):
            raise Rejected("iterate too large or fractions too fine to be teachable")
        steps.append(rich("Compare: ", Equals(sp.Symbol(f"f(x{_sub(0)})"), f0), " and ",
                          Equals(sp.Symbol(f"f(x{_sub(n)})"), fn_), ": f ",
                          "decreased." if decreased else "did not decrease (the step size is too large)."))
        answer = xs[-1]
        g0 = at(grad, vs, x0)
        candidates = [
            d(Pt(*[p + eta * c for p, c in zip(x0, g0)]) if n == 1 else Pt(*[2 * p - q for p, q in zip(x0, xs[1])]),
              "sign_error_ascent", "That step went uphill: descent subtracts η∇f."),
            d(Pt(*[p - c for p, c in zip(x0, g0)]), "learning_rate_dropped", "The step was not scaled by η."),
            d(xs[1] if n == 2 else Pt(*[p - 2 * eta * c for p, c in zip(x0, g0)]),
              "wrong_number_of_steps", "That is not the requested number of steps."),
            d(Pt(*[eta * c for c in g0]), "step_not_subtracted", "η∇f is the step, not the new point."),
        ]
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=rich("Apply gradient descent to ", Equals(f_of(vs), f), " starting from ",
                        Equals(sp.Symbol("x₀"), x0), " with learning rate ", Equals(sp.Symbol("η"), eta),
                        f". Find x{_sub(n)} after {n} step{'s' if n > 1 else ''}, and say whether f decreased."),
            answer=answer, answer_kind="point", point=x0, steps=tuple(steps),
            distractors=distinct_distractors(answer, candidates),
            data={"eta": eta, "steps": n, "decreased": decreased, "key": (eta, n)},
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        eta = V.mp(problem.data["eta"])
        x = V.mp_vec(problem.point)
        for _ in range(problem.data["steps"]):
            g = V.numeric_gradient(fn, x)
            x = [p - eta * c for p, c in zip(x, g)]
        lowered = fn(*x) < fn(*V.mp_vec(problem.point))
        return [
            V.check("numeric_descent_iterate", V.close(x, V.mp_vec(problem.answer), mpmath.mpf("1e-10")),
                    f"iterating with finite-difference gradients gives {V.fmt(x)}"),
            V.check("decrease_claim", lowered == problem.data["decreased"],
                    f"f(x0) = {V.fmt(fn(*V.mp_vec(problem.point)))}, f(xn) = {V.fmt(fn(*x))}"),
        ]


def _sub(k: int) -> str:
    return "₀₁₂₃"[k]


FAMILY = DescentFamily()
