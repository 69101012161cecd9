"""The gradient-field figures: labels never collide, the field is drawn to scale, the window keeps
the features of f in view, and the same spec always gives the same PNG bytes.

Collisions are checked with matplotlib's own geometry (Bbox, Path.intersects_bbox) on the boxes the
renderer reports for the drawn labels, not with the placement code's arithmetic.
"""
from __future__ import annotations

import hashlib
import random
import re
import struct
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
import yaml
from matplotlib.path import Path
from matplotlib.transforms import Bbox

from generator import figures
from generator.families import family_names, get_family
from generator.families._common import Rejected
from generator.mathparse import parse_formula
from generator.problem import Pt, Vec, X, Y

from .conftest import LESSONS, ROOT

SEEDS = 30
POINT_FAMILIES = {"gradient_at_point", "directional_derivative", "steepest_ascent", "gradient_magnitude",
                  "zero_change_direction", "compare_directions"}


def spec(formula, point, arrows=()):
    f = parse_formula(formula, ("x", "y"))
    P = Pt(*[sp.nsimplify(c) for c in point])
    return {"function": f, "variables": (X, Y), "point": P, "arrows": list(arrows)}


def grad_at(formula, point):
    f = parse_formula(formula, ("x", "y"))
    return Vec(*[sp.diff(f, v).subs({X: sp.nsimplify(point[0]), Y: sp.nsimplify(point[1])}) for v in (X, Y)])


def unit(v):
    n = sp.sqrt(sum(c**2 for c in v))
    return Vec(*[c / n for c in v])


def rotated(v, degrees):
    a = sp.pi * sp.Rational(degrees) / 180
    return Vec(v[0] * sp.cos(a) - v[1] * sp.sin(a), v[0] * sp.sin(a) + v[1] * sp.cos(a))


def family_specs():
    """Every family that draws a 2-variable figure, SEEDS draws each (a third with exp/trig forms)."""
    out = []
    for name in family_names():
        fam = get_family(name)
        found, seed = 0, 0
        while found < SEEDS and seed < SEEDS * 6:
            forms = ("exp", "trig") if seed % 3 == 2 else ("polynomial",)
            try:
                params = fam.Params(variables=2, forms=forms) if "forms" in fam.Params.model_fields \
                    else fam.Params(variables=2)
                problem = fam.generate(random.Random(f"figures/{name}/{seed}"), params, None)
            except (Rejected, ValueError, TypeError):
                problem = None
            seed += 1
            if problem is not None and problem.figure is not None:
                out.append(pytest.param(problem.figure, id=f"{name}-{seed - 1}"))
                found += 1
    return out


def notes_specs():
    lesson = yaml.safe_load((LESSONS / "lesson-1.2.32.yaml").read_text("utf-8"))
    out = []
    for item in lesson["mini_project"]["functions"]:
        g = grad_at(item["function"], item["point"])
        arrows = [("∇f(P)", g)] if any(c != 0 for c in g) else []
        out.append(pytest.param(spec(item["function"], item["point"], arrows), id=f"notes-{item['function']}"))
    return out


