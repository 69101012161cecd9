"""Math printers: one per target language, all dispatching on SymPy's `_print_<Class>` protocol.

- `tex`: LaTeX for MathJax (Anki, Canvas, Moodle), always inside \\( \\) or \\[ \\].
- `typst`: Typst math (worksheet PDFs). Unknown nodes raise instead of leaking `x**2`.
- `mathml`: presentation MathML (HTML worksheets; no JavaScript).
- `plain`: one-line text (terminal preview, manifest).

`render(rich, lang)` turns a Rich tuple (prose and Math pieces) into a string for one target,
escaping the prose for that target.
"""
from __future__ import annotations

import html
import re
from functools import lru_cache

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.printer import Printer
from sympy.printing.str import StrPrinter

from .problem import Math, Vec

# Unicode subscripts in symbol names ("x₀", "xₖ₊₁") and what they stand for.
SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵤᵥ", "0123456789+-=()aeoxhklmnpstijuv"))
_SUBSCRIPT_RUN = re.compile("[" + "".join(SUBSCRIPTS) + "]+")

# Symbol names drawn specially, per language. Anything else is a plain identifier.
NOTATION = {
    "∇f": {"tex": r"\nabla f", "typst": "nabla f"},
    "∇f(P)": {"tex": r"\nabla f(P)", "typst": "nabla f(P)"},
    "D_u f(P)": {"tex": r"D_{\hat{\mathbf{u}}} f(P)", "typst": "D_(hat(bold(u))) f(P)", "plain": "D_u f(P)"},
    "û": {"tex": r"\hat{\mathbf{u}}", "typst": "hat(bold(u))"},
    "D_u f": {"tex": r"D_{\hat{\mathbf{u}}} f", "typst": "D_(hat(bold(u))) f", "plain": "D_u f"},
    "θ": {"tex": r"\theta", "typst": "theta"},
    "η": {"tex": r"\eta", "typst": "eta"},
    "…": {"tex": r"\ldots", "typst": "...", "plain": "..."},
}


def _name(name: str, lang: str) -> str:
    if name in NOTATION and lang in NOTATION[name]:
        return NOTATION[name][lang]
    if lang == "plain":
        return name
    # Generic names such as "∇f(x₁)", "f(x₀)" or "xₖ₊₁".
    def subscript(m):
        run = "".join(SUBSCRIPTS[c] for c in m.group())
        if lang == "tex":
            return "_{" + run + "}"
        return f"_{run}" if len(run) == 1 else f"_({run})"
    out = _SUBSCRIPT_RUN.sub(subscript, name)
    if lang == "tex":
        return out.replace("∇", r"\nabla ")
    return out.replace("∇", "nabla ")


_TERMS: dict = {}


def ordered_terms(expr) -> list:
    """expr.as_ordered_terms(), once per Add per process: SymPy sorts the terms by evaluating
    each one numerically, and every printer (TeX, text, plain, MathML, speech) asks again."""
    try:
        return list(_TERMS[expr])
    except KeyError:
        pass
    terms = _polynomial_terms(expr)
    if terms is None:
        terms = tuple(expr.as_ordered_terms())
    if len(_TERMS) >= _Memo.MAX:
        _TERMS.clear()
    _TERMS[expr] = terms
    return list(terms)


