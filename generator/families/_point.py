"""Shared pieces of the families that ask about f at a point P."""
from __future__ import annotations

from typing import Literal

import sympy as sp
from pydantic import Field

from ..problem import GRAD_F, GRAD_F_AT_P, P_SYM, Equals, Partial, Pt, Vec, rich
from ._common import BaseParams, at, f_of, point_function, variables

PointForm = Literal["polynomial", "exp", "trig"]


class PointParams(BaseParams):
    forms: tuple[PointForm, ...] = Field(("polynomial",), min_length=1,
                                         description="kinds of function; exp and trig use points where the answer stays rational")


def setup(rng, params, fixed, parse):
    """(vs, f, P, ∇f, ∇f(P)) honouring any fixed function/point from the lesson."""
    vs = variables(params)
    if fixed and "function" in fixed:
        f = parse(fixed["function"], tuple(str(v) for v in vs))
        P = Pt(*[sp.Integer(c) for c in fixed["point"]]) if "point" in fixed else None
        if P is None:
            _, P, _, _ = point_function(rng, params, vs)
        grad = Vec(*[sp.diff(f, v) for v in vs])
        g = Vec(*at(grad, vs, P))
        return vs, f, P, grad, g
    f, P, grad, g = point_function(rng, params, vs, params.forms)
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