BOWL = "x**2 + 2*y**2"
G = grad_at(BOWL, (1, 1))
HARD = {
    "coincident": spec(BOWL, (1, 1), [("∇f(P)", G), ("û", unit(G))]),
    "three-coincident": spec(BOWL, (1, 1), [("∇f(P)", G), ("û", unit(G)), ("u", Vec(*[3 * c for c in G]))]),
    "opposite": spec(BOWL, (1, 1), [("∇f(P)", G), ("û", Vec(*[-c for c in unit(G)]))]),
    "near-3deg": spec(BOWL, (1, 1), [("∇f(P)", G), ("u", rotated(G, 3))]),
    "near-8deg": spec(BOWL, (1, 1), [("∇f(P)", G), ("û", rotated(G, -8))]),
    "near-20deg": spec(BOWL, (1, 1), [("∇f(P)", G), ("û", rotated(G, 20))]),
    "zero-change": spec(BOWL, (1, 1), [("∇f(P)", G), ("û", Vec(-G[1], G[0])), ("−û", Vec(G[1], -G[0]))]),
    "five-directions": spec("x*y - y**2", (1, 2), [("∇f(P)", grad_at("x*y - y**2", (1, 2)))]
                            + [(c, v) for c, v in zip("ABCDE", [Vec(3, 4), Vec(6, 8), Vec(-1, 0), Vec(0, -2), Vec(1, 1)])]),
    "corner-of-window": spec("(x - 4)**2 + (y - 4)**2", (0, 0),
                             [("∇f(P)", grad_at("(x - 4)**2 + (y - 4)**2", (0, 0))), ("û", Vec(1, 0))]),
    "far-feature": spec("(x - 20)**2 + y**2", (1, -3), [("∇f(P)", grad_at("(x - 20)**2 + y**2", (1, -3)))]),
    "gradient-tiny": spec("x**2 + y**2", ("1/1000", 0), [("∇f(P)", grad_at("x**2 + y**2", ("1/1000", 0)))]),
    "gradient-tiny-scale": spec("(x**2 + 3*y)/1000000", (1, 1), [("∇f(P)", Vec(sp.Rational(2, 10**6), sp.Rational(3, 10**6)))]),
    "gradient-huge": spec("1000000*(x**2 - y**2)", (2, -1), [("∇f(P)", Vec(4 * 10**6, 2 * 10**6)), ("û", Vec(0, 1))]),
    "exp-range": spec("2*exp(3*x*y)", (1, 1), [("∇f(P)", grad_at("2*exp(3*x*y)", (1, 1)))]),
    "critical-line": spec("3*sin(2*x - y)", (0, 0), [("∇f(P)", Vec(6, -3))]),
    "at-critical-point": spec("x**2 + y**2", (0, 0), []),
    "dense-periodic": spec("2*sin(3*x - 3*y)", (-3, -3), [("∇f(P)", Vec(6, -6))] + [
        (c, Vec(*v)) for c, v in zip("ABCDE", [(30, -8), (2, 1), (2, -2), (-1, -2), (24, -5)])]),
    "steep-corner": spec("x**4 + y**3", (3, -3), [("∇f(P)", grad_at("x**4 + y**3", (3, -3))), ("û", Vec(-1, 0))]),
}

FAMILY_SPECS = family_specs()
ALL_SPECS = FAMILY_SPECS + notes_specs() + [pytest.param(s, id=k) for k, s in HARD.items()]


def bbox(box):
    return Bbox([[box.x0, box.y0], [box.x1, box.y1]])


def overlap(a: Bbox, b: Bbox) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_the_families_draw_figures():
    drawn = [p.id.rsplit("-", 1)[0] for p in FAMILY_SPECS]
    assert POINT_FAMILIES <= set(drawn)
    assert all(drawn.count(name) == SEEDS for name in set(drawn))


@pytest.mark.parametrize("s", ALL_SPECS)
def test_labels_do_not_collide(s):
    lay = figures.layout(s)
    boxes = [(text, bbox(b)) for text, b in lay.labels]
    axes = bbox(lay.axes)
    marker = bbox(lay.marker)
    assert boxes[-1][0] == "$P$"
    for i, (text, b) in enumerate(boxes):
        assert axes.x0 <= b.x0 and b.x1 <= axes.x1 and axes.y0 <= b.y0 and b.y1 <= axes.y1, (text, b, axes)
        assert not overlap(b, marker), (text, "covers the point marker")
        for other, c in boxes[i + 1:]:
            assert not overlap(b, c), (text, other, "overprint")
        for line in lay.level_curve:
            assert not Path(line).intersects_bbox(b, filled=False), (text, "crosses the level curve through P")
        for line in lay.arrows:
            assert not Path(line).intersects_bbox(b, filled=False), (text, "sits on an arrow at P")


def test_labels_say_what_the_spec_says_in_math():
    lay = figures.layout(HARD["near-20deg"])
    assert [t for t, _ in lay.labels] == [r"$\nabla f(P)$", r"$\hat{u}$", "$P$"]
    merged = figures.layout(HARD["three-coincident"])
    assert [t for t, _ in merged.labels] == [r"$\nabla f(P)$, $\hat{u}$, $u$", "$P$"]
    assert len(merged.arrows) == 2                  # one shaft and one head: drawn once
    opposite = figures.layout(HARD["opposite"])
    assert len(opposite.labels) == 3 and len(opposite.arrows) == 4