def _polynomial_terms(expr) -> tuple | None:
    """expr.as_ordered_terms() for a sum of rational multiples of monomials in plain Symbols, the
    way SymPy orders them (Expr.as_ordered_terms with Expr.as_terms and the lex key of
    Expr._parse_order): by exponents over the variables in name order, largest first, then by
    coefficient; ties keep the sum's order. SymPy reaches the same key by evaluating every
    coefficient as a complex number (a sixth of a problem's printing). None for anything else.
    tests/test_mathfmt.py compares the two."""
    args = expr.args
    if len(args) == 2:       # as_ordered_terms' own special case, c + (−k)·t stays in that order
        numbers = (sp.Number, sp.NumberSymbol)
        first, second = sorted(args, key=lambda a: not isinstance(a, numbers))
        if isinstance(first, numbers) and isinstance(second, sp.Mul):
            factors = sorted(second.args, key=lambda a: not isinstance(a, numbers))
            if len(factors) == 2 and isinstance(factors[0], sp.Number) and first.is_positive \
                    and factors[0].is_negative:
                return (first, second)
    rows, gens = [], set()
    for term in args:
        coeff, rest = term.as_coeff_Mul()
        if not coeff.is_Rational:
            return None
        powers = {}
        if rest is not sp.S.One:
            for factor in sp.Mul.make_args(rest):
                if type(factor) is sp.Symbol:
                    powers[factor] = 1
                elif (factor.is_Pow and type(factor.base) is sp.Symbol and factor.exp.is_Integer
                      and factor.exp > 0):
                    powers[factor.base] = int(factor.exp)
                else:
                    return None
        gens.update(powers)
        rows.append((term, float(coeff), powers))
    order = sorted(gens, key=lambda g: g.name)          # default_sort_key of plain Symbols
    keyed = sorted(((tuple(-powers.get(g, 0) for g in order), re), i, term)
                   for i, (term, re, powers) in enumerate(rows))
    return tuple(term for _, _, term in keyed)


class _OrderedTerms:
    """SymPy's own printers, with the default order, take their Add terms from ordered_terms."""

    def _as_ordered_terms(self, expr, order=None):
        if (order or self.order) is None:
            return ordered_terms(expr)
        return super()._as_ordered_terms(expr, order=order)


class _Memo:
    """Print each subexpression once per process: the same f, ∇f, P and û recur across a problem's
    prompt, steps, distractors and every target. Output does not depend on the caller, only on the
    expression (calls with keyword context bypass the memo)."""
    MAX = 200_000

    def _print(self, expr, **kwargs):
        if kwargs:
            return super()._print(expr, **kwargs)
        try:
            key = (type(expr), expr)
            return self._memo[key]
        except KeyError:
            pass
        except TypeError:            # unhashable (a list): print it directly
            return super()._print(expr)
        out = super()._print(expr)
        if len(self._memo) >= self.MAX:
            self._memo.clear()
        self._memo[key] = out
        return out


class TexPrinter(_Memo, _OrderedTerms, LatexPrinter):
    def __init__(self):
        super().__init__({"ln_notation": True})
        self._memo = {}

    def _print_Symbol(self, expr, style="plain"):
        special = not expr.name.isalpha() or expr.name in NOTATION or _SUBSCRIPT_RUN.search(expr.name)
        return _name(expr.name, "tex") if special else super()._print_Symbol(expr)

    def _print_Function(self, expr, exp=None):
        if isinstance(expr, AppliedUndef) and exp is None:
            return f"{expr.func.__name__}(" + ", ".join(self._print(a) for a in expr.args) + ")"
        return super()._print_Function(expr, exp)

    def _print_Vec(self, expr):
        return r"\left\langle " + ", ".join(self._print(a) for a in expr.args) + r" \right\rangle"

    def _print_Pt(self, expr):
        return r"\left(" + ", ".join(self._print(a) for a in expr.args) + r"\right)"

    def _print_Norm(self, expr):
        return r"\left|" + self._print(expr.args[0]) + r"\right|"

    def _print_Root(self, expr):
        return r"\sqrt{" + self._print(expr.args[0]) + "}"

    def _print_Over(self, expr):
        return r"\frac{" + self._print(expr.args[0]) + "}{" + self._print(expr.args[1]) + "}"

    def _print_Equals(self, expr):
        return " = ".join(self._print(a) for a in expr.args)

    def _print_Partial(self, expr):
        return r"\frac{\partial f}{\partial " + self._print(expr.args[0]) + "}"

    def _print_Dot(self, expr):
        return r" \cdot ".join(self._print(a) for a in expr.args)

    def _print_BooleanTrue(self, expr):
        return r"\text{true}"

    def _print_BooleanFalse(self, expr):
        return r"\text{false}"

    def _print_Add(self, expr, order=None):
        # LatexPrinter._print_Add, line for line, but for its sign test: a term's
        # could_extract_minus_sign() builds −term to compare it with term.
        tex = ""
        for i, term in enumerate(self._as_ordered_terms(expr, order=order)):
            if i == 0:
                pass
            elif _extracts_minus(term):
                tex += " - "
                term = -term
            else:
                tex += " + "
            term_tex = self._print(term)
            if self._needs_add_brackets(term):
                term_tex = r"\left(%s\right)" % term_tex
            tex += term_tex
        return tex


