"""Printable worksheets, PDF/UA-1 (Typst, from Jinja templates), and the same for screens (HTML,
MathML, images inline):

- worksheet.pdf / .html: the whole lesson a student works through, one version per --copies;
- answer-key.pdf / .html: the teacher's key, each question restated above its answer and steps;
- gradient-visual-notes-exemplar.pdf: the mini-project done, as the teacher's model report;
- gradient-visual-notes-student.pdf: the same functions as blank plots, to annotate and hand in.

Version k of the worksheet (k = 1..copies) shows variant k of every randomized problem, plus the
lesson's own fixed instance where it has one. Figures go in the key only: they show ∇f(P). Seeds
go in the key only too: a student's sheet names its version by code.
"""
from __future__ import annotations

import base64
import collections
import hashlib
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jinja2
import sympy as sp
from markupsafe import Markup

from ..errors import GenError
from ..figures import alt_text, figure_name, render_png
from ..mathfmt import render as render_rich, typst_text
from ..mathparse import parse_formula
from ..prose import prose
from ..problem import GRAD_F, GRAD_F_AT_P, P_SYM, Equals, Norm, Problem, Pt, Vec, X, Y, rich
from ..resources import get_template, template_dir
from ._content import answer_rich

TEMPLATES = template_dir("worksheet")
PDF_STANDARDS = ("ua-1",)            # every PDF is tagged for screen readers and says so
NOTES = "gradient-visual-notes"      # the mini-project's two PDFs: -exemplar and -student

# Work space under a task, in cm: a base plus room per worked step and per extra part, within
# bounds, so a two-step descent or a comparison of three directions gets more than one gradient.
ROOM_BASE, ROOM_PER_STEP, ROOM_PER_PART, ROOM_BOUNDS = 1.2, 0.6, 0.5, (2.4, 8.0)
# Space for a written explanation: a base plus room for the words the model answer takes.
WORDS_PER_CM, EXPLAIN_BOUNDS = 24, (2.4, 4.0)


class PdfStandardError(GenError):
    """Typst refused a PDF under PDF/UA-1. gen writes every formula's and figure's alt text
    itself, so this is gen's bug (exit 1), never a reason to ship an untagged PDF."""
    exit_code = 1


@dataclass
class Task:
    label: str                 # "(a)"; "(a′)" for a practice version shown beside the lesson's own (a)
    prompt: tuple
    answer: tuple
    steps: tuple
    room: float                # cm of work space on the student's sheet
    source: str                # for the key: where it comes from, and its seed
    figure: str | None = None
    alt: str | None = None
    caption: str | None = None


@dataclass
class Version:
    number: int
    code: str
    notebook: str | None       # the coding notebook of this version, when the build writes one
    levels: list = field(default_factory=list)
    true_false: list = field(default_factory=list)
    conceptual: list = field(default_factory=list)
    coding: list = field(default_factory=list)


def version_code(seed: int, lesson_id: str, k: int) -> str:
    digest = hashlib.sha256(f"{seed}|{lesson_id}|{k}".encode()).hexdigest()[:4].upper()
    return f"{k:02d}-{digest}"


def notebook_file(k: int, code: str) -> str:
    """The student notebook of version k, as the notebook target names it."""
    return "notebook.ipynb" if k == 1 else f"notebook-{code}.ipynb"


def work_room(p: Problem) -> float:
    lo, hi = ROOM_BOUNDS
    cm = ROOM_BASE + ROOM_PER_STEP * (len(p.steps) + p.work) + ROOM_PER_PART * (len(p.parts) - 1)
    return round(min(max(cm, lo), hi), 1)


def explain_room(model_answer: str | None) -> float:
    lo, hi = EXPLAIN_BOUNDS
    words = len((model_answer or "").split())
    return round(min(max(1.0 + words / WORDS_PER_CM, lo), hi), 1)


