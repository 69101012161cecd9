"""Spoken math for alt text: the SymPy → English printer as a table, every family's output spoken
without markup, rich text, and the plot descriptions."""
from __future__ import annotations

import random

import pytest
import sympy as sp

from generator.families import family_names, get_family
from generator.families._common import Rejected
from generator.figures import figure_name
from generator.mathfmt import NOTATION
from generator.problem import (DU_F, GRAD_F, GRAD_F_AT_P, P_SYM, U_HAT, Dot, Equals, Math, Norm, Over,
                               Partial, Pt, Root, Vec, rich)
from generator.speech import SPOKEN_NAMES, describe_plot, direction_words, speak, speak_rich

x, y, z = sp.symbols("x y z", real=True)
f = sp.Function("f")
theta, eta = sp.Symbol("θ"), sp.Symbol("η")
R = sp.Rational

TABLE = [
    # The three forms issue 17 quotes.
    (Equals(f(x, y), x**2 + 3 * y), "f of x and y equals x squared plus 3 y"),
    (sp.sqrt(193), "the square root of 193"),
    (Vec(7 / sp.sqrt(193), -12 / sp.sqrt(193)),
     "the vector 7 over the square root of 193, minus 12 over the square root of 193"),
    # Numbers.
    (sp.Integer(7), "7"),
    (sp.Integer(0), "0"),
    (sp.Integer(1), "1"),
    (sp.Integer(-3), "minus 3"),
    (R(3, 5), "3 over 5"),
    (R(-3, 5), "minus 3 over 5"),
    (sp.S.Half, "1 over 2"),
    (sp.pi, "pi"),
    (sp.E, "e"),
    (4 * sp.pi / 3, "4 pi over 3"),
    # Powers.
    (x**2, "x squared"),
    (x**3, "x cubed"),
    (x**4, "x to the power 4"),
    (x**-1, "1 over x"),
    (x**-2, "1 over x squared"),
    (2**x, "2 to the power x"),
    (x**R(3, 2), "x raised to the 3 over 2 power"),
    (x**R(3, 2) + 1, "x raised to the 3 over 2 power, plus 1"),
    ((x + y)**2, "the quantity x plus y, end quantity, squared"),
    (x**4 * y, "x to the power 4 times y"),
    # Products: spaces between letters, "times" where juxtaposition would blur.
    (3 * x * y, "3 x y"),
    (2 * x * y * z, "2 x y z"),
    (x**2 * y, "x squared y"),
    (sp.Mul(3, 5, evaluate=False), "3 times 5"),
    (4 * sp.sqrt(13), "4 times the square root of 13"),
    (sp.sqrt(3) * x, "the square root of 3 times x"),
    (x * (y + 1), "x times the quantity y plus 1"),
    (x * (y + 1) + z, "x times the quantity y plus 1, end quantity, plus z"),
    (-x * y, "minus x y"),
    # Sums and differences.
    (x**2 - 2 * x * y - 2 * y, "x squared minus 2 x y minus 2 y"),
    (-6 + 4 * sp.sqrt(3), "minus 6 plus 4 times the square root of 3"),
    (-x - 1, "minus x minus 1"),
    # Fractions: short "over" only between monomials; otherwise numerator and denominator named.
    (3 * x / 5, "3 x over 5"),
    (-3 * x / 5, "minus 3 x over 5"),
    (x / y**2, "x over y squared"),
    (x / (2 * y), "the fraction with numerator x and denominator 2 y"),
    ((x + 1) / (y + 2), "the fraction with numerator x plus 1 and denominator y plus 2"),
    (1 / (x + 1) + y, "y plus the fraction with numerator 1 and denominator x plus 1"),
    (x / (2 * y) + 1, "the fraction with numerator x and denominator 2 y, end fraction, plus 1"),
    (Over(Over(1, x + 1), y + 1),
     "the fraction with numerator the fraction with numerator 1 and denominator x plus 1 and "
     "denominator y plus 1"),
    (-2 * y * (3 * x + 1) / (y**2 + 4)**2,
     "minus the fraction with numerator 2 y times the quantity 3 x plus 1 and denominator the quantity "
     "y squared plus 4, end quantity, squared"),
    (sp.log(x**2 + 1) / (y**2 + 2),
     "the fraction with numerator the natural log of x squared plus 1, end log and denominator "
     "y squared plus 2"),
    # Rationalised c·√n/n is spoken as c/√n; other roots over numbers as shown.
    (2 * sp.sqrt(5) / 5, "2 over the square root of 5"),
    (-sp.sqrt(2) / 2, "minus 1 over the square root of 2"),
    (sp.sqrt(3) / 2, "the fraction with numerator the square root of 3 and denominator 2"),
    (3 * sp.sqrt(13) / 52, "the fraction with numerator 3 times the square root of 13 and denominator 52"),
    # Roots.
    (sp.sqrt(x), "the square root of x"),
    (sp.sqrt(x**2 + 1), "the square root of x squared plus 1, end root"),
    (sp.sqrt(x**2 + 1) + 2, "the square root of x squared plus 1, end root, plus 2"),
    (sp.sqrt(13) + 1, "1 plus the square root of 13"),
    (Root(208), "the square root of 208"),
    (Root(x + 1), "the square root of x plus 1, end root"),
    # exp, with the exponent's end in words when it is longer than one word.
    (sp.exp(x), "e to the x"),
    (sp.exp(-x), "e to the minus x"),
    (sp.exp(x) + 1, "e to the x plus 1"),
    (sp.exp(x + 1), "e raised to the x plus 1 power"),
    (sp.exp(x * y), "e raised to the x y power"),
    (-x * sp.exp(x * y), "minus x e raised to the x y power"),
    (x * sp.exp(2 * y) + 4 * z, "x e raised to the 2 y power, plus 4 z"),
    (sp.exp(-x**2 - y**2), "e raised to the minus x squared minus y squared power"),
    (sp.exp(x) * sp.sin(y), "e to the x times sine of y"),
    # sin, cos, tan, ln.
    (sp.sin(3 * x) * x**2, "x squared sine of 3 x"),
    (sp.cos(x - y), "cosine of x minus y, end cosine"),
    (sp.sin(2 * x + 3 * y) + x, "x plus sine of 2 x plus 3 y, end sine"),
    (sp.tan(x), "tangent of x"),
    (sp.log(x), "the natural log of x"),
    (sp.log(x**2 + y**2 + 1), "the natural log of x squared plus y squared plus 1, end log"),
    (sp.sin(x)**2, "sine squared of x"),
    (sp.sin(x) * sp.cos(y), "sine of x times cosine of y"),
    (sp.cos(theta), "cosine of theta"),
    # Applied f.
    (f(x, y), "f of x and y"),
    (f(x, y, z), "f of x, y and z"),
    # Vectors, points, pairs.
    (Vec(1, R(-3, 5)), "the vector 1, minus 3 over 5"),
    (Vec(x, y, z), "the vector x, y, z"),
    (Pt(2, -1), "the point 2, minus 1"),
    (Vec(sp.sqrt(x + 1), 3), "the vector the square root of x plus 1, end root, 3"),
    (Vec(1 / (x + 1), 2), "the vector the fraction with numerator 1 and denominator x plus 1, end fraction, 2"),
    ((Vec(1, 2), Vec(-1, -2)), "the vector 1, 2 and the vector minus 1, minus 2"),
    (Equals(U_HAT, Vec(sp.cos(theta), sp.sin(theta)), Vec(sp.S.Half, sp.sqrt(3) / 2)),
     "u hat equals the vector cosine of theta, sine of theta equals the vector 1 over 2, the fraction "
     "with numerator the square root of 3 and denominator 2"),
    # Display-only nodes.
    (Norm(GRAD_F_AT_P), "the length of the gradient of f at P"),
    (Norm(Vec(3, 4)), "the length of the vector 3, 4"),
    (Norm(x + y), "the length of x plus y, end length"),
    (Over(Vec(3, 4), Norm(Vec(3, 4))),
     "the fraction with numerator the vector 3, 4 and denominator the length of the vector 3, 4"),
    (Equals(Norm(GRAD_F_AT_P), Root(208), 4 * sp.sqrt(13)),
     "the length of the gradient of f at P equals the square root of 208 equals 4 times the square root of 13"),
    (Equals(Partial(x), 2 * x), "partial f partial x equals 2 x"),
    (Partial(z), "partial f partial z"),
    (Equals(DU_F, Dot(GRAD_F_AT_P, U_HAT)),
     "the directional derivative of f at P along u hat equals the gradient of f at P dot u hat"),
    (Dot(Vec(2, 3), Vec(R(3, 5), R(4, 5))), "the vector 2, 3, end vector, dot the vector 3 over 5, 4 over 5"),
    (Equals(Dot(GRAD_F_AT_P, U_HAT), 0), "the gradient of f at P dot u hat equals 0"),
    (Equals(GRAD_F, Vec(2 * x, 3)), "the gradient of f equals the vector 2 x, 3"),
    (Equals(P_SYM, Pt(1, 2)), "P equals the point 1, 2"),
    # Special and generated names.
    (U_HAT, "u hat"),
    (theta, "theta"),
    (eta, "eta"),
    (Equals(eta, R(1, 4)), "eta equals 1 over 4"),
    (sp.Symbol("v"), "v"),
    (sp.Symbol("x₀"), "x sub 0"),
    (sp.Symbol("f(x₀)"), "f of x sub 0"),
    (sp.Symbol("∇f(x₁)"), "the gradient of f at x sub 1"),
    (Equals(sp.Symbol("∇f(x₀)"), Vec(3, -8)), "the gradient of f at x sub 0 equals the vector 3, minus 8"),
    # Booleans.
    (sp.true, "true"),
    (sp.false, "false"),
    (True, "true"),
]


