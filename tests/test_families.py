"""Every family over many seeds: answers verified by the independent route, distractors distinct,
and the verification itself is shown to fail on a wrong answer."""
from __future__ import annotations

import dataclasses
import os
import random

import pytest
import sympy as sp

from generator.families import family_names, get_family
from generator.families._common import Rejected
from generator.problem import Pt, Vec
from generator.verify import verify

SEEDS = int(os.environ.get("GEN_FAMILY_SEEDS", "120"))


def draws(name, count, **params):
    fam = get_family(name)
    p = fam.Params(**params)
    out, seed = [], 0
    while len(out) < count and seed < count * 5:
        try:
            out.append(fam.generate(random.Random(f"test/{name}/{seed}"), p, None, variant=seed + 1))
        except Rejected:
            pass
        seed += 1
    assert len(out) == count, f"{name}: too many rejected draws"
    return fam, out


@pytest.mark.parametrize("name", family_names())
def test_every_answer_passes_its_independent_checks(name):
    fam, problems = draws(name, SEEDS)
    for problem in problems:
        result = verify(problem, fam)
        failed = [c for c in result.checks if not c.passed]
        assert not failed, (problem.function, problem.point, failed)
        assert len(result.checks) >= 2
        assert all(part.distractors for part in problem.parts), "every part needs distractors"


@pytest.mark.slow
@pytest.mark.parametrize("name", family_names())
def test_every_answer_passes_many_seeds(name):
    fam, problems = draws(name, 1000)
    assert all(verify(p, fam).passed for p in problems)


def _wrong(part):
    a = part.answer
    if part.kind == "boolean":
        return not a
    if part.kind == "choice" and part.options is not None:
        return sp.Integer((int(a) + 1) % len(part.options))
    if part.equivalence == "unordered_pair":
        return (Vec(*[c + sp.Rational(1, 7) for c in a[0]]), a[1])
    if isinstance(a, Vec):
        return Vec(a[0] + sp.Rational(1, 7), *a[1:])
    if isinstance(a, Pt):
        return Pt(a[0] + sp.Rational(1, 7), *a[1:])
    return a + sp.Rational(1, 7)


@pytest.mark.parametrize("name", family_names())
def test_verification_rejects_a_wrong_answer_in_any_part(name):
    fam, problems = draws(name, 5)
    for problem in problems:
        for i, part in enumerate(problem.parts):
            parts = list(problem.parts)
            parts[i] = dataclasses.replace(part, answer=_wrong(part))
            broken = dataclasses.replace(problem, parts=tuple(parts))
            assert not verify(broken, fam).passed, f"{name}: a wrong {part.name} passed verification"


def test_required_misconceptions_are_encoded():
    tags = set()
    for name in family_names():
        _, problems = draws(name, 30)
        tags |= {d.misconception for p in problems for d in p.distractors}
    _, problems = draws("gradient", 30, form="exp")
    tags |= {d.misconception for p in problems for d in p.distractors}
    required = {"not_normalised", "scalar_vs_vector", "wrong_point", "evaluated_before_differentiating",
                "dropped_chain_rule", "dropped_product_rule_term", "sign_error", "squared_magnitude",
                "magnitude_instead", "tangent_vs_normal", "one_tangent_one_normal", "decreases", "uphill_sign"}
    assert required <= tags, required - tags


@pytest.mark.parametrize("form", ["unit", "vector", "angle"])
def test_directional_derivative_keeps_its_direction_form(form):
    _, problems = draws("directional_derivative", 30, direction_as=form)
    assert {p.data["direction_form"] for p in problems} == {form}
    assert all(p.answer != 0 for p in problems), "zero rates hide sign mistakes; they are rejected"


def test_degenerate_fixed_instance_is_rejected():
    fam = get_family("directional_derivative")
    with pytest.raises(Rejected):   # ∇f(0, 0) = 0 for x**2 + y**2: no direction to ask about
        fam.generate(random.Random(1), fam.Params(), {"function": "x**2 + y**2", "point": [0, 0]})


def test_fixed_instance_is_used_verbatim():
    fam = get_family("gradient")
    p = fam.generate(random.Random(0), fam.Params(form="polynomial"), {"function": "x**2 + 3*y"})
    x, y = p.variables
    assert p.function == x**2 + 3 * y
    assert tuple(p.answer) == (2 * x, 3)


@pytest.mark.parametrize("form, func", [("exp", sp.exp), ("log", sp.log), ("quotient", sp.Pow)])
def test_three_variable_gradients_keep_their_form(form, func):
    _, problems = draws("gradient", 20, variables=3, form=form)
    assert all(any(isinstance(a, func) for a in sp.preorder_traversal(p.function)) for p in problems)
    assert all(len(p.answer) == 3 for p in problems)


