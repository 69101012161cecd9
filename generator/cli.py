"""The `gen` command. Thin: parse options, call the pipeline. Heavy imports live inside commands
so `gen --help` and `gen list` start without loading SymPy."""
from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from .errors import GenError, printable
from .resources import example_lessons, shipped

LOCAL_LESSONS = Path("lesson_data")


def default_lessons(announce: bool = False) -> Path:
    """./lesson_data when the current folder has one, else the example lesson shipped with gen."""
    if LOCAL_LESSONS.is_dir():
        return LOCAL_LESSONS
    if announce:
        click.echo("gen: no lesson_data/ folder here, so building the example lesson shipped with gen "
                   "(`gen init` copies it out for you to edit).", err=True)
    return example_lessons()


lessons_option = click.option("--lessons", "lessons", type=click.Path(path_type=Path), default=None,
                              help="Lesson file or folder of *.yaml files [default: ./lesson_data].")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show the full traceback if gen itself fails.")
@click.version_option(package_name="gen-calculus", prog_name="gen")
def cli(debug):
    """Turn lesson data into randomized, verified calculus problems.

    \b
    Example:
      gen build --seed 42          build every lesson in lesson_data/ into build/
      gen preview gradient --seed 7
    """


def content_options(command):
    """The options that decide what a build contains; `build` and `validate` share them, so a
    validation checks exactly what the same build would make."""
    options = [
        click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=42, show_default=True,
                     help="Global seed; the same seed gives the same bytes."),
        click.option("--variants", type=click.IntRange(1, 5000), default=30, show_default=True,
                     help="Randomized variants per computational problem (the size of each LMS question pool)."),
        click.option("--anki-variants", type=click.IntRange(0, 100), default=1, show_default=True,
                     help="Of those, how many practice versions of each problem go into the Anki deck "
                          "(besides the lesson's own instance; see README, 'Anki')."),
        click.option("--copies", type=click.IntRange(1, 200), default=1, show_default=True,
                     help="Worksheet versions, each with its own version code (version k uses variant k, "
                          "so --variants is raised to at least --copies)."),
        click.option("--canvas-math", type=click.Choice(["mathjax", "image"]), default="mathjax", show_default=True,
                     help="Math in Canvas as \\( \\) (MathJax) or as Canvas equation images."),
        click.option("--targets", default="anki,qti,moodle,worksheet,notebook", show_default=True,
                     help="Comma-separated outputs to write."),
        click.option("--typst-sources", is_flag=True, help="Also write the .typ sources next to the PDFs."),
        click.option("--no-pdf", is_flag=True, help="Skip the PDFs (the HTML worksheets are still written)."),
        click.option("--lms-figures", is_flag=True,
                     help="Embed the gradient-field plots in Canvas and Moodle feedback (one plot per variant; slower)."),
        click.option("--jobs", type=click.IntRange(0, 64), default=0, show_default=True,
                     help="Worker processes; 0 = one per core for large builds, 1 for small ones. "
                          "The output is byte-identical for any value."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def target_names(text: str) -> tuple[str, ...]:
    """--targets as a tuple of names (unchecked)."""
    return tuple(t.strip() for t in text.split(",") if t.strip())


def make_options(seed, variants, anki_variants, copies, canvas_math, targets, typst_sources, no_pdf,
                 lms_figures, jobs):
    from .pipeline import Options, source_date_epoch
    from .targets import TARGETS
    chosen = target_names(targets)
    unknown = [t for t in chosen if t not in TARGETS]
    if unknown or not chosen:
        raise click.BadParameter(f"unknown target(s) {unknown}; choose from {', '.join(TARGETS)}.",
                                 param_hint="--targets")
    variants = max(variants, copies)
    return Options(seed=seed, variants=variants, anki_variants=min(anki_variants, variants), copies=copies,
                   canvas_math=canvas_math, targets=chosen, jobs=jobs, write_typst=typst_sources, pdf=not no_pdf,
                   lms_figures=lms_figures, epoch_override=source_date_epoch())


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
              help="Output folder (replaced atomically; refused if it holds anything gen did not write).")
@click.option("--lesson", "only", default=None, help="Build only the lesson with this id.")
@lessons_option
@content_options
@click.option("--force", is_flag=True,
              help="Replace --out even if it holds files gen did not write (they are deleted). Only for a "
                   "folder that is a gen build; never for one gen did not make.")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary.")
def build(out, only, lessons, force, quiet, **content):
    """Build every lesson into OUT: Anki deck, Canvas QTI, Moodle XML, worksheets, manifest.

    \b
    Example:
      gen build --seed 42
      gen build --seed 7 --variants 60 --copies 30 --out build-class
    """
    from . import plotserver
    from .workers import few_collections, imports_uncollected
    # Forked before anything heavy is imported (make_options imports the pipeline): plotserver.py.
    plots = bool({"anki", "worksheet"} & set(target_names(content["targets"]))) or content["lms_figures"]
    with few_collections(), plotserver.running(plots and content["jobs"] != 1):
        with imports_uncollected():
            options = make_options(**content)
            from .pipeline import build as run_build
        show = not quiet and sys.stderr.isatty()
        with _Progress(show) as progress:
            files = run_build([lessons or default_lessons(announce=not quiet)], out, options, only,
                              progress.step, force=force)
    if not quiet:
        from .manifest import summary_of
        summary = summary_of(files["manifest.json"])
        click.echo(f"Built {summary['problems']} problems, {summary['checks_passed']}/{summary['checks']} "
                   f"checks passed (seed {options.seed}). Wrote:")
        for rel in sorted(files):
            if rel.count("/") <= 1:
                click.echo(f"  {printable(out / rel)}")