@pytest.mark.parametrize("label, expected", [
    ("∇f(P)", r"$\nabla f(P)$"),
    ("û", r"$\hat{u}$"),
    ("−û", r"$-\hat{u}$"),
    ("u", "$u$"),
    ("A", "A"),
    ("x₁₂", "$x_{12}$"),
    ("x²", "$x^{2}$"),
    ("grad f", r"$\mathrm{grad}\ f$"),
    ("η∇f", r"$\eta \nabla f$"),
    ("50%", r"$50\%$"),
    ("a_b^c{d}#~$", r"$a\_b\^{}c\{d\}\mathrm{\#}\sim \$$"),
])
def test_labels_become_mathtext(label, expected):
    from matplotlib.mathtext import MathTextParser
    assert figures.mathtext(label) == expected
    if expected.startswith("$"):
        MathTextParser("path").parse(expected)          # raises if matplotlib cannot typeset it


def test_field_arrows_are_drawn_to_scale():
    lay = figures.layout(spec("exp(-(x**2 + y**2))", (1, 0)))    # no arrow at P hides field arrows
    bases, vecs = lay.field
    r = np.hypot(bases[:, 0], bases[:, 1])
    length = np.hypot(vecs[:, 0], vecs[:, 1])
    ring, centre = length[(r > 0.55) & (r < 0.85)], length[r < 0.35]
    assert len(ring) >= 4 and len(centre) >= 1
    assert ring.min() > centre.max(), "the Gaussian's arrows are longest on the ring"
    assert ring.mean() > 3 * length[r > 2.2].mean(), "and short far away"
    # longer means faster: length / |∇f| is one constant for every arrow below the cap
    grad = 2 * r * np.exp(-r**2)
    uncapped = length < 0.999 * length.max()
    ratio = length[uncapped] / grad[uncapped]
    assert np.allclose(ratio, ratio[0], rtol=1e-6)


def test_field_arrows_stay_readable_when_the_range_is_huge():
    lay = figures.layout(HARD["exp-range"])
    bases, vecs = lay.field
    length = np.hypot(vecs[:, 0], vecs[:, 1])
    x0, x1, y0, y1 = lay.window
    spacing = (x1 - x0) / figures.FIELD_COLUMNS
    assert length.max() <= spacing                  # capped at the grid spacing: no arrow runs across
    assert len(length) > 50


@pytest.mark.parametrize("formula, point, feature", [
    ("x**2 + y**2", (1, 1), (0, 0)),                 # the bowl's minimum
    ("exp(-(x**2 + y**2))", (1, 0), (0, 0)),         # the Gaussian's peak
    ("x**2 - y**2", (1, 1), (0, 0)),                 # the saddle
    ("(x - 1)**2 + (y + 2)**2 + x*y", (2, 1), None),
])
def test_the_window_keeps_the_critical_point_and_p_in_view(formula, point, feature):
    s = spec(formula, point, [("∇f(P)", grad_at(formula, point))])
    lay = figures.layout(s)
    x0, x1, y0, y1 = lay.window
    if feature is None:                              # solve ∇f = 0 here, independently
        f = parse_formula(formula, ("x", "y"))
        sol = sp.solve([sp.diff(f, X), sp.diff(f, Y)], [X, Y], dict=True)[0]
        feature = (float(sol[X]), float(sol[Y]))
    w, h = x1 - x0, y1 - y0
    assert x0 + 0.1 * w <= feature[0] <= x1 - 0.1 * w and y0 + 0.1 * h <= feature[1] <= y1 - 0.1 * h
    assert x0 + 0.3 * w <= point[0] <= x1 - 0.3 * w and y0 + 0.3 * h <= point[1] <= y1 - 0.3 * h
    assert lay.critical_point == pytest.approx(feature, abs=1e-6)
    assert figures.plot_window(s) == pytest.approx(lay.window)         # the same, without drawing
    axes = bbox(lay.axes)
    assert all(axes.contains(*p) for line in lay.arrows for p in line), "the arrows at P are fully visible"
    assert w / h == pytest.approx((lay.axes.x1 - lay.axes.x0) / (lay.axes.y1 - lay.axes.y0), rel=1e-3)


