"""The one driver: load → plan → generate → verify → render → write. Reads top to bottom.

Everything is gathered and verified in memory before anything touches the output folder.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import multiprocessing
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import GenError
from .generate import Finish, Generated, generate_all, spec_path
from .lesson import Lesson, discover, load_lesson, read_source
from .plan import plan
from .workers import check_stop, few_collections, worker_pool

DEFAULT_TARGETS = ("anki", "qti", "moodle", "worksheet", "notebook")


@dataclass(frozen=True)
class Options:
    seed: int = 42
    variants: int = 30                 # per randomized problem spec: the LMS pools
    anki_variants: int = 1             # practice versions per problem in the deck (README, 'Anki')
    copies: int = 1                    # worksheet versions
    canvas_math: str = "mathjax"       # or "image"
    targets: tuple[str, ...] = DEFAULT_TARGETS
    jobs: int = 1
    write_typst: bool = False
    pdf: bool = True
    lms_figures: bool = False          # embed the plots in Canvas/Moodle feedback
    epoch_override: int | None = None  # SOURCE_DATE_EPOCH


@dataclass
class LessonBuild:
    lesson: Lesson
    source_name: str
    source_sha256: str
    timestamp: int                     # the build's fixed clock (seconds since 1970, UTC)
    problems: list[Generated] = field(default_factory=list)

    def variants_of(self, group: str) -> list[Generated]:
        return [g for g in self.problems if g.slot.group == group]


# Zip archives (the Anki deck, the Canvas package) store dates from 1980 to 2107.
LAST_EPOCH = int(dt.datetime(2107, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc).timestamp())


def source_date_epoch() -> int | None:
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    fix = "unset it, or set it to e.g. $(git log -1 --format=%ct)."
    if not re.fullmatch(r"[0-9]{1,20}", raw):
        raise GenError(f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970 (0 or more), "
                       f"got {raw[:40]!r}.", fix=fix)
    if int(raw) > LAST_EPOCH:
        raise GenError(f"SOURCE_DATE_EPOCH={raw} is after 2107-12-31, the last date a zip archive (the Anki "
                       "deck, the Canvas package) can hold.", fix=fix)
    return int(raw)


def lesson_timestamp(lesson: Lesson, override: int | None) -> int:
    if override is not None:
        return override
    midnight = dt.datetime.combine(lesson.revised, dt.time(12), tzinfo=dt.timezone.utc)
    return int(midnight.timestamp())


def load_lessons(paths, only: str | None = None) -> list[tuple[Path, Lesson]]:
    files = discover(paths)
    if not files:
        raise GenError(f"no lesson files (*.yaml) found in {', '.join(map(str, paths))}.",
                       fix="add lesson_data/<lesson>.yaml or pass a path with --lessons.")
    lessons = [(f, load_lesson(f)) for f in files]
    ids = [lesson.id for _, lesson in lessons]
    for i in set(ids):
        if ids.count(i) > 1:
            raise GenError(f"two lesson files share the id '{i}'.", field="id", fix="give each lesson its own id.")
    if only is not None:
        lessons = [(f, lesson) for f, lesson in lessons if lesson.id == only]
        if not lessons:
            import difflib
            near = difflib.get_close_matches(only, ids, n=1)
            raise GenError(f"no lesson with id '{only}'." + (f" Did you mean '{near[0]}'?" if near else ""),
                           fix=f"use one of: {', '.join(ids)}.")
    return lessons


PARALLEL_FROM = 100      # below this many problems, starting worker processes costs more than it saves
FIGURES_PARALLEL_FROM = 8   # plots drawn in parallel from this many (each costs ~50 ms)


def workers(options: Options, problems: int) -> int:
    if options.jobs:
        return options.jobs
    return (os.cpu_count() or 1) if problems >= PARALLEL_FROM else 1


def finish_for(options: Options) -> Finish:
    """What each verified problem must become in this build (see generate.Finish): its manifest
    entry always, its LMS item for Canvas or Moodle, and the Problem itself for the variants the
    deck, the worksheets and the notebooks print."""
    targets = set(options.targets)
    lms = bool({"qti", "moodle"} & targets)
    keep = max([0] + ([options.anki_variants] if "anki" in targets else [])
               + ([options.copies] if {"worksheet", "notebook"} & targets else []))
    return Finish(entry=True, question=lms, keep=None if lms and options.lms_figures else keep,
                  keep_boolean="anki" in targets)


def prepare(paths, options: Options, only: str | None = None, progress=None) -> list[LessonBuild]:
    """Load, plan, generate and verify: everything except rendering and writing."""
    if {"worksheet", "notebook"} & set(options.targets) and options.copies > options.variants:
        raise GenError(f"{options.copies} worksheet and notebook copies need at least {options.copies} variants "
                       f"(version k uses variant k), but variants is {options.variants}.",
                       fix=f"raise --variants to {options.copies} or lower --copies.")
    builds, sources = [], []
    for path, lesson in load_lessons(paths, only):
        raw = read_source(path)
        builds.append(LessonBuild(lesson, path.name, hashlib.sha256(raw).hexdigest(),
                                  lesson_timestamp(lesson, options.epoch_override)))
        sources.append(path)
    plans = [plan(lb.lesson, options.variants) for lb in builds]
    if progress:
        progress(0, "generating and verifying problems", sum(map(len, plans)))
    finish = finish_for(options)
    # While the workers generate, the parent only waits: it imports what the plots need next
    # (matplotlib, or numpy where a plot process draws) and compiles the templates.
    plots = bool({"anki", "worksheet"} & set(options.targets)) or options.lms_figures

    def meanwhile():
        from .workers import in_background
        if plots:
            from .figures import import_in_background
            import_in_background()
        in_background(functools.partial(_prepare_targets, options), "gen-prepare-targets")
    if plots and all(workers(options, len(slots)) == 1 for slots in plans):
        from .plotserver import current
        server = current()
        if server is not None:
            server.warm()               # its core idles while this process makes the problems
    for lb, path, slots in zip(builds, sources, plans):
        def locate(slot, lesson=lb.lesson, path=path):
            return str(path), spec_path(lesson, slot)
        lb.problems = generate_all(slots, options.seed, workers(options, len(slots)), progress, locate, finish,
                                   meanwhile)
    return builds


def _prepare_targets(options: Options) -> None:
    """Each requested target's `prepare_templates`, if it has one. In a thread: a failure here is
    left for the target's own render to raise and report."""
    from .targets import get_target
    for name in options.targets:
        try:
            getattr(get_target(name), "prepare_templates", lambda options: None)(options)
        except Exception:
            pass


