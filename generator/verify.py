"""Independent checks. SymPy computed every answer; these confirm them another way.

The second route is numeric: f is compiled from its own tree (never its derivative) and
evaluated. Partial derivatives and the limit definition d/dt f(P + t·u) at t = 0 are taken by
the complex step, Im f(P + i·h·e) / h with h = 1e-20: no difference of nearby values, so no
cancellation, and with h that small the truncation error (h²·f‴/6) is far below float64's
rounding; the rounding error is a few ulps of the largest term, which the 1e-10 tolerances
leave room for. Where a check decides by a threshold (a rate that must be zero, a sign), the
derivatives are taken at 30 digits instead, by mpmath's finite differences (`precise=True`);
and if any float64 check fails, the problem's checks are all run again at 30 digits before
they are believed. Values of f, norms and dot products are mpmath at 30 digits. None of it
calls sympy.diff or shares code with the symbolic route, so a mistake there cannot confirm
itself.
"""
from __future__ import annotations

import cmath
import decimal
import math
import random

import mpmath
import sympy as sp

from .problem import Check, Problem, Verified

mpmath.mp.dps = 30
TOL = mpmath.mpf("1e-12")


_MP_FUNCS = {sp.exp: mpmath.exp, sp.sin: mpmath.sin, sp.cos: mpmath.cos, sp.tan: mpmath.tan,
             sp.log: mpmath.log}


_FLOAT_FUNCS = {sp.exp: math.exp, sp.sin: math.sin, sp.cos: math.cos, sp.tan: math.tan, sp.log: math.log}


def _compile(f, vs, funcs, const, total, power):
    """f as a callable, compiled by walking f's own tree (never its derivative).

    Cheaper than lambdify (no code printing and exec per problem), and it shares no code with the
    symbolic differentiation it checks.
    """
    index = {v: i for i, v in enumerate(vs)}

    def build(e):
        if e in index:
            i = index[e]
            return lambda args: args[i]
        if e.is_number:
            c = const(e)
            return lambda args: c
        parts = [build(a) for a in e.args]
        if e.is_Add:
            return lambda args: total(p(args) for p in parts)
        if e.is_Mul:
            def product(args):
                out = 1
                for p in parts:
                    out = out * p(args)
                return out
            return product
        if e.is_Pow:
            base, exponent = parts
            return lambda args: power(base(args), exponent(args))
        if e.func in funcs and len(parts) == 1:
            fn, (inner,) = funcs[e.func], parts
            return lambda args: fn(inner(args))
        raise TypeError(f"cannot evaluate {e.func.__name__} numerically")

    compiled = build(sp.sympify(f))
    return lambda *args: compiled(args)


_COMPLEX_FUNCS = {sp.exp: cmath.exp, sp.sin: cmath.sin, sp.cos: cmath.cos, sp.tan: cmath.tan, sp.log: cmath.log}


def _complex_power(base, exponent):
    # Integer exponents by repeated multiplication (CPython's complex power does that for
    # integral exponents up to 100), others through exp and log, which keep a tiny imaginary
    # part accurate where pow's polar form would lose it in cos(2π − ε).
    if isinstance(exponent, int):
        return base ** exponent
    return cmath.exp(exponent * cmath.log(base))


def _complex_constant(e):
    return int(e) if e.is_Integer else float(e)


class Numeric:
    """f compiled from its own tree twice, each on first use: an mpmath callable (30 digits;
    calling the object calls it) and a complex float64 one for complex-step derivatives. Many
    checks need only one of them (a gradient's f only its complex steps)."""

    def __init__(self, f, vs):
        self.f, self.vs = f, vs
        self._mp = self._complex = None

    @property
    def mp(self):
        if self._mp is None:
            self._mp = _compile(self.f, self.vs, _MP_FUNCS,
                                lambda e: mpmath.mpf(e.p) / e.q if e.is_Rational else mp(e), mpmath.fsum, mpmath.power)
        return self._mp

    def __call__(self, *args):
        return self.mp(*args)

    def complex(self, *args):
        if self._complex is None:
            self._complex = _compile(self.f, self.vs, _COMPLEX_FUNCS, _complex_constant, sum, _complex_power)
        return self._complex(*args)


def numeric_function(f, vs) -> Numeric:
    """f as an mpmath callable (30 digits), for the independent checks; see Numeric."""
    return Numeric(f, vs)


def float_function(f, vs):
    """f as a float callable, for quick comparisons (distractor vs answer)."""
    return _compile(f, vs, _FLOAT_FUNCS, float, math.fsum, math.pow)


def mp(value) -> mpmath.mpf:
    """A SymPy number at 30 digits: from its own tree where that holds only rationals, powers,
    π, e and the elementary functions (a surd like 3√2/2, an angle's cosine), else through SymPy's
    evalf at 40 digits and a decimal string (46–51 µs against 7–9 for a surd)."""
    value = sp.sympify(value)
    if value.is_Rational:
        return mpmath.mpf(value.p) / value.q
    try:
        out = _mp_number(value)
    except (_NotReal, ArithmeticError, ValueError):
        out = None
    return out if isinstance(out, mpmath.mpf) else mpmath.mpf(str(sp.N(value, 40)))


