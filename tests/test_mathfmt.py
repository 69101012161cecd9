"""The printers' fast term order is SymPy's own order."""
from __future__ import annotations

import random

import sympy as sp

from generator.mathfmt import _polynomial_terms
from generator.problem import VARIABLES

X, Y, Z = VARIABLES
PLAIN = sp.symbols("a b")


def _random_sum(rng: random.Random):
    symbols = list(VARIABLES) + list(PLAIN) + [sp.Symbol("η"), sp.Symbol("x₁")]
    terms = []
    for _ in range(rng.randint(2, 6)):
        coeff = sp.Rational(rng.choice([-1, 1]) * rng.randint(0, 12), rng.choice([1, 1, 2, 3, 4, 7]))
        monomial = sp.Mul(*[s ** rng.randint(1, 3) for s in rng.sample(symbols, rng.randint(0, 3))])
        terms.append(coeff * monomial)
    if rng.random() < 0.2:
        terms.append(rng.choice([sp.sqrt(2) * X, sp.exp(Y), sp.pi, X ** -1, sp.Symbol("t", positive=True)]))
    return sp.Add(*terms)


def _sums_and_forms(rng: random.Random, count: int):
    """(i, expression) for i < count: random sums at odd i, the families' random forms at even i
    (skipping the rejected)."""
    from generator.families._common import Rejected, random_form
    for i in range(count):
        try:
            yield i, _random_sum(rng) if i % 2 else random_form(
                rng, VARIABLES[: rng.choice((2, 3))], (-6, 6), 3,
                rng.choice(("polynomial", "exp", "trig", "log", "quotient")))
        except Rejected:
            continue


def test_the_fast_order_is_sympys_on_random_sums():
    rng = random.Random(5)
    checked = 0
    for _ in range(4000):
        expr = _random_sum(rng)
        if not expr.is_Add:
            continue
        fast = _polynomial_terms(expr)
        if fast is not None:
            assert list(fast) == expr.as_ordered_terms(), expr
            checked += 1
    assert checked > 2500


def test_the_special_case_of_a_constant_and_a_negative_term():
    for expr in (3 - 2 * X, -3 + 2 * X, sp.Rational(1, 2) - X, X - 1, 1 - X * Y, 2 - 3 * X ** 2, 5 + X,
                 -X - 1, sp.Rational(-3, 4) + sp.Rational(5, 2) * Y):
        assert list(_polynomial_terms(expr)) == expr.as_ordered_terms(), expr


def test_the_fast_order_is_sympys_on_every_sum_a_build_prints(small_build):
    from pathlib import Path

    from generator.generate import generate_all
    from generator.lesson import load_lesson
    from generator.plan import plan
    lessons = Path(__file__).parent / "lessons" / "all-families.yaml"
    sums = set()
    for g in generate_all(plan(load_lesson(lessons), 3), 42):
        for node in sp.preorder_traversal(sp.Tuple(g.problem.function, *[p.answer for p in g.problem.parts
                                                                          if isinstance(p.answer, sp.Basic)])):
            if isinstance(node, sp.Add):
                sums.add(node)
    fast = [s for s in sums if _polynomial_terms(s) is not None]
    assert len(fast) > 50
    for expr in fast:
        assert list(_polynomial_terms(expr)) == expr.as_ordered_terms(), expr


def test_the_tex_sums_sign_test_is_sympys():
    from sympy.printing.latex import LatexPrinter

    from generator.mathfmt import TexPrinter, _extracts_minus
    ours, checked = TexPrinter(), 0
    for i, expr in _sums_and_forms(random.Random(13), 1500):
        extra = [sp.zoo * X, -sp.oo * Y, sp.Rational(-5, 3) * sp.sqrt(2) * X, -sp.sqrt(3) * Y, -X, sp.nan * X]
        for expr in ([expr] + [expr + e for e in extra[i % 6: i % 6 + 1]]):
            for term in sp.Add.make_args(expr):
                assert _extracts_minus(term) == term.could_extract_minus_sign(), term
            if expr.is_Add:
                # SymPy's own _print_Add, called on our printer (so its other printing is ours)
                assert ours._print_Add(expr) == LatexPrinter._print_Add(ours, expr), expr
                checked += 1
    assert checked > 1000


def test_the_fast_precedence_is_sympys():
    from sympy.printing.precedence import precedence

    from generator.mathfmt import _precedence
    rng = random.Random(17)
    seen = 0
    for _ in range(2000):
        expr = _random_sum(rng)
        for node in sp.preorder_traversal(expr * rng.choice([1, -1, sp.Rational(-2, 3), sp.sin(X), -sp.exp(Y)])):
            assert _precedence(node) == precedence(node), node
            seen += node.is_Mul
    assert seen > 3000


def test_the_plain_printers_sums_and_brackets_are_sympys():
    from sympy.printing.str import StrPrinter

    from generator.mathfmt import PlainPrinter

    class Stock(PlainPrinter):          # the plain printer with StrPrinter's own two
        parenthesize = StrPrinter.parenthesize
        _print_Add = StrPrinter._print_Add
    ours, stock, checked = PlainPrinter(), Stock(), 0
    for _, expr in _sums_and_forms(random.Random(19), 1500):
        for e in (expr, sp.Rational(-2, 3) * expr, -expr, sp.sin(X) * expr, expr ** 2, 1 / expr, -X * expr):
            assert ours.doprint(e) == stock.doprint(e), e
            checked += e.is_Add or e.is_Mul
    assert checked > 5000