_FORKED: tuple = ()
# Targets in one group run in the same worker. Canvas and Moodle each get their own: their LMS
# items are made where the problems are (generate.Finish), so they share nothing but time, and in
# a large build each is seconds of XML that the other core can write meanwhile.
GROUPS = (("qti",), ("moodle",), ("anki",), ("worksheet",))


def _run(task):
    """One unit of work: a group of targets for a lesson."""
    from .targets import get_target
    check_stop()
    index, names = task
    builds, options = _FORKED
    lb = builds[index]
    files = {}
    for name in names:
        for rel, data in get_target(name).render(lb, options).items():
            files[f"{lb.lesson.id}/{rel}"] = data
    return files


def _render_early(tasks) -> dict:
    """_run of each task, an error kept for its turn: the plots' own failure, and the tasks before
    it in order, are reported first, as when every task ran in order after the plots."""
    out = {}
    for task in tasks:
        try:
            out[task] = _run(task)
        except Exception as exc:
            out[task] = exc
    return out


def _done(result):
    if isinstance(result, Exception):
        raise result
    return result


def render_all(builds: list[LessonBuild], options: Options) -> tuple[dict[str, bytes], list[dict]]:
    """Render every target; the manifest's problem entries were made with the problems (see
    generate.Finish). Large builds render in parallel: forked workers share the verified problems
    without pickling them, and draw the figures first."""
    global _FORKED
    groups = [tuple(n for n in group if n in options.targets) for group in GROUPS]
    groups += [(n,) for n in options.targets if not any(n in g for g in GROUPS)]
    tasks = [(i, group) for i in range(len(builds)) for group in groups if group]
    jobs = workers(options, sum(len(lb.problems) for lb in builds))
    from .targets import lms
    lms._QUESTIONS.clear()     # keyed by slot identity, which is only unique within one build
    _FORKED = (builds, options)
    try:
        fork = "fork" in multiprocessing.get_all_start_methods()
        from . import figures, plotserver
        from .targets import get_target
        wanted = {(i, name): getattr(get_target(name), "figures", lambda *a: [])(lb, options)
                  for i, lb in enumerate(builds) for name in options.targets}
        requests = [r for shown in wanted.values() for r in shown]
        # Plots cost ~50 ms each: with --jobs 0 they are drawn in parallel even in a small build.
        fig_jobs = jobs if jobs > 1 else (os.cpu_count() or 1) if not options.jobs and len(requests) >= FIGURES_PARALLEL_FROM else 1
        server = plotserver.current()
        early: dict = {}
        if requests and server is not None:
            # Forked when the build began, it has matplotlib loaded already (plotserver.py).
            received = figures.send_served(requests, server, fig_jobs)
            if not (jobs > 1 and fork):
                # A serial build renders the targets that show no plot while the plot process
                # draws: this process would only wait.
                early = _render_early([t for t in tasks if not any(wanted[t[0], n] for n in t[1])])
            for lb in builds:                    # what a target can make of a lesson without its plots
                for name in options.targets:
                    getattr(get_target(name), "prepare_early", lambda lb, options: None)(lb, options)
            requests = received()
        if fork and requests and fig_jobs > 1:
            figures.warm_up()                         # import matplotlib once, before forking
            # The plots first, in parallel; the target workers fork after they are in the
            # parent's cache, so every one of them inherits them.
            with worker_pool(fig_jobs) as pool:
                figures.prefetch(requests, pool.map)
        if jobs > 1 and fork:
            # Typst's compiler keeps threads, which a forked child does not inherit: a child that
            # compiles a PDF after the parent has done so can deadlock. PDFs stay in this process.
            forked = [t for t in tasks if "worksheet" not in t[1]]
            with worker_pool(jobs) as pool:
                pending = pool.map(_run, forked)
                here = {t: _run(t) for t in tasks if "worksheet" in t[1]}
                done = dict(zip(forked, pending))
            results = [here[t] if t in here else done[t] for t in tasks]
        else:
            results = [_done(early[t]) if t in early else _run(t) for t in tasks]
    finally:
        _FORKED = ()
        lms._QUESTIONS.clear()
    files: dict[str, bytes] = {}
    for result in results:
        files.update(result)
    entries = [g.entry for lb in builds for g in lb.problems]
    return files, entries


def assemble(paths, options: Options, only: str | None = None, progress=None) -> dict[str, bytes]:
    """Everything a build does except writing: load, plan, generate, verify, render every target
    and the manifest. `gen validate` runs exactly this, so validate ok means build ok."""
    with few_collections():
        return _assemble(paths, options, only, progress)


def _assemble(paths, options, only, progress):
    from .manifest import build_manifest
    builds = prepare(paths, options, only, progress)
    if progress:
        progress(0, f"writing {', '.join(options.targets)}")
    check_stop()
    files, entries = render_all(builds, options)
    check_stop()
    files["manifest.json"] = build_manifest(options, builds, entries, files)
    return files


def build(paths, out: Path, options: Options, only: str | None = None, progress=None,
          force: bool = False) -> dict[str, bytes]:
    from .output import check_target, locked, recover, resolve_out, write_staged
    out = resolve_out(out)
    check_target(out, force)
    files = assemble(paths, options, only, progress)
    with locked(out):
        recover(out)
        check_target(out, force)
        write_staged(out, files)
    return files