class _Progress:
    """One status line on a terminal ("stage… done/total"); silent otherwise."""

    def __init__(self, show):
        self.show, self.count, self.label, self.total = show, 0, "", None

    def __enter__(self):
        return self

    def step(self, n, stage=None, total=None):
        if stage is not None:
            self.label, self.count, self.total = stage, 0, total
        self.count += n
        if self.show and (stage is not None or self.count % 10 == 0 or self.count == self.total):
            done = f" {self.count}/{self.total}" if self.total else ""
            click.echo(f"\r\033[K  {self.label}…{done}", nl=False, err=True)

    def __exit__(self, *exc):
        if self.show:
            click.echo("\r\033[K", nl=False, err=True)
        return False


INIT_COPIES = {"lesson_data": "*.yaml", "templates": "**/*"}     # shipped folder -> the files gen init copies


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."), required=False)
@click.option("--no-templates", is_flag=True,
              help="Copy only the example lesson and keep using the templates shipped with gen.")
def init(folder, no_templates):
    """Copy the example lesson and the templates into FOLDER (default: here) for you to edit.

    Writes FOLDER/lesson_data/ and FOLDER/templates/. `gen build` run in FOLDER uses them: the
    lessons in ./lesson_data, and for each target the templates in ./templates/<target>/ (a whole
    folder: keep every file in it) instead of the shipped ones. Existing files are never overwritten.

    \b
    Example:
      gen init my-course && cd my-course && gen build --seed 42
      gen init --no-templates            # only lesson_data/, in this folder
    """
    wanted = {name: pattern for name, pattern in INIT_COPIES.items() if not (no_templates and name == "templates")}
    copies = [(src, folder / name / rel)
              for name, pattern in wanted.items() for src, rel in _files(shipped(name), pattern)]
    clash = [str(dest) for _, dest in copies if dest.exists()]
    if clash:
        shown = ", ".join(clash[:3]) + (f" and {len(clash) - 3} more" if len(clash) > 3 else "")
        raise GenError(f"{shown} already exist{'s' if len(clash) == 1 else ''}; gen init never overwrites, "
                       "so nothing was written.",
                       fix="choose a new or empty folder (gen init NEW-FOLDER), or move those files away first.")
    import shutil
    for src, dest in copies:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    click.echo(f"Wrote {len(copies)} file{'' if len(copies) == 1 else 's'} into {folder}:")
    for name in sorted({dest.relative_to(folder).parts[0] for _, dest in copies}):
        click.echo(f"  {folder / name}/")
    go = "" if folder == Path(".") else f"cd {folder} && "
    click.echo(f"Next: edit lesson_data/*.yaml, then {go}gen build --seed 42 (gen uses ./lesson_data and "
               "./templates when the folder it runs in has them).")


def _files(root: Path, pattern: str):
    """(file, path relative to root) for the files under root, skipping hidden files and caches."""
    for path in sorted(root.glob(pattern)):
        rel = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            yield path, rel


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@content_options
def validate(paths, **content):
    """Check lesson files: a full build in memory, written nowhere.

    Runs everything `gen build` runs with the same options (generation, verification and every
    target), so a lesson that validates also builds.

    \b
    Example:
      gen validate                       # every file in lesson_data/
      gen validate lesson_data/my-lesson.yaml --variants 60
    """
    from .lesson import discover
    from .pipeline import assemble, load_lessons
    options = make_options(**content)
    files = discover(paths or [default_lessons()])
    if not files:
        raise GenError("no lesson files found.", fix="pass a .yaml file or a folder of them.")
    failed = 0
    for f in files:
        try:
            built = assemble([f], options)
        except GenError as exc:
            if exc.exit_code != 2:
                raise
            failed += 1
            exc.show()
            continue
        import json
        manifest = json.loads(built["manifest.json"])
        lesson = manifest["lessons"][0]
        click.echo(f"{printable(f)}: ok ({lesson['id']}, {len(lesson['items'])} items, "
                   f"{manifest['summary']['problems']} problems built and checked)")
    if failed:
        raise click.exceptions.Exit(2)
    load_lessons(files)          # across files: two lessons may not share an id


@cli.command()
def schema():
    """Print the lesson file JSON Schema (for editor autocompletion).

    \b
    Example:
      gen schema > lesson.schema.json
    """
    import json

    from .lesson import lesson_schema
    click.echo(json.dumps(lesson_schema(), indent=2, sort_keys=True, ensure_ascii=False))