@pytest.mark.parametrize("expr, expected", TABLE)
def test_speech_table(expr, expected):
    assert speak(expr) == expected


@pytest.mark.parametrize("expr", [sp.Integral(x, x), sp.Float(1.5), sp.Abs(x), sp.Symbol("a^b"),
                                  sp.Symbol("x_1"), sp.ImmutableMatrix([1, 2])])
def test_unknown_node_raises_instead_of_leaking_python(expr):
    with pytest.raises(TypeError):
        speak(expr)


def test_every_special_name_has_a_spoken_form():
    assert set(NOTATION) <= set(SPOKEN_NAMES)


def _classes(obj, out):
    if isinstance(obj, sp.Basic):
        for node in sp.preorder_traversal(obj):
            out.add(type(node))
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            _classes(item, out)
    elif isinstance(obj, Math):
        _classes(obj.expr, out)


def _problems(seeds, extra=()):
    for name in family_names():
        fam = get_family(name)
        for seed in range(seeds):
            for params in ({}, {"variables": 3}, *extra):
                try:
                    yield fam.generate(random.Random(seed), fam.Params(**params), None)
                except (Rejected, ValueError):
                    continue


def test_table_covers_every_node_the_families_emit():
    """Every SymPy class in any family's prompt, steps, answer or distractors is exercised by the
    table above, so the table is the speech printer's specification."""
    emitted, table = set(), set()
    for p in _problems(40):
        _classes([p.prompt, p.steps, p.answer, [d.value for d in p.distractors],
                  [d.feedback for d in p.distractors]], emitted)
    _classes([expr for expr, _ in TABLE], table)
    singletons = {sp.core.numbers.Zero, sp.core.numbers.One, sp.core.numbers.NegativeOne, sp.core.numbers.Half}
    missing = {c.__name__ for c in emitted - table - singletons
               if not issubclass(c, sp.core.function.AppliedUndef)}
    assert not missing, f"add these to the speech table: {sorted(missing)}"


