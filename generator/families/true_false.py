"""true_false: a statement about a concrete f and P whose truth value is computed."""
from __future__ import annotations

import mpmath
import sympy as sp

from .. import verify as V
from ..problem import GRAD_F_AT_P, Equals, Norm, Problem, Vec, rich
from ._common import d, dot, norm, random_integer_direction
from ._point import PointParams, gradient_steps, setting, setup

KINDS = ("gradient_value", "increases_along", "max_rate", "level_tangent")


class TrueFalseFamily:
    name = "true_false"
    Params = PointParams

    def generate(self, rng, params, fixed=None) -> Problem:
        vs, f, P, grad, g = setup(rng, params, fixed)
        kind = rng.choice(KINDS if len(vs) == 2 else KINDS[:3])
        want_true = rng.random() < 0.5
        steps = gradient_steps(vs, f, P, grad, g)
        if kind == "gradient_value":
            shown = g if want_true else Vec(*reversed(g)) if len(set(g)) > 1 else Vec(*[-c for c in g])
            claim = rich("At P, ", Equals(GRAD_F_AT_P, shown), ".")
            truth = shown == g
            data = {"claimed_gradient": shown}
        elif kind == "increases_along":
            v = random_integer_direction(rng, len(vs))
            if (dot(g, v) > 0) != want_true:
                v = Vec(*[-c for c in v])
            rate = dot(g, v)
            claim = rich("f increases at P when moving in the direction of ", v, ".")
            truth = bool(rate > 0)
            steps.append(rich("∇f(P)·v = ", rate, ", which is ", "positive." if truth else "not positive."))
            data = {"direction": v}
        elif kind == "max_rate":
            true_rate = sp.radsimp(norm(g))
            shown = true_rate if want_true else sum(c**2 for c in g)
            claim = rich("The maximal rate of change of f at P is ", shown, ".")
            truth = shown == true_rate
            steps.append(rich("The maximal rate is ", Equals(Norm(GRAD_F_AT_P), true_rate), "."))
            data = {"claimed_rate": shown}
        else:
            v = Vec(-g[1], g[0]) if want_true else Vec(*g)
            claim = rich("The vector ", v, " is tangent to the level curve of f through P.")
            truth = dot(g, v) == 0
            steps.append(rich("Tangent means perpendicular to ∇f(P): ∇f(P)·v = ", dot(g, v), "."))
            data = {"direction": v}
        steps.append(rich("So the statement is ", "true." if truth else "false."))
        return Problem(
            family=self.name, variables=vs, function=f,
            prompt=setting(vs, f, P) + rich(" True or false: ") + claim,
            answer=bool(truth), answer_kind="boolean", point=P, steps=tuple(steps),
            distractors=(d(not truth, "truth_flipped", "Recompute ∇f(P) and test the claim against it."),),
            data={"statement": kind, "key": kind, **data},
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
            truth = V.limit_directional(fn, P, V.mp_vec(problem.data["direction"])) > tol
        elif kind == "max_rate":
            truth = V.close(mpmath.sqrt(sum(c**2 for c in g)), V.mp(problem.data["claimed_rate"]), tol)
        else:
            truth = abs(V.limit_directional(fn, P, V.mp_vec(problem.data["direction"]))) < tol
        return [V.check("truth_value_recomputed", truth == problem.answer,
                        f"numerically the statement is {truth}; answer says {problem.answer}")]


FAMILY = TrueFalseFamily()
