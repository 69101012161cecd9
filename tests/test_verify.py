"""verify.fmt writes a check's numbers as mpmath.nstr(value, 12) does, by a faster route for the
floats (and float-sized mpfs) that most checks print; the details in the manifest are unchanged."""
import random
import struct

import mpmath
import pytest

from generator.verify import _twelve_digits, fmt


def _nstr(x) -> str:
    return mpmath.nstr(mpmath.mpf(x), 12)


def _numbers():
    rng = random.Random(20261203)
    out = [1.0, 0.5, 0.1, 1 / 3, 2 / 3, 2.5, 1e-5, 1.5e-5, 9.99999999999e-6, 1e-4, 1e11, 1e12, 1e22,
           999999999999.5, 999999999999.4, 99999999999.95, 0.9999999999995, 0.999999999999949,
           1234567890125.0, 1234567890135.0, 123456789012.5, 12345678901.25, 1.0000000000005,
           5e-324, 1.7976931348623157e308, 2.0 ** -40, 2.0 ** 60]
    for e in range(-30, 30):                     # both sides of the fixed-point window (-5, 12)
        for m in (1, 5, 9.5, 1.25, 9.999999999995, 1.2345678901235):
            out.append(m * 10.0 ** e)
    for k in range(-40, 60):                     # dyadic numbers: the ones with exact ties
        out += [j * 2.0 ** k for j in range(1, 60, 7)]
    for _ in range(15000):
        out.append(rng.uniform(-10, 10) * 10.0 ** rng.randint(-12, 14))
        out.append(rng.randint(-10 ** 13, 10 ** 13) * 5 / 10 ** rng.randint(0, 3))   # ties at digit 13
        x = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        if x == x and abs(x) != float("inf") and x != 0:
            out.append(x)
    return [x for x in out for x in (x, -x)]


def test_twelve_digits_is_mpmaths_nstr():
    wrong = [(x, _twelve_digits(x), _nstr(x)) for x in _numbers() if _twelve_digits(x) != _nstr(x)]
    assert not wrong, wrong[:5]


@pytest.mark.parametrize("value", [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 3, -7,
                                   mpmath.mpf(1) / 3, mpmath.mpf("1e-40"), mpmath.mpf(2) ** 2000,
                                   mpmath.mpf(0), mpmath.mpf(0.1), mpmath.mpf(-12.5)])
def test_fmt_of_other_numbers_is_nstr(value):
    assert fmt(value) == mpmath.nstr(mpmath.mpf(value) if isinstance(value, float) else value, 12)


def test_fmt_of_a_list():
    assert fmt([0.25, mpmath.mpf(1) / 3, [1e-7, 2]]) == "[0.25, 0.333333333333, [1.0e-7, 2]]"


def test_mp_from_the_tree_agrees_with_evalf_at_40_digits():
    import sympy as sp

    from generator.verify import _mp_number, mp
    rng = random.Random(7)
    values = [sp.sqrt(2), -3 * sp.sqrt(5) / 7, sp.sqrt(sp.Rational(3, 11)), sp.cos(sp.pi / 6), sp.sin(5 * sp.pi / 4),
              sp.pi / 3, sp.E ** 2, sp.exp(-sp.Rational(1, 3)), sp.log(7), 2 ** sp.Rational(1, 3), sp.sqrt(2) + sp.sqrt(3),
              1 / (1 + sp.sqrt(5)), sp.tan(sp.Rational(2, 5)), sp.Integer(3) ** -2]
    for _ in range(300):
        c, k, m = sp.Rational(rng.randint(-90, 90), rng.randint(1, 40)), rng.randint(2, 300), rng.randint(2, 50)
        values += [c * sp.sqrt(k), c / sp.sqrt(k) + sp.sqrt(m), sp.sqrt(sp.Rational(k, m)) * c, c * sp.cos(c),
                   sp.exp(c / 10) - c, sp.log(k) * c]
    for v in values:
        fast = _mp_number(v)
        assert isinstance(fast, mpmath.mpf), v
        slow = mpmath.mpf(str(sp.N(v, 40)))
        assert abs(fast - slow) <= mpmath.mpf("1e-27") * max(1, abs(slow)), v
        assert mp(v) == fast
    # what the tree cannot give as a real number still goes through evalf
    assert mp(sp.sqrt(-4) * sp.I) == -2
    assert mp(sp.Rational(-8, 27) ** sp.Rational(1, 3) * 0 + sp.sqrt(2)) == _mp_number(sp.sqrt(2))