MARKUP = ("^", "_", "*", "∇", "|", "²", "·", "−", "√", "∂", "⟨", "/", "û", "θ", "η", "₀", "₁", "₂")


def test_every_family_output_is_spoken_without_markup():
    """All the forms a lesson may ask for, with math and prose notation both spoken."""
    extra = ({"forms": ["polynomial", "exp", "trig", "log", "quotient"]}, {"degree": 4},
             {"forms": ["exp", "trig"]})
    count = 0
    for p in _problems(12, extra):
        spoken = ([speak_rich(r) for r in (p.prompt, *p.steps, *[d.feedback for d in p.distractors])]
                  + [speak(v) for v in (p.answer, p.function, *[d.value for d in p.distractors])])
        for text in spoken:
            assert text and not any(m in text for m in MARKUP), text
        count += len(spoken)
    assert count > 2000


def test_speak_rich_joins_prose_and_math():
    setting = rich("Let ", Equals(f(x, y), x**2 + 3 * y), " and ", Equals(P_SYM, Pt(1, 2)), ".")
    assert speak_rich(setting) == "Let f of x and y equals x squared plus 3 y and P equals the point 1, 2."
    assert speak_rich(("Compute ", Math(GRAD_F_AT_P, display=True), ".")) == "Compute the gradient of f at P."
    assert speak_rich("Plain prose.") == "Plain prose."
    assert speak_rich(rich("Step 1: ", Equals(sp.Symbol("x₁"), Pt(R(-3, 4), 1)))) == \
        "Step 1: x sub 1 equals the point minus 3 over 4, 1"