def _extracts_minus(term) -> bool:
    """term.could_extract_minus_sign(). For a Mul led by a rational coefficient (nonzero: SymPy
    folds 0·x to 0, and ∞ or zoo absorbs a rational) −term differs from term, so SymPy's answer is
    the coefficient's sign; tests/test_mathfmt.py compares the two."""
    if term.is_Mul and term.args[0].is_Rational:
        return term.args[0].is_negative
    return term.could_extract_minus_sign()


def _precedence(item) -> int:
    """precedence(item), with a Mul's sign test as in _extracts_minus (SymPy's precedence_Mul asks
    could_extract_minus_sign(), which builds −item). tests/test_mathfmt.py compares the two."""
    if type(item) is sp.Mul and item.args[0].is_Rational:
        if any(hasattr(arg, "precedence") and isinstance(arg, sp.Function) and arg.precedence < PRECEDENCE["Mul"]
               for arg in item.args):
            return PRECEDENCE["Mul"]
        return PRECEDENCE["Add"] if item.args[0].is_negative else PRECEDENCE["Mul"]
    return precedence(item)


class PlainPrinter(_Memo, _OrderedTerms, StrPrinter):
    def __init__(self):
        super().__init__()
        self._memo = {}

    def _print_Symbol(self, expr):
        return _name(expr.name, "plain")

    # StrPrinter's own two, line for line, but for precedence(), which for a Mul asks
    # could_extract_minus_sign() and so builds −term. _precedence assumes an evaluated Mul, as
    # SymPy's own constructors make (an unevaluated −2·zoo·x inside a product would differ).
    def parenthesize(self, item, level, strict=False):
        prec = _precedence(item)
        if prec < level or (not strict and prec <= level):
            return "(%s)" % self._print(item)
        return self._print(item)

    def _print_Add(self, expr, order=None):
        prec = _precedence(expr)
        out = []
        for term in self._as_ordered_terms(expr, order=order):
            t = self._print(term)
            if t.startswith("-") and not term.is_Add:
                sign, t = "-", t[1:]
            else:
                sign = "+"
            out += [sign, "(%s)" % t] if _precedence(term) < prec or term.is_Add else [sign, t]
        sign = out.pop(0)
        return ("" if sign == "+" else sign) + " ".join(out)

    def _print_Vec(self, expr):
        return "⟨" + ", ".join(self._print(a) for a in expr.args) + "⟩"

    def _print_Pt(self, expr):
        return "(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Norm(self, expr):
        return "|" + self._print(expr.args[0]) + "|"

    def _print_Root(self, expr):
        return "sqrt(" + self._print(expr.args[0]) + ")"

    def _print_Over(self, expr):
        return self._print(expr.args[0]) + " / " + self._print(expr.args[1])

    def _print_Equals(self, expr):
        return " = ".join(self._print(a) for a in expr.args)

    def _print_Partial(self, expr):
        return "∂f/∂" + self._print(expr.args[0])

    def _print_Dot(self, expr):
        return " · ".join(self._print(a) for a in expr.args)


