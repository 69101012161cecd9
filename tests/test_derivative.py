"""The families' own differentiator (families._common.derivative) gives exactly sympy.diff's
expression, node for node, so every printed gradient and worked step is unchanged."""
import random

import pytest
import sympy as sp

from generator.families._common import Rejected, derivative, random_form
from generator.mathparse import parse_formula
from generator.problem import X, Y, Z

FORMS = ("polynomial", "exp", "trig", "log", "quotient")


@pytest.mark.parametrize("form", FORMS)
def test_same_expression_as_sympy_diff_on_random_forms(form):
    for seed in range(150):
        rng = random.Random(f"{form}/{seed}")
        vs = (X, Y, Z)[: rng.choice((2, 3))]
        try:
            f = random_form(rng, vs, (-5, 5), rng.randint(1, 4), form)
        except Rejected:
            continue
        for v in vs:
            assert sp.srepr(derivative(f, v)) == sp.srepr(sp.diff(f, v)), (f, v)


@pytest.mark.parametrize("formula", ["x**y", "exp(x*y)*sin(x)/(1 + y**2)", "sqrt(x**2 + y**2)", "log(x)**3",
                                     "tan(x*y) - cos(x)**2", "2**x + x**(1/3)", "7", "exp(sin(x*y))"])
def test_same_expression_as_sympy_diff_on_lesson_formulas(formula):
    f = parse_formula(formula, ("x", "y"))
    for v in (X, Y):
        assert sp.srepr(derivative(f, v)) == sp.srepr(sp.diff(f, v))
