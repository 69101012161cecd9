"""gradient: the symbolic gradient ∇f of f(x, y) or f(x, y, z)."""
from __future__ import annotations

from typing import Literal

import sympy as sp
from pydantic import Field

from .. import verify as V
from ..mathfmt import plain
from ..mathparse import parse_formula
from ..problem import GRAD_F, Equals, Partial, Problem, Vec, rich
from ._common import BaseParams, Rejected, choice_part, d, derivative, f_of, gradient, random_form, sampler, variables

Form = Literal["polynomial", "exp", "trig", "log", "quotient"]


class Params(BaseParams):
    form: Form = Field("polynomial", description="kind of function (one per problem, so every variant of a "
                       "pool needs the same rules: power, chain and product, or quotient rule)")


def sloppy_diff(expr, v, mistake):
    """d/dv with one classic mistake: 'chain' (inner derivative dropped), 'product' (one term of
    the product rule dropped) or 'power' (exponent not brought down)."""
    if not expr.has(v):
        return sp.Integer(0)
    if expr == v:
        return sp.Integer(1)
    if expr.is_Add:
        return sp.Add(*[sloppy_diff(a, v, mistake) for a in expr.args])
    if expr.is_Mul:
        deps = [a for a in expr.args if a.has(v)]
        const = sp.Mul(*[a for a in expr.args if not a.has(v)])
        if mistake == "product" and len(deps) >= 2:
            return const * sloppy_diff(deps[0], v, mistake) * sp.Mul(*deps[1:])
        return const * sp.Add(*[sloppy_diff(deps[i], v, mistake) * sp.Mul(*(deps[:i] + deps[i + 1:]))
                                for i in range(len(deps))])
    if expr.is_Pow and not expr.exp.has(v):
        base, e = expr.args
        inner = sp.Integer(1) if mistake == "chain" else sloppy_diff(base, v, mistake)
        factor = 1 if mistake == "power" else e
        return factor * base ** (e - 1) * inner
    if isinstance(expr, sp.Function) and len(expr.args) == 1:
        outer = expr.fdiff(1)           # d/dt of the function, at its argument
        inner = sp.Integer(1) if mistake == "chain" else sloppy_diff(expr.args[0], v, mistake)
        return outer * inner
    return derivative(expr, v)


def can_slip(f, vs, mistake) -> bool:
    """Whether sloppy_diff(f, v, mistake) can differ from ∂f/∂v for some v: 'chain' only where a
    power's base or a function's argument is more than a bare variable (its inner derivative is
    not 1), 'product' only where a product has two factors in the same variable. ('power' always
    can.) tests/test_families.py draws with and without this and compares."""
    if mistake not in ("chain", "product"):
        return True
    for node in sp.preorder_traversal(f):
        if mistake == "chain":
            if node.is_Pow and not node.base.is_Symbol and node.base.free_symbols:
                return True
            if isinstance(node, sp.Function) and not all(a.is_Symbol or not a.free_symbols for a in node.args):
                return True
        elif node.is_Mul and any(sum(1 for a in node.args if v in a.free_symbols) >= 2 for v in vs):
            return True
    return False


class GradientFamily:
    name = "gradient"
    Params = Params
    fixed_fields = frozenset({"function"})

    def generate(self, rng, params, fixed=None, variant=1) -> Problem:
        vs = variables(params)
        if fixed and "function" in fixed:
            f = parse_formula(fixed["function"], tuple(str(v) for v in vs))
        else:
            f = random_form(rng, vs, params.coefficients, params.degree, params.form)
        grad = gradient(f, vs)
        if any(c == 0 for c in grad) and not fixed:
            raise Rejected("a partial derivative is zero")
        F = f_of(vs)
        steps = [rich("Differentiate with respect to each variable, holding the others constant.")]
        for v, c in zip(vs, grad):
            steps.append(rich(Equals(Partial(v), c)))
        steps.append(rich("Collect the partial derivatives into a vector: ", Equals(GRAD_F, grad)))
        # Made one at a time, as choice_part takes them: it stops at the third distinct one, and
        # a sloppy derivative costs as much as the gradient. A mistake f gives no occasion for
        # (no chain rule in a polynomial) would only give ∇f again, which choice_part drops.
        makers = (
            lambda: d(Vec(*[sloppy_diff(f, v, "chain") for v in vs]), "dropped_chain_rule",
                      "The chain rule's inner derivative is missing.") if can_slip(f, vs, "chain") else None,
            lambda: d(Vec(*[sloppy_diff(f, v, "product") for v in vs]), "dropped_product_rule_term",
                      "One term of the product rule is missing.") if can_slip(f, vs, "product") else None,
            lambda: d(Vec(*reversed(grad)), "partials_swapped",
                      "The partial derivatives are in the wrong slots: the first component must be $partial(f, x)$."),
            lambda: d(Vec(*[sloppy_diff(f, v, "power") for v in vs]), "power_rule_exponent_dropped",
                      "The exponent was not brought down when differentiating a power."),
            lambda: d(Vec(*[-c for c in grad]), "sign_error",
                      "The signs are flipped: that is $-grad(f)$, the direction of steepest descent."),
            lambda: d(Vec(*[sum(grad)] * len(vs)), "scalar_vs_vector",
                      "The partials were added into one number; the gradient keeps them as separate components."),
        )
        candidates = (c for c in (make() for make in makers) if c is not None)
        part = choice_part("gradient", (GRAD_F,), grad, candidates, equivalence="sampled",
                           to_numbers=sampler(vs))
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=rich("Compute the gradient ", GRAD_F, " of ", Equals(F, f), "."),
            parts=(part,), steps=tuple(steps), data={"key": None},
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        claimed_fns = [V.numeric_function(c, problem.variables) for c in problem.answer]
        # Seeded by f's text: the plain printing, which the duplicate key needs anyway (memoized).
        pts = V.random_points(plain(problem.function), len(problem.variables), 4, 0.2, 1.8)
        checks = []
        for i, pt in enumerate(pts):
            num = V.numeric_gradient(fn, pt)
            claimed = [V.value_at(c, pt) for c in claimed_fns]
            checks.append(V.check(f"finite_differences_at_random_point_{i}",
                                  V.close(num, claimed, V.mpmath.mpf("1e-10")),
                                  f"at {V.fmt(pt)}: numeric ({V.derivative_route()}) {V.fmt(num)} vs answer {V.fmt(claimed)}"))
        return checks


FAMILY = GradientFamily()
