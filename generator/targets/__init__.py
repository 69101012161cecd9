"""Output targets: one module each, each with `render(lesson_build, options) -> {path: bytes}`."""
from __future__ import annotations

import importlib

TARGETS = {
    "anki": "anki",          # <lesson>.apkg
    "qti": "qti",            # canvas-qti.zip
    "moodle": "moodle",      # moodle.xml
    "worksheet": "worksheet",  # worksheet/answer-key/visual-notes PDF + HTML
    "notebook": "notebook",  # notebook.ipynb + notebook-teacher.ipynb (Jupyter, nbgrader)
}


def get_target(name: str):
    return importlib.import_module(f"{__name__}.{TARGETS[name]}")
