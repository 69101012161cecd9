"""Math in lesson prose: `$…$` marks inline math, written in the formula language, and becomes SymPy
objects that every target prints with its own printer (MathJax, MathML, Typst, text, speech).

    The gradient $grad(f) = (partial(f, x), partial(f, y), ...)$ lists the partials.
    Gradient descent updates $x_(k+1) = x_k - eta*grad(f)(x_k)$.

Inside `$…$`, besides a formula's numbers, + - * / ** ^, variables and functions (exp sin cos tan
ln log sqrt pi e):

- any single letter is a name (f, u, P, t, …); Greek letters by name (theta, eta, alpha, …);
- `x_0`, `x_k` and `x_(k+1)` are subscripts; `hat(u)` is û;
- `f(x, y)` applies a one-letter function; `grad(f)` is ∇f and `grad(f)(P)` is ∇f(P);
  `D_u(f)` is D_u f and `D_u(f)(P)` is D_u f(P);
- `norm(v)` is |v|, `dot(a, b)` is a·b, `partial(f, x)` is ∂f/∂x, `vec(a, b)` is ⟨a, b⟩, a
  parenthesised tuple `(a, b)` is a point, and `...` is an ellipsis;
- `a = b = c` chains equalities, and `<`, `>`, `<=`, `>=` compare.

A literal dollar sign is written `\\$`. Like formulas, prose math is parsed with Python's `ast`
under a whitelist and never executed.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache

import sympy as sp

from .mathparse import CONSTANTS, FUNCTIONS, MAX_LENGTH, FormulaError, _Builder
from .problem import Dot, Equals, Math, Norm, Partial, Pt, Vec

GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
         "lambda_": "λ", "mu": "μ", "sigma": "σ", "phi": "φ", "omega": "ω"}
SUBSCRIPT = dict(zip("0123456789+-=()aeoxhklmnpstijuv", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵤᵥ"))
_DOLLAR = re.compile(r"(?<!\\)\$")
_SUBSCRIPTED = re.compile(r"^([A-Za-z])_([A-Za-z0-9]+)$")


class ProseError(ValueError):
    """Raised with a message a teacher can act on."""


def _subscript(text: str) -> str:
    try:
        return "".join(SUBSCRIPT[c] for c in text.replace(" ", ""))
    except KeyError as exc:
        raise ProseError(f"'{exc.args[0]}' cannot be a subscript; use digits, + - and the letters "
                         f"{''.join(k for k in SUBSCRIPT if k.isalpha())}") from None


class _ProseBuilder(_Builder):
    """The formula builder, plus the notation lessons write in prose."""

    def __init__(self):
        super().__init__(())

    def _Name(self, node):
        name = node.id
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in GREEK:
            return sp.Symbol(GREEK[name])
        if len(name) == 1:
            return sp.Symbol(name)
        m = _SUBSCRIPTED.match(name)
        if m:
            return sp.Symbol(m[1] + _subscript(m[2]))
        raise ProseError(f"unknown name '{name}' in math: names are single letters (x, f, P), Greek letters "
                         f"by name ({', '.join(GREEK)}), or subscripted like x_k")

    def _Constant(self, node):
        if node.value is Ellipsis:
            return sp.Symbol("…")
        return super()._Constant(node)

    def _Tuple(self, node):
        return Pt(*[self.build(e) for e in node.elts])

    def _Compare(self, node):
        ops = {ast.Lt: sp.StrictLessThan, ast.Gt: sp.StrictGreaterThan, ast.LtE: sp.LessThan, ast.GtE: sp.GreaterThan}
        if len(node.ops) != 1 or type(node.ops[0]) not in ops:
            raise ProseError("compare with one of < > <= >=, or chain equalities with =")
        return ops[type(node.ops[0])](self.build(node.left), self.build(node.comparators[0]), evaluate=False)

    def _Call(self, node):
        func, args = node.func, node.args
        if node.keywords:
            raise ProseError("math calls take no keyword arguments")
        if isinstance(func, ast.Call):          # grad(f)(P), D_u(f)(P): a named operator at a point
            head = self.build(func)
            if not isinstance(head, sp.Symbol) or not head.name.startswith(("∇", "D_u")):
                raise ProseError(f"only grad(f) and D_u(f) can be evaluated at a point, not '{ast.unparse(func)}'")
            points = [self.build(a) for a in args]
            if not all(isinstance(p, sp.Symbol) for p in points):
                raise ProseError("evaluate grad(f) at a named point, e.g. grad(f)(P) or grad(f)(x_k)")
            return sp.Symbol(f"{head.name}({', '.join(p.name for p in points)})")
        if not isinstance(func, ast.Name):
            raise ProseError(f"'{ast.unparse(func)}' is not a function")
        name = func.id
        if name == "grad":
            return sp.Symbol("∇" + self._letter(args, "grad"))
        if name == "D_u":
            return sp.Symbol("D_u " + self._letter(args, "D_u"))
        if name == "hat":
            if self._letter(args, "hat") != "u":
                raise ProseError("hat( ) is for the unit vector û: write hat(u)")
            return sp.Symbol("û")
        if name.endswith("_") and len(name) == 2 and len(args) == 1:     # x_(k+1)
            from .mathfmt import text
            return sp.Symbol(name[0] + _subscript(text(self.build(args[0]))))
        built = [self.build(a) for a in args]
        if name == "norm" and len(built) == 1:
            return Norm(built[0])
        if name == "dot" and len(built) == 2:
            return Dot(*built)
        if name == "partial" and len(built) == 2:
            if built[0] != sp.Symbol("f"):
                raise ProseError("partial(f, x) is the partial derivative of f; only f is supported")
            return Partial(built[1])
        if name == "vec" and len(built) >= 2:
            return Vec(*built)
        if name in FUNCTIONS:
            if len(built) != 1:
                raise ProseError(f"{name} takes one argument")
            return FUNCTIONS[name](built[0])
        if len(name) == 1 and name.isalpha():
            return sp.Function(name)(*built)
        raise ProseError(f"'{name}' is not a math function here; use one of grad, D_u, hat, norm, dot, partial, vec, "
                         f"{', '.join(FUNCTIONS)}, or a one-letter function like f(x, y)")

    def _letter(self, args, name) -> str:
        if len(args) != 1 or not isinstance(args[0], ast.Name) or len(args[0].id) != 1:
            raise ProseError(f"{name}( ) takes one letter, e.g. {name}(f)")
        return args[0].id


def parse_math(source: str):
    """One `$…$` segment as a SymPy object (equalities become an Equals chain)."""
    if len(source) > MAX_LENGTH:
        raise ProseError(f"math is {len(source)} characters long; the limit is {MAX_LENGTH}")
    sides = [s for s in re.split(r"(?<![<>!=])=(?!=)", source.replace("^", "**"))]
    if any(not s.strip() for s in sides):
        raise ProseError(f"'{source}' has an '=' with nothing on one side")
    built = []
    for side in sides:
        try:
            tree = ast.parse(side.strip(), mode="eval")
        except SyntaxError:
            raise ProseError(f"cannot read '{side.strip()}' as math; write products with '*' (3*y, not 3y) and "
                             "powers with '^'") from None
        try:
            built.append(_ProseBuilder().build(tree.body))
        except FormulaError as exc:
            raise ProseError(str(exc)) from None
    return built[0] if len(built) == 1 else Equals(*built)


@lru_cache(maxsize=4096)
def prose(text: str) -> tuple:
    """Lesson prose as Rich text: plain strings and Math pieces."""
    pieces = _DOLLAR.split(text)
    if len(pieces) % 2 == 0:
        raise ProseError("a '$' opens math that is never closed; close it with another '$', or write a "
                         "literal dollar sign as \\$")
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:
            out.append(Math(parse_math(piece)))
        elif piece:
            out.append(piece.replace("\\$", "$"))
    return tuple(out)


def check(text: str) -> str:
    """A validator: the text's math parses (or a ProseError says why)."""
    if "$" in text:
        prose(text)
    return text