@pytest.mark.parametrize("prose, expected", [
    ("Right direction, but not a unit vector: divide by |∇f(P)|.",
     "Right direction, but not a unit vector: divide by the length of the gradient of f at P."),
    ("That is |∇f(P)|²: the square root is missing.",
     "That is the square of the length of the gradient of f at P: the square root is missing."),
    ("The signs are flipped: that is −∇f(P).", "The signs are flipped: that is minus the gradient of f at P."),
    ("There are two such directions, û and −û.", "There are two such directions, u hat and minus u hat."),
    ("the first component must be ∂f/∂x.", "the first component must be partial f partial x."),
    ("That step went uphill: descent subtracts η∇f.",
     "That step went uphill: descent subtracts eta times the gradient of f."),
    ("Rotate ∇f(P) by 90° and normalise: ", "Rotate the gradient of f at P by 90 degrees and normalise: "),
    (". Find x₂ after 2 steps", ". Find x sub 2 after 2 steps"),
])
def test_speak_rich_speaks_the_notation_family_prose_uses(prose, expected):
    assert speak_rich((prose,)) == expected


# Plots -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("vector, words", [
    ((1, 0), "straight to the right"),
    ((1, 1), "up and to the right"),
    ((0, 1), "straight up"),
    ((-1, 1), "up and to the left"),
    ((-1, 0), "straight to the left"),
    ((-1, -1), "down and to the left"),
    ((0, -1), "straight down"),
    ((1, -1), "down and to the right"),
    ((5, -1), "to the right and slightly down"),
    ((5, 1), "to the right and slightly up"),
    ((1, 5), "up and slightly to the right"),
    ((-1, 5), "up and slightly to the left"),
    ((-5, 1), "to the left and slightly up"),
    ((-5, -1), "to the left and slightly down"),
    ((-1, -5), "down and slightly to the left"),
    ((1, -5), "down and slightly to the right"),
    ((2, 3), "up and to the right"),
    ((12, -8), "down and to the right"),
])
def test_direction_words_for_every_compass_sector(vector, words):
    assert direction_words(*map(sp.Integer, vector)) == words


def test_zero_vector_has_no_direction():
    with pytest.raises(ValueError):
        direction_words(sp.Integer(0), sp.Integer(0))


