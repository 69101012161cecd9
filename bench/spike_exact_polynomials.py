"""A spike, not used by gen: what part of the gradient family's per-variant work costs on a tiny
exact polynomial type (a dict from exponent tuples to ints) instead of SymPy trees, as evidence for
the engine redesign bench/README.md describes.

Per variant: a random polynomial f in x and y with integer coefficients, ∇f, four distractor
vectors (power rule's exponent dropped, partials swapped, signs flipped, partials summed), the
plain text and TeX of f, ∇f and every distractor, and each vector's values at three points (the
sampled equivalence key). Left out, and not cheap: the worked steps as rich text, the MathML,
speech and Typst printers, the bounds on every step, the checks and the LMS items.

    python3 bench/spike_exact_polynomials.py
"""
import random
import time

NAMES = ("x", "y")
POINTS = [(0.7, 1.3), (1.6, 0.45), (0.35, 0.9)]


def term_text(c, m, tex):
    mono = []
    for name, e in zip(NAMES, m):
        if e == 1:
            mono.append(name)
        elif e > 1:
            mono.append(f"{name}^{{{e}}}" if tex else f"{name}**{e}")
    body = (" " if tex else "*").join(mono)
    coef = "" if abs(c) == 1 and body else str(abs(c))
    return coef + ((" " if tex else "*") if coef and body else "") + body


def poly_text(p, tex=False):
    """As SymPy's sstr (tex=False) or latex prints the polynomial: lex order, x before y."""
    if not p:
        return "0"
    out = ""
    for i, m in enumerate(sorted(p, key=lambda m: [-e for e in m])):
        c, t = p[m], term_text(p[m], m, tex)
        if i == 0:
            out = ("- " if tex else "-") + t if c < 0 else t
        else:
            out += (" - " if c < 0 else " + ") + t
    return out


def diff(p, i, bring_down=True):
    """∂p/∂(variable i); bring_down=False makes the power rule's mistake (exponent not brought down)."""
    out = {}
    for m, c in p.items():
        if m[i]:
            lowered = m[:i] + (m[i] - 1,) + m[i + 1:]
            out[lowered] = out.get(lowered, 0) + c * (m[i] if bring_down else 1)
    return {m: c for m, c in out.items() if c}


def value(p, pt):
    return sum(c * pt[0] ** m[0] * pt[1] ** m[1] for m, c in p.items())


def random_polynomial(rng):
    p = {}
    for _ in range(4):
        m = (rng.randint(0, 2), rng.randint(0, 2))
        if sum(m):
            p[m] = p.get(m, 0) + rng.choice([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5])
    return {m: c for m, c in p.items() if c}


def one(rng):
    p = random_polynomial(rng)
    g = [diff(p, 0), diff(p, 1)]
    total = {}
    for q in g:
        for m, c in q.items():
            total[m] = total.get(m, 0) + c
    vectors = [g, [diff(p, 0, False), diff(p, 1, False)], [g[1], g[0]], [{m: -c for m, c in q.items()} for q in g],
               [total, total]]
    texts = [poly_text(p), poly_text(p, True)]
    keys = []
    for v in vectors:
        texts += [poly_text(q) for q in v] + [poly_text(q, True) for q in v]
        keys.append([value(q, pt) for pt in POINTS for q in v])
    return texts, keys


def agrees_with_sympy(count=300) -> int:
    """How many of `count` random polynomials have ∇f, f's plain text and f's TeX as SymPy has
    them (sympy.diff, sstr, latex): all, or the timing measures the wrong work."""
    import sympy as sp
    x, y = sp.symbols("x y")
    rng, good = random.Random(5), 0
    for _ in range(count):
        p = random_polynomial(rng)
        f = sp.sympify(poly_text(p))
        same = all(sp.expand(sp.sympify(poly_text(diff(p, i))) - sp.diff(f, v)) == 0 for i, v in enumerate((x, y)))
        good += same and poly_text(p) == sp.sstr(f) and poly_text(p, True) == sp.latex(f)
    return good


if __name__ == "__main__":
    print(f"agrees with SymPy (∇f, f's text and TeX) on {agrees_with_sympy()} of 300 random polynomials")
    rng = random.Random(1)
    for _ in range(50):
        one(rng)
    n = 5000
    t = time.perf_counter()
    for _ in range(n):
        one(rng)
    print(f"exact polynomial type: {(time.perf_counter() - t) / n * 1e3:.3f} ms a variant")