def test_labels_that_find_no_room_get_a_closer_window():
    lay = figures.layout(HARD["dense-periodic"])      # level curves through P every 1.5 units
    x0, x1, y0, y1 = lay.window
    assert y1 - y0 < 2 * figures.MIN_HALF_HEIGHT
    assert (x0 + x1) / 2 == pytest.approx(-3) and (y0 + y1) / 2 == pytest.approx(-3)


def test_a_line_of_critical_points_does_not_move_the_window():
    lay = figures.layout(HARD["critical-line"])
    assert lay.critical_point is None
    x0, x1, y0, y1 = lay.window
    assert (x0 + x1) / 2 == pytest.approx(0) and (y0 + y1) / 2 == pytest.approx(0)


def chunks(png: bytes):
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    i, out = 8, []
    while i < len(png):
        n, kind = struct.unpack(">I4s", png[i:i + 8])
        out.append(kind.decode("ascii"))
        i += 12 + n
    return out


def test_same_spec_same_bytes_whatever_was_drawn_before():
    a, b = HARD["zero-change"], HARD["five-directions"]
    first = figures._draw(a, False, figures.WIDTH, figures.HEIGHT, figures.DPI)
    figures._draw(b, False, figures.WIDTH, figures.HEIGHT, figures.DPI)
    figures._draw(a, True, 6, 6, 100)
    again = figures._draw(a, False, figures.WIDTH, figures.HEIGHT, figures.DPI)
    assert first == again
    assert set(chunks(first)) <= {"IHDR", "PLTE", "IDAT", "IEND"}, "no timestamps or text metadata"
    # and in a fresh process, where nothing was drawn before
    code = ("import hashlib, sys, sympy as sp; from generator import figures; "
            "from generator.problem import Pt, Vec, X, Y; "
            "f = X**2 + 2*Y**2; g = Vec(2, 4); "
            "s = {'function': f, 'variables': (X, Y), 'point': Pt(1, 1), "
            "'arrows': [('∇f(P)', g), ('û', Vec(-4, 2)), ('−û', Vec(4, -2))]}; "
            "sys.stdout.write(hashlib.sha256(figures.render_png(s)).hexdigest())")
    fresh = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert fresh.stdout == hashlib.sha256(first).hexdigest()


def test_figures_are_large_and_light():
    from PIL import Image
    import io
    png = figures.render_png(HARD["zero-change"])
    image = Image.open(io.BytesIO(png))
    assert image.size[0] >= 600
    colours = image.convert("RGB").getcolors()
    assert len(colours) <= 16 and all(r == g == b for _, (r, g, b) in colours), "greys only"
    assert len(png) < 60_000
    blank = figures.render_png(HARD["coincident"], blank=True, width=6, height=6)
    assert Image.open(io.BytesIO(blank)).size == (6 * figures.DPI, 6 * figures.DPI)


def test_blank_figures_draw_only_the_contours_and_p():
    lay = figures.layout(HARD["zero-change"], blank=True, width=6, height=6, dpi=100)
    assert [t for t, _ in lay.labels] == ["$P$"]
    assert lay.level_curve == () and lay.arrows == () and len(lay.field[0]) == 0


def test_forked_workers_draw_with_fonts_of_their_own():
    """The parent draws first, so its caches hold open fonts; two forked workers then draw the same
    plot 40 times at once. Sharing the parent's font files they corrupted each other's reads
    (FT_Load_Glyph "invalid stream operation", an internal error in a parallel build)."""
    from generator.workers import worker_pool
    spec = {"function": X**2 + 3*X*Y - Y**2, "variables": (X, Y), "point": (sp.Integer(1), sp.Integer(2)),
            "arrows": [("∇f(P)", Vec(8, -1)), ("û", Vec(sp.Rational(3, 5), sp.Rational(4, 5)))]}
    task = (spec, False, figures.WIDTH, figures.HEIGHT, figures.DPI)
    want = figures._draw_task(task)
    with worker_pool(2) as pool:
        got = list(pool.map(figures._draw_task, [task] * 40))
    assert got == [want] * 40