def _spec(function, point, arrows):
    return {"function": function, "variables": (x, y), "point": Pt(*point), "arrows": arrows}


def test_description_of_a_visual_notes_plot():
    spec = _spec(x**2 + 3 * y, (1, 0), [("∇f(P)", Vec(2, 3))])
    assert describe_plot(spec) == (
        "Contour plot of f of x and y equals x squared plus 3 y around P, the point 1, 0. Field arrows on a "
        "grid point in the gradient's direction, across the contour lines, and are longer where f changes "
        "faster: longest toward the right and shortest toward the left. The arrow for the gradient of f at "
        "P points up and to the right, perpendicular to the level curve through P, which is drawn bold and "
        "is where f equals 1; the gradient there is the vector 2, 3.")


def test_each_arrow_is_placed_relative_to_the_gradient():
    g = Vec(2, 3)
    unit = Vec(2 / sp.sqrt(13), 3 / sp.sqrt(13))
    spec = _spec(2 * x + 3 * y, (0, 0), [("∇f(P)", g), ("û", unit), ("−û", Vec(*[-c for c in unit])),
                                         ("A", Vec(-3, 2)), ("B", Vec(1, 0)), ("C", Vec(-1, 0))])
    text = describe_plot(spec)
    assert "The arrow u hat points up and to the right, the same way as the gradient, so f increases fastest" in text
    assert "the arrow minus u hat points down and to the left, opposite to the gradient" in text
    assert "the arrow A points up and to the left, along the level curve through P, at right angles" in text
    assert "the arrow B points straight to the right, about 56 degrees from the gradient, so f increases" in text
    assert "the arrow C points straight to the left, about 124 degrees from the gradient, so f decreases" in text
    assert "all have the same length, because the gradient is the same everywhere" in text


def test_field_arrows_name_where_the_gradient_vanishes():
    bowl = describe_plot(_spec(x**2 + y**2, (1, 1), [("∇f(P)", Vec(2, 2))]))
    assert "longest toward the upper right, shrinking to nothing at the point 0, 0" in bowl
    bump = describe_plot(_spec(sp.exp(-(x**2 + y**2)), (1, 0), [("∇f(P)", Vec(-2 / sp.E, 0))]))
    assert "longest close around the point where they shrink to nothing, at the point 0, 0" in bump
    assert "points straight to the left" in bump


def test_critical_point_and_blank_plots():
    critical = describe_plot(_spec(x**2 + y**2, (0, 0), []))
    assert "The gradient is zero at P, a critical point" in critical
    assert "perpendicular" not in critical and "shrinking to nothing at P" in critical
    blank_spec = _spec(x**2 + 2 * y**2, (1, 1), [])
    blank = describe_plot(blank_spec, blank=True)
    assert blank == ("Blank practice plot: contour lines of f of x and y equals x squared plus 2 y squared, "
                     "with the point 1, 1 marked P and no arrows, for drawing gradients by hand.")
    assert describe_plot(blank_spec) != blank


def test_plots_need_two_variables():
    with pytest.raises(ValueError):
        describe_plot({"function": x + y + z, "variables": (x, y, z), "point": Pt(0, 0, 0), "arrows": []})


def test_family_plot_descriptions_are_distinct_and_free_of_markup():
    by_name = {}
    for name in family_names():
        fam = get_family(name)
        for seed in range(40):
            try:
                p = fam.generate(random.Random(seed), fam.Params(), None)
            except (Rejected, ValueError):
                continue
            if p.figure is not None:
                by_name[figure_name(p.figure)] = p.figure
    assert len(by_name) > 100
    texts = {describe_plot(spec) for spec in by_name.values()}
    assert len(texts) == len(by_name)
    for spec in by_name.values():
        text = describe_plot(spec)
        assert not any(m in text for m in ("^", "_", "**")), text
        assert "perpendicular to the level curve through P" in text
        assert text.count(". ") <= 4