def test_numbers_stay_teachable():
    for name in ("gradient_at_point", "directional_derivative", "gradient_magnitude"):
        _, problems = draws(name, 40)
        for p in problems:
            coeffs = [abs(c) for c in sp.Poly(p.function, *p.variables).coeffs()] if p.function.is_polynomial() else []
            assert all(c <= 20 for c in coeffs)
            assert all(abs(c) <= 20 for c in p.point)


def test_radsimp_shortcut_returns_what_sympy_returns():
    import random

    import sympy as sp

    from generator.families._common import radsimp
    rng = random.Random(3)
    x = sp.Symbol("x", real=True)
    for i in range(600):
        c = sp.Rational(rng.randint(-300, 300), rng.randint(1, 60))
        k, m = rng.randint(1, 400), rng.randint(1, 50)
        cases = [c, sp.sqrt(k), c * sp.sqrt(k), c / sp.sqrt(k), sp.sqrt(sp.Rational(k, m)), -sp.sqrt(k),
                 c * x / sp.sqrt(k), sp.sqrt(k) + sp.sqrt(m)]
        if i < 20:                    # SymPy's own radsimp is slow on these: a few suffice
            cases += [c / (1 + sp.sqrt(k)), 1 / (sp.sqrt(k) - sp.sqrt(m) + 1)]
        for e in cases:
            assert sp.srepr(radsimp(e)) == sp.srepr(sp.radsimp(e)), e


def test_critical_points_by_cramers_rule_are_linsolves():
    import random

    import sympy as sp

    from generator.families._common import Rejected
    from generator.families.critical import X, Y, _solve_linear
    rng = random.Random(2)
    for _ in range(300):
        a, b, c, d, e, f = [sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(6)]
        fx, fy = a * X + b * Y + c, d * X + e * Y + f
        solutions = list(sp.linsolve([fx, fy], [X, Y]))
        unique = len(solutions) == 1 and not any(s.free_symbols for s in solutions[0])
        try:
            mine = tuple(_solve_linear(fx, fy))
        except Rejected:
            assert not unique, (fx, fy)
        else:
            assert unique and mine == tuple(solutions[0]), (fx, fy)


def _first_broken_in_full_preorder(values, params):
    """bounds_violation's rule, visiting every node again wherever it recurs."""
    from generator.families._common import fraction_violation
    from generator.problem import Math

    def nodes(obj):
        if isinstance(obj, sp.Basic):
            yield from sp.preorder_traversal(obj)
        elif isinstance(obj, Math):
            yield from nodes(obj.expr)
        elif isinstance(obj, (tuple, list)):
            for item in obj:
                yield from nodes(item)
    for node in nodes(values):
        if node.is_Rational:
            broken = fraction_violation(node.p, node.q, params)
            if broken:
                return broken
        elif node.is_Pow and node.exp == sp.S.Half and node.base.is_Integer and node.base > params.max_surd:
            return f"the surd √{node.base} exceeds max_surd {params.max_surd}"
    return None


def test_bounds_violation_finds_the_first_broken_bound_of_a_full_search():
    from pathlib import Path

    from generator.families._common import BaseParams, bounds_violation
    from generator.generate import generate_all
    from generator.lesson import load_lesson
    from generator.plan import plan
    lesson = load_lesson(Path(__file__).parent / "lessons" / "all-families.yaml")
    rng = random.Random(4)
    broken = 0
    for g in generate_all(plan(lesson, 2), 42):
        values = [[p.answer for p in g.problem.parts], g.problem.steps]
        for _ in range(4):
            params = BaseParams(max_numerator=rng.choice((3, 10, 40, 999)), max_denominator=rng.choice((1, 3, 99)),
                                max_surd=rng.choice((2, 20, 300)))
            want = _first_broken_in_full_preorder(values, params)
            assert bounds_violation(values, params) == want
            broken += want is not None
    assert broken > 20


def test_exact_evaluation_at_a_point_returns_what_xreplace_returns():
    import random

    import sympy as sp

    from generator.families._common import Rejected, at, gradient, random_form
    from generator.problem import X, Y, Z, Pt, Vec
    rng = random.Random(11)
    tried = 0
    for i in range(400):
        vs = (X, Y, Z)[: rng.choice((2, 3))]
        form = rng.choice(("polynomial", "polynomial", "exp", "quotient", "log", "trig"))
        try:
            f = random_form(rng, vs, (-9, 9), rng.randint(1, 4), form)
        except Rejected:
            continue
        point = [sp.Rational(rng.randint(-6, 6), rng.choice((1, 1, 2, 3))) for _ in vs]
        if i % 7 == 0:
            point[0] = sp.Integer(0)                       # poles of the quotients' 1/x terms
        for expr in (f, gradient(f, vs), Vec(*reversed(gradient(f, vs))), f / vs[0] ** 2):
            for where in (point, Pt(*point), [p + 1 for p in point]):
                want = expr.xreplace(dict(zip(vs, where)))
                assert sp.srepr(at(expr, vs, where)) == sp.srepr(want), (expr, where)
                tried += 1
    assert tried > 3000
    assert at(X * Y, (X, Y), (sp.sqrt(2), 1)) == sp.sqrt(2)           # not rational: xreplace's
    assert at(1 / X, (X, Y), (0, 1)) is sp.zoo


