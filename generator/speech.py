"""Spoken English for math: alt text a screen reader can read aloud, from the same SymPy objects the
Typst, MathML and TeX printers draw (see mathfmt.py).

- `speak(expr)`: one formula, e.g. "f of x and y equals x squared plus 3 y".
- `speak_rich(rich)`: a Rich tuple (prose and math) as one spoken string.
- `describe_plot(spec)`: what a gradient-field plot (figures.py) shows, in a few sentences.

How grouping is spoken. Speech has no brackets, so every group says where it ends, in one of two
ways (the choice follows ClearSpeak, the rules MathJax's and MathPlayer's speech use):

1. A group whose opening words are used only for long contents ("the quantity", "the fraction with
   numerator", "the vector") can be told apart from the start, so it is closed only when words
   follow that could be heard as part of it: "2 times the quantity x plus 1, end quantity, plus
   y", but "2 times the quantity x plus 1" at the end. `Said.end` holds those words.
2. A group whose opening words also take one-word contents ("the square root of", "sine of")
   always closes long contents: "the square root of 13 plus 1" must stay √13 + 1, so √(13 + 1) is
   "the square root of 13 plus 1, end root". One-word contents (and, for functions, a product such
   as "3 x", which print binds tighter than plus too) need nothing. Exponents are the same, with
   the ending built in: "e to the x", but "e raised to the 2 x plus 3 y power".

Separators no group can contain ("equals", "and denominator", the "and" between two vectors) close
every open group themselves; "plus", "minus", "dot", products and the commas between a vector's
components (heard as mere pauses) do not.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
from sympy.printing.printer import Printer

from .families._common import derivative
from .mathfmt import SUBSCRIPTS, _as_sympy, _Memo, ordered_terms
from .problem import GRAD_F_AT_P, Equals, Math, Pt, Vec

# Names printers draw specially (mathfmt.NOTATION), and the arrow labels of the plots, spoken.
SPOKEN_NAMES = {
    "∇f": "the gradient of f",
    "∇f(P)": "the gradient of f at P",
    "D_u f(P)": "the directional derivative of f at P along u hat",
    "D_u f": "the directional derivative of f along u hat",
    "…": "and so on",
    "û": "u hat",
    "−û": "minus u hat",
    "θ": "theta",
    "η": "eta",
}

_SUBSCRIPT_DIGITS = dict(SUBSCRIPTS)      # "₀" → "0", "ₖ" → "k", "₊" → "+", …
_SUB = "[" + "".join(_SUBSCRIPT_DIGITS) + "]+"
_SPOKEN_SUB = {"+": " plus ", "-": " minus ", "=": " equals ", "(": "", ")": ""}
_LETTER = r"[A-Za-z\u0370-\u03ff]"


def spell_name(name: str) -> str:
    """A symbol's name in words: "x₀" → "x sub 0", "f(x₀)" → "f of x sub 0", "∇f(x₁)" → "the
    gradient of f at x sub 1". A name with no spoken form raises instead of being read out as
    characters."""
    if name in SPOKEN_NAMES:
        return SPOKEN_NAMES[name]
    if m := re.fullmatch(rf"∇({_LETTER})\((.+)\)", name):
        return f"the gradient of {spell_name(m[1])} at {spell_name(m[2])}"
    if m := re.fullmatch(rf"∇({_LETTER})", name):
        return f"the gradient of {spell_name(m[1])}"
    if m := re.fullmatch(rf"({_LETTER})\((.+)\)", name):
        return f"{spell_name(m[1])} of {_and(spell_name(a.strip()) for a in m[2].split(','))}"
    if m := re.fullmatch(rf"({_LETTER})({_SUB})", name):
        sub = "".join(_SPOKEN_SUB.get(_SUBSCRIPT_DIGITS[c], _SUBSCRIPT_DIGITS[c]) for c in m[2])
        return f"{spell_name(m[1])} sub {sub}"
    if re.fullmatch(r"[A-Za-z]+", name):
        return name
    if re.fullmatch(r"[\u0370-\u03ff]", name):
        return unicodedata.name(name).split()[-1].lower()       # "GREEK SMALL LETTER THETA"
    raise TypeError(f"no spoken form for the symbol {name!r}: add it to speech.SPOKEN_NAMES")


def _and(words) -> str:
    words = list(words)
    if len(words) > 1 and words[-1] == SPOKEN_NAMES["…"]:      # "x, y and so on", not "and and so on"
        return ", ".join(words[:-1]) + " " + words[-1]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


@dataclass(frozen=True)
class Said:
    """Spoken words for one expression.

    end:  closing words to say if more follows in the same phrase ("" when nothing can be
          mistaken for part of this one).
    bare: one word standing alone (a number, a letter, "x squared"): in a product it can be
          followed by the next factor after a plain space, "3 x y".
    closed: ends in its own closing words ("…, end root"), so a pause follows before more words.
    """
    text: str
    end: str = ""
    bare: bool = False
    closed: bool = False


def _more(said: Said) -> str:
    """The words of `said` when more words follow: closed off first if they could run on."""
    return f"{said.text}, {said.end}," if said.end else f"{said.text}," if said.closed else said.text


def _ended(said: Said, words: str) -> str:
    """`said` followed by the closing words of the group around it: "x plus 1, end root"."""
    return f"{_more(said)} {words}" if said.end or said.closed else f"{said.text}, {words}"


def _joined(parts: list[Said], ops: list[str]) -> str:
    """Pieces joined by operator words; every piece but the last is followed by more words."""
    out = []
    for part, op in zip(parts, ops):
        said = _more(part)
        out.append(said[:-1] + op if op.startswith(",") and said.endswith(",") else said + op)
    return "".join(out) + parts[-1].text


_FUNCTIONS = {"sin": ("sine of", "end sine"), "cos": ("cosine of", "end cosine"),
              "tan": ("tangent of", "end tangent"), "log": ("the natural log of", "end log")}
_POWER_WORDS = {2: "squared", 3: "cubed"}


def _one_word(expr) -> bool:
    """Heard as one word, so a group containing only it needs no closing words."""
    if expr.is_Integer or expr in (sp.pi, sp.E):
        return True
    if expr.is_Symbol:
        return " " not in spell_name(expr.name)
    return bool(expr.is_Mul and expr.args[0] == -1 and len(expr.args) == 2 and _one_word(expr.args[1]))


def _monomial(expr) -> bool:
    """A number times letters and their positive integer powers ("3 x squared y"): like print,
    speech binds such a product tighter than plus or over, so "sine of 3 x plus 1" is sin(3x) + 1
    and "3 x over 5" is 3x/5."""
    if expr.is_Mul:
        head, *rest = expr.args
        return (head.is_Integer or _monomial(head)) and all(_monomial(a) for a in rest)
    if expr.is_Pow:
        return expr.base.is_Symbol and _one_word(expr.base) and expr.exp.is_Integer and expr.exp > 0
    return _one_word(expr) and not (expr.is_Integer and expr < 0)


class SpeechPrinter(_Memo, Printer):
    """SymPy → spoken English. Unknown nodes raise instead of leaking Python syntax."""
    printmethod = "_speech"

    def __init__(self):
        super().__init__()
        self._memo = {}

    def doprint(self, expr) -> str:
        return self._print(expr).text

    def emptyPrinter(self, expr):
        raise TypeError(f"no spoken form for {type(expr).__name__}: {expr!r}")

    # Numbers and names -------------------------------------------------------------------------

    def _print_Integer(self, expr):
        return Said(f"minus {-expr.p}") if expr.p < 0 else Said(str(expr.p), bare=True)

    def _print_Rational(self, expr):
        sign = "minus " if expr.p < 0 else ""
        return Said(f"{sign}{abs(expr.p)} over {expr.q}")

    def _print_Pi(self, expr):
        return Said("pi", bare=True)

    def _print_Exp1(self, expr):
        return Said("e", bare=True)

    def _print_Symbol(self, expr):
        words = spell_name(expr.name)
        return Said(words, bare=" " not in words)

    def _print_BooleanTrue(self, expr):
        return Said("true", bare=True)

    def _print_BooleanFalse(self, expr):
        return Said("false", bare=True)

    # Arithmetic --------------------------------------------------------------------------------

    def _print_Add(self, expr):
        terms = ordered_terms(expr)
        parts, ops = [self._print(terms[0])], []
        for term in terms[1:]:
            negative = term.could_extract_minus_sign()
            ops.append(" minus " if negative else " plus ")
            parts.append(self._print(-term if negative else term))
        return Said(_joined(parts, ops), parts[-1].end, closed=parts[-1].closed)

    def _quantity(self, expr) -> Said:
        """A sum (or signed term) inside a product or under an exponent: a group of its own."""
        return Said(f"the quantity {self._print(expr).text}", "end quantity")

    def _print_Mul(self, expr):
        if expr.could_extract_minus_sign():
            rest = -expr
            inner = self._quantity(rest) if rest.is_Add else self._print(rest)
            return Said(f"minus {inner.text}", inner.end, closed=inner.closed)
        num, den = sp.fraction(expr, exact=True)
        if den != 1:
            return self._fraction(num, den)
        coeff, rest = expr.as_coeff_Mul()
        factors = ([coeff] if coeff != 1 else []) + (list(rest.as_ordered_factors()) if rest.is_Mul else [rest])
        parts = [self._quantity(f) if f.is_Add else self._print(f) for f in factors]
        # "3 x y" reads as a product; after anything longer than one word, or before a number, a
        # sign or a "the …" phrase, "times" keeps the factors apart ("4 times the square root of 13").
        ops = [" " if prev.bare and not re.match(r"\d|the |minus ", part.text) else " times "
               for prev, part in zip(parts, parts[1:])]
        return Said(_joined(parts, ops), parts[-1].end, closed=parts[-1].closed)

    def _fraction(self, num, den) -> Said:
        # A rationalised c·√n/n is spoken as the c/√n it came from: "7 over the square root of 193".
        c, root = num.as_coeff_Mul() if isinstance(num, sp.Expr) else (None, None)
        if (c is not None and den.is_Integer and c.is_Integer and c > 0 and root.is_Pow and root.exp == sp.S.Half
                and root.base == den):
            num, den = c, root
        if _short(num) and (_short(den) and not den.is_Mul or _root_of_one_word(den)):
            return Said(f"{self._print(num).text} over {self._print(den).text}")
        # Anything longer: say where the numerator stops. "a plus b over c" could be (a + b)/c
        # or a + b/c; "the fraction with numerator a plus b and denominator c" cannot, and nests:
        # an inner fraction ends at its own "and denominator" or, before other words, at "end fraction".
        return Said(f"the fraction with numerator {self._print(num).text} and denominator "
                    f"{self._print(den).text}", "end fraction")

    def _print_Pow(self, expr):
        base, exp = expr.args
        if exp == sp.S.Half:
            return self._root(base)
        if exp.could_extract_minus_sign():
            return self._fraction(sp.S.One, sp.Pow(base, -exp))
        if isinstance(base, (sp.sin, sp.cos, sp.tan)) and exp.is_Integer:
            # sin(x)² is "sine squared of x", as it is written sin²x.
            head, end = _FUNCTIONS[type(base).__name__]
            name, of = head.rsplit(" ", 1)
            return self._applied(f"{name} {_POWER_WORDS.get(int(exp)) or f'to the power {exp}'} {of}", end,
                                 base.args[0])
        plain = base.is_Integer and base >= 0 or base.is_Symbol or base in (sp.pi, sp.E)
        b = self._print(base) if plain else self._quantity(base)
        if exp.is_Integer and int(exp) in _POWER_WORDS:
            return Said(f"{_more(b)} {_POWER_WORDS[int(exp)]}", bare=b.bare)
        return self._exponent(_more(b), exp, "to the power")

    def _exponent(self, base: str, exp, short: str) -> Said:
        # "e to the x", "x to the power 4"; anything longer is "raised to the … power", which
        # opens and closes the exponent in words: "e raised to the 2 x plus 3 y power".
        said = self._print(exp)
        if _one_word(exp):
            return Said(f"{base} {short} {said.text}")
        return Said(f"{base} raised to the {_more(said)} power", closed=True)

    def _root(self, radicand) -> Said:
        said = self._print(radicand)
        if _one_word(radicand):
            return Said(f"the square root of {said.text}")
        return Said(f"the square root of {_ended(said, 'end root')}", closed=True)

    def _print_Root(self, expr):
        return self._root(expr.args[0])

    # Functions ---------------------------------------------------------------------------------

    def _print_exp(self, expr):
        return self._exponent("e", expr.args[0], "to the")

    def _applied(self, head, end, arg) -> Said:
        said = self._print(arg)
        if _monomial(arg):
            return Said(f"{head} {said.text}")
        return Said(f"{head} {_ended(said, end)}", closed=True)

    def _unary(self, expr):
        head, end = _FUNCTIONS[type(expr).__name__]
        return self._applied(head, end, expr.args[0])

    _print_sin = _print_cos = _print_tan = _print_log = _unary

    def _print_AppliedUndef(self, expr):
        name = spell_name(expr.func.__name__)
        args = _and(self._print(a).text for a in expr.args)
        if all(_monomial(a) for a in expr.args):
            return Said(f"{name} of {args}")
        return Said(f"{name} of {args}, end {name}", closed=True)

    def _print_Function(self, expr):
        return self.emptyPrinter(expr)

    # Display-only nodes (problem.py) -----------------------------------------------------------

    def _components(self, kind, expr) -> Said:
        # A spoken comma is also just a pause, so a component whose group is still open is closed
        # before the next one: "…, end fraction, minus 3".
        parts = [self._print(a) for a in expr.args]
        return Said(f"the {kind} " + _joined(parts, [", "] * (len(parts) - 1)), f"end {kind}")

    def _print_Vec(self, expr):
        return self._components("vector", expr)

    def _print_Pt(self, expr):
        return self._components("point", expr)

    def _print_Tuple(self, expr):
        # Only pairs of vectors reach here (zero_change answers); each item opens with "the vector",
        # so " and " is heard as the separator, never as part of a component.
        parts = [self._print(a) for a in expr.args]
        return Said(" and ".join(p.text for p in parts), parts[-1].end, closed=parts[-1].closed)

    def _print_Norm(self, expr):
        arg = expr.args[0]
        said = self._print(arg)
        if arg.is_Symbol or _one_word(arg):
            return Said(f"the length of {said.text}")
        if isinstance(arg, Vec):        # the vector's own closing words end the length too
            return Said(f"the length of {said.text}", said.end)
        return Said(f"the length of {_ended(said, 'end length')}", closed=True)

    def _print_Over(self, expr):
        return self._fraction(*expr.args)

    def _print_Equals(self, expr):
        parts = [self._print(a) for a in expr.args]
        return Said(" equals ".join(p.text for p in parts), parts[-1].end, closed=parts[-1].closed)

    def _print_Partial(self, expr):
        return Said(f"partial f partial {self._print(expr.args[0]).text}")

    def _print_Dot(self, expr):
        parts = [self._print(a) for a in expr.args]
        return Said(_joined(parts, [" dot "] * (len(parts) - 1)), parts[-1].end, closed=parts[-1].closed)


def _short(expr) -> bool:
    """Fits on one side of "over": a monomial with no sign (a signed numerator is spoken first)."""
    return isinstance(expr, sp.Expr) and _monomial(expr) and not expr.could_extract_minus_sign()


def _root_of_one_word(expr) -> bool:
    return expr.is_Pow and expr.exp == sp.S.Half and _one_word(expr.base)


_SPEECH = SpeechPrinter()


@lru_cache(maxsize=1 << 16, typed=True)
def speak(expr) -> str:
    """One formula as spoken English."""
    return _SPEECH.doprint(_as_sympy(expr))


# Notation that family prose writes inline ("divide by |∇f(P)|"), spoken, so alt text never holds a
# glyph a screen reader would skip or spell out. Literal replacements, longest first, so "|∇f(P)|²"
# is not read as "|∇f(P)|" and a stray "²". (Better still, families could pass such notation as
# math; then the printer speaks it and this table shrinks.)
PROSE_NOTATION = sorted({
    "|∇f(P)|²": "the square of the length of the gradient of f at P",
    "|∇f(P)|": "the length of the gradient of f at P",
    "|∇f|": "the length of the gradient of f",
    "+∇f(P)": "plus the gradient of f at P",
    "−∇f(P)": "minus the gradient of f at P",
    "−∇f": "minus the gradient of f",
    "∇f(P)·v": "the gradient of f at P dot v",
    "∇f·v": "the gradient of f dot v",
    "∇f·u": "the gradient of f dot u",
    "η∇f": "eta times the gradient of f",
    "∂f/∂x": "partial f partial x",
    "∂f/∂y": "partial f partial y",
    "∂f/∂z": "partial f partial z",
    "90°": "90 degrees",
    "f(P)": "f of P",
    **{name: words for name, words in SPOKEN_NAMES.items()},
    **{f"x{sub}": f"x sub {digit}" for sub, digit in _SUBSCRIPT_DIGITS.items()},
}.items(), key=lambda kv: -len(kv[0]))


def speak_prose(text: str) -> str:
    for notation, words in PROSE_NOTATION:
        text = text.replace(notation, words)
    return text


@lru_cache(maxsize=1 << 16, typed=True)
def speak_rich(parts) -> str:
    """A Rich tuple (or a plain string) as one spoken string: math spoken, prose kept except for
    the inline notation in PROSE_NOTATION ("|∇f(P)|" → "the length of the gradient of f at P")."""
    if isinstance(parts, str):
        parts = (parts,)
    return "".join(speak_prose(p) if isinstance(p, str) else speak(p.expr if isinstance(p, Math) else p)
                   for p in parts)


# Plots -------------------------------------------------------------------------------------------

_COMPASS = ["to the right", "up and to the right", "straight up", "up and to the left",
            "to the left", "down and to the left", "straight down", "down and to the right"]


def direction_words(vx, vy) -> str:
    """Which way a plane vector points on the page, in words (x to the right, y up).

    Eight 45° sectors; within a sector around an axis, a vector not exactly on it leans
    "slightly" ("to the right and slightly down", "up and slightly to the left")."""
    if vx == 0 and vy == 0:
        raise ValueError("the zero vector points nowhere")
    if vy == 0:
        return "straight to the right" if vx > 0 else "straight to the left"
    if vx == 0:
        return "straight up" if vy > 0 else "straight down"
    angle = math.degrees(math.atan2(float(vy), float(vx))) % 360
    sector = int(((angle + 22.5) % 360) // 45)
    if sector % 2:                       # a diagonal sector
        return _COMPASS[sector]
    if sector in (0, 4):
        return f"{_COMPASS[sector]} and slightly {'up' if vy > 0 else 'down'}"
    side = "to the right" if vx > 0 else "to the left"
    return f"{_COMPASS[sector].replace('straight ', '')} and slightly {side}"


def _relation(v, g) -> str:
    """How arrow v sits relative to the gradient g at P."""
    dot = sp.expand(v[0] * g[0] + v[1] * g[1])
    cross = sp.expand(v[0] * g[1] - v[1] * g[0])
    if cross == 0:
        return ("the same way as the gradient, so f increases fastest along it" if dot > 0
                else "opposite to the gradient, so f decreases fastest along it")
    if dot == 0:
        return ("along the level curve through P, at right angles to the gradient, so f does not change "
                "along it to first order")
    cosine = float(dot) / math.hypot(float(v[0]), float(v[1])) / math.hypot(float(g[0]), float(g[1]))
    degrees = round(math.degrees(math.acos(max(-1.0, min(1.0, cosine)))))
    return f"about {degrees} degrees from the gradient, so f {'increases' if dot > 0 else 'decreases'} along it"


_REGIONS = [["lower left", "bottom", "lower right"], ["left", "centre", "right"],
            ["upper left", "top", "upper right"]]


def _field_sentence(spec) -> str:
    """What the field arrows show: the gradient's direction everywhere, longer where f changes
    faster, where in the window figures.py draws they are longest and shortest, and where they
    vanish (the critical point figures.py keeps in view)."""
    from . import figures
    from .verify import float_function      # cheaper than lambdify for 121 points
    f, (x, y) = spec["function"], spec["variables"]
    gx, gy = derivative(f, x), derivative(f, y)
    head = ("Field arrows on a grid point in the gradient's direction, across the contour lines, and are "
            "longer where f changes faster")
    if not (gx.free_symbols | gy.free_symbols) & {x, y}:
        return head + "; here they all have the same length, because the gradient is the same everywhere."
    fx, fy = float_function(gx, (x, y)), float_function(gy, (x, y))
    x0, x1, y0, y1 = figures.plot_window(spec)
    cx, cy, hx, hy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    size = {}
    for i in range(11):
        for j in range(11):
            u, v = i / 5 - 1, j / 5 - 1                 # the window as [-1, 1]²
            try:
                size[(u, v)] = math.hypot(fx(cx + u * hx, cy + v * hy), fy(cx + u * hx, cy + v * hy))
            except (ValueError, OverflowError, ZeroDivisionError):
                continue
    lo, hi = min(size.values()), max(size.values())
    if hi - lo <= 0.05 * hi:
        return head + "; here they are all about the same length."
    longest = [c for c, v in size.items() if v >= hi * (1 - 1e-9)]
    shortest = [c for c, v in size.items() if v <= lo + hi * 1e-9]
    P = tuple(float(c) for c in spec["point"])
    if math.hypot(fx(*P), fy(*P)) <= hi * 1e-12:
        critical = P
    else:
        critical = figures.numeric(spec)[1]
    if critical is not None and x0 <= critical[0] <= x1 and y0 <= critical[1] <= y1:
        where = "at P" if all(abs(float(a) - float(b)) < 1e-9 for a, b in zip(critical, spec["point"])) \
            else f"at {_spoken_point(critical)}"
        near = ((critical[0] - cx) / hx, (critical[1] - cy) / hy)
        if _where(longest) != "all around the edges" and math.dist(_centre(longest), near) < 0.6:
            return f"{head}: longest close around the point where they shrink to nothing, {where}."
        return f"{head}: longest {_where(longest)}, shrinking to nothing {where}."
    return f"{head}: longest {_where(longest)} and shortest {_where(shortest)}."


def _spoken_point(coordinates) -> str:
    """A critical point found numerically, spoken exactly when it is a simple fraction (−1/3),
    else to two decimals ("about minus 0.33")."""
    exact = [sp.nsimplify(float(c), rational=True, tolerance=1e-7) for c in coordinates]
    if all(e.q <= 12 for e in exact):
        return speak(Pt(*exact))
    def decimal(c):
        text = f"{abs(float(c)):.2f}"
        return ("minus " if float(c) < 0 and text != "0.00" else "") + text
    return "the point about " + ", ".join(decimal(c) for c in coordinates)


def _centre(cells) -> tuple[float, float]:
    return sum(c[0] for c in cells) / len(cells), sum(c[1] for c in cells) / len(cells)


def _where(cells) -> str:
    """Where in the window a set of grid cells lies, in words ("toward the upper left")."""
    dx, dy = _centre(cells)
    spread = max(math.dist(c, (dx, dy)) for c in cells)
    if abs(dx) < 0.34 and abs(dy) < 0.34 and spread > 0.6:
        return "all around the edges"
    region = _REGIONS[(dy > -0.34) + (dy > 0.34)][(dx > -0.34) + (dx > 0.34)]
    return "in the centre" if region == "centre" else f"toward the {region}"


def describe_plot(spec, *, blank: bool = False) -> str:
    """A description of a gradient-field plot (figures.render_png) for alt text.

    spec: {"function", "variables": (x, y), "point": Pt, "arrows": [(label, vector), ...]}.
    blank: the practice plot, drawn with contour lines and P only."""
    key = (sp.srepr((spec["function"], tuple(spec["variables"]), tuple(spec["point"]),
                     tuple((label, sp.Tuple(*v)) for label, v in spec.get("arrows", ())))), blank)
    if key not in _DESCRIPTIONS:
        _DESCRIPTIONS[key] = _describe(spec, blank)
    return _DESCRIPTIONS[key]


_DESCRIPTIONS: dict[tuple, str] = {}


def _describe(spec, blank) -> str:
    f, P = spec["function"], Pt(*spec["point"])
    if len(spec["variables"]) != 2 or len(P) != 2:
        raise ValueError(f"a plot has two variables, not {len(spec['variables'])}: {spec['variables']}")
    x, y = spec["variables"]
    function = speak(Equals(sp.Function("f")(x, y), f))
    point = speak(P)
    if blank:
        return (f"Blank practice plot: contour lines of {function}, with {point} marked P and no arrows, "
                f"for drawing gradients by hand.")
    at_p = dict(zip((x, y), P))
    g = Vec(*[derivative(f, v).xreplace(at_p) for v in (x, y)])
    level = speak(f.xreplace(at_p))
    sentences = [f"Contour plot of {function} around P, {point}.", _field_sentence(spec)]
    arrows = [(label, Vec(*v)) for label, v in spec.get("arrows", ())]
    if all(c == 0 for c in g):
        sentences.append(f"The gradient is zero at P, a critical point, so no gradient arrow starts there; "
                         f"the bold level curve through P is where f equals {level}.")
        return " ".join(sentences)
    drawn = any(label == GRAD_F_AT_P.name for label, _ in arrows)
    subject = "The arrow for the gradient of f at P" if drawn else "The gradient of f at P, not drawn,"
    sentences.append(f"{subject} points {direction_words(*g)}, perpendicular to the level curve through P, which "
                     f"is drawn bold and is where f equals {level}; the gradient there is {speak(g)}.")
    others = [f"the arrow {spell_name(label)} points {direction_words(*v)}, {_relation(v, g)}: it is {speak(v)}"
              for label, v in arrows if label != GRAD_F_AT_P.name]
    if others:
        text = "; ".join(others)
        sentences.append(text[0].upper() + text[1:] + ".")
    return " ".join(sentences)
