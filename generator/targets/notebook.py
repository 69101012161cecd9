"""Jupyter notebooks: notebook.ipynb for students and notebook-teacher.ipynb with the reference
solutions (nbgrader's source format); with --copies N, version k ≥ 2 is written as
notebook-<code>.ipynb and notebook-<code>-teacher.ipynb.

Content: the lesson's introduction, the coding challenge, and one exercise per family that has a
code form (see _codeforms.py). Version k uses variant k of every randomized exercise (the coding
challenge keeps the lesson's own instance, which its prompt names). The teacher edition holds the
solutions between nbgrader's markers; the student edition is what nbgrader's generate_assignment
makes of it: stubs that raise NotImplementedError, hidden tests removed.

Same inputs, same bytes: cell ids are hashed from each cell's identity, nothing is executed (no
outputs, no execution counts) and the JSON has sorted keys.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from functools import lru_cache

import jinja2
import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

from ..errors import GenError
from ..mathfmt import tex
from ..problem import Pt, Vec
from ..resources import get_template, read_template_file, template_dir
from ._codeforms import FORMS, Task, cells_of, partial_labels
from .worksheet import version_code

TEMPLATES = template_dir("notebook")
LETTERS = ("f", "g", "h", "k", "q", "r", "s", "w")     # function names; never x, y, z, P, u, e
KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
SOLUTION = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")   # nbgrader's own stub for Python


# --- printing ---------------------------------------------------------------------------------

class _Code(NumPyPrinter):
    """SymPy → Python with NumPy as `np` (so the same code works on numbers and on grids)."""

    def _module_format(self, fqn, register=True):
        out = super()._module_format(fqn, register)
        return "np." + out[len("numpy."):] if out.startswith("numpy.") else out

    def _print_Pow(self, expr, rational=False):
        # x**(-2), not NumPy's x**(-2.0): students read this code.
        if expr.exp.is_Integer and expr.exp < 0:
            return PythonCodePrinter._print_Pow(self, expr, rational=rational)
        return super()._print_Pow(expr, rational=rational)


_CODE = _Code({"fully_qualified_modules": True})


def code(expr) -> str:
    return _CODE.doprint(sp.sympify(expr))


def code_tuple(exprs) -> str:
    return "(" + ", ".join(code(e) for e in exprs) + ("," if len(exprs) == 1 else "") + ")"


def literal(value) -> str:
    """A Python literal: ints stay ints, other numbers become floats, tuples and lists recurse."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, (tuple, sp.Tuple)):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    value = sp.sympify(value)
    if value.is_Integer:
        return str(int(value))
    return repr(float(sp.N(value, 30)))


def wrapped(items, indent: int = 8, width: int = 100) -> str:
    """A long list as a Python literal over several lines (whole items per line), for test cells
    people read."""
    lines, line = [], ""
    for text in (literal(i) for i in items):
        if line and indent + len(line) + len(text) + 2 > width:
            lines.append(line + ",")
            line = ""
        line = f"{line}, {text}" if line else text
    lines.append(line)
    pad = " " * indent
    return "[\n" + "\n".join(pad + part for part in lines) + "\n" + " " * (indent - 4) + "]"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|$~])")


def md(text: str) -> str:
    """Lesson prose in Markdown: every markup character stays literal."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("&", "&amp;")


def md_prose(text: str) -> str:
    """Lesson prose (with its $…$ math) as Markdown: the text escaped, the math as LaTeX between
    $ signs, which Jupyter typesets with MathJax."""
    from ..prose import prose
    return "".join(md(piece) if isinstance(piece, str)
                   else (f"$${tex(piece.expr)}$$" if piece.display else f"${tex(piece.expr)}$")
                   for piece in prose(text))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             autoescape=False, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(tex=tex, tex_point=lambda p: tex(Pt(*p)), tex_vec=lambda v: tex(Vec(*v)), md=md,
                       prose=md_prose, py=literal, py_wrapped=wrapped, code=code, code_tuple=code_tuple)
    return env


def prepare_templates(options) -> None:
    """Compile the notebook templates ahead of the build (see worksheet.prepare_templates)."""
    env = environment()
    for name in env.list_templates(extensions=["j2"]):
        get_template(env, "notebook", name)


# --- what goes in ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """One lesson item in the notebook: the coding challenge or an exercise, with its tasks."""
    heading: str
    item: object
    points: float
    tasks: tuple


@dataclass(frozen=True)
class View:
    """What a form's templates see of a task."""
    task: Task
    letter: str
    names: dict
    function: object
    vars: tuple
    args: str
    partials: list
    tex_partials: list
    values: dict