class _NotReal(Exception):
    pass


def _mp_number(e):
    if e.is_Rational:
        return mpmath.mpf(e.p) / e.q
    if e is sp.pi:
        return +mpmath.pi
    if e is sp.E:
        return +mpmath.e
    if e.is_Add:
        return mpmath.fsum(_mp_number(a) for a in e.args)
    if e.is_Mul:
        out = mpmath.mpf(1)
        for a in e.args:
            out *= _mp_number(a)
        return out
    if e.is_Pow:
        base = _mp_number(e.base)
        if e.exp is sp.S.Half and base >= 0:
            return mpmath.sqrt(base)
        if e.exp.is_Integer:
            return base ** int(e.exp)
        if base > 0:
            return mpmath.power(base, _mp_number(e.exp))
        raise _NotReal
    if e.func in _MP_FUNCS and len(e.args) == 1:
        arg = _mp_number(e.args[0])
        if e.func is sp.log and arg <= 0:
            raise _NotReal
        return _MP_FUNCS[e.func](arg)
    raise _NotReal


def mp_vec(values) -> list:
    return [mp(v) for v in values]


STEP = 1e-20                 # the complex step h


class NeedsPrecision(Exception):
    """The float64 route cannot evaluate f here (overflow, a branch point): use 30 digits."""


_PRECISE = [False]           # set while verify() re-runs a problem's checks at 30 digits


def _complex_value(fn, point, direction=None) -> complex:
    """f(point + i·h·direction) by its complex float64 callable (at the real point without a
    direction); NeedsPrecision where float64 cannot evaluate it."""
    steps = [0.0] * len(point) if direction is None else [STEP * float(c) for c in direction]
    try:
        return fn.complex(*[complex(float(p), s) for p, s in zip(point, steps)])
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise NeedsPrecision(str(exc)) from None


def _complex_step(fn, point, direction) -> float:
    """d/dt f(point + t·direction) at t = 0, as Im f(point + i·h·direction) / h."""
    value = _complex_value(fn, point, direction)
    out = value.imag / STEP
    if not math.isfinite(out) or not math.isfinite(value.real):
        raise NeedsPrecision("not finite")
    return out


def numeric_gradient(fn, point, precise=False) -> list:
    """∂f/∂v at the point for each variable: by the complex step, or (precise, or while verify()
    re-checks a problem) by mpmath's finite differences at 30 digits."""
    n = len(point)
    if not (precise or _PRECISE[0]) and isinstance(fn, Numeric):
        return [_complex_step(fn, point, [int(i == j) for j in range(n)]) for i in range(n)]
    point = [mpmath.mpf(p) for p in point]
    return [mpmath.diff(fn, point, tuple(int(i == j) for j in range(n))) for i in range(n)]


def limit_directional(fn, point, u, precise=False):
    """d/dt f(P + t·u) at t = 0: by the complex step, or at 30 digits (see numeric_gradient)."""
    if not (precise or _PRECISE[0]) and isinstance(fn, Numeric):
        return _complex_step(fn, point, u)
    point = [mpmath.mpf(p) for p in point]
    return mpmath.diff(lambda t: fn(*[p + t * c for p, c in zip(point, u)]), 0)


def value_at(fn: Numeric, point):
    """f at the point: in float64 (its complex callable, at a real point), or at 30 digits while
    verify() re-checks a problem. A claimed derivative is compared with a complex step to 1e-10;
    float64's rounding is a few ulps, and a failed float check is re-run at 30 digits anyway."""
    if _PRECISE[0]:
        return fn(*[mpmath.mpf(p) for p in point])
    value = _complex_value(fn, point)
    if value.imag or not math.isfinite(value.real):       # off the real line (log of a negative)
        raise NeedsPrecision("not a finite real number")
    return float(value.real)                               # a constant compiles to an int


def derivative_route() -> str:
    """How the checks now running take derivatives, for their details."""
    return "finite differences" if _PRECISE[0] else "complex step"


def close(a, b, tol=TOL) -> bool:
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    if type(a) is float and type(b) is float:       # two float64 routes: no mpmath conversions
        return abs(a - b) <= float(tol) * max(1.0, abs(b))
    return abs(a - b) <= tol * max(1, abs(b))


def fmt(values) -> str:
    """Numbers for a check's detail, as mpmath.nstr(value, 12) writes them."""
    if isinstance(values, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in values) + "]"
    if isinstance(values, float) and math.isfinite(values) and values:
        return _twelve_digits(values)
    if isinstance(values, mpmath.mpf) and values._mpf_[1] and values._mpf_[3] <= 53 \
            and -1000 < values._mpf_[2] < 900:
        return _twelve_digits(float(values))       # a float's 53 bits: float() is exact
    return mpmath.nstr(mpmath.mpf(values) if isinstance(values, float) else values, 12)


