"""Gradient-field pictures (matplotlib, Agg): contours, the gradient field, the level curve through
P and labelled arrows at P. Deterministic bytes; readable in black-and-white print.

How a picture is made (`_drawn`):

1. f and ∇f become one numpy function once (numpy_source); the window is chosen so that P sits
   well inside and the nearest isolated critical point of f (a bowl's minimum, a saddle, a bump's peak) is in view too.
2. Grey contours are evenly spaced levels anchored at f(P), so the bold level curve through P is one
   of them and "curves closer together" still means "steeper".
3. Field arrows are drawn to scale: length ∝ |∇f|, normalised per plot (capped at the grid spacing).
4. Arrows at P are directions, all of one length; arrows that coincide are drawn once with one
   merged label. Every label is placed by a search over candidate spots that avoids the other labels,
   the point marker, the level curve through P and the arrows at P, and stays inside the axes.

`layout(spec)` returns the drawn label boxes and the geometry they avoid (display pixels) so tests
can check the placement with matplotlib's own geometry. Figures are drawn on one reused Agg canvas
per size: building an Axes costs more than drawing one, and mathtext parses are cached per renderer.
Everything drawn is removed afterwards, so the bytes do not depend on what was drawn before.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import re
import shutil
import sys
import tempfile
import unicodedata
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# line styles of the arrows at P, in order (∇f(P) comes first, solid); dashes tell them apart in grey
STYLES = ["-", "--", "-.", ":", (0, (7, 2, 1, 2, 1, 2)), (0, (2, 1))]

# 640 × 550 px: legible on an Anki card or LMS page, and ~8 pt labels at the 55 % width of the key.
WIDTH, HEIGHT, DPI = 5.0, 4.3, 128
LABEL_PT, TICK_PT = 12, 10
MATH_FONT = "cm"                       # Computer Modern, like the math of the Typst PDFs
MARGINS = (0.62, 0.52, 0.14, 0.14)     # left, bottom, right, top of the axes, inches: room for ticks

ARROW_FRACTION = 0.25                  # arrows at P: this fraction of the axes height
P_ROOM = 0.3                           # P within this fraction of the half-extents from the centre
FEATURE_ROOM = 0.6                     # a critical point within this fraction of the half-extents
MIN_HALF_HEIGHT, MAX_HALF_HEIGHT = 2.5, 5.0
FEATURE_REACH = 6.0                    # critical points are searched within this distance of P
CONTOUR_GRID, FIELD_COLUMNS = 120, 15
MIN_CONTOUR_GAP_PX = 14.0              # grey contours at least this far apart where the slope is typical
SAME_DIRECTION_DEG = 2.0               # arrows closer than this are one arrow with a merged label
LABEL_GAP_PX, LABEL_MARGIN_PX = 4.0, 3.0
ZOOMS = (1.0, 0.7, 0.5, 0.35)          # windows to try, in turn, until every label has a free spot


_FORK_HOOK = False


def _forget_fonts() -> None:
    """Run in every forked child. FreeType reads a font through a file position that a fork shares
    with the parent and the siblings, so workers drawing with fonts opened before the fork corrupt
    each other's reads ("FT_Load_Glyph … invalid stream operation"). Matplotlib drops its font
    cache after a fork itself; its mathtext layouts (the labels ∇f(P), û) hold fonts too."""
    from matplotlib.mathtext import MathTextParser
    MathTextParser._parse_cached.cache_clear()


def import_in_background() -> None:
    """Start importing matplotlib and numpy (~0.45 s) in a thread of this process: for a build
    whose workers are generating the problems, while the parent only waits for them. Drawing, and
    every fork (workers.worker_pool), waits for the thread first."""
    from .plotserver import current
    from .workers import in_background
    if current() is not None:           # a plot server draws; the alt texts here need numpy only
        if "numpy" not in sys.modules:
            in_background(_import_numpy, "gen-import-numpy")
    elif "matplotlib.figure" not in sys.modules:
        in_background(_import_quietly, "gen-import-matplotlib")


def _import_numpy() -> None:
    import numpy  # noqa: F401


def _import_quietly() -> None:
    try:
        _matplotlib()
    except Exception:        # the next _matplotlib() call, in the build's own thread, imports again and reports it
        pass


def _matplotlib(private_folder: str | None = None):
    """Import what drawing needs (not pyplot: figures never open windows, and it costs ~0.4 s).
    `private_folder`: the MPLCONFIGDIR the build made for this process (the plot server's)."""
    from .workers import join_background
    join_background()
    if "matplotlib.figure" not in sys.modules:
        with _private_config(private_folder) as folder:
            listed = folder is not None and _list_no_fonts(folder)
            import matplotlib.backends.backend_agg  # noqa: F401
            import matplotlib.figure  # noqa: F401
            if listed:
                from matplotlib import font_manager
                manager = font_manager.fontManager
                # Not when matplotlib scanned after all (the list was not the one written here).
                if not manager.ttflist and getattr(manager, "_version", None) == font_manager.FontManager.__version__:
                    add_bundled_fonts(manager)
    global _FORK_HOOK
    if not _FORK_HOOK and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_forget_fonts)
        _FORK_HOOK = True
    import matplotlib
    matplotlib.rcParams.update({"svg.hashsalt": "gen", "font.size": TICK_PT, "path.simplify": True})
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.figure  # noqa: F401


@contextlib.contextmanager
def _private_config(made: str | None = None):
    """Matplotlib writes a font cache into ~/.config or ~/.cache at import; give it a temporary
    folder instead (unless the user chose one with MPLCONFIGDIR), and remove it afterwards.
    Yields the folder gen made (`made`, if the build made it already), or None for the user's."""
    if made is not None:
        yield made
        return
    if os.environ.get("MPLCONFIGDIR"):
        yield None
        return
    folder = tempfile.mkdtemp(prefix="gen-matplotlib-")
    os.environ["MPLCONFIGDIR"] = folder
    try:
        yield folder
    finally:
        del os.environ["MPLCONFIGDIR"]
        shutil.rmtree(folder, ignore_errors=True)


