"""gradient_descent_step: n steps x_{k+1} = x_k − η∇f(x_k) on a quadratic with a minimum, where f
decreases at every step; optionally f at the last iterate."""
from __future__ import annotations

from fractions import Fraction
from typing import Literal

import mpmath
import sympy as sp
from pydantic import Field

from .. import verify as V
from ..mathparse import parse_formula
from ..problem import Equals, Problem, Pt, Vec, rich
from ._common import (BaseParams, Rejected, at, d, f_of, fraction_violation, gradient, nonzero, number_part,
                     random_point, say, sympy_rational, variables, vector_part)

LEARNING_RATES = [sp.Rational(1, 10), sp.Rational(1, 4), sp.Rational(1, 2), sp.Rational(1, 5)]
ETA = sp.Symbol("η")


class Params(BaseParams):
    variables: Literal[2] = Field(2, description="quadratics in x and y")
    degree: int = Field(2, ge=2, le=2, description="quadratics with a minimum, so descent has somewhere to go")
    steps: int = Field(1, ge=1, le=3, description="how many steps to take (one number per problem, so a pool "
                       "is fair)")
    parts: tuple[Literal["point", "value"], ...] = Field(
        ("point", "value"), min_length=1, description="what to ask: the last iterate, f there, or both")


def _sub(k: int) -> str:
    return "₀₁₂₃"[k]


def positive_definite_quadratic(rng, vs, coefficients):
    """a x² + b xy + c y² + d x + e y with a positive definite Hessian: a unique minimum."""
    return _Quadratic.draw(rng, coefficients).expr(vs)


class _Quadratic:
    """One of our own quadratics a x² + b xy + c y² + d x + e y, by its integer coefficients:
    its Hessian, gradient and values in exact integer and Fraction arithmetic, so a draw that is
    rejected (f does not decrease, the rate is too large) costs no SymPy work."""

    def __init__(self, a, b, c, d, e):
        self.a, self.b, self.c, self.d, self.e = a, b, c, d, e

    @classmethod
    def draw(cls, rng, coefficients):
        lo, hi = coefficients
        a, c = rng.randint(1, max(1, hi)), rng.randint(1, max(1, hi))
        # b² < 4ac keeps the Hessian positive definite: draw b from that range, not reject after.
        bs = [b for b in range(lo, hi + 1) if b * b < 4 * a * c]
        if not bs:
            raise Rejected("the quadratic has no minimum (its Hessian is not positive definite)")
        return cls(a, rng.choice(bs), c, nonzero(rng, lo, hi), nonzero(rng, lo, hi))

    def expr(self, vs):
        x, y = vs
        return self.a * x**2 + self.b * x * y + self.c * y**2 + self.d * x + self.e * y

    def gradient_expr(self, vs):
        x, y = vs
        return Vec(2 * self.a * x + self.b * y + self.d, self.b * x + 2 * self.c * y + self.e)

    def rate_fits(self, eta) -> bool:
        """eta · λ_max < 2, exactly: λ_max = a + c + √((a − c)² + b²) for the Hessian [[2a, b], [b, 2c]]."""
        room = 2 / Fraction(eta.p, eta.q) - (self.a + self.c)
        return room > 0 and (self.a - self.c) ** 2 + self.b ** 2 < room * room

    def gradient(self, p):
        x, y = p
        return (2 * self.a * x + self.b * y + self.d, self.b * x + 2 * self.c * y + self.e)

    def value(self, p):
        x, y = p
        return self.a * x * x + self.b * x * y + self.c * y * y + self.d * x + self.e * y


def _bound_broken(numbers, params) -> str | None:
    """bounds_violation for ints and Fractions (the same rule, fraction_violation)."""
    for v in map(Fraction, numbers):
        broken = fraction_violation(v.numerator, v.denominator, params)
        if broken:
            return broken
    return None


