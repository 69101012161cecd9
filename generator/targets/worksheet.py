"""Printable worksheets: worksheet.pdf, answer-key.pdf, gradient-visual-notes.pdf (Typst, from
Jinja templates) and worksheet.html / answer-key.html (MathML, images inline, print CSS).

Version k of the worksheet (k = 1..copies) shows variant k of every randomized problem, plus the
lesson's own fixed instance where it has one. Figures go in the key only: they show ∇f(P).
"""
from __future__ import annotations

import base64
import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import sympy as sp
from markupsafe import Markup

from ..figures import alt_text, figure_name, render_png
from ..mathfmt import render as render_rich, typst_text
from ..mathparse import parse_formula
from ..prose import prose
from ..problem import GRAD_F_AT_P, P_SYM, Equals, Norm, Pt, Vec, X, Y, rich
from ..resources import template_dir
from ._content import answer_rich

TEMPLATES = template_dir("worksheet")


@dataclass
class Task:
    label: str
    prompt: tuple
    answer: tuple
    steps: tuple
    room: str
    figure: str | None = None
    alt: str | None = None


@dataclass
class Version:
    number: int
    code: str
    levels: list = field(default_factory=list)
    quiz_tasks: list = field(default_factory=list)
    coding_tasks: list = field(default_factory=list)


ROOM = {"number": "3.2cm", "vector": "3.2cm", "boolean": "1.6cm", "choice": "3.6cm"}


def version_code(seed: int, lesson_id: str, k: int) -> str:
    digest = hashlib.sha256(f"{seed}|{lesson_id}|{k}".encode()).hexdigest()[:4].upper()
    return f"{k:02d}-{digest}"


def _tasks(lb, item, k, figures):
    tasks = []
    for spec in item.problems:
        chosen = [g for g in lb.variants_of(f"{lb.lesson.id}/{item.id}/{spec.id}")
                  if g.slot.variant == 0 or g.slot.variant == k]
        for g in chosen:
            p = g.problem
            name = alt = None
            if p.figure is not None:
                name = figure_name(p.figure)
                figures.setdefault(name, p.figure)
                alt = alt_text(p.figure)
            label = f"({spec.id}{'' if g.slot.variant == 0 else '′'})"
            tasks.append(Task(label, p.prompt, answer_rich(p), p.steps,
                              ROOM.get(p.parts[0].kind, "3.6cm"), name, alt))
    return tasks


def versions(lb, options, figures) -> list[Version]:
    lesson = lb.lesson
    out = []
    for k in range(1, options.copies + 1):
        v = Version(k, version_code(options.seed, lesson.id, k))
        for level in lesson.levels:
            exercises = [{"item": e, "tasks": _tasks(lb, e, k, figures)} for e in lesson.exercises
                         if e.level == level.level]
            if exercises:
                v.levels.append({"level": level.level, "name": level.name, "exercises": exercises})
        for tf in lesson.quiz.true_false:
            v.quiz_tasks += _tasks(lb, tf, k, figures)
        v.coding_tasks = [{"item": c, "tasks": _tasks(lb, c, k, figures)} for c in lesson.quiz.coding]
        out.append(v)
    return out


def visual_panels(lesson, figures):
    panels = []
    project = lesson.mini_project
    for i, pf in enumerate(project.functions if project else ()):
        f = parse_formula(pf.function, ("x", "y"))
        P = Pt(*[sp.Integer(c) for c in pf.point])
        g = Vec(*[sp.diff(f, v).xreplace({X: P[0], Y: P[1]}) for v in (X, Y)])
        arrows = [("∇f(P)", g)] if any(c != 0 for c in g) else []
        spec = {"function": f, "variables": (X, Y), "point": P, "arrows": arrows}
        name = figure_name(spec, prefix="notes")
        figures[name] = spec
        level = f.xreplace({X: P[0], Y: P[1]})
        if arrows:
            computed = rich("At ", Equals(P_SYM, P), " the gradient ", Equals(GRAD_F_AT_P, g),
                            " is the steepest-ascent direction, perpendicular to the level curve f = ", level,
                            "; its length ", Equals(Norm(GRAD_F_AT_P), sp.radsimp(sp.sqrt(sum(c**2 for c in g)))),
                            " is the largest rate of change there.")
        else:
            computed = rich("At ", Equals(P_SYM, P), " the gradient is zero: a critical point, with no uphill"
                            " direction to draw.")
        panels.append({"title": rich("f(x, y) = ", f), "image": name, "alt": alt_text(spec), "note": pf.note,
                       "computed": computed})
    blank_spec = {"function": parse_formula("x**2 + 2*y**2", ("x", "y")), "variables": (X, Y),
                  "point": Pt(1, 1), "arrows": []}
    blank = {"image": "notes-blank.png", "spec": blank_spec,
             "text": rich("Level curves of ", Equals(sp.Function("f")(X, Y), blank_spec["function"]),
                          ". Draw ∇f at five points of your choice; check that each arrow crosses its level "
                          "curve at a right angle and is longer where the curves are closer together.")}
    return panels, blank