def _on_sheet(lb, item, k):
    """(spec, problem, both) for each problem of one item that version k shows: the lesson's own
    instance (variant 0) and practice variant k; `both` when the two are shown."""
    for spec in item.problems:
        chosen = [g for g in lb.variants_of(f"{lb.lesson.id}/{item.id}/{spec.id}")
                  if g.slot.variant in (0, k)]
        for g in chosen:
            yield spec, g, len(chosen) > 1


def _exercises_by_level(lesson):
    """(level, its exercises) for each level of the lesson, in the sheet's order."""
    for level in lesson.levels:
        yield level, [e for e in lesson.exercises if e.level == level.level]


def _items(lesson):
    """The items of a version that show problems, in the order versions() sets them."""
    for _, exercises in _exercises_by_level(lesson):
        yield from exercises
    yield from lesson.quiz.true_false
    yield from lesson.quiz.coding


def _tasks(lb, item, k, figures, owner: str) -> list[Task]:
    """The problems of one item that version k shows (see _on_sheet). The prime marks the practice
    version only when both are shown."""
    tasks = []
    for spec, g, both in _on_sheet(lb, item, k):
        p = g.problem
        label = f"({spec.id}{'′' if both and g.slot.variant else ''})"
        origin = ("the lesson's own" if g.slot.variant == 0
                  else f"practice version of ({spec.id})" if both else "drawn at random for this version")
        task = Task(label, p.prompt, answer_rich(p), p.steps, work_room(p), f"{origin} · seed {g.seed}")
        if p.figure is not None:
            task.figure = figure_name(p.figure)
            figures.setdefault(task.figure, p.figure)
            task.alt = alt_text(p.figure)
            task.caption = f"Figure: the gradient field for {owner} {label}."
        tasks.append(task)
    return tasks


def versions(lb, options, figures) -> list[Version]:
    lesson = lb.lesson
    out = []
    for k in range(1, options.copies + 1):
        code = version_code(options.seed, lesson.id, k)
        v = Version(k, code, notebook_file(k, code) if "notebook" in options.targets else None)
        for level, items in _exercises_by_level(lesson):
            exercises = [{"item": e, "room": explain_room(e.model_answer),
                          "tasks": _tasks(lb, e, k, figures, f"exercise {e.id}")} for e in items]
            if exercises:
                v.levels.append({"level": level.level, "name": level.name, "exercises": exercises})
        v.true_false = [{"item": tf, "tasks": _tasks(lb, tf, k, figures, f"question {tf.id}")}
                        for tf in lesson.quiz.true_false]
        v.conceptual = [{"item": c, "room": explain_room(c.model_answer)} for c in lesson.quiz.conceptual]
        v.coding = [{"item": c, "tasks": _tasks(lb, c, k, figures, f"challenge {c.id}")} for c in lesson.quiz.coding]
        out.append(v)
    return out


def primed(vs) -> bool:
    """Whether any label carries the practice mark, so the sheet explains it only then."""
    def tasks(v):
        for level in v.levels:
            for ex in level["exercises"]:
                yield from ex["tasks"]
        for group in v.true_false + v.coding:
            yield from group["tasks"]
    return any("′" in t.label for v in vs for t in tasks(v))


def visual_panels(lesson, figures):
    """One panel per mini-project function: the exemplar's plot (∇f(P) drawn) and sentences, and
    the student template's blank plot of the same function (contours and P only)."""
    panels = []
    project = lesson.mini_project
    for pf, (spec, g) in zip(project.functions if project else (), _panel_specs(lesson)):
        f, P, arrows = spec["function"], spec["point"], spec["arrows"]
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
        blank_spec = {**spec, "arrows": []}
        panels.append({"title": rich("f(x, y) = ", f), "function": rich(Equals(sp.Function("f")(X, Y), f)),
                       "point": rich(Equals(P_SYM, P)), "image": name, "alt": alt_text(spec), "note": pf.note,
                       "computed": computed, "spec": spec,
                       "blank_image": "blank-" + name, "blank_alt": alt_text(blank_spec, blank=True)})
    practice_spec = _practice_spec()
    practice = {"image": "notes-blank.png", "spec": practice_spec,
                "alt": alt_text(practice_spec, blank=True),
                "text": rich("Level curves of ", Equals(sp.Function("f")(X, Y), practice_spec["function"]),
                             ". Draw ", GRAD_F, " at five points of your choice; check that each arrow crosses "
                             "its level curve at a right angle and is longer where the curves are closer together.")}
    return panels, practice


