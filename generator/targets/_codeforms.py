"""Code forms: how a problem family becomes Python that a student writes and a test cell checks.

One registry, FORMS, keyed by family. `families.CODE_FORMS` names the same families without
importing SymPy, so `gen validate` can refuse a coding challenge whose family has no code form
(tests/test_notebook.py keeps the two in step).

A form reads as little of a Problem as it can (function, variables, point, direction, and for
descent data["eta"], data["steps"]) and computes everything else itself: sample points, expected
gradients and rates, iterates, the convergence verdict and the minimiser. Each value a test cell
checks is computed with SymPy and confirmed by verify.py's numeric route (finite differences, the
limit definition, iteration with numeric gradients), which never calls sympy.diff; a disagreement
is a VerificationError like any failed answer.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp

from .. import verify as V
from ..errors import GenerationError, VerificationError
from ..problem import Problem

TOL = mpmath.mpf("1e-10")                       # SymPy value vs numeric route
GRID = [sp.Rational(k, 2) for k in range(-4, 5) if k]   # test points: ±1/2 … ±2, never 0
DIRECTIONS = {2: [(3, 4), (1, -2), (-2, 1), (2, 2), (-1, 3), (4, -3)],
              3: [(1, 2, 2), (2, -1, 2), (1, 1, 1), (-2, 1, 2), (2, 2, -1)]}
SHORT_RUN = 10                                  # a hidden test also checks a 10-step run from x0
VISIBLE_RUN = 5                                 # the visible test runs 5 steps from another start
NICE_STEPS = (200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
SETTLED = 1e-11                                 # a converging run has stopped moving (floats)
NUMERIC_RUN = 1000                              # most steps the mpmath route iterates
HUGE = mpmath.mpf("1e15")                       # iterates this large have diverged


@dataclass(frozen=True)
class CellPlan:
    kind: str            # markdown | code
    role: str            # prompt | given | solution | test | plot
    macro: str           # the macro in templates/notebook/<form>.j2 that writes it
    share: float = 0.0   # of the task's points, for test cells


@dataclass
class Task:
    key: str             # identity of its cells, e.g. "q8-a"
    where: str           # for messages: "exercise 1.2.32.2, problem a, variant 1, seed …"
    problem: Problem
    letter: str          # the function's name in the notebook: f, g, h, L, …
    points: float
    form: Any = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


# --- small exact and numeric helpers ------------------------------------------------------------

def _at(expr, vs, point):
    return expr.xreplace(dict(zip(vs, point)))


def _real(value) -> bool:
    n = sp.N(value, 30)
    return bool(n.is_Number and n.is_real and n.is_finite) and abs(n) < 1e6


def _confirm(ok: bool, task: Task, what: str, detail: str) -> None:
    if not ok:
        raise VerificationError(
            f"a notebook test value failed independent verification for {task.where}: {what} ({detail}). "
            "Nothing was written.", fix="this is a bug in gen; please report it with the command you ran.")


def _numeric(task: Task, compute):
    """Run the numeric route; an exception there is a failed verification, not a crash."""
    try:
        return compute()
    except (ArithmeticError, ValueError, TypeError) as exc:
        _confirm(False, task, "the numeric route could not evaluate f", f"{type(exc).__name__}: {exc}")


def gradient_exprs(problem: Problem) -> list:
    return [sp.diff(problem.function, v) for v in problem.variables]


def partial_labels(letter: str, vs) -> list[str]:
    return [f"∂{letter}/∂{v}" for v in vs]


def sample_points(task: Task, count: int, avoid=(), keep=lambda grad_at: True) -> list[tuple]:
    """Points from a grid of halves where f and ∇f are real and moderate (and `keep` accepts ∇f
    there), chosen by a seed hashed from the task's identity (so the same build gives the same
    points)."""
    p = task.problem
    vs, grad = p.variables, gradient_exprs(p)
    rng = random.Random(f"gen-notebook|{task.where}|points")
    found: list[tuple] = []
    for _ in range(400):
        point = tuple(rng.choice(GRID) for _ in vs)
        if point in found or point in avoid:
            continue
        at = [_at(g, vs, point) for g in grad]
        if _real(_at(p.function, vs, point)) and all(_real(g) for g in at) and keep(at):
            found.append(point)
            if len(found) == count:
                return found
    raise GenerationError(f"the notebook found no {count} test points where f = {p.function} and its gradient "
                          f"are defined ({task.where}).",
                          fix="use a function that is defined on most of the square [-2, 2]² (or [-2, 2]³).")


def verified_gradient(task: Task, point) -> tuple:
    """∇f(point) with SymPy, confirmed by mpmath finite differences."""
    p = task.problem
    exact = [_at(g, p.variables, point) for g in gradient_exprs(p)]
    fn = V.numeric_function(p.function, p.variables)
    num = _numeric(task, lambda: V.numeric_gradient(fn, V.mp_vec(point)))
    want = V.mp_vec(exact)
    _confirm(V.close(num, want, TOL), task, f"∇f at {point}", f"SymPy {V.fmt(want)}, finite differences {V.fmt(num)}")
    return tuple(exact)


# --- the forms ----------------------------------------------------------------------------------

class GradientForm:
    """Symbolic ∇f → a Python function grad_<f>(x, y) checked at several points."""
    template = "gradient"
    letter = None        # a preferred function name (descent: L, the loss)

    def cells_for(self, values) -> list[CellPlan]:
        return [CellPlan("markdown", "prompt", "prompt"), CellPlan("code", "given", "given"),
                CellPlan("code", "solution", "solution"), CellPlan("code", "test", "test", 1.0)]

    def names(self, letter, taken):
        return {"f": letter, "grad": f"grad_{letter}"}

    def values(self, task: Task) -> dict:
        p = task.problem
        points = sample_points(task, 4)
        return {"cases": [(pt, verified_gradient(task, pt)) for pt in points],
                "gradient": gradient_exprs(p)}


class AtPointForm(GradientForm):
    """∇f(P) → grad_<f>(x, y) plus the value grad_<f>_at_P."""
    template = "at_point"

    def names(self, letter, taken):
        return {"f": letter, "grad": f"grad_{letter}", "value": f"grad_{letter}_at_P"}

    def values(self, task: Task) -> dict:
        p = task.problem
        P = tuple(p.point)
        # The exercise's own answer ∇f(P) is checked by a hidden test, so the notebook does not print it
        # (unless f is linear: then every point has that gradient).
        at_P = verified_gradient(task, P)
        try:
            others = sample_points(task, 3, avoid=(P,), keep=lambda g: tuple(g) != at_P)
        except GenerationError:
            others = sample_points(task, 3, avoid=(P,))
        return {"P": P, "at_P": at_P, "cases": [(pt, verified_gradient(task, pt)) for pt in others],
                "hidden": [(P, at_P)], "gradient": gradient_exprs(p)}


class DirectionalForm(GradientForm):
    """D_u f(P) → directional_<f>(P, v) for any point and any (not necessarily unit) direction."""
    template = "directional"

    def names(self, letter, taken):
        return {"f": letter, "grad": f"grad_{letter}", "rate": f"directional_{letter}"}

    def values(self, task: Task) -> dict:
        p = task.problem
        vs = p.variables
        P = tuple(p.point)
        given = p.direction
        v = tuple(given) if isinstance(given, (tuple, sp.Tuple)) else (sp.cos(given), sp.sin(given))
        # The exercise's own rate D_u f(P) is checked by a hidden test, so the notebook never prints it.
        own = self._rate(task, P, v)
        rng = random.Random(f"gen-notebook|{task.where}|directions")
        cases = []
        pool = list(DIRECTIONS[len(vs)])
        for pt in sample_points(task, 6, avoid=(P,)):
            d = pool.pop(rng.randrange(len(pool)))
            rate = self._rate(task, pt, d)
            if abs(float(rate)) >= 0.1 and abs(float(rate - own)) > 1e-9:   # a sign slip must show
                cases.append((pt, d, rate))
            if len(cases) == 3 or not pool:
                break
        return {"P": P, "v": v, "angle": None if isinstance(given, (tuple, sp.Tuple)) else given,
                "cases": cases, "hidden": [(P, v, own)], "gradient": gradient_exprs(p)}

    @staticmethod
    def _rate(task: Task, point, direction):
        """∇f(point)·v/|v| with SymPy, confirmed by the limit definition d/dt f(point + t·u) at 0."""
        p = task.problem
        g = [_at(e, p.variables, point) for e in gradient_exprs(p)]
        length = sp.sqrt(sum(sp.sympify(c) ** 2 for c in direction))
        exact = sp.radsimp(sum(a * b for a, b in zip(g, direction)) / length)
        fn = V.numeric_function(p.function, p.variables)
        raw = V.mp_vec(direction)
        norm = mpmath.sqrt(sum(c ** 2 for c in raw))
        num = _numeric(task, lambda: V.limit_directional(fn, V.mp_vec(point), [c / norm for c in raw]))
        _confirm(V.close(num, V.mp(exact), TOL), task, f"the rate at {point} along {direction}",
                 f"SymPy {V.fmt(V.mp(exact))}, limit definition {V.fmt(num)}")
        return exact


@dataclass(frozen=True)
class Convergence:
    start: tuple
    steps: int           # how many steps the question runs
    converges: bool
    limit: tuple | None


class DescentForm(GradientForm):
    """Gradient descent → grad_L and a loop descend(x0, eta, steps) returning every iterate, its path
    over the contour plot, and a convergence question for the given η."""
    template = "descent"
    letter = "L"         # the loss

    def names(self, letter, taken):
        def free(name):
            return name if name not in taken else f"{name}_{letter}"
        return {"f": letter, "grad": f"grad_{letter}", "descend": free("descend"),
                "converges": free("converges"), "limit": free("limit_point")}

    def cells_for(self, values):
        two_d = len(values["x0"]) == 2
        question = values["question"] is not None
        out = [CellPlan("markdown", "prompt", "prompt"), CellPlan("code", "given", "given"),
               CellPlan("code", "solution", "solution"), CellPlan("code", "test", "test", 0.5 if question else 1.0)]
        if two_d:
            out.append(CellPlan("code", "plot", "plot"))
        if question:
            out += [CellPlan("markdown", "prompt", "question"), CellPlan("code", "solution", "answer"),
                    CellPlan("code", "test", "answer_test", 0.5)]
        return out

    def values(self, task: Task) -> dict:
        p = task.problem
        x0 = tuple(p.point)
        eta = sp.sympify(p.data["eta"])
        steps = int(p.data["steps"])
        grad = gradient_exprs(p)
        # Visible: a run from another start. Hidden: the exercise's own run (its x_n is the answer) and
        # a longer one from x0.
        [start] = sample_points(task, 1, avoid=(x0,), keep=lambda g: any(c != 0 for c in g))
        longest = self._verified_path(task, grad, x0, eta, max(steps, SHORT_RUN))
        return {"x0": x0, "eta": eta, "gradient": grad,
                "cases": [(start, eta, VISIBLE_RUN, self._verified_path(task, grad, start, eta, VISIBLE_RUN))],
                "hidden": [(x0, eta, n, longest[:n + 1]) for n in sorted({steps, SHORT_RUN})],
                "question": self._question(task, x0, eta)}

    def _verified_path(self, task, grad, start, eta, n):
        """x_0 … x_n exactly, confirmed step by step by descent with finite-difference gradients."""
        vs = task.problem.variables
        exact = self._exact_path(grad, vs, start, eta, n)
        numeric = self._numeric_path(task, start, eta, n)
        _confirm(len(numeric) == len(exact), task, f"the descent run from {start}", "the numeric iterates blew up")
        for k, (want, num) in enumerate(zip(exact, numeric)):
            _confirm(V.close(num, V.mp_vec(want), mpmath.mpf("1e-9")), task, f"descent iterate {k} from {start}",
                     f"SymPy {V.fmt(V.mp_vec(want))}, numeric gradients {V.fmt(num)}")
        return exact

    @staticmethod
    def _exact_path(grad, vs, x0, eta, n):
        path = [tuple(x0)]
        for _ in range(n):
            x = path[-1]
            path.append(tuple(c - eta * _at(g, vs, x) for c, g in zip(x, grad)))
        return path

    @staticmethod
    def _numeric_path(task, x0, eta, n):
        """Iterates with finite-difference gradients; stops early once they are huge (finite
        differences lose their digits there, and the run has plainly diverged)."""
        fn = V.numeric_function(task.problem.function, task.problem.variables)
        x, rate = V.mp_vec(x0), V.mp(eta)
        path = [x]
        for _ in range(n):
            g = _numeric(task, lambda: V.numeric_gradient(fn, x))
            x = [a - rate * b for a, b in zip(x, g)]
            path.append(x)
            if max(abs(c) for c in x) > HUGE:
                break
        return path

    # The convergence question -------------------------------------------------------------------

    def _question(self, task: Task, x0, eta) -> Convergence | None:
        """Does descent converge for this η, and where to? Only for quadratics (and linear f),
        where the answer is exact: the update is affine, x ← Mx − ηb with M = I − ηA."""
        p = task.problem
        vs = p.variables
        try:
            poly = sp.Poly(p.function, *vs)
        except sp.PolynomialError:
            return None
        if poly.total_degree() > 2 or not all(c.is_Rational for c in poly.coeffs()):
            return None
        A = sp.hessian(p.function, vs)
        b = sp.Matrix([_at(g, vs, [0] * len(vs)) for g in gradient_exprs(p)])
        M = sp.eye(len(vs)) - eta * A
        shifts = [tuple(int(i == j) for j in range(len(vs))) for i in range(len(vs))] + [(1,) * len(vs)]
        for start in [x0] + [tuple(a + s for a, s in zip(x0, shift)) for shift in shifts]:
            verdict = self._verdict(A, b, M, sp.Matrix(start))
            if verdict is not None:
                converges, limit = verdict
                steps = self._steps(task, A, b, eta, start, limit)
                return self._confirmed(task, Convergence(start, steps, converges, limit))
        return None

    @staticmethod
    def _verdict(A, b, M, start):
        """(converges, limit), or None when the answer would hang on roundoff (the start lies
        exactly on the stable set of a saddle, so floats drift off it).

        The gradients obey g_{k+1} = M g_k, so x_k = x_0 − η Σ M^j g_0 converges exactly when every
        eigenvalue μ of M that g_0 excites has |μ| < 1. Those eigenvalues are the roots of the
        minimal polynomial of g_0 under M, found from the first linear dependence among
        g_0, M g_0, M² g_0, … (M is symmetric, so its roots are real and simple)."""
        mu = sp.Symbol("mu")
        g0 = A * start + b
        if all(c == 0 for c in g0):
            return True, tuple(start)
        krylov = [g0]
        while sp.Matrix.hstack(*krylov, M * krylov[-1]).rank() > len(krylov):
            krylov.append(M * krylov[-1])
        K = sp.Matrix.hstack(*krylov)
        coeffs = list(sp.linsolve((K, M * krylov[-1]), *sp.symbols(f"c0:{len(krylov)}")))[0]
        minimal = sp.Poly(mu ** len(krylov) - sum(c * mu ** j for j, c in enumerate(coeffs)), mu)
        stable = (minimal.eval(1) != 0 and minimal.eval(-1) != 0
                  and minimal.count_roots(-1, 1) == minimal.degree())
        if not stable:
            return False, None
        full = sp.Poly((M - mu * sp.eye(M.shape[0])).det(), mu).sqf_part()   # each eigenvalue once
        if full.eval(1) == 0:                    # directions where f is flat are harmless
            full = sp.quo(full, sp.Poly(mu - 1, mu))
        if full.eval(-1) == 0 or full.count_roots(-1, 1) < full.degree():
            return None
        c = sp.symbols(f"c0:{K.shape[1]}")
        solution = list(sp.linsolve((A * K, -g0), *c))[0]
        limit = start + K * sp.Matrix(solution)
        return True, tuple(sp.simplify(e) for e in limit)

    @staticmethod
    def _steps(task, A, b, eta, start, limit) -> int:
        """How many steps the question runs: enough for a converging run to stop moving in floats;
        for a diverging one 200, fewer if the iterates would overflow a float by then."""
        n = len(start)
        a = [[float(A[i, j]) for j in range(n)] for i in range(n)]
        bf, h = [float(c) for c in b], float(eta)
        x, previous = [float(c) for c in start], None
        for k in range(1, NICE_STEPS[-1] + 1):
            previous = x
            x = [x[i] - h * (sum(a[i][j] * x[j] for j in range(n)) + bf[i]) for i in range(n)]
            size = max(abs(c) for c in x)
            if limit is None:
                if size > 1e100 or not math.isfinite(size):
                    return max(10, (k - 1) // 10 * 10)
                if k == NICE_STEPS[0]:
                    return k
            elif k in NICE_STEPS and math.dist(x, previous) < SETTLED:
                return k
        raise GenerationError(f"gradient descent on f = {task.problem.function} with η = {eta} converges too "
                              f"slowly for a notebook to show it: it has not settled after {NICE_STEPS[-1]} steps "
                              f"({task.where}).",
                              fix="use a larger learning rate or a better-conditioned function.")

    def _confirmed(self, task: Task, q: Convergence) -> Convergence:
        """The numeric route: iterate with finite-difference gradients and look at what it does."""
        fn = V.numeric_function(task.problem.function, task.problem.variables)
        path = self._numeric_path(task, q.start, task.problem.data["eta"], min(q.steps, NUMERIC_RUN))
        last = mpmath.sqrt(sum((a - b) ** 2 for a, b in zip(path[-1], path[-2])))
        if not q.converges:
            _confirm(last > mpmath.mpf("1e-6"), task, "the claim that descent does not converge",
                     f"after {len(path) - 1} numeric steps the last step was only {V.fmt(last)}")
            return q
        limit = V.mp_vec(q.limit)
        flat = _numeric(task, lambda: V.numeric_gradient(fn, limit))
        _confirm(V.close(flat, [0] * len(limit), TOL), task, "the limit of descent",
                 f"finite differences give ∇f = {V.fmt(flat)} there, not 0")
        distance = [mpmath.sqrt(sum((a - b) ** 2 for a, b in zip(x, limit))) for x in path]
        if q.steps <= NUMERIC_RUN:
            ok = distance[-1] <= mpmath.mpf("1e-9") * max(1, mpmath.sqrt(sum(c ** 2 for c in limit)))
        else:
            ok = distance[-1] < distance[len(distance) // 2] < distance[0]
        _confirm(ok, task, "the claim that descent converges",
                 f"after {len(path) - 1} numeric steps the distance to the limit is {V.fmt(distance[-1])}")
        return q


FORMS = {
    "gradient": GradientForm(),
    "gradient_at_point": AtPointForm(),
    "directional_derivative": DirectionalForm(),
    "gradient_descent_step": DescentForm(),
}


def cells_of(task: Task) -> list[CellPlan]:
    return task.form.cells_for(task.values)
