"""Parse a teacher's formula into SymPy without ever executing it.

`sympify` and `parse_expr` call `eval`; lesson data must never run code. We parse with Python's
`ast` (parsing does not execute), accept a small whitelist of node types and names, and build the
SymPy expression ourselves.

Every computation on a formula has a bound. SymPy evaluates numbers exactly as soon as they meet
(`(1000000**12)**12` is a 864-digit integer, and three more powers never finish), so each step is
checked before the next one starts: every number the formula builds stays within MAX_CONSTANT, and
the tree stays small. `magnitude()` bounds how large the formula's values can get at points within
a radius, so a caller can refuse `x**(x**12)` at x = 20 before SymPy tries to write 10^(10^16) out.
"""
from __future__ import annotations

import ast
import math

import sympy as sp

MAX_LENGTH = 500
MAX_POWER = 12
MAX_LITERAL = 10**6
MAX_CONSTANT = 10**12       # any number a formula builds (numerators and denominators alike)
MIN_DIVISOR = 1e-12         # dividing by a constant closer to 0 than this is dividing by zero
MAX_NODES = 300             # syntax-tree nodes; 500 characters rarely need 150
MAX_DEPTH = 40              # nesting of the syntax tree
MAX_LOG10 = 300             # values beyond 10^300 leave double precision: refuse them

FUNCTIONS = {
    "exp": sp.exp, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "ln": sp.log, "log": sp.log, "sqrt": sp.sqrt,
}
CONSTANTS = {"pi": sp.pi, "e": sp.E, "E": sp.E}
VARIABLE_NAMES = ("x", "y", "z")


class FormulaError(ValueError):
    """Raised with a message a teacher can act on."""


def parse_formula(text: str, variables: tuple[str, ...] = VARIABLE_NAMES) -> sp.Expr:
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("expected a formula such as 'x**2 + 3*y', got an empty value")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula is {len(text)} characters long; the limit is {MAX_LENGTH}")
    source = text.replace("^", "**")
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError):
        raise FormulaError(
            f"cannot read {text!r} as a formula; write products with '*' (3*y, not 3y) "
            "and powers with '**' or '^'") from None
    except (RecursionError, MemoryError):
        raise FormulaError(f"the formula nests too deeply (the limit is {MAX_DEPTH} levels)") from None
    _check_shape(tree.body)
    expr = _Builder(variables).build(tree.body)
    if sp.count_ops(expr, visual=False) > MAX_NODES:
        raise FormulaError(f"the formula is too large (more than {MAX_NODES} operations)")
    return expr


def _check_shape(root) -> None:
    """Bound the syntax tree before building anything from it."""
    count, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise FormulaError(f"the formula is too large (more than {MAX_NODES} parts)")
        if depth > MAX_DEPTH:
            raise FormulaError(f"the formula nests too deeply (the limit is {MAX_DEPTH} levels)")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


