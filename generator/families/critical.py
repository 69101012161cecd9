"""critical_point: where ∇f = 0 for a quadratic in two variables, and the value of f there."""
from __future__ import annotations

from typing import Literal

import sympy as sp
from pydantic import Field

from .. import verify as V
from ..mathparse import parse_formula
from ..problem import GRAD_F, Equals, Problem, Pt, Vec, rich
from ._common import (BaseParams, Rejected, d, derivative, f_of, nonzero, number_part, random_point, say,
                     vector_part)
from .at_point import integer_form

X, Y = sp.Symbol("x", real=True), sp.Symbol("y", real=True)


class Params(BaseParams):
    variables: Literal[2] = Field(2, description="quadratics in x and y")
    degree: int = Field(2, ge=2, le=2, description="quadratics only, so the critical point is unique")
    parts: tuple[Literal["point", "value"], ...] = Field(
        ("point", "value"), min_length=1, description="what to ask: the critical point, the value of f there, or both")


def quadratic(f):
    """f as a quadratic polynomial in x and y with a unique critical point, or a reason why not."""
    try:
        poly = sp.Poly(f, X, Y)
    except sp.PolynomialError:
        raise Rejected("f must be a polynomial in x and y") from None
    if poly.total_degree() != 2:
        raise Rejected("f must be a quadratic (total degree 2)")
    a, b, c = poly.coeff_monomial(X**2), poly.coeff_monomial(X * Y), poly.coeff_monomial(Y**2)
    if 4 * a * c - b * b == 0:
        raise Rejected("singular Hessian: no unique critical point")
    return a, b, c


def _solve_linear(fx, fy) -> tuple:
    """The one solution of fx = fy = 0 (linear in x and y): Cramer's rule on the coefficients of
    the derivatives, where both are linear with rational coefficients (sp.linsolve's answer,
    without building its linear system); otherwise sp.linsolve."""
    rows = [e.as_coefficients_dict() for e in (fx, fy)]
    if all(set(r) <= {X, Y, sp.S.One} and all(v.is_Rational for v in r.values()) for r in rows):
        (p, q, e), (r, s, t) = [(row.get(X, 0), row.get(Y, 0), row.get(sp.S.One, 0)) for row in rows]
        det = p * s - q * r
        if det == 0:
            raise Rejected("not a unique critical point")
        return sp.Rational(q * t - e * s) / det, sp.Rational(e * r - p * t) / det
    solutions = list(sp.linsolve([fx, fy], [X, Y]))
    if len(solutions) != 1 or any(s.free_symbols for s in solutions[0]):
        raise Rejected("not a unique critical point")
    return solutions[0]


class CriticalFamily:
    name = "critical_point"
    Params = Params
    fixed_fields = frozenset({"function"})

    def generate(self, rng, params, fixed=None, variant=1) -> Problem:
        vs = (X, Y)
        if fixed and "function" in fixed:
            f = parse_formula(fixed["function"], ("x", "y"))
            quadratic(f)
        else:
            lo, hi = params.coefficients
            a, c = nonzero(rng, lo, hi), nonzero(rng, lo, hi)
            b = rng.randint(lo, hi)
            if 4 * a * c - b * b == 0:
                raise Rejected("singular Hessian: no unique critical point")
            p, q = random_point(rng, params, vs)
            if (p, q) == (0, 0):
                raise Rejected("the origin makes the linear terms vanish; too easy")
            # Choose the linear terms so that (p, q) is the critical point: ∇f = H·(v − P).
            f = a * X**2 + b * X * Y + c * Y**2 - (2 * a * p + b * q) * X - (b * p + 2 * c * q) * Y
        terms = f.as_coefficients_dict()
        if set(terms) <= {X**2, X * Y, Y**2, X, Y, sp.S.One}:     # gen's own quadratics
            a, b, c = (terms.get(m, sp.S.Zero) for m in (X**2, X * Y, Y**2))
            dx, dy = terms.get(X, sp.S.Zero), terms.get(Y, sp.S.Zero)
        else:
            a, b, c = quadratic(f)
            dx, dy = sp.Poly(f, X, Y).coeff_monomial(X), sp.Poly(f, X, Y).coeff_monomial(Y)
        fx, fy = derivative(f, X), derivative(f, Y)
        answer = Pt(*_solve_linear(fx, fy))
        value = f.xreplace({X: answer[0], Y: answer[1]})
        steps = [
            rich(Equals(GRAD_F, Vec(fx, fy)), "."),
            rich("Set both partial derivatives to zero: ", Equals(fx, 0), " and ", Equals(fy, 0), "."),
            rich("Solving the linear system gives ", Equals(sp.Symbol("P"), answer), "."),
        ]
        parts = []
        if "point" in params.parts:
            parts.append(vector_part("point", ("the critical point",), answer, [
                d(Pt(-answer[0], -answer[1]), "sign_error", "A sign was lost when solving the linear equations."),
                d(Pt(answer[1], answer[0]), "coordinates_swapped", "The coordinates are swapped."),
                d(Pt(sp.Rational(-dx, 2 * a), sp.Rational(-dy, 2 * c)), "dropped_cross_term",
                  "The xy-term contributes to both partial derivatives; it was dropped."),
                d(Pt(0, 0), "origin_assumed", "The origin is a critical point only when $f$ has no linear terms."),
            ], form=integer_form(answer)))
        if "value" in params.parts:
            steps.append(rich("There ", Equals(sp.Symbol("f(P)"), value), "."))
            parts.append(number_part("value", say("the value of $f$ there"), value, [
                d(-value, "sign_error", "The sign of the value is wrong."),
                d(f.xreplace({X: answer[1], Y: answer[0]}), "coordinates_swapped",
                  "$f$ was evaluated with the coordinates swapped."),
                d(sp.Integer(0), "value_assumed_zero", "$f$ is not zero at its critical point in general."),
            ], form="integer" if value.is_Integer else "decimal", minimum=1))
        names = tuple(p.name for p in parts)
        lead = "Find the value of $f$ at the point" if names == ("value",) else "Find the point"
        tail = ", and the value of $f$ there." if names == ("point", "value") else "."
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=say(lead + " where the gradient of ", Equals(f_of(vs), f), " is zero" + tail),
            parts=tuple(parts), steps=tuple(steps),
            data={"critical_point": answer, "value": value},
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        names = [p.name for p in problem.parts]
        point = problem.part("point").answer if "point" in names else problem.data["critical_point"]
        P = V.mp_vec(point)
        num = V.numeric_gradient(fn, P, precise=True)      # must vanish: a threshold, at 30 digits
        checks = [V.check("numeric_gradient_vanishes", all(abs(c) < V.mpmath.mpf("1e-10") for c in num),
                          f"finite-difference gradient at the point {V.fmt(num)}")]
        if "value" in names:
            value = fn(*P)
            checks.append(V.check("value_recomputed", V.close(value, V.mp(problem.part("value").answer)),
                                  f"f evaluated at the point from its own formula: {V.fmt(value)}"))
        return checks


FAMILY = CriticalFamily()
