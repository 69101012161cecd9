"""Can a lesson's own function be used where gen will evaluate it?

A teacher's f may be undefined, complex, infinite or numerically meaningless at the point a
problem uses (1/x at x = 0, sqrt(x) left of 0, 1/(sin²x + cos²x − 1) anywhere). The families and
the independent checks evaluate f at P and just around it (finite differences), so that is where
this looks: in doubles (overflow, domain errors) and with mpmath at two precisions (a value that
changes with the precision is cancellation noise, not a number).

Used for lesson-given values only (fixed instances, mini-project plots): gen's own random
functions are built to be defined everywhere they are used.
"""
from __future__ import annotations

import itertools

import mpmath

from .mathparse import FormulaError, check_magnitude

STEPS = (1e-3, 1e-7)                      # finite-difference reach around P
GRID = (-1.9, -1.1, -0.35, 0.35, 1.1, 1.9)  # where symbolic answers are checked when there is no P
AGREE = mpmath.mpf("1e-18")


def where_unusable(f, variables, point=None, radius=None) -> str | None:
    """Why f cannot be used at `point` (or, without a point, on the region symbolic checks use);
    None when it can. Never raises for a bad f: the reason is the result."""
    coords = [float(c) for c in point] if point is not None else None
    reach = radius if radius is not None else (max(map(abs, coords), default=0) + 1 if coords else 3)
    try:
        check_magnitude(f, reach)
    except FormulaError as exc:
        return str(exc)
    from .verify import float_function, numeric_function
    try:
        as_float = float_function(f, variables)
        as_mp = numeric_function(f, variables)
        as_mp.mp                            # compiled on first use: here, so its errors are caught here
    except (TypeError, ValueError) as exc:
        return f"it cannot be evaluated numerically ({exc})"
    points = [coords] if coords is not None else [list(p) for p in itertools.product(GRID, repeat=len(variables))]
    for p in points:
        around = [p] + [[c + s * h if i == j else c for j, c in enumerate(p)]
                        for i in range(len(p)) for h in STEPS for s in (1, -1)]
        for q in around:
            reason = _float_problem(as_float, q)
            if reason:
                return f"{reason} at {_show(q)}" + ("" if q is p else f", next to P = {_show(p)} where it is differentiated")
        reason = _mp_problem(as_mp, p)
        if reason:
            return f"{reason} at {_show(p)}"
    return None


def _float_problem(fn, q) -> str | None:
    try:
        value = fn(*q)
    except OverflowError:
        return "its value overflows (beyond 10^308)"
    except ZeroDivisionError:
        return "it divides by zero"
    except (ValueError, TypeError):
        return "it is undefined or not a real number"
    if isinstance(value, complex) or value != value or value in (float("inf"), float("-inf")):
        return "it is not a finite real number"
    return None


def _mp_problem(fn, p) -> str | None:
    values = []
    for dps in (30, 60):
        with mpmath.workdps(dps):
            try:
                value = fn(*[mpmath.mpf(c) for c in p])
            except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                return "it is undefined or not a real number"
            if not isinstance(value, mpmath.mpf) or not mpmath.isfinite(value):
                return "it is not a finite real number"
            values.append(value)
    low, high = values
    if abs(low - high) > AGREE * max(1, abs(high)):
        return "its value is cancellation noise (it changes with the working precision)"
    return None


def _show(q) -> str:
    return "(" + ", ".join(f"{c:.10g}" for c in q) + ")"
