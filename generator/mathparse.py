"""Parse a teacher's formula into SymPy without ever executing it.

`sympify` and `parse_expr` call `eval`; lesson data must never run code. We parse with Python's
`ast` (parsing does not execute), accept a small whitelist of node types and names, and build the
SymPy expression ourselves.
"""
from __future__ import annotations

import ast

import sympy as sp

MAX_LENGTH = 500
MAX_POWER = 12

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
    except SyntaxError:
        raise FormulaError(
            f"cannot read {text!r} as a formula; write products with '*' (3*y, not 3y) "
            "and powers with '**' or '^'") from None
    return _Builder(variables).build(tree.body)


class _Builder:
    def __init__(self, variables):
        self.symbols = {name: sp.Symbol(name, real=True) for name in variables}

    def build(self, node):
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise FormulaError(f"'{ast.unparse(node)}' is not allowed in a formula "
                               "(use numbers, + - * / **, variables "
                               f"{', '.join(self.symbols)} and {', '.join(FUNCTIONS)})")
        return method(node)

    def _Constant(self, node):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise FormulaError(f"{node.value!r} is not a number")
        if isinstance(node.value, float):
            return sp.Rational(str(node.value))
        if abs(node.value) > 10**6:
            raise FormulaError(f"the number {node.value} is too large for a teachable problem")
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
            if right == 0:
                raise FormulaError("division by zero")
            return left / right
        if op is ast.Pow:
            if right.is_number and abs(right) > MAX_POWER:
                raise FormulaError(f"exponent {right} is larger than {MAX_POWER}")
            return left ** right
        raise FormulaError(f"operator in '{ast.unparse(node)}' is not allowed")

    def _Call(self, node):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
            raise FormulaError(f"'{ast.unparse(node.func)}' is not an allowed function; "
                               f"use one of {', '.join(FUNCTIONS)}")
        if len(node.args) != 1:
            raise FormulaError(f"{node.func.id} takes one argument")
        return FUNCTIONS[node.func.id](self.build(node.args[0]))