def _variant(lb, item, spec, k: int, prefer_fixed: bool):
    found = {g.slot.variant: g for g in lb.variants_of(f"{lb.lesson.id}/{item.id}/{spec.id}")}
    order = (0, k) if prefer_fixed else (k, 0)
    for v in order:
        if v in found:
            return found[v]
    raise GenError(f"notebook version {k} needs variant {k} of {item.id}/{spec.id}, but the build has "
                   f"variants up to {max(found, default=0)}.", fix="raise --variants to at least --copies.")


def blocks(lb, k: int) -> list[Block]:
    """The coding challenge (every problem of it) and, per code form, the first exercise problem of
    that family in lesson order; each becomes a task with its own function letter and names."""
    lesson = lb.lesson
    chosen = [("coding", item, spec) for item in lesson.quiz.coding for spec in item.problems]
    families = set()
    for ex in lesson.exercises:
        for spec in ex.problems:
            if spec.family in FORMS and spec.family not in families:
                families.add(spec.family)
                chosen.append(("exercises", ex, spec))
    letters = itertools.chain(LETTERS, (f"f{n}" for n in itertools.count(2)))
    taken, tasks = set(), {}
    for section, item, spec in chosen:
        g = _variant(lb, item, spec, k, prefer_fixed=(section == "coding"))
        form = FORMS[spec.family]
        letter = form.letter if form.letter and form.letter not in taken else next(l for l in letters if l not in taken)
        taken.add(letter)
        points = lesson.quiz.points.get("coding", 2) if section == "coding" else lesson.level(item.level).points
        where = (f"{'coding challenge' if section == 'coding' else 'exercise'} {item.id}, problem {spec.id} "
                 f"({spec.family}), variant {g.slot.variant}, seed {g.seed}")
        task = Task(key=_grade_id(f"{item.id}-{spec.id}"), where=where, problem=g.problem, letter=letter,
                    points=points, form=form)
        task.names = form.names(letter, taken)
        taken.update(task.names.values())
        task.values = form.values(task)
        tasks.setdefault((section, item.id), []).append(task)
    out = []
    for item in lesson.quiz.coding:
        out.append(Block("coding", item, lesson.quiz.points.get("coding", 2), tuple(tasks.get(("coding", item.id), ()))))
    for ex in lesson.exercises:
        if ("exercises", ex.id) in tasks:
            out.append(Block("exercise", ex, lesson.level(ex.level).points, tuple(tasks[("exercises", ex.id)])))
    return out


def _grade_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


def view(task: Task) -> View:
    vs = task.problem.variables
    letter = task.letter
    return View(task, letter, task.names, task.problem.function, tuple(str(v) for v in vs),
                ", ".join(str(v) for v in vs), partial_labels(letter, vs),
                [rf"\frac{{\partial {letter}}}{{\partial {v}}}" for v in vs], task.values)


# --- cells -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    kind: str            # markdown | code
    key: str             # identity: the nbgrader grade_id, and the seed of the cell id
    source: str          # the teacher's source
    role: str            # intro | setup | prompt | given | solution | test | plot
    points: float | None = None