# Matplotlib's first import in an empty config folder (gen's, every build) lists every font it can
# find and parses each: its own 40 TrueType and 61 AFM fonts and the system's. The AFM ones alone
# cost ~0.09 s, and a desktop's hundreds of fonts take seconds ("Matplotlib is building the font
# cache" after 5 s). gen draws with Agg, which uses TrueType only, and only matplotlib's own
# (DejaVu Sans and Computer Modern: a full list puts them first, so they win every tie): so the
# folder gets an empty font list, which the import loads instead of scanning, and the bundled
# TrueType fonts are added to it (0.005 s). tests/test_figures.py compares the two lists' choices.
# font_manager.py's FontManager: (the version of its cached list, the body of its __init__)
_FONT_MANAGER = re.compile(r"^class FontManager\b.*?^    __version__ = '([^']+)'"
                           r".*?^    def __init__\(self.*?$(.*?)^    def ", re.M | re.S)


def _list_no_fonts(folder: str, source: str | None = None) -> bool:
    """Write the empty font list for the matplotlib about to be imported (its font_manager.py is
    `source`, read here if not given). False, and nothing written, if its version cannot be read
    or its FontManager sets other attributes than this list gives (a matplotlib this was not made
    for): then the import scans, as it would anyway."""
    import json
    empty = {"_version": None, "_FontManager__default_weight": "normal", "default_size": None,
             "defaultFamily": {"ttf": "DejaVu Sans", "afm": "Helvetica"}, "afmlist": [], "ttflist": []}
    try:
        if source is None:
            import importlib.util
            source = Path(importlib.util.find_spec("matplotlib.font_manager").origin).read_text(encoding="utf-8")
        found = _FONT_MANAGER.search(source)
        if found is None:
            return False
        version, init = found.groups()
        names = {("_FontManager" + n if n.startswith("__") else n) for n in re.findall(r"self\.(\w+)\s*=", init)}
        if names != set(empty):
            return False
        empty["_version"] = version
        Path(folder, f"fontlist-v{version}.json").write_text(json.dumps({**empty, "__class__": "FontManager"}),
                                                             encoding="utf-8")
        return True
    except (ImportError, OSError, TypeError, AttributeError):
        return False


def add_bundled_fonts(manager) -> None:
    """Matplotlib's own TrueType fonts into a matplotlib FontManager."""
    import matplotlib
    for path in sorted(Path(matplotlib.get_data_path(), "fonts", "ttf").glob("*.ttf")):
        manager.addfont(str(path))


def warm_up(private_folder: str | None = None) -> None:
    _matplotlib(private_folder)


# Drawn and thrown away by the plot server while a serial build makes its problems (PlotServer.warm):
# a process's first drawing sets up what later ones reuse (mathtext's parser, font lookups, the
# first Agg canvas). Done before its pool forks, the pool's workers inherit that: 18 plots in
# 0.30 s instead of 0.36.
_WARM_UP = ({"portable": ("def _lambdifygenerated(x, y):\n    return [x**2 + 3*y**2, 2*x, 6*y]\n", ()),
             "critical": (0.0, 0.0), "name": "warm-up", "point": (1.0, 1.0), "variables": ("x", "y"),
             "arrows": (("∇f(P)", (2.0, 6.0)), ("û", (0.6, 0.8)))}, False, WIDTH, HEIGHT, DPI)


def warm_drawing() -> None:
    _draw_task(_WARM_UP)


def figure_name(spec, prefix="fig") -> str:
    if "portable" in spec:
        return spec["name"] if prefix == "fig" else prefix + spec["name"][3:]
    # Asked for the same spec ~5 times a build (each target, the cache, the alt text), and its
    # srepr costs ~0.2 ms. Remembered by identity: the memo holds the spec, so no other object
    # can have its id while its name is there. A spec is never changed once a family made it.
    def digest():
        import sympy as sp
        key = sp.srepr((spec["function"], spec.get("point"),
                        tuple((a, sp.Tuple(*v)) for a, v in spec.get("arrows", ()))))
        return spec, hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"{prefix}-{_remembered(_NAMES, id(spec), digest, NAMES_KEPT)[1]}.png"


def _remembered(memo: OrderedDict, key, make, kept: int):
    """memo[key], made by make() the first time; the `kept` most recently used are kept."""
    if key in memo:
        memo.move_to_end(key)
    else:
        memo[key] = make()
        if len(memo) > kept:
            memo.popitem(last=False)
    return memo[key]


_NAMES: OrderedDict[int, tuple[dict, str]] = OrderedDict()
NAMES_KEPT = 1024


def alt_text(spec, *, blank=False) -> str:
    """What the plot shows, in words a screen reader speaks (speech.describe_plot)."""
    from .speech import describe_plot
    return describe_plot(spec, blank=blank)


_CACHE: dict[tuple, bytes] = {}


def render_png(spec, *, blank=False, width=WIDTH, height=HEIGHT, dpi=DPI) -> bytes:
    """PNG bytes for a plot spec; the same spec is drawn once per process (Anki and the
    worksheets share figures)."""
    key = (figure_name(spec), blank, width, height, dpi)
    if key not in _CACHE:
        _CACHE[key] = _draw(spec, blank, width, height, dpi)
    return _CACHE[key]


def _draw_task(task):
    spec, blank, width, height, dpi = task
    return _draw(spec, blank, width, height, dpi)


def _undrawn(requests) -> dict:
    todo = {}
    for spec, kw in requests:
        args = (spec, *_sizes(kw))
        key = (figure_name(spec),) + args[1:]
        if key not in _CACHE:
            todo[key] = args
    return todo


