"""true_false: a statement about a concrete f and P whose truth value is computed.

Randomized statements alternate true and false by variant (odd variants true), so a pool, a
deck's three variants and a set of worksheet versions are balanced; a fixed statement's truth is
computed from its own numbers.
"""
from __future__ import annotations

from typing import Literal

import mpmath
import sympy as sp
from pydantic import Field

from .. import verify as V
from ..mathparse import parse_formula
from ..problem import GRAD_F_AT_P, Dot, Equals, Norm, Part, Problem, Vec, rich
from ._common import Rejected, d, dot, norm, radsimp, random_integer_direction, say
from ._point import PointParams, gradient_steps, setting, setup

Claim = Literal["gradient_value", "increases_along", "max_rate", "level_tangent"]
KINDS = ("gradient_value", "increases_along", "max_rate", "level_tangent")


class Params(PointParams):
    claims: tuple[Claim, ...] = Field(KINDS, min_length=1, description="kinds of statement to draw from")


def _fixed_claim(fixed, vs, g):
    kind = fixed["claim"]
    if kind in ("increases_along", "level_tangent"):
        if "direction" not in fixed:
            raise Rejected(f"a fixed '{kind}' claim needs a direction")
        v = Vec(*[sp.Integer(c) for c in fixed["direction"]])
        if len(v) != len(vs) or all(c == 0 for c in v):
            raise Rejected("the fixed direction must be a nonzero vector with one component per variable")
        return kind, v
    if kind == "gradient_value":
        if "vector" not in fixed:
            raise Rejected("a fixed 'gradient_value' claim needs the claimed vector")
        v = Vec(*[sp.Integer(c) for c in fixed["vector"]])
        if len(v) != len(vs):
            raise Rejected("the claimed gradient needs one component per variable")
        return kind, v
    if "value" not in fixed:
        raise Rejected("a fixed 'max_rate' claim needs the claimed value")
    return kind, parse_formula(str(fixed["value"]), ())


class TrueFalseFamily:
    name = "true_false"
    Params = Params
    fixed_fields = frozenset({"function", "point", "claim", "direction", "vector", "value"})

    def generate(self, rng, params, fixed=None, variant=1) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        steps = gradient_steps(vs, f, P, grad, g)
        if fixed and "claim" in fixed:
            kind, shown = _fixed_claim(fixed, vs, g)
            want_true = None
        else:
            kinds = [k for k in params.claims if not (k == "level_tangent" and len(vs) == 3)]
            if not kinds:
                raise Rejected("level_tangent statements need 2 variables")
            kind, shown, want_true = rng.choice(kinds), None, variant % 2 == 1
        if kind == "gradient_value":
            if shown is None:
                shown = g if want_true else Vec(*reversed(g)) if len(set(g)) > 1 else Vec(*[-c for c in g])
            claim = say("At $P$, ", Equals(GRAD_F_AT_P, shown), ".")
            truth = shown == g
            data = {"claimed_gradient": shown}
        elif kind == "increases_along":
            if shown is None:
                shown = random_integer_direction(rng, len(vs))
                if dot(g, shown) == 0:
                    raise Rejected("the direction is tangent to the level curve")
                if (dot(g, shown) > 0) != want_true:
                    shown = Vec(*[-c for c in shown])
            rate = dot(g, shown)
            claim = say("$f$ increases at $P$ when moving in the direction of ", shown, ".")
            truth = bool(rate > 0)
            steps.append(rich(Equals(Dot(GRAD_F_AT_P, shown), Dot(g, shown), rate), ", which is ",
                              "positive." if truth else "not positive."))
            data = {"direction": shown}
        elif kind == "max_rate":
            true_rate = radsimp(norm(g))
            if shown is None:
                shown = true_rate if want_true else sum(c**2 for c in g)
                if shown == true_rate and not want_true:
                    raise Rejected("|∇f(P)| = |∇f(P)|² here, so the false claim would be true")
            claim = say("The maximal rate of change of $f$ at $P$ is ", shown, ".")
            truth = sp.simplify(shown - true_rate) == 0
            steps.append(rich("The maximal rate is ", Equals(Norm(GRAD_F_AT_P), true_rate), "."))
            data = {"claimed_rate": shown}
        else:
            if len(vs) != 2:
                raise Rejected("level_tangent statements need 2 variables")
            if shown is None:
                shown = Vec(-g[1], g[0]) if want_true else Vec(*g)
            claim = say("The vector ", shown, " is tangent to the level curve of $f$ through $P$.")
            truth = dot(g, shown) == 0
            steps.append(say("Tangent means perpendicular to $grad(f)(P)$: ",
                             Equals(Dot(GRAD_F_AT_P, shown), Dot(g, shown), dot(g, shown)), "."))
            data = {"direction": shown}
        truth = bool(truth)
        if want_true is not None and truth != want_true:
            raise Rejected("the drawn statement does not have the planned truth value")
        steps.append(rich("So the statement is ", "true." if truth else "false."))
        part = Part("truth", "boolean", rich("the statement"), truth,
                    (d(not truth, "truth_flipped", "Recompute ∇f(P) and test the claim against it."),))
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + rich(" True or false: ") + claim,
            parts=(part,), point=P, steps=tuple(steps),
            data={"statement": kind, "key": (kind, shown), "claim": claim, **data},
        )

    def verify(self, problem):
        fn = V.numeric_function(problem.function, problem.variables)
        P = V.mp_vec(problem.point)
        g = V.numeric_gradient(fn, P)
        kind = problem.data["statement"]
        tol = mpmath.mpf("1e-10")
        if kind == "gradient_value":
            truth = V.close(g, V.mp_vec(problem.data["claimed_gradient"]), tol)
        elif kind == "increases_along":
            truth = V.limit_directional(fn, P, V.mp_vec(problem.data["direction"]), precise=True) > tol
        elif kind == "max_rate":
            truth = V.close(mpmath.sqrt(sum(c**2 for c in g)), V.mp(problem.data["claimed_rate"]), tol)
        else:
            truth = abs(V.limit_directional(fn, P, V.mp_vec(problem.data["direction"]), precise=True)) < tol
        return [V.check("truth_value_recomputed", truth == problem.answer,
                        f"numerically the statement is {truth}; answer says {problem.answer}")]


FAMILY = TrueFalseFamily()