class TypstPrinter(_Memo, Printer):
    """SymPy → Typst math. Products are joined by spaces (`xy` is one identifier in Typst)."""
    printmethod = "_typst"

    def __init__(self):
        super().__init__()
        self._memo = {}

    def emptyPrinter(self, expr):
        raise TypeError(f"no Typst form for {type(expr).__name__}: {expr!r}")

    def parenthesize(self, item, level, strict=False):
        prec = _precedence(item)
        if prec < level or (strict and prec == level):
            return "(" + self._print(item) + ")"
        return self._print(item)

    def _print_Integer(self, expr):
        return str(expr.p)

    _print_Zero = _print_One = _print_NegativeOne = _print_Integer

    def _print_Rational(self, expr):
        body = f"frac({abs(expr.p)}, {expr.q})"
        return "-" + body if expr.p < 0 else body

    _print_Half = _print_Rational

    def _print_Pi(self, expr):
        return "pi"

    def _print_Exp1(self, expr):
        return "e"

    def _print_Symbol(self, expr):
        name = _name(expr.name, "typst")
        if len(name) > 1 and expr.name.isalpha() and expr.name not in NOTATION and not _SUBSCRIPT_RUN.search(expr.name):
            return f'"{name}"'
        return name

    def _print_Add(self, expr):
        terms = ordered_terms(expr)
        out = self._print(terms[0])
        for term in terms[1:]:
            if _extracts_minus(term):
                out += " - " + self.parenthesize(-term, PRECEDENCE["Add"], strict=True)
            else:
                out += " + " + self.parenthesize(term, PRECEDENCE["Add"], strict=True)
        return out

    def _print_Mul(self, expr):
        if _extracts_minus(expr):
            return "-" + self.parenthesize(-expr, PRECEDENCE["Mul"])
        num, den = sp.fraction(expr, exact=True)
        if den != 1:
            return f"frac({self._print(num)}, {self._print(den)})"
        coeff, rest = expr.as_coeff_Mul()
        factors = ([coeff] if coeff != 1 else []) + list(rest.as_ordered_factors()) \
            if rest.is_Mul else ([coeff] if coeff != 1 else []) + [rest]
        parts = [self.parenthesize(f, PRECEDENCE["Mul"], strict=False) if not f.is_Add
                 else "(" + self._print(f) + ")" for f in factors]
        out = parts[0]
        for prev, part in zip(factors, parts[1:]):
            out += " dot " + part if prev.is_Number and part[:1].isdigit() else " " + part
        return out

    def _print_Pow(self, expr):
        base, exp = expr.args
        if exp == sp.S.Half:
            return f"sqrt({self._print(base)})"
        if exp.is_Rational and exp < 0:
            return f"frac(1, {self._print(base ** -exp)})"
        b = self._print(base)
        if base.is_Add or base.is_Mul or base.is_Pow or (base.is_Number and base < 0) or base.is_Rational and not base.is_Integer:
            b = f"({b})"
        if exp.is_Integer and exp > 0:
            return f"{b}^{exp}"
        return f"{b}^({self._print(exp)})"

    def _print_exp(self, expr):
        return f"e^({self._print(expr.args[0])})"

    def _fn(name):
        def method(self, expr):
            return f"{name}({self._print(expr.args[0])})"
        return method

    _print_sin, _print_cos, _print_tan, _print_log = _fn("sin"), _fn("cos"), _fn("tan"), _fn("ln")

    def _print_Function(self, expr):
        if isinstance(expr, AppliedUndef):
            return f"{expr.func.__name__}({', '.join(self._print(a) for a in expr.args)})"
        return self.emptyPrinter(expr)

    def _print_Vec(self, expr):
        return "lr(⟨" + ", ".join(self._print(a) for a in expr.args) + "⟩)"

    def _print_Pt(self, expr):
        return "(" + ", ".join(self._print(a) for a in expr.args) + ")"

    _print_Tuple = _print_Pt

    def _print_Norm(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Root(self, expr):
        return f"sqrt({self._print(expr.args[0])})"

    def _print_Over(self, expr):
        return f"frac({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Equals(self, expr):
        return " = ".join(self._print(a) for a in expr.args)

    def _print_Partial(self, expr):
        return f"frac(partial f, partial {self._print(expr.args[0])})"

    def _print_Dot(self, expr):
        return " dot ".join(self._print(a) for a in expr.args)

    def _print_BooleanTrue(self, expr):
        return '"true"'

    def _print_BooleanFalse(self, expr):
        return '"false"'


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_TEXT_NAMES = {"D_u f(P)": "Dᵤ f(P)", "D_u f": "Dᵤ f"}


class TextPrinter(TypstPrinter):
    """SymPy → readable Unicode text (x² + 3y, √29, ⟨2, −12⟩, 39/5) for places that cannot
    typeset math: dropdown options, tooltips, the manifest and the terminal. No markup."""
    printmethod = "_text"

    def emptyPrinter(self, expr):
        raise TypeError(f"no text form for {type(expr).__name__}: {expr!r}")

    def _print_Integer(self, expr):
        return str(expr.p).replace("-", "\u2212")

    _print_Zero = _print_One = _print_NegativeOne = _print_Integer

    def _print_Rational(self, expr):
        return ("\u2212" if expr.p < 0 else "") + f"{abs(expr.p)}/{expr.q}"

    _print_Half = _print_Rational

    def _print_Pi(self, expr):
        return "π"

    def _print_Symbol(self, expr):
        return _TEXT_NAMES.get(expr.name, expr.name)

    def _print_Add(self, expr):
        return super()._print_Add(expr).replace(" - ", " \u2212 ")

    def _print_Mul(self, expr):
        if _extracts_minus(expr):
            return "\u2212" + self.parenthesize(-expr, PRECEDENCE["Mul"])
        num, den = sp.fraction(expr, exact=True)
        if den != 1:
            top = self.parenthesize(num, PRECEDENCE["Mul"], strict=False) if not num.is_Add else f"({self._print(num)})"
            bottom = self._print(den) if den.is_Atom or (den.is_Pow and den.base.is_Atom) else f"({self._print(den)})"
            return f"{top}/{bottom}"
        coeff, rest = expr.as_coeff_Mul()
        factors = ([coeff] if coeff != 1 else []) + (list(rest.as_ordered_factors()) if rest.is_Mul else [rest])
        out = ""
        for i, f in enumerate(factors):
            part = f"({self._print(f)})" if f.is_Add else self.parenthesize(f, PRECEDENCE["Mul"])
            prev = factors[i - 1] if i else None
            if i and (part[:1].isdigit() or (prev.is_Pow and prev.exp == sp.S.Half)):
                out += "·"                     # 2·3, √3·x: juxtaposition would read as one number or √(3x)
            elif i and (prev.is_Function or f.is_Function):
                out += " "
            out += part
        return out

    def _print_Pow(self, expr):
        base, exp = expr.args
        if exp == sp.S.Half:
            inner = self._print(base)
            return "√" + (inner if base.is_Atom else f"({inner})")
        if exp.is_Rational and exp < 0:
            return "1/" + self._print(base ** -exp) if (base ** -exp).is_Atom or (base ** -exp).is_Pow \
                else f"1/({self._print(base ** -exp)})"
        b = self._print(base)
        if not (base.is_Symbol or (base.is_Integer and base >= 0)):
            b = f"({b})"
        if exp.is_Integer:
            return b + str(exp.p).translate(_SUPERSCRIPT)
        return f"{b}^({self._print(exp)})"

    def _print_exp(self, expr):
        return f"exp({self._print(expr.args[0])})"

    def _print_Function(self, expr):
        if isinstance(expr, AppliedUndef):
            return f"{expr.func.__name__}({', '.join(self._print(a) for a in expr.args)})"
        return self.emptyPrinter(expr)

    def _print_Vec(self, expr):
        return "⟨" + ", ".join(self._print(a) for a in expr.args) + "⟩"

    def _print_Norm(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Root(self, expr):
        return f"√{self._print(expr.args[0])}"

    def _print_Over(self, expr):
        return f"{self._print(expr.args[0])} / {self._print(expr.args[1])}"

    def _print_Partial(self, expr):
        return f"∂f/∂{self._print(expr.args[0])}"

    def _print_Dot(self, expr):
        return " · ".join(self._print(a) for a in expr.args)

    def _print_BooleanTrue(self, expr):
        return "true"

    def _print_BooleanFalse(self, expr):
        return "false"


class MathMLPrinter(_OrderedTerms, MathMLPresentationPrinter):
    def __init__(self):
        super().__init__({"ln_notation": True})

    def _fenced(self, items, left, right):
        row = self.dom.createElement("mrow")
        row.appendChild(self._mo(left))
        for i, item in enumerate(items):
            if i:
                row.appendChild(self._mo(","))
            row.appendChild(self._print(item))
        row.appendChild(self._mo(right))
        return row

    def _mo(self, text):
        mo = self.dom.createElement("mo")
        mo.appendChild(self.dom.createTextNode(text))
        return mo

    def _joined(self, items, op):
        row = self.dom.createElement("mrow")
        for i, item in enumerate(items):
            if i:
                row.appendChild(self._mo(op))
            row.appendChild(self._print(item))
        return row

    def _print_Vec(self, expr):
        return self._fenced(expr.args, "⟨", "⟩")

    def _print_Pt(self, expr):
        return self._fenced(expr.args, "(", ")")

    def _print_Norm(self, expr):
        return self._fenced(expr.args, "|", "|")

    def _print_Root(self, expr):
        root = self.dom.createElement("msqrt")
        root.appendChild(self._print(expr.args[0]))
        return root

    def _print_Over(self, expr):
        frac = self.dom.createElement("mfrac")
        frac.appendChild(self._print(expr.args[0]))
        frac.appendChild(self._print(expr.args[1]))
        return frac

    def _print_Equals(self, expr):
        return self._joined(expr.args, "=")

    def _print_Dot(self, expr):
        return self._joined(expr.args, "·")

    def _print_Partial(self, expr):
        frac = self.dom.createElement("mfrac")
        top = self.dom.createElement("mi")
        top.appendChild(self.dom.createTextNode("∂f"))
        bottom = self.dom.createElement("mrow")
        d = self.dom.createElement("mi")
        d.appendChild(self.dom.createTextNode("∂"))
        bottom.appendChild(d)
        bottom.appendChild(self._print(expr.args[0]))
        frac.appendChild(top)
        frac.appendChild(bottom)
        return frac

    def _print_Symbol(self, sym, style="plain"):
        if sym.name.isalpha() and len(sym.name) == 1:
            return super()._print_Symbol(sym, style)
        return self._name(_TEXT_NAMES.get(sym.name, sym.name))

    def _name(self, name: str):
        """A symbol name as MathML structure: "∇f(P)" is ∇ then an italic f applied to P, "xₖ₊₁" a
        subscript, "D_u f" a D with subscript û: never one upright multi-letter <mi>."""
        row = self.dom.createElement("mrow")
        i = 0
        while i < len(name):
            ch = name[i]
            if ch in SUBSCRIPTS:
                run = _SUBSCRIPT_RUN.match(name, i).group()
                base = row.lastChild or self._mi("")
                row.removeChild(base) if row.lastChild else None
                sub = self.dom.createElement("msub")
                sub.appendChild(base)
                sub.appendChild(self._mi("".join(SUBSCRIPTS[c] for c in run)) if len(run) == 1
                                else self._name("".join(SUBSCRIPTS[c] for c in run)))
                row.appendChild(sub)
                i += len(run)
                continue
            if name.startswith("Dᵤ", i):
                sub = self.dom.createElement("msub")
                sub.appendChild(self._mi("D"))
                sub.appendChild(self._mi("û"))
                row.appendChild(sub)
                i += 2
                continue
            if ch.isalpha():
                row.appendChild(self._mi(ch))
            elif ch.isdigit():
                mn = self.dom.createElement("mn")
                mn.appendChild(self.dom.createTextNode(ch))
                row.appendChild(mn)
            elif ch != " ":
                row.appendChild(self._mo(ch))
            i += 1
        return row

    def _print_Rational(self, expr):
        if expr.p >= 0 or expr.q != 1:
            return super()._print_Rational(expr)
        row = self.dom.createElement("mrow")       # a true minus sign, not "-2" inside one <mn>
        row.appendChild(self._mo("\u2212"))
        row.appendChild(super()._print_Rational(-expr))
        return row

    def _mi(self, text):
        mi = self.dom.createElement("mi")
        mi.appendChild(self.dom.createTextNode(text))
        return mi

    def _print_BooleanTrue(self, expr):
        return self._mtext("true")

    def _print_BooleanFalse(self, expr):
        return self._mtext("false")

    def _mtext(self, text):
        el = self.dom.createElement("mtext")
        el.appendChild(self.dom.createTextNode(text))
        return el


_TEX, _TYPST, _PLAIN, _TEXT = TexPrinter(), TypstPrinter(), PlainPrinter(), TextPrinter()


def _as_sympy(expr):
    if isinstance(expr, bool):
        return sp.true if expr else sp.false
    if isinstance(expr, tuple):
        return sp.Tuple(*expr)
    return expr


@lru_cache(maxsize=1 << 16, typed=True)
def tex(expr) -> str:
    return _TEX.doprint(_as_sympy(expr))


@lru_cache(maxsize=1 << 16, typed=True)
def typst(expr) -> str:
    return _TYPST.doprint(_as_sympy(expr))


@lru_cache(maxsize=1 << 16, typed=True)
def plain(expr) -> str:
    if isinstance(expr, tuple) and all(isinstance(e, Vec) for e in expr):
        return " and ".join(_PLAIN.doprint(e) for e in expr)
    return _PLAIN.doprint(_as_sympy(expr))


@lru_cache(maxsize=1 << 16, typed=True)
def text(expr) -> str:
    if isinstance(expr, tuple) and all(isinstance(e, Vec) for e in expr):
        return " and ".join(_TEXT.doprint(e) for e in expr)
    return _TEXT.doprint(_as_sympy(expr))


@lru_cache(maxsize=1 << 16, typed=True)
def mathml(expr, display=False) -> str:
    # A true minus sign (U+2212), not the hyphen SymPy's printer emits.
    # The named entity is HTML-only; the character works in HTML and XML alike.
    body = (MathMLPrinter().doprint(_as_sympy(expr)).replace("<mo>-</mo>", "<mo>\u2212</mo>")
            .replace("&InvisibleTimes;", "\u2062"))
    mode = ' display="block"' if display else ""
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML"{mode}>{body}</math>'


def typst_text(text: str) -> str:
    """Prose as a Typst string literal: every markup special (# $ * _ @ < [ \\) stays literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'#"{escaped}";'


SHORT_INLINE = 40        # characters of Typst source


@lru_cache(maxsize=1 << 16, typed=True)
def render(parts, lang: str) -> str:
    """A Rich tuple (or plain string) as text for one target language.

    lang: 'html' (HTML prose, MathJax math), 'mathml' (HTML prose, MathML math), 'typst', 'plain'
    (SymPy's str syntax for math), 'text' (readable Unicode math, no markup).
    """
    if isinstance(parts, str):
        parts = (parts,)
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(html.escape(part, quote=False) if lang in ("html", "mathml")
                       else typst_text(part) if lang == "typst" else part)
            continue
        expr = part.expr if isinstance(part, Math) else part
        display = isinstance(part, Math) and part.display
        if lang == "html":
            body = html.escape(tex(expr), quote=False)
            out.append(rf"\[{body}\]" if display else rf"\({body}\)")
        elif lang == "mathml":
            out.append(mathml(expr, display))
        elif lang == "typst":
            # Every formula carries its spoken form as alt text (PDF/UA-1 requires it; a screen
            # reader reads it instead of the glyphs). The trailing `;` ends the code expression, so
            # prose that follows (`(a)`, `[`, `.x`) is never read as a call or a field access.
            from .speech import speak       # speech builds on this module's printers
            alt = typst_text(speak(expr))[1:-1]
            source = typst(expr)
            equation = f"math.equation(block: {'true' if display else 'false'}, alt: {alt}, ${source}$.body)"
            # A short inline formula (a vector, a point, x − 8y) stays on one line: broken at its
            # operator it reads as two fragments, e.g. "⟨y, x −" / "8y⟩" in a narrow column.
            if not display and len(source) <= SHORT_INLINE:
                equation = f"box({equation})"
            out.append(f"#{equation};")
        elif lang == "text":
            out.append(text(expr))
        else:
            out.append(plain(expr))
    return "".join(out)