class _Builder:
    def __init__(self, variables):
        self.symbols = {name: sp.Symbol(name, real=True) for name in variables}

    def build(self, node):
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise FormulaError(f"'{ast.unparse(node)}' is not allowed in a formula "
                               "(use numbers, + - * / **, variables "
                               f"{', '.join(self.symbols)} and {', '.join(FUNCTIONS)})")
        return _bounded(method(node), node)

    def _Constant(self, node):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise FormulaError(f"{node.value!r} is not a number")
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise FormulaError(f"{ast.unparse(node)} is not a finite number")
        if abs(node.value) > MAX_LITERAL:
            raise FormulaError(f"the number {ast.unparse(node)} is too large for a teachable problem "
                               f"(the limit is {MAX_LITERAL:,})")
        if isinstance(node.value, float):
            return sp.Rational(repr(node.value))
        return sp.Integer(node.value)

    def _Name(self, node):
        if node.id in self.symbols:
            return self.symbols[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise FormulaError(f"unknown name '{node.id}'; variables are {', '.join(self.symbols)}")

    def _UnaryOp(self, node):
        value = self.build(node.operand)
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return value
        raise FormulaError(f"operator in '{ast.unparse(node)}' is not allowed")

    def _BinOp(self, node):
        left, right = self.build(node.left), self.build(node.right)
        op = type(node.op)
        if op is ast.Add:
            return left + right
        if op is ast.Sub:
            return left - right
        if op is ast.Mult:
            return left * right
        if op is ast.Div:
            if right == 0 or (right.is_number and abs(_value(right)) < MIN_DIVISOR):
                raise FormulaError(f"division by zero in '{ast.unparse(node)}'")
            return left / right
        if op is ast.Pow:
            if right.is_number and abs(_value(right)) > MAX_POWER:
                raise FormulaError(f"exponent {ast.unparse(node.right)} is outside ±{MAX_POWER}")
            if left.is_number and right.is_number and _value(right).real < 0 and abs(_value(left)) < MIN_DIVISOR:
                raise FormulaError(f"division by zero in '{ast.unparse(node)}'")
            return left ** right
        raise FormulaError(f"operator in '{ast.unparse(node)}' is not allowed")

    def _Call(self, node):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
            raise FormulaError(f"'{ast.unparse(node.func)}' is not an allowed function; "
                               f"use one of {', '.join(FUNCTIONS)}")
        if len(node.args) != 1:
            raise FormulaError(f"{node.func.id} takes one argument")
        argument = self.build(node.args[0])
        # SymPy evaluates exp(n*log(m)) to m**n exactly: bound it before it is built.
        if node.func.id == "exp" and argument.is_number and _value(argument).real > math.log(MAX_CONSTANT):
            raise FormulaError(f"'{ast.unparse(node)}' is beyond {MAX_CONSTANT:.0e}; keep the constants of a formula small")
        return FUNCTIONS[node.func.id](argument)


def _value(expr) -> complex:
    """A constant's value. Safe: its parts already passed `_bounded`, so it is one bounded step."""
    return complex(sp.N(expr, 30))


def _bounded(expr, node):
    """Refuse a step whose numbers left the bounds, before the next step builds on them."""
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise FormulaError(f"'{ast.unparse(node)}' is undefined (infinite or not a number)")
    for power in expr.atoms(sp.Pow):     # SymPy combines (x**12)**12 into x**144, exp(k*log(x)) into x**k
        if power.exp.is_number and abs(_value(power.exp)) > MAX_POWER:
            raise FormulaError(f"'{ast.unparse(node)}' makes the power {power}, whose exponent is outside ±{MAX_POWER}")
    for number in expr.atoms(sp.Rational):
        if abs(number.p) > MAX_CONSTANT or number.q > MAX_CONSTANT:
            raise FormulaError(f"'{ast.unparse(node)}' builds a number beyond {MAX_CONSTANT:.0e}; "
                               "keep the constants of a formula small")
    if expr.is_number and not expr.is_Rational:
        try:
            value = _value(expr)
        except (TypeError, ValueError, ArithmeticError):
            raise FormulaError(f"'{ast.unparse(node)}' is undefined") from None
        if abs(value.imag) > 1e-30 * max(1.0, abs(value.real)) or not math.isfinite(value.real):
            raise FormulaError(f"'{ast.unparse(node)}' is not a real number")
        if abs(value.real) > MAX_CONSTANT:
            raise FormulaError(f"'{ast.unparse(node)}' is about {value.real:.3g}, beyond {MAX_CONSTANT:.0e}; "
                               "keep the constants of a formula small")
    return expr


# ---------------------------------------------------------------------------------------------
# How large can the values get?

def magnitude(expr, radius: float) -> float:
    """An upper bound on log10 of the size of expr's values (and of the numerators and
    denominators exact arithmetic writes out) at points with every |coordinate| <= radius.

    Coarse on purpose: it exists to refuse formulas that overflow or make SymPy write out
    astronomically long integers, not to estimate values.
    """
    r = math.log10(max(radius, 1.0)) + 0.01
    largest = 0.0

    def walk(e) -> float:
        nonlocal largest
        bound = step(e)
        largest = max(largest, bound)
        return bound

    def step(e) -> float:
        if e.is_Symbol:
            return r
        if e.is_Rational:
            return math.log10(max(abs(e.p), e.q, 1))
        if e.is_Number:
            return math.log10(max(abs(float(e)), 1.0))
        if e.is_NumberSymbol:
            return 1.0
        parts = [walk(a) for a in e.args]
        if e.is_Add:
            return sum(parts) + math.log10(len(parts))      # a/b + c/d writes out (ad + bc)/bd
        if e.is_Mul:
            return sum(parts)
        if e.is_Pow:
            base, exponent = parts
            if e.exp.is_number:
                k = abs(float(e.exp))
                return base * k if k >= 1 else base
            return base * _power_of_ten(exponent)
        if isinstance(e, sp.exp):
            if e.args[0].is_nonpositive:        # exp(-(x**2 + y**2)) stays below 1
                return 0.0
            return _power_of_ten(parts[0]) * math.log10(math.e)
        if isinstance(e, sp.log):
            return math.log10(parts[0] * math.log(10) + 1) + 1
        return max(parts, default=1.0)          # sin, cos, tan: bounded (poles are checked at P)

    walk(sp.sympify(expr))
    return largest


def _power_of_ten(log10_value: float) -> float:
    return math.inf if log10_value > MAX_LOG10 else 10.0 ** log10_value


def check_magnitude(expr, radius: float) -> None:
    """FormulaError if expr can leave double precision at points within `radius`."""
    bound = magnitude(expr, radius)
    if bound > MAX_LOG10:
        size = "beyond 10^1000" if bound > 1000 else f"about 10^{bound:.0f}"
        raise FormulaError(f"its values (or the exact numbers SymPy writes out) can reach {size} at points "
                           f"within ±{radius:g}, beyond what can be computed or checked; use a gentler "
                           "function or points closer to 0")