def cells(lb, options, k: int, teacher: bool, bs: list[Block]) -> list[Cell]:
    env = environment()
    lesson = lb.lesson
    tasks = [t for b in bs for t in b.tasks]
    total = sum(t.points for t in tasks)
    sections = get_template(env, "notebook", "sections.j2").module
    out = [Cell("markdown", "intro", sections.intro(lesson, version_code(options.seed, lesson.id, k), options.seed,
                                                     teacher, _points(total), len(tasks)), "intro"),
           Cell("code", "setup", read_template_file("notebook", "helpers.py"), "setup")]
    for block in bs:
        out.append(Cell("markdown", _grade_id(f"{block.item.id}-heading"),
                        sections.heading(lesson, block, _points(block.points)), "prompt"))
        for task in block.tasks:
            macros = get_template(env, "notebook", f"{task.form.template}.j2").module
            v = view(task)
            for plan in cells_of(task):
                points = _points(task.points * plan.share) if plan.role == "test" else None
                source = getattr(macros, plan.macro)(v)
                out.append(Cell(plan.kind, f"{task.key}-{plan.macro}", source, plan.role, points))
    keys = [c.key for c in out]
    shared = sorted({key for key in keys if keys.count(key) > 1})
    if shared:
        raise GenError(f"two notebook cells of lesson {lesson.id} would share the id {shared[0]}: exercise ids "
                       "that differ only in punctuation map to the same nbgrader grade_id.",
                       fix="give the exercises ids that differ in more than punctuation.")
    return out


def _points(p: float):
    return int(p) if float(p).is_integer() else float(p)


def strip_regions(source: str, markers, stub=None) -> str:
    """nbgrader's generate_assignment on one cell: each marked region becomes the stub (indented like
    its marker) or disappears."""
    lines, inside = [], False
    for line in source.split("\n"):
        if markers[0] in line:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            lines += [indent + s for s in stub or ()]
        elif markers[1] in line:
            inside = False
        elif not inside:
            lines.append(line)
    return "\n".join(lines)


def student_source(cell: Cell) -> str:
    source = strip_regions(cell.source, SOLUTION, STUB) if cell.role == "solution" else cell.source
    return strip_regions(source, HIDDEN) if cell.role == "test" else source


def nbgrader_metadata(cell: Cell) -> dict | None:
    base = {"grade": False, "grade_id": cell.key, "locked": True, "schema_version": 3, "solution": False,
            "task": False}
    if cell.role == "solution":
        return {**base, "locked": False, "solution": True}
    if cell.role == "test":
        return {**base, "grade": True, "points": cell.points}
    return base


def notebook(cell_list: list[Cell], lesson, code: str, seed: int, teacher: bool) -> bytes:
    """The notebook as nbformat 4.5 JSON, written as nbformat's own writer writes it (sources as
    lists of lines, sorted keys, indent 1, then a newline), without importing nbformat: its import
    and schema compilation cost ~0.1 s a build. The tests validate every notebook with nbformat."""
    cells = []
    for cell in cell_list:
        meta = {"nbgrader": nbgrader_metadata(cell)}
        if cell.role == "setup":      # collapsed in Jupyter; the tag hides it in nbconvert and Jupyter Book
            meta.update(jupyter={"source_hidden": True}, tags=["hide-input"])
        if not teacher:                     # as nbgrader's generate_assignment marks them
            meta["deletable"] = False
            if cell.role != "solution":
                meta["editable"] = False
        source = cell.source if teacher else student_source(cell)
        cid = hashlib.sha256(f"gen-notebook|{lesson.id}|{cell.key}".encode()).hexdigest()[:16]
        entry = {"cell_type": cell.kind, "id": cid, "metadata": meta,
                 "source": source.strip("\n").splitlines(True)}
        if cell.kind == "code":
            entry.update(execution_count=None, outputs=[])
        cells.append(entry)
    nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": KERNEL, "language_info": {"name": "python"},
                       "gen": {"lesson": lesson.id, "version": code, "seed": seed,
                               "edition": "teacher" if teacher else "student"}}}
    text = json.dumps(nb, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def render(lb, options) -> dict[str, bytes]:
    out = {}
    for k in range(1, options.copies + 1):
        code_ = version_code(options.seed, lb.lesson.id, k)
        base = "notebook" if k == 1 else f"notebook-{code_}"
        bs = blocks(lb, k)
        for teacher, suffix in ((False, ""), (True, "-teacher")):
            out[f"{base}{suffix}.ipynb"] = notebook(cells(lb, options, k, teacher, bs), lb.lesson, code_,
                                                    options.seed, teacher)
    return out