def _panel_specs(lesson) -> list[tuple[dict, Vec]]:
    """(plot spec, ∇f(P)) of each mini-project function: the spec draws f's contours, P, and ∇f(P)
    unless it is zero."""
    specs = []
    project = lesson.mini_project
    for pf in project.functions if project else ():
        f = parse_formula(pf.function, ("x", "y"))
        P = Pt(*[sp.Integer(c) for c in pf.point])
        g = Vec(*[sp.diff(f, v).xreplace({X: P[0], Y: P[1]}) for v in (X, Y)])
        arrows = [("∇f(P)", g)] if any(c != 0 for c in g) else []
        specs.append(({"function": f, "variables": (X, Y), "point": P, "arrows": arrows}, g))
    return specs


def _practice_spec() -> dict:
    return {"function": parse_formula("x**2 + 2*y**2", ("x", "y")), "variables": (X, Y), "point": Pt(1, 1),
            "arrows": []}


def _typst_str(text: str) -> str:
    """A Typst string literal (for code arguments: titles, URLs, alt text)."""
    return typst_text(text)[1:-1]


@lru_cache(maxsize=2)
def environment(lang: str) -> jinja2.Environment:
    """One per language and process, so a template is compiled once (Jinja recompiles one whose
    file changed)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             autoescape=(lang == "html"), trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    if lang == "typst":
        env.filters["t"] = typst_text
        env.filters["t_str"] = _typst_str
        env.filters["rich"] = lambda r: render_rich(r, "typst")
        env.filters["prose"] = lambda s: render_rich(prose(s), "typst")
    else:
        env.filters["rich"] = lambda r: Markup(render_rich(r, "mathml"))
        env.filters["prose"] = lambda s: Markup(render_rich(prose(s), "mathml"))
    return env


def prepare_templates(options) -> None:
    """Compile the templates a build will render (~0.2 s), ahead of it: pipeline.prepare runs this
    in a thread while the workers generate."""
    names = [f"{name}.html.j2" for name in ("worksheet", "answer-key")]
    if options.pdf or options.write_typst:
        names += [f"{name}.typ.j2" for name in ("worksheet", "answer-key", "visual-notes-exemplar", "visual-notes-student")]
    for name in names:
        get_template(environment("html" if name.endswith(".html.j2") else "typst"), "worksheet", name)


_SHOWN: dict[str, bool] = {}     # character → whether the PDF fonts have a glyph for it (per process)
_PROBE = '#set document(title: "probe")\n#set text(lang: "en")\n'


def _shown(chars: list[str]) -> None:
    """Find out which characters Typst's own fonts can draw (PDF/UA-1 refuses a glyph it cannot
    map): all at once, and one by one only when that fails."""
    import typst
    todo = [c for c in chars if c not in _SHOWN]
    if not todo:
        return
    def ok(text):
        try:
            typst.compile((_PROBE + typst_text(text)).encode("utf-8"), ignore_system_fonts=True,
                          pdf_standards=list(PDF_STANDARDS))
            return True
        except typst.TypstError:
            return False
    if ok(" ".join(todo)):
        _SHOWN.update(dict.fromkeys(todo, True))
    else:
        _SHOWN.update((c, ok(c)) for c in todo)


def printable_in_pdf(source: str) -> str:
    """The source with every character the PDF fonts cannot draw (emoji, CJK) written as its
    Unicode name in brackets, "[abacus]", so the PDF stays PDF/UA-1 and says what was there; the
    HTML keeps the characters themselves. Invisible marks (variation selectors, joiners) go."""
    import unicodedata
    chars = sorted({c for c in source if ord(c) > 0x7F})
    _shown(chars)
    for c in (c for c in chars if not _SHOWN[c]):
        invisible = unicodedata.category(c) in ("Mn", "Me", "Cf")
        source = source.replace(c, "" if invisible else f"[{unicodedata.name(c, f'U+{ord(c):04X}').lower()}]")
    return source


def compile_typst(source: str, images: dict[str, bytes], timestamp: int, name: str = "document.pdf") -> bytes:
    """A PDF/UA-1 PDF. Typst checks the standard while it writes; a refusal is gen's bug."""
    import typst
    source = printable_in_pdf(source)
    with tempfile.TemporaryDirectory(prefix="gen-typst-") as tmp:
        root = Path(tmp)
        for image, data in images.items():
            (root / image).write_bytes(data)
        (root / "main.typ").write_text(source, "utf-8")
        try:
            return typst.compile(str(root / "main.typ"), root=str(root), ignore_system_fonts=True,
                                 timestamp=timestamp, pdf_standards=list(PDF_STANDARDS))
        except typst.TypstError as exc:
            hints = "".join(f" (hint: {h})" for h in getattr(exc, "hints", ()) or ())
            raise PdfStandardError(
                f"Typst refused {name} under PDF/UA-1: {getattr(exc, 'message', None) or exc}{hints}. "
                "gen writes every formula's and figure's alt text itself, so this is a bug in gen or in "
                f"the worksheet templates ({TEMPLATES}), not in your lesson; no untagged PDF was written.",
                fix="report it with the lesson file; meanwhile `--no-pdf` builds everything else, and "
                    "`--typst-sources --no-pdf` writes the .typ sources to inspect.") from None