@cli.command(name="list")
@lessons_option
def list_(lessons):
    """List lessons and problem families.

    \b
    Example:
      gen list
    """
    from .families import FAMILY_MODULES
    folder = lessons or default_lessons()
    click.echo("Lessons:")
    for f in sorted(Path(folder).glob("*.yaml")) if Path(folder).is_dir() else [Path(folder)]:
        click.echo(f"  {f.stem}  ({f})")
    click.echo("Problem families:")
    for name, (_, summary) in FAMILY_MODULES.items():
        click.echo(f"  {name:24} {summary}")


@cli.command()
@click.argument("family")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True)
@click.option("--variables", type=click.IntRange(2, 3), default=2, show_default=True)
def preview(family, seed, variables):
    """Show one problem of FAMILY with its answer, distractors, solution and checks.

    \b
    Example:
      gen preview directional_derivative --seed 3
    """
    import random

    from .families import FAMILY_MODULES, get_family
    if family not in FAMILY_MODULES:
        import difflib
        near = difflib.get_close_matches(family, FAMILY_MODULES, n=1)
        raise GenError(f"unknown family '{family}'." + (f" Did you mean '{near[0]}'?" if near else ""),
                       fix=f"choose one of: {', '.join(FAMILY_MODULES)}.")
    from .families._common import Rejected
    from .mathfmt import render
    from .verify import verify
    fam = get_family(family)
    try:
        params = fam.Params(variables=variables)
    except Exception:
        params = fam.Params()
    for attempt in range(60):
        try:
            problem = fam.generate(random.Random(f"{seed}/{attempt}"), params, None, variant=attempt + 1)
            break
        except Rejected:
            continue
    else:
        raise GenError(f"no usable {family} problem found for seed {seed}.")
    from .targets._content import part_answer_rich, value_rich
    verified = verify(problem, fam)
    click.echo(click.style("Problem: ", bold=True) + render(problem.prompt, "text"))
    for part in problem.parts:
        click.echo(click.style(f"Answer ({render(part.label, 'text')}): ", bold=True)
                   + render(part_answer_rich(part), "text"))
    click.echo(click.style("Solution:", bold=True))
    for step in problem.steps:
        click.echo("  " + render(step, "text"))
    click.echo(click.style("Distractors:", bold=True))
    for part in problem.parts:
        for d in part.distractors:
            click.echo(f"  {render(value_rich(part, d.value), 'text')}  [{d.misconception}] "
                       f"{render(d.feedback, 'text')}")
    click.echo(click.style("Checks:", bold=True))
    for c in verified.checks:
        click.echo(f"  {'PASS' if c.passed else 'FAIL'} {c.name}: {c.detail}")


def main():
    """The console script. Exit codes: 0 done, 1 a bug in gen, 2 your input or environment
    (one paragraph naming file, field and fix), 130 Ctrl-C, 143 SIGTERM (129 SIGHUP)."""
    try:
        _main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    leave(code)


THREADS_GRACE = 10.0       # seconds leave() waits for gen's threads (they take well under one)


def leave(code) -> None:
    """Exit as sys.exit(code) would, without tearing the interpreter down object by object: after a
    build that is SymPy's caches, matplotlib and the problems, 0.1–0.3 s of a 0.5–2.5 s command.
    What an exit must still do is done first: threads joined (as Python waits for them; for at most
    THREADS_GRACE seconds, so a stuck one cannot keep gen from exiting), atexit
    handlers run (temporary folders, multiprocessing's clean-up), the standard streams flushed."""
    import atexit
    import os
    import threading
    import time
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    deadline = time.monotonic() + THREADS_GRACE
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))     # bounded: exit even if one is stuck
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):       # a closed pipe (gen … | head): nothing left to tell
            pass
    os._exit(code)


def _main():
    from .errors import environment_error
    from .workers import Stopped, stop_on_signals
    debug = "--debug" in sys.argv
    try:
        with stop_on_signals():
            code = cli.main(prog_name="gen", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt, Stopped) as exc:
        cause = exc.__cause__ or exc.__context__ if isinstance(exc, click.exceptions.Abort) else exc
        if isinstance(exc, click.exceptions.Abort) and not isinstance(cause, (KeyboardInterrupt, Stopped)):
            click.echo("gen: aborted.", err=True)
            sys.exit(1)
        what = f"stopped by {cause.name}" if isinstance(cause, Stopped) and cause.signum != signal.SIGINT \
            else "interrupted"
        click.echo(f"gen: {what}; nothing was half-written (--out holds the previous build, or the new one "
                   "if it was already complete).", err=True)
        code = cause.exit_code if isinstance(cause, Stopped) else 130
    except Exception as exc:  # a bug of ours, not a user mistake (unless the machine said no)
        problem = environment_error(exc)
        if problem is not None:
            problem.show()
            sys.exit(problem.exit_code)
        if debug:
            import traceback
            traceback.print_exc()
        click.echo(f"gen: internal error ({type(exc).__name__}: {printable(exc)}). This is a bug in gen, not in "
                   "your lesson; please report it" + ("" if debug else ", with the output of the same command run "
                                                      "with --debug") + ".", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
