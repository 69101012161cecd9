"""Shared pieces of the families that ask about f at a point P."""
from __future__ import annotations

from typing import Literal

import sympy as sp
from pydantic import Field

from ..mathparse import parse_formula
from ..problem import GRAD_F, GRAD_F_AT_P, P_SYM, Equals, Partial, Pt, Vec, rich
from ._common import BaseParams, Rejected, at, f_of, gradient, random_form, random_point, variables

PointForm = Literal["polynomial", "exp", "trig"]


class PointParams(BaseParams):
    form: PointForm = Field("polynomial", description="kind of function (one per problem, so a pool is fair); "
                            "exp and trig use points where the answer stays rational")


def fixed_function(fixed, vs):
    return parse_formula(fixed["function"], tuple(str(v) for v in vs))


def setup(rng, params, fixed):
    """(vs, f, P, ∇f, ∇f(P)) honouring any fixed function/point from the lesson.

    Drawn or fixed, ∇f(P) must be nonzero; a drawn one must also be rational and small (a fixed
    one must only keep the lesson's number bounds, checked after drawing like every answer).
    """
    vs = variables(params)
    if fixed and "function" in fixed:
        f = fixed_function(fixed, vs)
    else:
        f = random_form(rng, vs, params.coefficients, params.degree, params.form)
    if fixed and "point" in fixed:
        if len(fixed["point"]) != len(vs):
            raise Rejected(f"the fixed point has {len(fixed['point'])} coordinates but the problem has "
                           f"{len(vs)} variables")
        P = Pt(*[sp.Integer(c) for c in fixed["point"]])
    else:
        P = random_point(rng, params, vs)
    grad = gradient(f, vs)
    g = Vec(*at(grad, vs, P))
    if any(not c.is_finite or not c.is_real for c in g):
        raise Rejected("∇f(P) is not a finite real vector")
    if all(c == 0 for c in g):
        raise Rejected("∇f(P) = 0: no direction to ask about")
    if not fixed:
        if not all(c.is_Rational for c in g):
            raise Rejected("∇f(P) is not rational")
        if max(abs(c) for c in g) > 30:
            raise Rejected("∇f(P) has unteachably large components")
    return vs, f, P, grad, g


def setting(vs, f, P):
    return rich("Let ", Equals(f_of(vs), f), " and ", Equals(P_SYM, P), ".")


def gradient_steps(vs, f, P, grad, g):
    return [
        rich("Partial derivatives: ", *sum(([Equals(Partial(v), c), ", "] for v, c in zip(vs, grad)), [])[:-1],
             ", so ", Equals(GRAD_F, Vec(*grad)), "."),
        rich("At ", Equals(P_SYM, P), ": ", Equals(GRAD_F_AT_P, g), "."),
    ]


def figure(vs, f, P, arrows):
    """A plot spec for 2-variable problems: contours of f, the point, labelled arrows."""
    if len(vs) != 2:
        return None
    return {"function": f, "variables": vs, "point": P, "arrows": arrows}