def environment(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             autoescape=(lang == "html"), trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    if lang == "typst":
        env.filters["t"] = typst_text
        env.filters["t_str"] = lambda s: typst_text(s)[1:-1]
        env.filters["rich"] = lambda r: render_rich(r, "typst")
        env.filters["prose"] = lambda s: render_rich(prose(s), "typst")
    else:
        env.filters["rich"] = lambda r: Markup(render_rich(r, "mathml"))
        env.filters["prose"] = lambda s: Markup(render_rich(prose(s), "mathml"))
    return env


def compile_typst(source: str, images: dict[str, bytes], timestamp: int) -> bytes:
    import typst
    with tempfile.TemporaryDirectory(prefix="gen-typst-") as tmp:
        root = Path(tmp)
        for name, data in images.items():
            (root / name).write_bytes(data)
        (root / "main.typ").write_text(source, "utf-8")
        return typst.compile(str(root / "main.typ"), root=str(root), ignore_system_fonts=True,
                             timestamp=timestamp)


def _figure_specs(lb, options):
    figures: dict[str, dict] = {}
    vs = versions(lb, options, figures)
    panels, blank = visual_panels(lb.lesson, figures)
    return figures, vs, panels, blank


def figures(lb, options):
    """The plots the worksheets embed, so a parallel build can draw them up front."""
    specs, _, _, blank = _figure_specs(lb, options)
    return [(spec, {}) for spec in specs.values()] + [(blank["spec"], BLANK)]


BLANK = {"blank": True, "width": 6, "height": 6}


def render(lb, options) -> dict[str, bytes]:
    lesson = lb.lesson
    figures, vs, panels, blank = _figure_specs(lb, options)
    images = {name: render_png(spec) for name, spec in sorted(figures.items())}
    images[blank["image"]] = render_png(blank["spec"], **BLANK)
    ctx = {"lesson": lesson, "versions": vs, "paper": "a4",
           "title": f"Lesson {lesson.number}: {lesson.title}",
           "footer": f"Lesson {lesson.number} · {lesson.title} · seed {options.seed}"}
    typ = environment("typst")
    wanted = options.pdf or options.write_typst
    sources = {} if not wanted else {
        "worksheet": typ.get_template("worksheet.typ.j2").render(ctx),
        "answer-key": typ.get_template("answer-key.typ.j2").render(ctx),
        "gradient-visual-notes": typ.get_template("visual-notes.typ.j2").render(
            {**ctx, "project": lesson.mini_project, "panels": panels, "blank": blank}) if lesson.mini_project else None,
    }
    out = {}
    for name, source in sources.items():
        if source is None or not options.pdf:
            continue
        out[f"{name}.pdf"] = compile_typst(source, images, lb.timestamp)
        if options.write_typst:
            out[f"typst/{name}.typ"] = source.encode("utf-8")
            for image in images:
                out[f"typst/{image}"] = images[image]
    html = environment("html")
    data_uri = {n: "data:image/png;base64," + base64.b64encode(b).decode() for n, b in images.items()}
    for name in ("worksheet", "answer-key"):
        out[f"{name}.html"] = html.get_template(f"{name}.html.j2").render({**ctx, "images": data_uri}).encode("utf-8")
    return out