class DescentFamily:
    name = "gradient_descent_step"
    Params = Params
    fixed_fields = frozenset({"function", "point", "eta", "steps"})

    def generate(self, rng, params, fixed=None, variant=1) -> Problem:
        vs = variables(params)
        fixed = fixed or {}
        if "function" in fixed:
            return self._generate(rng, params, fixed, vs, parse_formula(fixed["function"], tuple(str(v) for v in vs)))
        q = _Quadratic.draw(rng, params.coefficients)
        x0 = Pt(*[sp.Integer(c) for c in fixed["point"]]) if "point" in fixed else random_point(rng, params, vs)
        if "eta" in fixed:
            eta = parse_formula(str(fixed["eta"]), ())
        else:
            # Rates that keep f decreasing and whose n steps cannot leave a denominator beyond the
            # bound (an iterate's denominator divides q^n for η = p/q).
            rates = [r for r in LEARNING_RATES
                     if q.rate_fits(r) and r.q ** int(fixed.get("steps", params.steps)) <= params.max_denominator]
            if not rates:
                raise Rejected("f is too steep for the offered learning rates")
            eta = rng.choice(rates)
        if not (eta.is_Rational and eta > 0):
            raise Rejected("the learning rate must be a positive rational number such as 1/10")
        n = int(fixed.get("steps", params.steps))
        step = Fraction(eta.p, eta.q)
        point = tuple(int(c) for c in x0)
        points, values = [point], [q.value(point)]
        for k in range(n):
            g = q.gradient(point)
            if all(c == 0 for c in g):
                raise Rejected("∇f is zero at an iterate: descent does not move")
            point = tuple(p - step * c for p, c in zip(point, g))
            points.append(point)
            values.append(q.value(point))
            if not values[-1] < values[-2]:
                raise Rejected("f does not decrease at every step (the learning rate is too large)")
        # Every iterate, gradient and value is a number of the worked steps, where
        # bounds_violation would refuse it after the SymPy work: refuse it before.
        shown = [c for p in points for c in p] + values + [c for p in points[:-1] for c in q.gradient(p)]
        broken = _bound_broken(shown, params)
        if broken:
            raise Rejected(broken)
        f = q.expr(vs)
        return self._finish(vs, f, q.gradient_expr(vs), x0, eta, n, [Pt(*map(sympy_rational, p)) for p in points],
                            [sympy_rational(v) for v in values], params)

    def _generate(self, rng, params, fixed, vs, f) -> Problem:
        """A lesson's own f, in SymPy."""
        hessian = sp.hessian(f, vs)
        if hessian.free_symbols or not hessian.is_positive_definite:
            raise Rejected("f must be a quadratic with a minimum (a positive definite Hessian)")
        x0 = Pt(*[sp.Integer(c) for c in fixed["point"]]) if "point" in fixed else random_point(rng, params, vs)
        if "eta" in fixed:
            eta = parse_formula(str(fixed["eta"]), ())
        else:
            # Rates below 2/λ_max make f decrease at every step of descent on a quadratic.
            largest = max(float(ev) for ev in hessian.eigenvals())
            rates = [r for r in LEARNING_RATES if r * largest < 2]
            if not rates:
                raise Rejected("f is too steep for the offered learning rates")
            eta = rng.choice(rates)
        if not (eta.is_Rational and eta > 0):
            raise Rejected("the learning rate must be a positive rational number such as 1/10")
        n = int(fixed.get("steps", params.steps))
        grad = gradient(f, vs)
        xs, values = [x0], [at(f, vs, x0)]
        for k in range(n):
            g = Vec(*at(grad, vs, xs[-1]))
            if all(c == 0 for c in g):
                raise Rejected("∇f is zero at an iterate: descent does not move")
            nxt = Pt(*[p - eta * c for p, c in zip(xs[-1], g)])
            xs.append(nxt)
            values.append(at(f, vs, nxt))
            if not values[-1] < values[-2]:
                raise Rejected("f does not decrease at every step (the learning rate is too large)")
        return self._finish(vs, f, grad, x0, eta, n, xs, values, params)

    def _finish(self, vs, f, grad, x0, eta, n, xs, values, params) -> Problem:
        steps = [rich(Equals(sp.Symbol("∇f"), grad), ".")]
        for k in range(n):
            g = Vec(*at(grad, vs, xs[k]))
            steps.append(rich(f"Step {k + 1}: ", Equals(sp.Symbol(f"∇f(x{_sub(k)})"), g), ", so ",
                              Equals(sp.Symbol(f"x{_sub(k + 1)}"), xs[k + 1]), "."))
        answer, last = xs[-1], values[-1]
        steps.append(say("$f$ decreases at every step: ", *sum(([Equals(sp.Symbol(f"f(x{_sub(k)})"), v), ", "]
                                                                for k, v in enumerate(values)), [])[:-1], "."))
        g0 = Vec(*at(grad, vs, x0))
        parts = []
        xn = f"x{_sub(n)}"
        if "point" in params.parts:
            parts.append(vector_part("point", (sp.Symbol(xn),), answer, [
                d(Pt(*[p + eta * c for p, c in zip(x0, g0)]) if n == 1 else Pt(*[2 * p - q for p, q in zip(x0, xs[1])]),
                  "sign_error_ascent", "That step went uphill: descent subtracts $eta*grad(f)$."),
                d(Pt(*[p - c for p, c in zip(x0, g0)]), "learning_rate_dropped", "The step was not scaled by η."),
                d(xs[1] if n > 1 else Pt(*[p - 2 * eta * c for p, c in zip(x0, g0)]),
                  "wrong_number_of_steps", "That is not the requested number of steps."),
                d(Pt(*[eta * c for c in g0]), "step_not_subtracted", "$eta*grad(f)$ is the step, not the new point."),
            ]))
        if "value" in params.parts:
            parts.append(number_part("value", (sp.Symbol(f"f({xn})"),), last, [
                d(values[0], "value_at_start", "That is ", sp.Symbol("f(x₀)"), ", before any step."),
                d(values[-2], "wrong_number_of_steps", "That is $f$ one step too early.") if n > 1 else
                d(-last, "sign_error", "The sign of the value is wrong."),
                d(at(f, vs, Pt(*[p + eta * c for p, c in zip(x0, g0)])), "sign_error_ascent",
                  "That is $f$ after a step uphill: descent subtracts $eta*grad(f)$."),
            ], minimum=1))
        after = f" after {n} step{'s' if n > 1 else ''}"
        asked = {("point",): rich("Find ", sp.Symbol(xn), after + "."),
                 ("value",): rich("Find ", sp.Symbol(f"f({xn})"), after + "."),
                 ("point", "value"): rich("Find ", sp.Symbol(xn), after + ", and ", sp.Symbol(f"f({xn})"), ".")
                 }[tuple(p.name for p in parts)]
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=rich("Apply gradient descent to ", Equals(f_of(vs), f), " starting from ",
                        Equals(sp.Symbol("x₀"), x0), " with learning rate ", Equals(ETA, eta), ". ") + asked,
            parts=tuple(parts), point=x0, steps=tuple(steps), work=2 * n,
            data={"eta": eta, "steps": n, "iterates": tuple(xs), "values": tuple(values), "key": (eta, n),
                  "shape": {"steps": n}},
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        eta = V.mp(problem.data["eta"])
        x = V.mp_vec(problem.point)
        values = [fn(*x)]
        for _ in range(problem.data["steps"]):
            g = V.numeric_gradient(fn, x)
            x = [p - eta * c for p, c in zip(x, g)]
            values.append(fn(*x))
        names = [p.name for p in problem.parts]
        checks = [V.check("f_decreases_at_every_step", all(b < a for a, b in zip(values, values[1:])),
                          f"f along the numeric iterates {V.fmt(values)}")]
        if "point" in names:
            checks.append(V.check("numeric_descent_iterate",
                                  V.close(x, V.mp_vec(problem.part("point").answer), mpmath.mpf("1e-10")),
                                  f"iterating with gradients by {V.derivative_route()} gives {V.fmt(x)}"))
        if "value" in names:
            checks.append(V.check("value_at_iterate",
                                  V.close(values[-1], V.mp(problem.part("value").answer), mpmath.mpf("1e-10")),
                                  f"f at the numeric iterate {V.fmt(values[-1])}"))
        return checks


FAMILY = DescentFamily()
