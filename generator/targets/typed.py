"""How students type numbers, and what each LMS accepts.

Moodle's and Canvas's numerical graders parse a typed number and compare it with a tolerance;
neither reads a Unicode minus (U+2212) or a fraction. Canvas's fill-in-multiple-blanks items
compare strings instead (after trimming and lower-casing), so every blank lists every reasonable
typing of its value, generated from one grammar (`typings`). Prompts say how to type wherever a
grader is strict (`instructions`), and the rounding rule there matches the tolerance.

The grammar, for a value x asked as an integer or as a decimal rounded to d places:
- digits: for an integer n, "n", "n.0", "n.00"; for a decimal, x correctly rounded to d, d+1
  and d+2 places, each with and without trailing zeros, and without the leading zero of |x| < 1
  (".5"); where x lies exactly halfway, both roundings; and x in full where it ends within 8 places
  (−13/64 as "-0.203125");
- a fraction "p/q" where x is a rational p/q that is not an integer;
- signs: a negative value with "-", "−" (U+2212), "- " or "− " in front; a positive value or zero
  bare or with "+".
"""
from __future__ import annotations

from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from functools import lru_cache

import sympy as sp

EXTRA_PLACES = 2          # a decimal typed to d, d+1 or d+2 places is accepted
EXACT_PLACES = 8          # and a value that ends within 8 places, typed in full (−13/64 as −0.203125)
MINUS_SIGNS = ("-", "\u2212", "- ", "\u2212 ")


def tolerance(form: str, decimals: int) -> float:
    """Absolute tolerance of a numerical grader: half a unit in the last asked place (every
    correct rounding lies within it), or exact for integers."""
    return 0.0 if form == "integer" else 0.5 * 10.0 ** -decimals


@lru_cache(maxsize=1 << 16, typed=True)
def exact_text(value) -> str:
    """The value as a plain decimal a numerical grader parses (no exponent, no fraction)."""
    text = str(int(value)) if getattr(value, "is_Integer", False) else f"{_decimal(value):.10f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@lru_cache(maxsize=1 << 16, typed=True)
def _decimal(value) -> Decimal:
    if getattr(value, "is_Rational", False):
        return Decimal(int(value.p)) / Decimal(int(value.q))
    return Decimal(str(sp.N(value, 40)))


def _digit_forms(magnitude: Decimal, value, form: str, decimals: int) -> set[str]:
    out = set()
    if form == "integer" or (getattr(value, "is_Integer", False)):
        n = int(magnitude)
        if magnitude == n:
            out |= {str(n), f"{n}.0", f"{n}.00"}
    if form == "decimal":
        decimals_typed = set()
        exact = magnitude.normalize()
        if -exact.as_tuple().exponent <= EXACT_PLACES:       # a value that ends: every digit of it
            decimals_typed.add(f"{exact:f}")
        for places in range(decimals, decimals + EXTRA_PLACES + 1):
            quantum = Decimal(1).scaleb(-places)
            for rounding in (ROUND_HALF_UP, ROUND_HALF_DOWN):    # both roundings of an exact tie
                text = str(magnitude.quantize(quantum, rounding=rounding))
                decimals_typed |= {text, text.rstrip("0").rstrip(".") if "." in text else text}
        out |= decimals_typed | {t[1:] for t in decimals_typed if t.startswith("0.")}
    rational = getattr(value, "is_Rational", False) and not getattr(value, "is_Integer", False)
    if rational:
        out.add(f"{abs(value.p)}/{value.q}")
    return {t for t in out if t}


@lru_cache(maxsize=1 << 16, typed=True)
def typings(value, form: str = "decimal", decimals: int = 2) -> tuple[str, ...]:
    """Every reasonable typing of `value` (see the module docstring), sorted."""
    exact = _decimal(value)
    digits = _digit_forms(abs(exact), value, form, decimals)
    out = set()
    negative = exact < 0
    for t in digits:
        zero = t.strip(".0") == "" or set(t) <= {"0", "."}
        if negative and not zero:
            out |= {sign + t for sign in MINUS_SIGNS}
        else:
            out |= {t, "+" + t}
            if negative:                        # rounds to zero: "-0.00" is a fair typing too
                out.add("-" + t)
    return tuple(sorted(out))


def instructions(forms: set[str], decimals: int = 2, boxes: int = 2) -> str:
    """What the prompt tells a student about typing numbers, for the forms the item asks."""
    each = "each number" if boxes > 1 else "the number"
    if forms == {"integer"}:
        return f"Type {each} as a whole number; type minus with the hyphen key (-)."
    example = "-0.25" if decimals == 2 else "-0." + "1" * (decimals - 1) + "5"
    return (f"Type {each} as a decimal rounded to {decimals} places (for example {example}), not as a "
            "fraction; type minus with the hyphen key (-).")
