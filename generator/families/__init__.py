"""The registry of problem families.

Names and one-line summaries live here without importing SymPy, so `gen list` and `gen --help`
start fast; a family module is imported only when it is used.
"""
from __future__ import annotations

import importlib

FAMILY_MODULES: dict[str, tuple[str, str]] = {
    "gradient": ("gradient", "symbolic ∇f of f(x,y) or f(x,y,z)"),
    "gradient_at_point": ("at_point", "∇f(P) at a point"),
    "directional_derivative": ("directional", "D_u f(P), direction as unit vector, vector or angle"),
    "steepest_ascent": ("steepest", "unit direction of fastest increase/decrease at P, and the rate"),
    "gradient_magnitude": ("magnitude", "∇f(P) and the maximal rate of change |∇f(P)|"),
    "uphill": ("uphill", "whether f increases, decreases or stays level along given directions"),
    "zero_change_direction": ("zero_change", "the pair of unit vectors along which f does not change at P"),
    "critical_point": ("critical", "where ∇f = 0 for a quadratic, and f there"),
    "gradient_descent_step": ("descent", "n steps x₁ = x₀ − η∇f(x₀) on a quadratic with a minimum, and f there"),
    "compare_directions": ("compare", "which of k directions increases f fastest"),
    "true_false": ("true_false", "randomized statements about a concrete f and P, truth computed"),
}


# Families with a code form in the Jupyter notebook (targets/_codeforms.py FORMS holds the forms):
# the only ones a coding challenge may use. Here, not there, so lesson validation needs no SymPy.
CODE_FORMS: dict[str, str] = {
    "gradient": "a Python function grad_f(x, y) returning ∇f",
    "gradient_at_point": "grad_f(x, y) and the value ∇f(P)",
    "directional_derivative": "a function returning the rate of change at any point along any direction",
    "gradient_descent_step": "a loop descend(x0, eta, steps) and a convergence question",
}


def family_names() -> list[str]:
    return list(FAMILY_MODULES)


def get_family(name: str):
    module, _ = FAMILY_MODULES[name]
    return importlib.import_module(f"{__name__}.{module}").FAMILY
