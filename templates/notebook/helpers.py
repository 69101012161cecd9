# Checks used by the test cells below. Run this cell first; you do not need to read it.
# A value passes when |yours - expected| <= 1e-6 * max(1, |expected|), component by component.
import math

import numpy as np

RTOL = 1e-6
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


# Every check stops here. Jupyter hides the checks' own frames (__tracebackhide__), so a failed
# test shows the test cell, these lines and the message.
def _fail(message):
    __tracebackhide__ = True
    raise AssertionError(message) from None


def _close(a, b):
    return abs(a - b) <= RTOL * max(1.0, abs(b))


def _all_close(a, b):
    return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))


def _fmt(value):
    """1, -0.5, 0.333333, (1, 2): numbers as a person writes them."""
    if isinstance(value, (tuple, list, np.ndarray)):
        return "(" + ", ".join(_fmt(c) for c in value) + ")"
    value = float(value)
    if math.isfinite(value) and value == round(value) and abs(value) < 1e15:
        return str(int(round(value)))
    return f"{value:.6g}"


def _count(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def _x(k):
    return "x" + str(k).translate(_SUB)


def _lookup(name, hint):
    __tracebackhide__ = True
    if name not in globals():
        _fail(f"{name} is not defined yet: {hint}")
    return globals()[name]


def _call(name, *args):
    __tracebackhide__ = True
    fn = _lookup(name, "write it in the cell above and run that cell, then this one.")
    if not callable(fn):
        _fail(f"{name} should be a function, but it is {fn!r}.")
    shown = f"{name}({', '.join(_fmt(a) for a in args)})"
    try:
        return fn(*args)
    except NotImplementedError:
        _fail(f"{name} is not written yet: replace `raise NotImplementedError()` in its cell "
                             "with your code, run that cell, then run this one.")
    except Exception as exc:
        _fail(f"{shown} raised {type(exc).__name__}: {exc}")


def _numbers(value, shape, what, wanted):
    """value as a float array of the given shape, or a message saying what came back instead."""
    __tracebackhide__ = True
    if value is None:
        _fail(f"{what} returned None: did you forget `return`?")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        _fail(f"{what} returned {value!r}; it should return {wanted}.")
    if array.shape != shape:
        _fail(f"{what} returned {value!r}; it should return {wanted}.")
    return array


def _gradient_hint(got, expected, wrong, partials, label):
    n = len(expected)
    if len(wrong) == n and _all_close(got, [-c for c in expected]):
        return f"every sign is flipped: that is −{label}"
    if n > 1 and _all_close(got, list(expected)[::-1]) and not _all_close(got, expected):
        return f"the components are in the wrong order: the first one is {partials[0]}"
    return "check " + " and ".join(partials[i] for i in wrong)


def check_gradient(name, label, partials, cases):
    """cases: (point, expected gradient) pairs."""
    __tracebackhide__ = True
    wanted = f"{len(partials)} numbers ({', '.join(partials)})"
    for point, expected in cases:
        what = f"{name}{_fmt(point)}"
        got = _numbers(_call(name, *point), (len(expected),), what, wanted)
        wrong = [i for i, (a, b) in enumerate(zip(got, expected)) if not _close(a, b)]
        if wrong:
            _fail(f"at {_fmt(point)} your {name} gives {_fmt(got)}; expected {_fmt(expected)}"
                                 f" — {_gradient_hint(got, expected, wrong, partials, label)}")
    print(f"✓ {name} matches {label} at {_count(len(cases), 'point')}.")


def check_value(name, label, partials, expected, hint):
    __tracebackhide__ = True
    value = _lookup(name, hint)
    got = _numbers(value, (len(expected),), name, f"{len(partials)} numbers ({', '.join(partials)})")
    wrong = [i for i, (a, b) in enumerate(zip(got, expected)) if not _close(a, b)]
    if wrong:
        _fail(f"your {name} is {_fmt(got)}; expected {label} = {_fmt(expected)}"
                             f" — {_gradient_hint(got, expected, wrong, partials, label)}")
    print(f"✓ {name} = {_fmt(got)}.")


def check_shape(name, n, hint):
    """The value exists and has n numbers; what it is, a hidden test checks at grading time."""
    __tracebackhide__ = True
    _numbers(_lookup(name, hint), (n,), name, f"{n} numbers")
    print(f"✓ {name} is set; its value is checked when the notebook is graded.")


def check_directional(name, grad_name, label, cases):
    """cases: (point, direction v, expected rate along v / |v|)."""
    __tracebackhide__ = True
    for point, v, expected in cases:
        what = f"{name}({_fmt(point)}, {_fmt(v)})"
        got = float(_numbers(_call(name, point, v), (), what, "one number, the rate of change (a scalar: "
                             f"{label}(P)·u is a dot product)"))
        if _close(got, expected):
            continue
        length = math.hypot(*v)
        if abs(length - 1) > 1e-9 and _close(got, expected * length):
            hint = f"did you divide v by its length |v| = {_fmt(length)}? The rate uses the unit vector u = v/|v|"
        elif _close(got, -expected):
            hint = "the sign is flipped"
        else:
            hint = f"the rate is {label}(P)·u with u = v/|v|; is {grad_name} right at this point?"
        _fail(f"at P = {_fmt(point)} along v = {_fmt(v)} your {name} gives {_fmt(got)}; "
                             f"expected {_fmt(expected)} — {hint}")
    print(f"✓ {name} matches the directional derivative in {_count(len(cases), 'case')}.")


def _step_hint(got, previous, expected, eta, grad_name, label):
    step = [(p - e) / eta for p, e in zip(previous, expected)]       # the gradient at the previous iterate
    if _all_close(got, [p + eta * g for p, g in zip(previous, step)]):
        return f"that step went uphill: descent subtracts η{label}"
    if _all_close(got, [p - g for p, g in zip(previous, step)]):
        return "the step was not scaled by the learning rate η"
    if _all_close(got, [eta * g for g in step]):
        return f"η{label} is the step, not the new point: subtract it from the previous point"
    return f"each step is x ← x − η{label}(x); is {grad_name} right at {_fmt(previous)}?"


def check_descent(name, grad_name, label, cases):
    """cases: (x0, eta, steps, expected iterates x0 … x_steps)."""
    __tracebackhide__ = True
    for x0, eta, steps, expected in cases:
        what = f"{name}({_fmt(x0)}, {_fmt(eta)}, {steps})"
        n = len(x0)
        value = _call(name, x0, eta, steps)
        shape = np.shape(np.asarray(value, dtype=object)) if value is not None else None
        if shape == (n,):
            _fail(f"{what} returned one point; it should return every iterate "
                                 f"[x₀, x₁, …, x_steps], an array of shape ({steps + 1}, {n}) with x₀ first.")
        if shape == (steps, n):
            _fail(f"{what} returned {steps} points; it should return steps + 1 = {steps + 1}, "
                                 f"starting with x₀ = {_fmt(x0)} itself.")
        path = _numbers(value, (steps + 1, n), what, f"an array of shape ({steps + 1}, {n}): x₀, x₁, …")
        for k, (got, want) in enumerate(zip(path, expected)):
            if _all_close(got, want):
                continue
            if k == 0:
                _fail(f"{what}: the first row should be x₀ = {_fmt(x0)} itself, not {_fmt(got)}.")
            hint = _step_hint(got, expected[k - 1], want, eta, grad_name, label)
            _fail(f"{what}: {_x(k)} is {_fmt(got)}; expected {_fmt(want)} — {hint}")
    print(f"✓ {name} matches gradient descent in {_count(len(cases), 'run')}.")


def _answer(converges_name, limit_name, n):
    __tracebackhide__ = True
    hint = "answer the question in the cell above and run it (it needs your descent loop)."
    said = _lookup(converges_name, hint)
    if not isinstance(said, (bool, np.bool_)):
        _fail(f"{converges_name} should be True or False, not {said!r}.")
    point = _lookup(limit_name, hint)
    if said and point is None:
        _fail(f"{converges_name} is True, so set {limit_name} to the point descent converges to.")
    if not said and point is not None:
        _fail(f"{converges_name} is False, so set {limit_name} = None, not {point!r}.")
    return bool(said), None if point is None else _numbers(point, (n,), limit_name, f"{n} numbers: a point")


def check_answered(converges_name, limit_name, n):
    __tracebackhide__ = True
    said, _ = _answer(converges_name, limit_name, n)
    print(f"✓ answered: {converges_name} = {said}.")


def check_convergence(converges_name, limit_name, n, expected, limit, run):
    __tracebackhide__ = True
    said, got = _answer(converges_name, limit_name, n)
    if said != expected:
        if expected:
            _fail(f"{converges_name} is False, but {run} does settle: compare its last rows "
                                 "(path[-1] and path[-2]) — they stop changing, so descent converges for this η.")
        _fail(f"{converges_name} is True, but {run} never settles: its last rows keep moving "
                             "(compare path[-1] with path[-2]), so descent does not converge for this η.")
    if not expected:
        print(f"✓ {converges_name} = False: descent does not converge for this η.")
        return
    if not _all_close(got, limit):
        _fail(f"your {limit_name} is {_fmt(got)}; descent converges to {_fmt(limit)}, "
                             "where the gradient is 0 — run more steps, or solve for the point where it vanishes.")
    print(f"✓ descent converges to {_fmt(got)}.")


def plot_descent(f, name, x0, eta, steps):
    """Contours of f with the path of your descent loop drawn over them."""
    import matplotlib.pyplot as plt      # here, so the checks above work without matplotlib
    path = None
    try:
        path = np.asarray(_call(name, x0, eta, steps), dtype=float)
        if path.ndim != 2 or path.shape[1] != 2:
            print(f"{name} should return an array of shape ({steps + 1}, 2); nothing to draw yet.")
            path = None
    except (AssertionError, TypeError, ValueError) as exc:
        print(f"No path to draw yet: {exc}")
    start = np.asarray(x0, dtype=float)
    reach = 10 * (1 + np.abs(start).max())
    shown = start[None, :] if path is None else path[np.all(np.isfinite(path) & (np.abs(path) < reach), axis=1)]
    lo, hi = shown.min(axis=0), shown.max(axis=0)
    pad = np.maximum(0.25 * (hi - lo), 1.0)
    lo, hi = lo - pad, hi + pad
    X, Y = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    Z = np.broadcast_to(np.asarray(f(X, Y), dtype=float), X.shape)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    if np.ptp(Z) > 0:
        ax.clabel(ax.contour(X, Y, Z, levels=15, cmap="viridis", linewidths=0.8), fontsize=7)
    if path is not None:
        ax.plot(path[:, 0], path[:, 1], "o-", color="crimson", markersize=3, linewidth=1, label="iterates")
        ax.plot(*path[0], "s", color="black", label="x₀")
        ax.legend(loc="best", fontsize=8)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"{name}: {steps} steps with η = {_fmt(eta)}")
    plt.show()