def _figure_specs(lb, options):
    figures: dict[str, dict] = {}
    vs = versions(lb, options, figures)
    panels, practice = visual_panels(lb.lesson, figures)
    return figures, vs, panels, practice


BLANK = {"blank": True}                              # the student template's plots, at the exemplar's size
PRACTICE = {"blank": True, "width": 6, "height": 6}  # the larger practice plot


def figures(lb, options):
    """The plots the worksheets embed, so the build can have them drawn first: the same specs
    _figure_specs finds, without the alt texts and the rest of the sheets (made while the plots
    are drawn, prepare_early)."""
    specs: dict[str, dict] = {}
    for k in range(1, options.copies + 1):
        for item in _items(lb.lesson):
            for _, g, _ in _on_sheet(lb, item, k):
                if g.problem.figure is not None:
                    specs.setdefault(figure_name(g.problem.figure), g.problem.figure)
    panels = [spec for spec, _ in _panel_specs(lb.lesson)]
    for spec in panels:
        specs[figure_name(spec, prefix="notes")] = spec
    return ([(spec, {}) for spec in specs.values()] + [(spec, BLANK) for spec in panels]
            + [(_practice_spec(), PRACTICE)])


_PREPARED: dict = {}      # id(lb) → (lb, options, documents), made by prepare_early for the render to come


def prepare_early(lb, options) -> None:
    """The Typst sources of the PDFs (they name the plots' files, not their pixels), and the check
    of which characters the PDF fonts can draw (its Typst probe loads the fonts), made while the
    plot process is still drawing (pipeline.render_all): this process would only wait. A failure
    is left for render() to raise."""
    if len(_PREPARED) >= 8:          # left by builds that stopped before their render
        _PREPARED.clear()
    try:
        documents = _documents(lb, options)
        for source in documents[-1].values():
            printable_in_pdf(source)
    except Exception:
        return
    _PREPARED[id(lb)] = (lb, options, documents)
    if not options.pdf:
        # Without PDFs the HTML pages come last, after the plots: rendered once here with empty
        # images and dropped, they leave every formula's MathML in mathfmt's memo, and render()'s
        # pass costs ~5 ms instead of ~60. (With PDFs that pass overlaps their compilation
        # anyway.) A failure here is render()'s to report, as its own pass fails the same way.
        try:
            _html_pages(documents[3], documents[4], collections.defaultdict(str))
        except Exception:
            pass