_HALF_UP_12 = decimal.Context(prec=12, rounding=decimal.ROUND_HALF_UP, Emin=-9999, Emax=9999)


def _twelve_digits(x: float) -> str:
    """mpmath.nstr(mpmath.mpf(x), 12) for a finite nonzero float, in 1.4 µs instead of 3.6 (the
    details of a problem's checks print 10 to 30 numbers).
    For a number of at most 53 bits, nstr takes exact decimal digits and rounds them half up to 12,
    then writes fixed point when the leading digit's exponent is in (-5, 12), else d.ddde±n, without
    trailing zeros. Python's "%.11e" rounds the exact value too, half to even: the two differ only
    on an exact tie, whose 13-digit form ends in 5 and which Decimal then rounds half up.
    tests/test_verify.py compares the two on 60,000 numbers, ties and window edges included."""
    if ("%.12e" % x).partition("e")[0][-1] == "5":     # maybe a tie
        sign, digits, exponent = _HALF_UP_12.plus(decimal.Decimal(x)).as_tuple()
        text = "".join(map(str, digits)).rstrip("0") or "0"
        lead = exponent + len(digits) - 1          # the leading digit's power of ten
        negative = bool(sign)
    else:
        mantissa, _, power = ("%.11e" % x).partition("e")
        negative = mantissa[0] == "-"
        mantissa = mantissa.lstrip("-")
        text = (mantissa[0] + mantissa[2:]).rstrip("0") or "0"
        lead = int(power)
    if -5 < lead < 12:
        if lead < 0:
            text = "0." + "0" * (-lead - 1) + text
        else:
            text = text.ljust(lead + 1, "0")
            text = text[:lead + 1] + "." + (text[lead + 1:] or "0")
        return ("-" if negative else "") + text
    return ("-" if negative else "") + text[0] + "." + (text[1:] or "0") + ("e+" if lead > 0 else "e") + str(lead)


def check(name, passed, detail) -> Check:
    return Check(name, bool(passed), detail)


def unit_check(u) -> Check:
    length = mpmath.sqrt(sum(c**2 for c in mp_vec(u)))
    return check("unit_length", close(length, 1), f"|u| = {fmt(length)}")


def random_points(seed_text: str, n: int, count: int, lo=-2.0, hi=2.0) -> list[list[float]]:
    """Points drawn from the text; floats (the complex step takes them as they are, and mpmath
    converts them exactly where a check runs at 30 digits)."""
    rng = random.Random(seed_text)
    return [[rng.uniform(lo, hi) for _ in range(n)] for _ in range(count)]


def gradient_at_check(problem: Problem, claimed, point, name="gradient_at_point") -> Check:
    fn = numeric_function(problem.function, problem.variables)
    num = numeric_gradient(fn, [mp(p) for p in point])
    want = mp_vec(claimed)
    return check(name, close(num, want, mpmath.mpf("1e-10")),
                 f"{derivative_route()} {fmt(num)} vs answer {fmt(want)}")


def distractor_checks(problem: Problem) -> list[Check]:
    """Every distractor is wrong under its part's own equivalence: typed numbers are more than two
    rounding tolerances from the answer, an unordered pair differs as a set, an expression differs
    at sample points, a choice is another option."""
    from .families._common import _close, _equivalence_key, as_float, sampler, typed_tolerance
    out = []
    for part in problem.parts:
        for i, dist in enumerate(part.distractors):
            name = f"{part.name}_distractor_{i}_{dist.misconception}_is_wrong"
            if part.kind in ("number", "vector"):
                a = [as_float(part.answer)] if part.kind == "number" else [as_float(c) for c in part.answer]
                b = [as_float(dist.value)] if part.kind == "number" else [as_float(c) for c in dist.value]
                gap = max(abs(x - y) for x, y in zip(a, b))
                out.append(check(name, gap > 2 * typed_tolerance(part.decimals),
                                 f"largest component gap {gap:.6g} > {2 * typed_tolerance(part.decimals):g}"))
            elif part.kind == "choice" and part.options is not None or part.kind == "boolean":
                out.append(check(name, dist.value != part.answer, f"option {dist.value} vs answer {part.answer}"))
            else:
                key = _equivalence_key(part.equivalence,
                                       sampler(problem.variables) if part.equivalence == "sampled" else None)
                same = _close(key(dist.value), key(part.answer), 1e-6)
                out.append(check(name, not same, f"differs from the answer under '{part.equivalence}' equivalence"))
    return out


def verify(problem: Problem, family) -> Verified:
    try:
        checks = list(family.verify(problem))
    except NeedsPrecision:
        checks = None
    if checks is None or not all(c.passed for c in checks):
        _PRECISE[0] = True
        try:
            checks = list(family.verify(problem))
        finally:
            _PRECISE[0] = False
    return Verified(problem, tuple(checks + distractor_checks(problem)))