def test_a_plots_numpy_function_does_not_import_all_of_numpy():
    """The reason for the module namespace: lambdify given the name "numpy" runs `from numpy import
    *`, importing numpy.f2py (0.06 s and ~20 MiB in every build with plots)."""
    import subprocess
    import sys
    code = ("import sys\nimport sympy as sp\nfrom generator import figures\nfrom generator.problem import X, Y\n"
            "figures._Numeric({'variables': (X, Y), 'function': X**2 * sp.exp(Y) + sp.sin(X * Y)})\n"
            "print('numpy.f2py' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_the_bundled_fonts_choose_as_a_full_font_list_does():
    """figures.add_bundled_fonts: gen's private matplotlib folder lists matplotlib's own TrueType
    fonts only, instead of every font on the machine. For every font a drawing asks for, the choice
    is the one a full scan (FontManager(), as matplotlib builds it) makes."""
    from matplotlib import font_manager as fm
    full = fm.FontManager()
    bundled = fm.FontManager.__new__(fm.FontManager)
    bundled.__dict__.update({k: v for k, v in full.__dict__.items() if k not in ("ttflist", "afmlist")},
                            ttflist=[], afmlist=[])
    figures.add_bundled_fonts(bundled)
    assert 0 < len(bundled.ttflist) <= len(full.ttflist)
    asked = 0
    for family in ("sans-serif", "DejaVu Sans", "cmr10", "cmmi10", "cmsy10", "cmex10", "cmb10", "cmtt10", "cmss10",
                   "STIXGeneral", "DejaVu Serif", "monospace", "serif"):
        for style in ("normal", "italic", "oblique"):
            for weight in ("normal", "bold"):
                prop = fm.FontProperties(family=[family], style=style, weight=weight, size=8)
                assert bundled.findfont(prop, rebuild_if_missing=False) == \
                    full.findfont(prop, rebuild_if_missing=False), (family, style, weight)
                asked += 1
    assert asked == 78


def test_the_bundled_font_list_draws_the_same_pngs(tmp_path):
    """A build's own matplotlib folder (the bundled fonts only) and a user's MPLCONFIGDIR (which gen
    leaves alone: matplotlib scans every font) give the same PNG bytes."""
    code = ("import hashlib; from generator import figures; figures.warm_up()\n"   # before this file imports matplotlib
            "from tests.test_figures import family_specs; from matplotlib import font_manager as fm\n"
            "specs = [p.values[0] for p in family_specs()[::40]]\n"
            "print(len(fm.fontManager.ttflist), [hashlib.sha256(figures.render_png(s)).hexdigest()[:16] for s in specs])\n")
    import os
    env = {k: v for k, v in os.environ.items() if k != "MPLCONFIGDIR"}
    user = tmp_path / "user-config"
    user.mkdir()
    ours = subprocess.run([sys.executable, "-c", code], env={**env, "TMPDIR": str(tmp_path)}, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    scanned = subprocess.run([sys.executable, "-c", code], env={**env, "MPLCONFIGDIR": str(user)}, cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
    assert ours.returncode == 0 and scanned.returncode == 0, ours.stderr + scanned.stderr
    assert list(user.glob("fontlist-v*.json"))            # matplotlib did scan there
    assert ours.stdout.split(" ", 1)[1] == scanned.stdout.split(" ", 1)[1]
    # matplotlib's own fonts against the scan's, which adds the machine's (if it has any)
    import matplotlib
    from pathlib import Path as FilePath
    own = len(list(FilePath(matplotlib.get_data_path(), "fonts", "ttf").glob("*.ttf")))
    assert int(ours.stdout.split(" ", 1)[0]) == own <= int(scanned.stdout.split(" ", 1)[0])


def test_the_empty_font_list_is_written_only_for_a_font_manager_it_fits(tmp_path):
    """For a matplotlib whose FontManager sets other attributes (a later release) or keeps its
    version otherwise, nothing is written and the import scans as it always did."""
    import importlib.util
    from pathlib import Path as FilePath
    source = FilePath(importlib.util.find_spec("matplotlib.font_manager").origin).read_text(encoding="utf-8")
    assert figures._list_no_fonts(str(tmp_path), source)               # the installed matplotlib
    assert [p.name for p in tmp_path.iterdir()] == [f"fontlist-v{figures._FONT_MANAGER.search(source).group(1)}.json"]
    other = tmp_path / "other"
    other.mkdir()
    more = source.replace("        self.ttflist = []\n", "        self.ttflist = []\n        self.fallbacks = []\n", 1)
    assert more != source and not figures._list_no_fonts(str(other), more)
    number = re.sub(r"(?m)^    __version__ = '[^']+'", "    __version__ = 390", source, count=1)
    assert number != source and not figures._list_no_fonts(str(other), number)
    assert not list(other.iterdir())


def test_a_figure_is_named_by_its_content_whatever_spec_object_holds_it():
    """figure_name remembers a spec's name by identity (its srepr is the cost); an equal spec in
    another object, or a new spec where an old one's id was, gets the name of its own content."""
    def spec(c):
        return {"function": X**2 + c * Y, "variables": (X, Y), "point": Pt(1, 2), "arrows": [("∇f(P)", Vec(2, c))]}

    def fresh(s):
        key = sp.srepr((s["function"], s.get("point"), tuple((a, sp.Tuple(*v)) for a, v in s.get("arrows", ()))))
        return f"fig-{hashlib.sha256(key.encode()).hexdigest()[:16]}.png"
    first = spec(3)
    assert figures.figure_name(first) == figures.figure_name(spec(3)) == fresh(first)
    assert figures.figure_name(first, "notes") == "notes" + fresh(first)[3:]
    for c in range(4, 4 + figures.NAMES_KEPT + 10):       # ids are reused as specs come and go
        s = spec(c)
        assert figures.figure_name(s) == fresh(s)
    assert len(figures._NAMES) <= figures.NAMES_KEPT
    assert figures.figure_name(first) == fresh(first)


def _lambdify(spec):
    """lambdify's function of the spec, given numpy by name (it then runs `from numpy import *`)."""
    x, y = spec["variables"]
    f = spec["function"]
    return sp.lambdify((x, y), [f, sp.diff(f, x), sp.diff(f, y)], "numpy")


FORMULAS = ["x**2 + 2*y**2", "exp(x*y)*sin(x)/(1 + y**2)", "sqrt(x**2 + y**2 + 1)", "log(x**2 + 1)**3",
            "tan(x*y) - cos(x)**2", "x**(1/3)*y + 2*x", "pi*x + E*y", "7*x - y/3"]


@pytest.mark.parametrize("spec", [s for p in family_specs() + notes_specs() for s in (getattr(p, "values", (p,))[0],)]
                         + [spec(f, (1, 1), []) for f in FORMULAS])
def test_the_numpy_source_is_what_lambdify_writes(spec):
    """figures.numpy_source prints f, ∂f/∂x and ∂f/∂y as lambdify does with numpy, without
    lambdify; its names are numpy's, those gen's formulas use are in NUMPY_NAMES, and the function
    _Numeric runs calls the same functions as lambdify's."""
    import inspect
    figures._SOURCES.clear()
    source, names = figures.numpy_source(spec)
    by_name = _lambdify(spec)
    assert (source, names) == (inspect.getsource(by_name), by_name.__code__.co_names)
    assert figures.NUMPY_NAMES.issuperset(names)
    built = figures._Numeric(spec)._fn
    assert built.__code__.co_names == by_name.__code__.co_names
    for name in built.__code__.co_names:
        assert built.__globals__[name] is by_name.__globals__[name], name


def test_the_names_known_to_be_numpys_are_numpys():
    for name in figures.NUMPY_NAMES:
        assert hasattr(np, name), name


def test_a_function_numpy_lacks_is_lambdified_and_stays_in_this_process():
    odd = {"function": sp.erf(X) + Y**2, "variables": (X, Y), "point": Pt(1, 1), "arrows": []}   # no numpy.erf
    figures._SOURCES.clear()
    assert figures.numpy_source(odd) is None and figures.portable(odd) is None
    assert figures._Numeric(odd)._fn.__doc__.startswith("Created with lambdify")   # as before numpy_source