def prefetch(requests, pool_map=map) -> None:
    """Draw many figures up front (in parallel when given a pool's map) into the cache."""
    todo = _undrawn(requests)
    for key, png in zip(todo, pool_map(_draw_task, list(todo.values()))):
        _CACHE[key] = png


def send_served(requests, server, jobs: int):
    """Have a plot server (plotserver.py) draw the figures, with `jobs` processes: this sends the
    requests, each as soon as it is portable, and returns; the function it returns waits for the
    PNGs, puts them in the cache and returns the requests it could not send (a formula whose numpy
    function needs more than numpy's own functions), for the caller to draw."""
    todo = _undrawn(requests)
    sent = []                   # the keys, in the order their tasks went

    def tasks():
        # One at a time: the server draws the first while this process prints the next's numpy
        # source (~0.7 ms; the server finds the critical point).
        for key, args in todo.items():
            spec = portable(args[0])
            if spec is not None:
                sent.append(key)
                yield (spec,) + args[1:]
    server.send(tasks(), jobs)

    def received() -> list:
        for key, png in zip(sent, server.receive()):
            _CACHE[key] = png
        return [(args[0], dict(zip(("blank", "width", "height", "dpi"), args[1:])))
                for key, args in todo.items() if key not in _CACHE]
    return received


def _sizes(kw) -> tuple:
    return kw.get("blank", False), kw.get("width", WIDTH), kw.get("height", HEIGHT), kw.get("dpi", DPI)


def _draw(spec, blank, width, height, dpi) -> bytes:
    with _drawn(spec, blank, width, height, dpi) as (canvas, _):
        return canvas.png()


# --- what a test can check ------------------------------------------------------------------------

@dataclass(frozen=True)
class Box:
    """An axis-aligned box in display pixels (origin bottom left)."""
    x0: float
    y0: float
    x1: float
    y1: float

    def grown(self, d: float) -> Box:
        return Box(self.x0 - d, self.y0 - d, self.x1 + d, self.y1 + d)


@dataclass(frozen=True)
class Layout:
    """What one figure drew, in display pixels unless said otherwise."""
    labels: tuple[tuple[str, Box], ...]      # (mathtext, text.get_window_extent) of every label, P's last
    marker: Box                              # the dot at P
    level_curve: tuple                       # polylines (n × 2 arrays) of the level curve through P
    arrows: tuple                            # polylines of the arrows at P: shaft, then head outline
    axes: Box
    window: tuple[float, float, float, float]    # xmin, xmax, ymin, ymax in data units
    critical_point: tuple[float, float] | None   # the feature kept in view, data units
    field: tuple                             # (bases, vectors) of the field arrows, data units (n × 2)