def _documents(lb, options):
    """(figures, panels, practice, ctx, titles, Typst sources) of one lesson's worksheets."""
    prepared = _PREPARED.pop(id(lb), None)
    if prepared is not None and prepared[0] is lb and prepared[1] == options:
        return prepared[2]
    lesson = lb.lesson
    figures, vs, panels, practice = _figure_specs(lb, options)
    title = f"Lesson {lesson.number}: {lesson.title}"
    codes = [v.code for v in vs]
    which = f"version {codes[0]}" if len(codes) == 1 else f"versions {', '.join(codes[:-1])} and {codes[-1]}"
    ctx = {"lesson": lesson, "versions": vs, "paper": "a4", "title": title, "seed": options.seed,
           "primed": primed(vs), "notes": NOTES, "panels": panels, "practice": practice}
    titles = {"worksheet": f"{title} — worksheet, {which}",
              "answer-key": f"{title} — answer key" + ("" if len(codes) == 1 else f", {which}"),
              f"{NOTES}-exemplar": f"{title} — visual notes (exemplar)",
              f"{NOTES}-student": f"{title} — visual notes (student template)"}
    typ = environment("typst")
    wanted = options.pdf or options.write_typst
    sources = {} if not wanted else {
        name: get_template(typ, "worksheet", f"{name}.typ.j2").render({**ctx, "doc_title": titles[name]})
        for name in ("worksheet", "answer-key")}
    if wanted and lesson.mini_project:
        for kind in ("exemplar", "student"):
            sources[f"{NOTES}-{kind}"] = get_template(typ, "worksheet", f"visual-notes-{kind}.typ.j2").render(
                {**ctx, "project": lesson.mini_project, "doc_title": titles[f"{NOTES}-{kind}"]})
    return figures, panels, practice, ctx, titles, sources


def _html_pages(ctx, titles, images) -> dict[str, bytes]:
    html = environment("html")
    return {f"{name}.html": get_template(html, "worksheet", f"{name}.html.j2").render(
        {**ctx, "images": images, "doc_title": titles[name]}).encode("utf-8")
        for name in ("worksheet", "answer-key")}


def render(lb, options) -> dict[str, bytes]:
    figures, panels, practice, ctx, titles, sources = _documents(lb, options)
    images = {name: render_png(spec) for name, spec in sorted(figures.items())}
    for panel in panels:
        images[panel["blank_image"]] = render_png(panel["spec"], **BLANK)
    images[practice["image"]] = render_png(practice["spec"], **PRACTICE)
    out = {}
    # Typst compiles without Python's lock: the PDFs are made in threads, on the cores the other
    # targets have left, while this thread writes the HTML.
    with ThreadPoolExecutor(max(1, len(sources)) if options.pdf else 1, thread_name_prefix="gen-typst") as pool:
        pdfs = {name: pool.submit(compile_typst, source, images, lb.timestamp, f"{name}.pdf")
                for name, source in sources.items()} if options.pdf else {}
        pages: dict | Exception = {}
        try:
            pages = _html_pages(ctx, titles, {n: "data:image/png;base64," + base64.b64encode(b).decode()
                                              for n, b in images.items()})
        except Exception as exc:        # reported after the PDFs' own refusals, as when they came first
            pages = exc
        for name, source in sources.items():
            if options.pdf:
                out[f"{name}.pdf"] = pdfs[name].result()     # in order: the first refusal is reported
            if options.write_typst:
                out[f"typst/{name}.typ"] = source.encode("utf-8")
    if isinstance(pages, Exception):
        raise pages
    if options.write_typst and sources:
        for image in images:
            out[f"typst/{image}"] = images[image]
    out.update(pages)
    return out
