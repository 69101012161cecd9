"""Gradient-field pictures (matplotlib, Agg): contours, the gradient field, the level curve through
P and labelled arrows at P. Deterministic bytes; readable in black-and-white print."""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile

import sympy as sp

STYLES = ["-", "--", "-.", ":"]


def _pyplot():
    import sys
    if "matplotlib.pyplot" not in sys.modules:
        with _private_config():
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot      # noqa: F401  (builds the font cache, in the private folder)
    import matplotlib
    matplotlib.rcParams.update({"svg.hashsalt": "gen", "font.size": 9, "path.simplify": True})
    import matplotlib.pyplot as plt
    return plt


@contextlib.contextmanager
def _private_config():
    """Matplotlib writes a font cache into ~/.config or ~/.cache at import; give it a temporary
    folder instead (unless the user chose one with MPLCONFIGDIR), and remove it afterwards."""
    if os.environ.get("MPLCONFIGDIR"):
        yield
        return
    folder = tempfile.mkdtemp(prefix="gen-matplotlib-")
    os.environ["MPLCONFIGDIR"] = folder
    try:
        yield
    finally:
        del os.environ["MPLCONFIGDIR"]
        shutil.rmtree(folder, ignore_errors=True)


def warm_up() -> None:
    _pyplot()


def figure_name(spec, prefix="fig") -> str:
    key = sp.srepr((spec["function"], spec.get("point"), tuple((a, sp.Tuple(*v)) for a, v in spec.get("arrows", ()))))
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.png"


def alt_text(spec) -> str:
    arrows = ", ".join(label for label, _ in spec.get("arrows", ()))
    readable = sp.sstr(spec["function"]).replace("**", "^").replace("*", " ")
    return (f"Contour plot of f = {readable} around P = {tuple(spec['point'])}, with the "
            f"gradient field, the level curve through P, and arrows for {arrows}.")


_CACHE: dict[tuple, bytes] = {}


def render_png(spec, *, blank=False, width=4.2, height=3.6, dpi=100) -> bytes:
    """PNG bytes for a plot spec; the same spec is drawn once per process (Anki and the
    worksheets share figures)."""
    key = (figure_name(spec), blank, width, height, dpi)
    if key not in _CACHE:
        _CACHE[key] = _draw(spec, blank, width, height, dpi)
    return _CACHE[key]


def _draw_task(task):
    spec, blank, width, height, dpi = task
    return _draw(spec, blank, width, height, dpi)


def prefetch(requests, pool_map=map) -> None:
    """Draw many figures up front (in parallel when given a pool's map) into the cache."""
    todo = {}
    for spec, kw in requests:
        args = (spec, kw.get("blank", False), kw.get("width", 4.2), kw.get("height", 3.6), kw.get("dpi", 100))
        key = (figure_name(spec),) + args[1:]
        if key not in _CACHE:
            todo[key] = args
    for key, png in zip(todo, pool_map(_draw_task, list(todo.values()))):
        _CACHE[key] = png


def _draw(spec, blank, width, height, dpi) -> bytes:
    import numpy as np
    plt = _pyplot()
    x, y = spec["variables"]
    f = spec["function"]
    px, py = (float(c) for c in spec["point"])
    fn = sp.lambdify((x, y), f, "numpy")
    gx = sp.lambdify((x, y), sp.diff(f, x), "numpy")
    gy = sp.lambdify((x, y), sp.diff(f, y), "numpy")
    r = 2.5
    xs, ys = np.linspace(px - r, px + r, 101), np.linspace(py - r, py + r, 101)
    X, Y = np.meshgrid(xs, ys)
    Z = np.broadcast_to(fn(X, Y), X.shape).astype(float)
    fig, ax = plt.subplots(figsize=(width, height), dpi=dpi)
    ax.contour(X, Y, Z, levels=12, colors="0.55", linewidths=0.7, negative_linestyles="solid")
    if not blank:
        qx, qy = np.meshgrid(np.linspace(px - r, px + r, 11), np.linspace(py - r, py + r, 11))
        U = np.broadcast_to(gx(qx, qy), qx.shape).astype(float)
        V = np.broadcast_to(gy(qx, qy), qx.shape).astype(float)
        L = np.hypot(U, V)
        L[L == 0] = 1
        ax.quiver(qx, qy, U / L, V / L, color="0.35", scale=28, width=0.004)
        level = float(fn(px, py))
        ax.contour(X, Y, Z, levels=[level], colors="black", linewidths=1.6, negative_linestyles="solid")
        for i, (label, vec) in enumerate(spec.get("arrows", ())):
            vx, vy = (float(c) for c in vec)
            n = (vx * vx + vy * vy) ** 0.5 or 1
            scale = 1.4 / n
            ax.annotate("", xy=(px + vx * scale, py + vy * scale), xytext=(px, py),
                        arrowprops=dict(arrowstyle="-|>", color="black", lw=1.8, linestyle=STYLES[i % 4]))
            ax.text(px + vx * scale * 1.12, py + vy * scale * 1.12, label, fontsize=10, ha="center",
                    va="center", bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))
    ax.plot([px], [py], "o", color="black", markersize=5)
    ax.annotate("P", (px, py), textcoords="offset points", xytext=(-10, -12))
    ax.set_aspect("equal")
    ax.set_xlim(px - r, px + r)
    ax.set_ylim(py - r, py + r)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.13, top=0.97)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()