def plot_window(spec, *, width=WIDTH, height=HEIGHT) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) that `render_png` shows, without drawing (for a description of the
    plot). Differs from `layout(spec).window` only when labels found no room and the figure zoomed in."""
    P = tuple(float(c) for c in spec["point"])
    num, C = numeric(spec)
    return _window(P, C, _axes_ratio(width, height))[0]


def layout(spec, *, blank=False, width=WIDTH, height=HEIGHT, dpi=DPI) -> Layout:
    """The label boxes and the geometry they must avoid, exactly as `render_png` draws them."""
    with _drawn(spec, blank, width, height, dpi) as (_, drawn):
        return drawn


def _axis_names(variables) -> tuple[str, str]:
    import sympy as sp
    return tuple(sp.latex(v) for v in variables)


def portable(spec) -> dict | None:
    """The spec as plain numbers and text (no SymPy objects), which a process without SymPy draws
    to the same bytes: the point and arrows as floats, the numpy function as lambdify writes it.
    The process that draws it finds the critical point itself, with the same function and code as
    this one's `numeric`, so this one need not import numpy first. None if the function cannot
    travel so."""
    source = numpy_source(spec)
    if source is None:
        return None
    return {"portable": source, "name": figure_name(spec),
            "point": tuple(float(c) for c in spec["point"]), "variables": _axis_names(spec["variables"]),
            "arrows": tuple((label, tuple(float(c) for c in v)) for label, v in spec.get("arrows", ()))}


# What NumPyPrinter writes for the functions and constants gen's formulas use (mathparse.FUNCTIONS,
# π, e): numpy's own, known without importing numpy (tests/test_figures.py checks them on numpy).
NUMPY_NAMES = frozenset({"exp", "sin", "cos", "tan", "log", "sqrt", "pi", "e"})


def numpy_source(spec) -> tuple[str, tuple[str, ...]] | None:
    """(source, the names it uses) of f, ∂f/∂x, ∂f/∂y as one numpy function, remembered per plot;
    None when it would use a name that is not numpy's own.

    It is the source lambdify writes for them with the numpy module (the printer lambdify picks,
    with the settings it gives it, and its function printer; tests/test_figures.py compares the
    two), made without lambdify, which copies numpy's namespace, prints f again for a docstring and
    needs numpy imported: 0.7 ms instead of 1.3, and the first plot request leaves before numpy
    is imported here. The derivatives are derivative()'s, node for node sympy.diff's."""
    return _remembered(_SOURCES, figure_name(spec), lambda: _numpy_source(spec), NUMERIC_KEPT)


def _numpy_source(spec) -> tuple[str, tuple[str, ...]] | None:
    from sympy.printing.numpy import NumPyPrinter
    from sympy.utilities.lambdify import _EvaluatorPrinter

    from .families._common import derivative
    x, y = spec["variables"]
    f = spec["function"]
    printer = NumPyPrinter({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
                            "user_functions": {}})
    source = _EvaluatorPrinter(printer, False).doprint("_lambdifygenerated", (x, y),
                                                       [f, derivative(f, x), derivative(f, y)], cses=())
    namespace: dict = {}
    exec(source, namespace)                     # defines the function; its names are looked up when called
    names = tuple(namespace["_lambdifygenerated"].__code__.co_names)
    if not NUMPY_NAMES.issuperset(names):
        import numpy as np
        if not all(hasattr(np, n) for n in names):
            return None
    return source, names


_SOURCES: OrderedDict[str, tuple | None] = OrderedDict()


# --- labels as mathtext ---------------------------------------------------------------------------

_SYMBOLS = {"∇": r"\nabla ", "−": "-", "·": r"\cdot ", "∂": r"\partial ", "⊥": r"\perp ",
            "∥": r"\parallel ", "′": "'", "×": r"\times ", "→": r"\to ", "∞": r"\infty "}
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "η": "eta",
          "θ": "theta", "λ": "lambda", "μ": "mu", "π": "pi", "σ": "sigma", "φ": "phi", "ω": "omega"}
_SUB, _SUP = "₀₁₂₃₄₅₆₇₈₉", "⁰¹²³⁴⁵⁶⁷⁸⁹"
_ESCAPE = {"\\": r"\backslash ", "$": r"\$", "_": r"\_", "^": r"\^{}", "{": r"\{", "}": r"\}",
           "%": r"\%", "#": r"\mathrm{\#}", "~": r"\sim "}       # what mathtext accepts for each


def mathtext(label: str) -> str:
    """A label as the families write it ("∇f(P)", "û", "−û", "u", "A") → matplotlib mathtext.

    Letters are math italic, as in the text's formulas; a name made of capitals only (a choice "A",
    the point "P" is drawn separately) stays upright, as the prompt prints it. Words of two or more
    letters are upright too (\\mathrm), so "grad" does not read as g·r·a·d.
    """
    if label.isascii() and label.isalpha() and label.isupper():
        return label
    pieces: list[str] = []
    script = ""                      # the open subscript/superscript run: "_" or "^"
    word = ""

    def flush_word():
        nonlocal word
        if word:
            pieces.append(word if len(word) == 1 else r"\mathrm{" + word + "}")
            word = ""

    def flush_script():
        nonlocal script
        if script:
            pieces.append("}")
            script = ""

    for ch in unicodedata.normalize("NFD", label):
        kind = "_" if ch in _SUB else "^" if ch in _SUP else ""
        if kind != script:
            flush_word()
            flush_script()
            if kind:
                pieces.append(kind + "{")
                script = kind
        if kind:
            pieces.append(str((_SUB if kind == "_" else _SUP).index(ch)))
        elif ch == "\u0302":                         # combining circumflex: û = u + ̂
            if word:
                head, last = word[:-1], word[-1]
                word = head
                flush_word()
                pieces.append(r"\hat{" + last + "}")
            elif pieces:
                pieces[-1] = r"\hat{" + pieces[-1] + "}"
        elif ch.isascii() and ch.isalpha():
            word += ch
        else:
            flush_word()
            if ch in _SYMBOLS:
                pieces.append(_SYMBOLS[ch])
            elif ch in _GREEK:
                pieces.append("\\" + _GREEK[ch] + " ")
            elif ch in _ESCAPE:
                pieces.append(_ESCAPE[ch])
            elif ch == " ":
                pieces.append(r"\ ")
            else:
                pieces.append(ch)
    flush_word()
    flush_script()
    return "$" + "".join(pieces).strip() + "$"


# --- numbers: f and ∇f on grids, the feature to keep in view, the window ----------------------------

class _Numeric:
    """f, ∂f/∂x, ∂f/∂y as one numpy function, made once per spec from numpy_source (without
    common subexpressions, which would cost 4× for no gain on these small expressions).
    Not-finite values → nan."""

    def __init__(self, spec):
        import numpy as np
        self.np = np
        source = spec["portable"] if "portable" in spec else numpy_source(spec)
        if source is None:
            # A name numpy lacks: lambdify with numpy itself as the namespace, not "numpy" (the
            # same printer and source without the `from numpy import *` lambdify runs for the
            # name: 0.06 s and ~20 MiB at a large build's peak, numpy.f2py among it).
            import sympy as sp
            x, y = spec["variables"]
            f = spec["function"]
            self._fn = sp.lambdify((x, y), [f, sp.diff(f, x), sp.diff(f, y)], [np])
            return
        text, names = source
        namespace = {name: getattr(np, name) for name in names}
        exec(text, namespace)                            # the function lambdify writes, as it writes it
        self._fn = namespace["_lambdifygenerated"]

    def __call__(self, X, Y):
        np = self.np
        X, Y = np.asarray(X, float), np.asarray(Y, float)
        with np.errstate(all="ignore"):
            out = [np.broadcast_to(np.asarray(v, float), np.broadcast(X, Y).shape) for v in self._fn(X, Y)]
        return [np.where(np.isfinite(v), v, np.nan) for v in out]


_NUMERIC: OrderedDict[str, tuple] = OrderedDict()
NUMERIC_KEPT = 256                    # specs remembered (a build with --lms-figures has one per variant)


def numeric(spec) -> tuple[_Numeric, tuple[float, float] | None]:
    """(f and ∇f as numpy functions, the critical point kept in view) of a plot spec, remembered:
    the alt text needs them twice (the window, the field's description) and the drawing once more,
    and the function and the critical point cost ~3 ms. The parent computes them for the alt texts
    before the plot workers fork, so the workers inherit them."""
    def make():
        num = _Numeric(spec)
        critical = spec["critical"] if "critical" in spec else \
            _critical_point(num, tuple(float(c) for c in spec["point"]))
        return num, critical
    return _remembered(_NUMERIC, figure_name(spec), make, NUMERIC_KEPT)


def _critical_point(num, P):
    """The isolated critical point of f nearest P within FEATURE_REACH, or None.

    Coarse grid of |∇f|², its local minima refined by Newton's method on ∇f = 0 with a
    finite-difference Jacobian; a point is kept only where the Hessian is well conditioned, so a
    line of critical points (sin(x + y)) does not drag the window. Bounded: ≤ 6 starts × 12 steps.
    """
    np = num.np
    n = 41
    xs = np.linspace(P[0] - FEATURE_REACH, P[0] + FEATURE_REACH, n)
    ys = np.linspace(P[1] - FEATURE_REACH, P[1] + FEATURE_REACH, n)
    X, Y = np.meshgrid(xs, ys)
    _, GX, GY = num(X, Y)
    G = GX * GX + GY * GY
    G = np.where(np.isfinite(G), G, np.inf)
    inner = G[1:-1, 1:-1]
    neighbours = [G[1 + dy:n - 1 + dy, 1 + dx:n - 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dx or dy]
    is_min = np.all([inner <= nb for nb in neighbours], axis=0) & np.isfinite(inner)
    rows, cols = np.nonzero(is_min)
    starts = sorted(zip(inner[rows, cols], rows + 1, cols + 1))[:6]
    scale = float(np.median(np.sqrt(G[np.isfinite(G)]))) if np.isfinite(G).any() else 1.0
    h = 1e-5 * FEATURE_REACH
    stencil = np.array([[0, 0], [h, 0], [-h, 0], [0, h], [0, -h]])
    found = []
    for _, r, c in starts:
        p = np.array([xs[c], ys[r]])
        for _ in range(12):
            pts = p + stencil                            # ∇f at p and at p ± h along x and y, one call
            _, gx, gy = num(pts[:, 0], pts[:, 1])
            g = np.array([gx[0], gy[0]])
            J = np.array([[gx[1] - gx[2], gx[3] - gx[4]], [gy[1] - gy[2], gy[3] - gy[4]]]) / (2 * h)
            if not (np.isfinite(g).all() and np.isfinite(J).all()):
                break
            norm2 = float((J * J).sum())
            if norm2 == 0 or abs(np.linalg.det(J)) < 1e-4 * norm2:
                break                                     # flat or degenerate: not an isolated point
            if float(np.hypot(*g)) <= 1e-9 * scale:          # converged, relative to how f varies
                found.append((float(np.hypot(*(p - P))), float(p[0]), float(p[1])))
                break
            p = p - np.linalg.solve(J, g)
    found = [f for f in found if 0.05 < f[0] <= FEATURE_REACH]
    return (min(found)[1], min(found)[2]) if found else None


def _window(P, C, ratio, zoom=1.0):
    """((xmin, xmax, ymin, ymax), C) with width/height = ratio (equal aspect), P within P_ROOM of
    the half-extents from the centre (room for the arrows and labels) and C, if given, within
    FEATURE_ROOM; centred between P and C as far as that allows. C comes back None if it was too
    far to keep. zoom < 1 (when labels found no room) gives a smaller window centred on P."""
    hy = MIN_HALF_HEIGHT * zoom
    if zoom < 1:
        C = None
    if C is not None:
        need = max(abs(C[1] - P[1]), abs(C[0] - P[0]) / ratio) / (P_ROOM + FEATURE_ROOM)
        if need > MAX_HALF_HEIGHT:
            C = None                                     # too far away to show with P legibly
        else:
            hy = max(hy, need)
    hx = hy * ratio
    centre = []
    for p, h, i in ((P[0], hx, 0), (P[1], hy, 1)):
        if C is None:
            centre.append(p)
            continue
        lo, hi = max(p - P_ROOM * h, C[i] - FEATURE_ROOM * h), min(p + P_ROOM * h, C[i] + FEATURE_ROOM * h)
        centre.append(min(max((p + C[i]) / 2, lo), hi))
    return (centre[0] - hx, centre[0] + hx, centre[1] - hy, centre[1] + hy), C


def _levels(Z, slope, at_p, unit_px):
    """Evenly spaced contour levels through f(P): a twelfth of the robust range of f apart, but
    never closer than MIN_CONTOUR_GAP_PX where the slope is typical (sin(3x − 3y) would otherwise
    be a grey carpet), and not hugging an extreme, where the grid turns a level into a chain of
    tiny loops."""
    import numpy as np
    finite = Z[np.isfinite(Z)]
    if finite.size == 0:
        return []
    lo, hi = np.quantile(finite, [0.02, 0.98])
    typical = slope[np.isfinite(slope)]
    step = max((hi - lo) / 12, float(np.median(typical)) * MIN_CONTOUR_GAP_PX / unit_px if typical.size else 0)
    if not step > 0:
        return []
    if not math.isfinite(at_p):
        at_p = float(lo)                               # f undefined at P: anchor anywhere
    zmin, zmax = float(finite.min()) + step / 2, float(finite.max()) - step / 2
    ks = range(max(-24, math.ceil((zmin - at_p) / step)), min(24, math.floor((zmax - at_p) / step)) + 1)
    return [at_p + k * step for k in ks if k != 0]


# --- geometry in display pixels ---------------------------------------------------------------------

def _segments(polylines):
    import numpy as np
    parts = [np.hstack([p[:-1], p[1:]]) for p in polylines if len(p) > 1]
    return np.vstack(parts) if parts else np.zeros((0, 4))


def _hit_mask(seg, box: Box):
    """Which segments (rows x0, y0, x1, y1) meet the box? Separating axes: x, y and the normal."""
    import numpy as np
    x0, y0, x1, y1 = seg.T
    mask = ((np.minimum(x0, x1) <= box.x1) & (np.maximum(x0, x1) >= box.x0)
            & (np.minimum(y0, y1) <= box.y1) & (np.maximum(y0, y1) >= box.y0))
    if mask.any():
        nx, ny = y0 - y1, x1 - x0
        sides = np.stack([nx * (cx - x0) + ny * (cy - y0)
                          for cx, cy in ((box.x0, box.y0), (box.x1, box.y0), (box.x0, box.y1), (box.x1, box.y1))])
        mask &= ~((sides > 0).all(axis=0) | (sides < 0).all(axis=0))
    return mask


def _near_mask(points, seg, d):
    """Which points (n × 2) lie within d of any of the segments (m × 4)?"""
    import numpy as np
    if not len(seg):
        return np.zeros(len(points), bool)
    p, q = seg[None, :, :2], seg[None, :, 2:]
    pq = q - p
    L2 = (pq * pq).sum(axis=2)
    t = np.clip(((points[:, None, :] - p) * pq).sum(axis=2) / np.where(L2 > 0, L2, 1), 0, 1)
    gap = points[:, None, :] - (p + t[..., None] * pq)
    return ((gap * gap).sum(axis=2) < d * d).any(axis=1)


@dataclass
class _Obstacles:
    segments: object                   # n × 4 array: the level curve and the arrows at P
    boxes: list                        # placed labels and the marker, grown by LABEL_MARGIN_PX
    frame: Box                         # labels stay inside this (the axes, shrunk)


def _place(size, anchor, prefer, obstacles: _Obstacles, base_gap):
    """The centre of the best free spot for a w × h label next to `anchor` (display px).

    Candidates: 24 directions around the anchor, the box touching a circle of radius base_gap and
    then stepping out by 5 px (8 rings). Cost: turning away from the direction `prefer` (radians),
    stepping out, and being close to the curve or the arrows. None when nothing is free.
    All candidates are tested at once (numpy), with the segments near the anchor only.
    """
    import numpy as np
    w, h = size
    step = np.repeat(np.arange(8), 24)
    phi = np.tile(np.arange(24) * (2 * np.pi / 24), 8)
    ux, uy = np.cos(phi), np.sin(phi)
    reach = base_gap + 5 * step + (w / 2) * np.abs(ux) + (h / 2) * np.abs(uy)
    cx, cy = anchor[0] + reach * ux, anchor[1] + reach * uy
    x0, x1, y0, y1 = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
    f = obstacles.frame
    ok = (x0 >= f.x0) & (x1 <= f.x1) & (y0 >= f.y0) & (y1 <= f.y1)
    m = LABEL_MARGIN_PX
    gx0, gx1, gy0, gy1 = x0 - m, x1 + m, y0 - m, y1 + m
    for b in obstacles.boxes:
        ok &= ~((gx0 < b.x1) & (b.x0 < gx1) & (gy0 < b.y1) & (b.y0 < gy1))
    seg = obstacles.segments
    if len(seg):
        near = ((np.minimum(seg[:, 0], seg[:, 2]) <= gx1.max()) & (np.maximum(seg[:, 0], seg[:, 2]) >= gx0.min())
                & (np.minimum(seg[:, 1], seg[:, 3]) <= gy1.max()) & (np.maximum(seg[:, 1], seg[:, 3]) >= gy0.min()))
        seg = seg[near]
    if len(seg):
        sx0, sy0, sx1, sy1 = (c[None, :] for c in seg.T)
        X0, X1, Y0, Y1 = (c[:, None] for c in (gx0, gx1, gy0, gy1))
        hit = ((np.minimum(sx0, sx1) <= X1) & (np.maximum(sx0, sx1) >= X0)
               & (np.minimum(sy0, sy1) <= Y1) & (np.maximum(sy0, sy1) >= Y0))
        nx, ny = sy0 - sy1, sx1 - sx0
        sides = [nx * (cx_ - sx0) + ny * (cy_ - sy0) for cx_, cy_ in ((X0, Y0), (X1, Y0), (X0, Y1), (X1, Y1))]
        above = (sides[0] > 0) & (sides[1] > 0) & (sides[2] > 0) & (sides[3] > 0)
        below = (sides[0] < 0) & (sides[1] < 0) & (sides[2] < 0) & (sides[3] < 0)
        ok &= ~(hit & ~above & ~below).any(axis=1)
    if not ok.any():
        return None
    idx = np.nonzero(ok)[0]
    clear = np.full(len(idx), 12.0)
    if len(seg):
        pts = np.vstack([seg[:, :2], seg[:, 2:]])
        dx = np.maximum(np.maximum(x0[idx, None] - pts[None, :, 0], pts[None, :, 0] - x1[idx, None]), 0)
        dy = np.maximum(np.maximum(y0[idx, None] - pts[None, :, 1], pts[None, :, 1] - y1[idx, None]), 0)
        clear = np.minimum(np.sqrt((dx * dx + dy * dy).min(axis=1)), 12.0)
    turn = np.abs(np.remainder(phi[idx] - prefer + np.pi, 2 * np.pi) - np.pi)
    cost = 1.2 * turn + 0.25 * step[idx] - 0.08 * clear
    best = idx[int(np.argmin(cost))]
    return float(cx[best]), float(cy[best])


def _largest_gap(directions):
    """The bisector of the widest angle between the given directions (radians)."""
    if not directions:
        return 5 * math.pi / 4                           # lower left, as textbooks put "P"
    angles = sorted(a % (2 * math.pi) for a in directions)
    gaps = [((angles[(i + 1) % len(angles)] - a) % (2 * math.pi) or 2 * math.pi, a) for i, a in enumerate(angles)]
    width, start = max(gaps)
    return start + width / 2


# --- the canvas and the drawing ---------------------------------------------------------------------

class _Canvas:
    """One figure and axes per size, reused; margins fixed in inches so tick labels fit."""

    def __init__(self, width, height, dpi):
        _matplotlib()
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        self.fig = Figure(figsize=(width, height), dpi=dpi)
        self.agg = FigureCanvasAgg(self.fig)
        left, bottom, right, top = MARGINS
        self.ax = self.fig.add_axes([left / width, bottom / height, 1 - (left + right) / width,
                                     1 - (bottom + top) / height])
        self.ratio = _axes_ratio(width, height)
        self.ax.set_autoscale_on(False)
        self.ax.tick_params(labelsize=TICK_PT)

    def png(self) -> bytes:
        """The figure as a 4-bit greyscale PNG: everything drawn is grey, and 16 levels of grey
        antialias as well as 256 at this size, for half the bytes of 8-bit and a third of RGBA."""
        from PIL import Image
        self.agg.draw()
        grey = Image.frombuffer("RGBA", self.agg.get_width_height(), self.agg.buffer_rgba(), "raw", "RGBA", 0, 1)
        levels = grey.convert("L").point(_SIXTEEN_GREYS)
        image = Image.frombytes("P", levels.size, levels.tobytes())
        image.putpalette(_GREY_PALETTE)
        buf = io.BytesIO()
        image.save(buf, format="png", bits=4, compress_level=3)   # no metadata: same figure, same bytes
        return buf.getvalue()

    def clear(self):
        ax = self.ax
        for artist in [*ax.collections, *ax.lines, *ax.texts, *ax.patches, *ax.images]:
            artist.remove()


def _axes_ratio(width, height):
    left, bottom, right, top = MARGINS
    return (width - left - right) / (height - bottom - top)


_SIXTEEN_GREYS = [round(v / 17) for v in range(256)]
_GREY_PALETTE = [c for v in range(16) for c in (17 * v,) * 3]
_CANVASES: dict[tuple, _Canvas] = {}


@contextmanager
def _drawn(spec, blank, width, height, dpi):
    key = (width, height, dpi)
    if key not in _CANVASES:
        _CANVASES[key] = _Canvas(width, height, dpi)
    canvas = _CANVASES[key]
    num, C = numeric(spec)
    P = tuple(float(c) for c in spec["point"])
    try:
        for zoom in ZOOMS:
            drawn, all_placed = _compose(canvas, spec, blank, num, _window(P, C, canvas.ratio, zoom))
            if all_placed:
                break
            canvas.clear()                    # a label found no free spot: closer in, curves part
        yield canvas, drawn
    finally:
        canvas.clear()


def _compose(canvas: _Canvas, spec, blank, num, view):
    """Draw the figure in the window `view` = (window, feature kept in view). Returns the Layout and
    whether every label found a free spot."""
    import numpy as np
    from matplotlib.lines import Line2D
    ax, renderer = canvas.ax, canvas.agg.get_renderer()
    P = tuple(float(c) for c in spec["point"])
    window, C = view
    _frame_axes(ax, window, spec["variables"])
    bb = ax.get_window_extent(renderer)
    frame = Box(bb.x0, bb.y0, bb.x1, bb.y1)
    level_px = _contours(ax, num, window, canvas.ratio, P, blank)
    Ppx = ax.transData.transform([P])[0]
    arrows = [] if blank else _arrows_at_p(ax, spec.get("arrows", ()), Ppx, ARROW_FRACTION * (frame.y1 - frame.y0))
    arrow_lines = [line for a in arrows for line in a.outline]
    marker_r = 3.5 * renderer.points_to_pixels(1.0)              # markersize 7 pt
    ax.add_line(Line2D([P[0]], [P[1]], marker="o", markersize=7, color="black", linestyle="none", zorder=5))
    marker = Box(Ppx[0] - marker_r, Ppx[1] - marker_r, Ppx[0] + marker_r, Ppx[1] + marker_r)

    # labels: arrows first (each wants its tip), then P in the widest angle left free at P
    obstacles = _Obstacles(_segments(level_px + arrow_lines), [marker.grown(LABEL_MARGIN_PX)],
                           frame.grown(-LABEL_MARGIN_PX))
    wanted = [(", ".join(mathtext(s) for s in a.labels), a.tip, a.angle, LABEL_GAP_PX) for a in arrows]
    taken = [a.angle for a in arrows]
    if level_px:
        gx, gy = (float(v) for v in num(*P)[1:])
        if math.isfinite(gx) and math.isfinite(gy) and (gx or gy):
            taken += [math.atan2(gx, -gy), math.atan2(-gx, gy)]   # the level curve leaves P along ±t
    wanted.append(("$P$", Ppx, _largest_gap(taken), marker_r + LABEL_GAP_PX))
    placed = [_label(ax, renderer, obstacles, *w) for w in wanted]
    all_placed = all(ok for _, _, ok in placed)
    placed = [(text, box) for text, box, _ in placed]

    field = (np.zeros((0, 2)), np.zeros((0, 2))) if blank else _field(ax, num, window, canvas.ratio,
                                               [marker, *(box for _, box in placed)], arrow_lines)
    return Layout(labels=tuple(placed), marker=marker, level_curve=tuple(level_px), arrows=tuple(arrow_lines),
                  axes=frame, window=window, critical_point=C, field=field), all_placed


def _frame_axes(ax, window, variables):
    x0, x1, y0, y1 = window
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.apply_aspect()
    x, y = variables if isinstance(variables[0], str) else _axis_names(variables)
    ax.set_xlabel(f"${x}$", fontsize=TICK_PT + 1, math_fontfamily=MATH_FONT, labelpad=2)
    ax.set_ylabel(f"${y}$", fontsize=TICK_PT + 1, math_fontfamily=MATH_FONT, labelpad=2, rotation=0)


def _contours(ax, num, window, ratio, P, blank):
    """Grey contours anchored at f(P) and, unless blank, the bold level curve through P, whose
    polylines (display px) come back for the label placement."""
    import contourpy
    import numpy as np
    from matplotlib.collections import LineCollection
    x0, x1, y0, y1 = window
    X, Y = np.meshgrid(np.linspace(x0, x1, CONTOUR_GRID), np.linspace(y0, y1, max(2, round(CONTOUR_GRID / ratio))))
    Z, GX, GY = num(X, Y)
    at_p = float(num(*P)[0])
    gen = contourpy.contour_generator(X, Y, Z, line_type="Separate")
    unit_px = ax.transData.transform([(1, 0)])[0][0] - ax.transData.transform([(0, 0)])[0][0]
    grey = [line for level in _levels(Z, np.hypot(GX, GY), at_p, unit_px) for line in gen.lines(level)]
    ax.add_collection(LineCollection(grey, colors="0.62", linewidths=0.8, zorder=1))
    if blank or not math.isfinite(at_p):
        return []
    level_curve = [line for line in gen.lines(at_p) if len(line) > 1]
    ax.add_collection(LineCollection(level_curve, colors="black", linewidths=1.8, zorder=3))
    return [ax.transData.transform(line) for line in level_curve]


@dataclass
class _Arrow:
    angle: float                       # direction on the page, radians
    labels: list
    tip: object = None                 # display px
    outline: tuple = ()                # shaft and head polylines, display px


def _arrows_at_p(ax, arrows, Ppx, length):
    """Arrows at P, one per direction (labels of coincident ones merged), all `length` px long,
    each with its own dash pattern and a solid head."""
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.patches import Polygon
    out: list[_Arrow] = []
    for label, vec in arrows:
        vx, vy = (float(c) for c in vec)
        if vx == 0 and vy == 0:
            continue
        angle = math.atan2(vy, vx)
        same = [a for a in out if abs(math.remainder(angle - a.angle, 2 * math.pi)) < math.radians(SAME_DIRECTION_DEG)]
        if same:
            same[0].labels.append(label)
        else:
            out.append(_Arrow(angle, [label]))
    to_data = ax.transData.inverted().transform
    head_len, head_half = 12.0, 4.6
    for i, a in enumerate(out):
        u = np.array([math.cos(a.angle), math.sin(a.angle)])
        a.tip = Ppx + length * u
        base = a.tip - head_len * u
        side = head_half * np.array([-u[1], u[0]])
        head = np.array([a.tip, base + side, base - side, a.tip])
        shaft = to_data(np.array([Ppx, base + 0.2 * head_len * u]))     # runs a little into the head
        ax.add_line(Line2D(shaft[:, 0], shaft[:, 1], color="black", linewidth=2.0, linestyle=STYLES[i % len(STYLES)],
                           solid_capstyle="butt", dash_capstyle="butt", zorder=4))
        ax.add_patch(Polygon(to_data(head[:3]), closed=True, facecolor="black", edgecolor="black",
                             linewidth=0.6, zorder=4))
        a.outline = (np.array([Ppx, base]), head)
    return out


def _label(ax, renderer, obstacles, text, anchor, prefer, gap):
    """Draw one label at the best free spot near `anchor`; it becomes an obstacle for the next.
    Returns (text, drawn box, whether the spot was free)."""
    artist = ax.text(0, 0, text, fontsize=LABEL_PT, math_fontfamily=MATH_FONT, ha="center", va="center",
                     zorder=6, bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.9))
    ext = artist.get_window_extent(renderer)
    spot = _place((ext.width, ext.height), anchor, prefer, obstacles, gap)
    free = spot is not None
    if not free:                                      # the caller zooms in and tries again
        spot = (anchor[0], anchor[1])
    artist.set_position(tuple(ax.transData.inverted().transform([spot])[0]))
    e = artist.get_window_extent(renderer)
    box = Box(e.x0, e.y0, e.x1, e.y1)
    obstacles.boxes.append(box.grown(LABEL_MARGIN_PX))
    return text, box, free


def _field(ax, num, window, ratio, boxes, arrow_lines):
    """The gradient field on a FIELD_COLUMNS-wide grid, to scale: length ∝ |∇f|, the largest
    arrow (or 2.5 × the 90th percentile, if a few dwarf the rest) as long as 0.9 of the spacing.
    Arrows that would run under a label, the marker or an arrow at P are left out.
    Returns (bases, vectors) as drawn, data units."""
    import numpy as np
    x0, x1, y0, y1 = window
    cols, rows = FIELD_COLUMNS, max(2, round(FIELD_COLUMNS / ratio))
    sx, sy = (x1 - x0) / cols, (y1 - y0) / rows
    QX, QY = np.meshgrid(x0 + sx * (np.arange(cols) + 0.5), y0 + sy * (np.arange(rows) + 0.5))
    _, U, V = num(QX, QY)
    bases = np.column_stack([QX.ravel(), QY.ravel()])
    vecs = np.column_stack([U.ravel(), V.ravel()])
    ok = np.isfinite(vecs).all(axis=1)
    bases, vecs = bases[ok], vecs[ok]
    mag = np.hypot(vecs[:, 0], vecs[:, 1])
    if not len(mag) or not mag.max() > 0:
        return bases[:0], vecs[:0]
    ref = min(float(mag.max()), 2.5 * float(np.quantile(mag, 0.9)))
    vecs = vecs * (0.9 * min(sx, sy) * np.minimum(mag / ref, 1) / np.where(mag > 0, mag, 1))[:, None]
    base_px, tip_px = ax.transData.transform(bases), ax.transData.transform(bases + vecs)
    seg = np.hstack([base_px, tip_px])
    keep = ~_near_mask(np.vstack([base_px, (base_px + tip_px) / 2, tip_px]),
                       _segments(arrow_lines), 6.0).reshape(3, -1).any(axis=0)
    for box in boxes:
        keep &= ~_hit_mask(seg, box.grown(3))
    bases, vecs = bases[keep], vecs[keep]
    if len(bases):
        ax.quiver(bases[:, 0], bases[:, 1], vecs[:, 0], vecs[:, 1], angles="xy", scale_units="xy", scale=1,
                  color="0.38", width=0.0035, headwidth=4, headlength=4.5, headaxislength=4, minlength=0.6,
                  zorder=2)
    return bases, vecs
