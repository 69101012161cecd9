import pytest
import sympy as sp

from generator.mathparse import FormulaError, parse_formula

x, y, z = sp.symbols("x y z", real=True)


@pytest.mark.parametrize("text, expected", [
    ("x**2 + y**2", x**2 + y**2),
    ("x^2+3*y", x**2 + 3 * y),
    ("exp(x*y) - ln(y**2 + 1)", sp.exp(x * y) - sp.log(y**2 + 1)),
    ("sin(2*x)/ (z + 3)", sp.sin(2 * x) / (z + 3)),
    ("-x + 0.5*y", -x + sp.Rational(1, 2) * y),
    ("sqrt(x**2 + 1) + pi", sp.sqrt(x**2 + 1) + sp.pi),
])
def test_parses_formulas(text, expected):
    assert sp.simplify(parse_formula(text) - expected) == 0


@pytest.mark.parametrize("text, fragment", [
    ("3y", "write products with '*'"),
    ("__import__('os').system('true')", "not an allowed function"),
    ("x.__class__", "not allowed"),
    ("(lambda: 1)()", "not an allowed function"),
    ("lambda: 1", "not allowed"),
    ("[x for x in ()]", "not allowed"),
    ("w + x", "unknown name 'w'"),
    ("x**100", "exponent"),
    ("", "empty"),
    ("x/0", "division by zero"),
    ("exp(x, y)", "one argument"),
    ("'a'", "not a number"),
])
def test_refuses_anything_but_math(text, fragment):
    with pytest.raises(FormulaError, match=None) as info:
        parse_formula(text)
    assert fragment in str(info.value)