def test_the_bounds_search_finds_the_first_violation_in_preorder():
    import random

    import sympy as sp

    from generator.families._common import BaseParams, bounds_violation, fraction_violation
    from generator.problem import Math, X, Y

    def reference(obj, params, seen):          # the recursive search it replaced
        if isinstance(obj, sp.Basic):
            if obj in seen:
                return None
            seen.add(obj)
            if obj.is_Rational:
                return fraction_violation(obj.p, obj.q, params)
            if obj.is_Pow and obj.exp == sp.S.Half and obj.base.is_Integer and obj.base > params.max_surd:
                return f"the surd √{obj.base} exceeds max_surd {params.max_surd}"
            items = obj.args
        elif isinstance(obj, Math):
            items = (obj.expr,)
        elif isinstance(obj, (tuple, list)):
            items = obj
        else:
            return None
        for item in items:
            broken = reference(item, params, seen)
            if broken:
                return broken
        return None

    rng = random.Random(4)
    params = BaseParams(max_numerator=60, max_denominator=12, max_surd=40)
    found = 0

    def value():
        kind = rng.random()
        if kind < 0.4:
            return sp.Rational(rng.randint(-90, 90), rng.randint(1, 16))
        if kind < 0.55:
            return sp.sqrt(rng.randint(2, 60))
        if kind < 0.7:
            return rng.randint(-3, 3) * X + sp.Rational(rng.randint(-70, 70), rng.randint(1, 14)) * Y ** 2
        if kind < 0.8:
            return Math(value())
        if kind < 0.9:
            return [value() for _ in range(rng.randint(0, 3))]
        return "words"

    for _ in range(3000):
        values = [value() for _ in range(rng.randint(1, 5))]
        want = reference(values, params, set())
        assert bounds_violation(values, params) == want, values
        found += want is not None
    assert 300 < found < 2900


@pytest.mark.parametrize("form", ["polynomial", "exp", "trig", "log", "quotient"])
def test_gradient_checks_in_float64_pass_right_answers_and_catch_a_slip_of_1e_8(form):
    fam, problems = draws("gradient", 12, form=form)
    for problem in problems:
        result = verify(problem, fam)
        assert result.passed, [c for c in result.checks if not c.passed]
        assert "complex step" in result.checks[0].detail        # the float route decided, not the rerun
        grad = problem.answer
        slipped = dataclasses.replace(problem.parts[0], answer=Vec(grad[0] + sp.Rational(1, 10 ** 8), *grad[1:]))
        assert not verify(dataclasses.replace(problem, parts=(slipped,)), fam).passed


def test_compare_refuses_early_only_what_it_would_refuse_anyway(monkeypatch):
    import random

    from generator.families import compare
    from generator.families._common import Rejected
    fam = compare.FAMILY

    def outcomes():
        out = []
        for seed in range(400):
            params = fam.Params(choices=2 + seed % 4, coefficients=(-5, 5), point_range=(-3, 3))
            try:
                out.append(fam.generate(random.Random(f"early/{seed}"), params).key())
            except Rejected as exc:
                out.append(str(exc))
        return out
    early = outcomes()
    monkeypatch.setattr(compare, "_refuse_early", lambda g, dirs: None)
    late = outcomes()
    assert early == late
    assert sum(isinstance(o, str) for o in early) > 50 and sum(not isinstance(o, str) for o in early) > 50


@pytest.mark.parametrize("form", ["polynomial", "exp", "trig", "log", "quotient"])
def test_gradient_skips_only_mistakes_its_function_gives_no_occasion_for(form, monkeypatch):
    from generator.families import gradient
    fam, problems = draws("gradient", 40, form=form, variables=3 if form == "exp" else 2)
    monkeypatch.setattr(gradient, "can_slip", lambda f, vs, mistake: True)
    _, again = draws("gradient", 40, form=form, variables=3 if form == "exp" else 2)
    assert [(p.key(), p.parts) for p in problems] == [(p.key(), p.parts) for p in again]
    for p in problems:
        for mistake in ("chain", "product"):
            if not gradient.can_slip(p.function, p.variables, mistake):
                slipped = [gradient.sloppy_diff(p.function, v, mistake) for v in p.variables]
                assert all(sp.simplify(a - b) == 0 for a, b in zip(slipped, p.answer)), (p.function, mistake)
