"""Slots → problems → verified problems. Retries are bounded; duplicates are redrawn, boundedly.

Each variant is drawn from attempt 0 of its own seed; only a degenerate draw (Rejected) or a
duplicate of an earlier variant moves it to attempt 1, 2, …. Duplicates are resolved in plan
order after the parallel phase, so the result is byte-identical whatever the worker count.

Lesson-given values (a fixed function, point, direction) reach code written for gen's own random
draws. Whatever goes wrong with them is reported here, in one place, as the lesson's error
(exit 2, naming the field): checked before drawing where that is possible, and diagnosed after a
family or a check fails. A failure with no lesson-side cause stays a bug of gen (exit 1).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

from .errors import GenError, GenerationError, VerificationError
from .families import get_family
from .families._common import Rejected, bounds_violation
from .plan import Slot
from .problem import Check, Problem
from .workers import check_stop

MAX_ATTEMPTS = 60            # consecutive Rejected draws for one variant
DUPLICATE_DRAWS = 200        # draws a variant may spend looking for a problem its pool lacks …
DUPLICATE_DRAWS_PER_KNOWN = 3   # … plus this many per distinct problem already in the pool (coupon collector)
MAX_DUPLICATE_DRAWS = 2000
VECTOR_FIELDS = ("point", "direction", "vector")   # fixed fields that live in the variables' space
MAX_COORDINATE = 1000        # a fixed point or direction beyond this is a typo, and plots of it degenerate
VARIABLE_NAMES = ("x", "y", "z")


@dataclass(frozen=True)
class Generated:
    slot: Slot
    seed: int
    attempt: int
    problem: Problem | None            # None where the build needs only the finished strings below
    checks: tuple[Check, ...]          # () where the problem is None and the entry holds them
    entry: Any = None                  # the manifest entry, encoded (manifest.EntryText)
    question: Any = None               # the LMS item (targets.lms.Question)


@dataclass(frozen=True)
class Finish:
    """What a build makes of each verified problem where it was drawn: in a worker, so that only
    strings cross back to the parent (unpickling SymPy trees rebuilds them, at the cost of
    drawing them again). The Problem itself crosses only for the variants that targets print
    from it (the deck, the worksheets and notebooks)."""
    entry: bool = False
    question: bool = False
    keep: int | None = None            # a worker keeps the Problem of variants up to this (None: all)
    keep_boolean: bool = False         # … and of every true/false variant (the deck balances verdicts over all)

    def __call__(self, g: Generated, in_worker: bool) -> Generated:
        from .manifest import encode_entry, problem_entry
        entry = encode_entry(problem_entry(g)) if self.entry else None
        question = None
        if self.question:
            from .targets.lms import make_question
            question = make_question(g)
        keep = (not in_worker or self.keep is None or g.slot.variant <= self.keep
                or self.keep_boolean and g.problem.parts[0].kind == "boolean")
        # The checks are evidence for the manifest; once its entry holds them, a problem that does
        # not cross needs them no more than its SymPy trees.
        dropped = not keep and entry is not None
        return replace(g, problem=g.problem if keep else None, checks=() if dropped else g.checks, entry=entry,
                       question=question)


def pool_key(slot: Slot) -> str:
    """Problems that must differ from each other share a pool key: every problem of one lesson, so
    no prompt appears in two pools of one quiz."""
    return slot.lesson


def draw(slot: Slot, global_seed: int, start: int = 0) -> tuple[int, Problem]:
    family = get_family(slot.spec.family)
    params = slot.spec.family_params()
    fixed = slot.spec.fixed_dict if slot.variant == 0 else None
    if fixed:
        check_fixed(fixed, params)
    reasons = {}
    for attempt in range(start, start + MAX_ATTEMPTS):
        rng = random.Random(slot.seed(global_seed, attempt))
        try:
            problem = family.generate(rng, params, fixed, variant=slot.variant)
            broken = bounds_violation([[p.answer for p in problem.parts], problem.steps], params)
            if broken:
                raise Rejected(broken)
            return attempt, problem
        except Rejected as exc:
            reasons[str(exc)] = reasons.get(str(exc), 0) + 1
            if fixed:
                break
        except GenError:
            raise
        except Exception as exc:
            cause = fixed and lesson_cause(fixed, params)
            if cause:
                raise cause from exc
            raise
    common = max(reasons, key=reasons.get) if reasons else "unknown"
    if fixed:
        raise GenerationError(
            f"the fixed {slot.spec.family} problem of {slot.item} (problem '{slot.spec.id}') cannot be built: "
            f"{common}.", field="fixed",
            fix="change the fixed values, or remove `fixed:` to use random variants only.")
    raise GenerationError(
        f"cannot generate a usable {slot.spec.family} problem for {slot.item} (problem '{slot.spec.id}', "
        f"variant {slot.variant}): {MAX_ATTEMPTS} random draws failed, most often because {common}.",
        field="params", fix=f"widen {_params_named(slot)}.")


def check(slot: Slot, seed: int, problem: Problem) -> tuple[Check, ...]:
    from .verify import verify
    fixed = slot.spec.fixed_dict if slot.variant == 0 else None
    try:
        verified = verify(problem, get_family(slot.spec.family))
    except GenError:
        raise
    except Exception as exc:
        cause = fixed and lesson_cause(fixed, slot.spec.family_params(), problem)
        if cause:
            raise cause from exc
        raise
    if not verified.passed:
        cause = fixed and lesson_cause(fixed, slot.spec.family_params(), problem)
        if cause:
            raise cause
        failed = "; ".join(f"{c.name}: {c.detail}" for c in verified.checks if not c.passed)
        raise VerificationError(
            f"answer failed independent verification for family {slot.spec.family}, exercise {slot.item}, "
            f"variant {slot.variant}, seed {seed}: {failed}. Nothing was written.",
            fix="this is a bug in gen; please report it with the command you ran.")
    return verified.checks


# ---------------------------------------------------------------------------------------------
# Lesson-given values

def _variables(params) -> tuple[str, ...]:
    return VARIABLE_NAMES[: getattr(params, "variables", 2)]


def _radius(fixed, params) -> float:
    """How far from 0 the problem evaluates f: its fixed point, or the whole point range, plus the
    reach of finite differences."""
    if fixed.get("point") is not None:
        return max(abs(c) for c in fixed["point"]) + 1
    lo, hi = getattr(params, "point_range", (-20, 20))
    return max(abs(lo), abs(hi)) + 1


def check_fixed(fixed, params) -> None:
    """Refuse fixed values that do not fit the problem before any family code sees them."""
    from .mathparse import FormulaError, check_magnitude, parse_formula
    names = _variables(params)
    for key in VECTOR_FIELDS:              # their lengths are checked when the lesson is loaded
        value = fixed.get(key)
        if value is not None and max(map(abs, value)) > MAX_COORDINATE:
            raise GenerationError(f"the fixed {key} {tuple(value)} has a coordinate beyond ±{MAX_COORDINATE}.",
                                  field=f"fixed.{key}", fix="use numbers a student can work with.")
    if fixed.get("function") is None:
        return
    try:
        f = parse_formula(fixed["function"], names)
        check_magnitude(f, _radius(fixed, params))
    except FormulaError as exc:
        raise GenerationError(f"the fixed function {fixed['function']!r} cannot be used here: {exc}.",
                              field="fixed.function",
                              fix=f"use only the variables {', '.join(names)} and values that stay moderate "
                                  "near the point.") from None
    if fixed.get("point") is not None:
        cause = lesson_cause(fixed, params)
        if cause:
            raise cause


def lesson_cause(fixed, params, problem: Problem | None = None) -> GenerationError | None:
    """The lesson-side reason a fixed problem failed, if there is one: its function is unusable
    where the problem evaluates it."""
    if fixed.get("function") is None:
        return None
    import sympy as sp

    from .domain import where_unusable
    from .mathparse import FormulaError, parse_formula
    names = _variables(params)
    try:
        f = parse_formula(fixed["function"], names)
    except FormulaError:
        return None                      # check_fixed reports this one
    point = fixed.get("point")
    if point is None and problem is not None and problem.point is not None:
        point = tuple(problem.point)
    reason = where_unusable(f, tuple(sp.Symbol(n, real=True) for n in names), point)
    if reason is None:
        return None
    where = "at the fixed point" if fixed.get("point") is not None else \
        ("at the point gen drew" if point is not None else "where gen checks symbolic answers (|x|, |y| < 2)")
    return GenerationError(
        f"the fixed function {fixed['function']!r} cannot be used {where}: {reason}.", field="fixed.function",
        fix="choose a function that is defined, real and finite at and around the point" +
            (", or another point." if point is not None else "."))


def _params_named(slot: Slot) -> str:
    given = list(slot.spec.params)
    return f"params ({', '.join(given)})" if given else "params (coefficients, point_range, forms)"


# ---------------------------------------------------------------------------------------------
# The run

def problem_key(problem: Problem) -> str:
    """Problem.key() as text, compared in the parent: each SymPy part by its class and its plain
    (str) printing, which the manifest entry has already memoized."""
    return _key_text(problem.key())


def _key_text(obj) -> str:
    from .mathfmt import plain
    if isinstance(obj, tuple) and not hasattr(obj, "func"):
        return "(" + ", ".join(_key_text(o) for o in obj) + ")"
    if hasattr(obj, "func"):                   # a SymPy object
        return f"{type(obj).__name__}:{plain(obj)}"
    return repr(obj)


def _made(slot: Slot, global_seed: int, finish: Finish, in_worker: bool, start: int = 0) -> tuple[str, Generated]:
    attempt, problem = draw(slot, global_seed, start)
    seed = slot.seed(global_seed, attempt)
    g = Generated(slot, seed, attempt, problem, check(slot, seed, problem))
    return problem_key(problem), finish(g, in_worker)


def _draw_and_check(args):
    """One slot's first draw. A GenError is returned, not raised: a pool delivers a raised error
    at the start of its chunk, and the parent must know which slot it belongs to."""
    slot, global_seed, finish, in_worker = args
    try:
        content, g = _made(slot, global_seed, finish, in_worker)
    except GenError as exc:
        return exc
    # The parent has the slot: sent back, it would come back as a copy (its spec a second
    # pydantic model per problem, ~10 % of a large build's memory). _resolve puts it back.
    return content, replace(g, slot=None) if in_worker else g


def generate_all(slots: list[Slot], global_seed: int, jobs: int = 1, progress=None, locate=None,
                 finish: Finish = Finish(), meanwhile=None) -> list[Generated]:
    """`locate(slot)` gives (file, field path of the spec) so errors name where the lesson says it.
    `meanwhile()` is called once the workers are running (the parent only waits for them then)."""
    if jobs > 1:
        from .workers import worker_pool
        global _FORKED
        # The workers inherit the slots when they fork; a task is the slot's index. Sent with
        # each task, every slot (a pydantic spec inside) was pickled in the parent, a tenth of a
        # millisecond a problem on a core the workers need.
        _FORKED = (slots, global_seed, finish)
        try:
            with worker_pool(jobs) as pool:
                results = pool.map(_draw_and_check_slot, arrival_order(slots),
                                   chunksize=chunk_size(len(slots), jobs))
                if meanwhile:
                    meanwhile()
                return _resolve(slots, results, global_seed, progress, locate, finish=finish, pool=pool)
        finally:
            _FORKED = ()
    tasks = ((slots[i], global_seed, finish, False) for i in arrival_order(slots))
    return _resolve(slots, map(_draw_and_check, tasks), global_seed, progress, locate, finish=finish)


def arrival_order(slots: list[Slot]) -> list[int]:
    """The slots' indices in the order their first draws are made and reach _resolve: the lesson's
    own fixed instances first, which claim their problems before any random variant, then the rest
    in plan order. So _resolve can settle each slot as it arrives, redrawing a duplicate while the
    workers still draw the slots after it."""
    return [i for i, s in enumerate(slots) if s.variant == 0] + [i for i, s in enumerate(slots) if s.variant != 0]


_FORKED: tuple = ()        # (slots, global seed, finish) of the generate_all whose workers are running


def chunk_size(problems: int, jobs: int) -> int:
    """Slots per task (the pool forks its workers on the first). Each task costs the parent time
    (a future, a message, its unpickling) on a core the workers need: large builds send 32 slots a
    task (parent CPU 0.36 → 0.24 s for 3,902 problems, 488 → 122 tasks), small ones 8, so that
    the last tasks still spread evenly over the workers (24 tasks a worker at least)."""
    return max(8, min(32, problems // (jobs * 24)))


def _draw_and_check_slot(index: int):
    slots, global_seed, finish = _FORKED
    return _draw_and_check((slots[index], global_seed, finish, True))


def _check_redrawn(task):
    """A redrawn slot's problem, checked and finished in a worker: the parent chose the attempt (the
    first whose problem is new), the worker draws it again (the same problem: a pure function of
    the seed) and does the rest. A GenError is returned, as by _draw_and_check."""
    index, attempt = task
    slots, global_seed, finish = _FORKED
    try:
        _, g = _made(slots[index], global_seed, finish, True, start=attempt)
    except GenError as exc:
        return exc
    return replace(g, slot=None)


def _resolve(slots, results, global_seed, progress, locate=None, key=pool_key, finish: Finish = Finish(),
             pool=None) -> list[Generated]:
    """Redraw duplicates serially, in plan order: deterministic whatever the worker count. The
    lesson's own fixed instances are claimed first, so a random variant never takes the place of
    the text's example. Every redraw is counted; a variant that finds nothing new gives up with the
    number of distinct problems its pool holds. `results` come in arrival_order."""
    arriving = iter(results)

    def arrive():
        result = next(arriving)
        check_stop()
        if progress:
            progress(1, None)
        return result
    fixed = {i: arrive() for i, slot in enumerate(slots) if slot.variant == 0}
    seen: dict[str, set] = {}
    for i, result in fixed.items():
        if not isinstance(result, GenError):
            seen.setdefault(key(slots[i]), set()).add(result[0])
    distinct: dict[str, int] = {}
    draws: dict[str, int] = {}
    out = []
    redrawn_later = []          # (place in out, slot index, its check in the pool): collected below
    for index, slot in enumerate(slots):
        result = fixed.pop(index) if slot.variant == 0 else arrive()
        try:
            if isinstance(result, GenError):
                raise result
            content, g = result
            if g.slot is None:
                g = replace(g, slot=slot)
            attempt = g.attempt
            if slot.variant != 0:
                keys = seen.setdefault(key(slot), set())
                known = distinct.get(slot.group, 0)
                budget = min(MAX_DUPLICATE_DRAWS, DUPLICATE_DRAWS + DUPLICATE_DRAWS_PER_KNOWN * known)
                first = attempt
                redrawn = content in keys
                while content in keys:
                    if attempt - first >= budget:
                        raise _too_few(slot, known, attempt - first, draws.get(slot.group, 0) + attempt + 1)
                    attempt, problem = draw(slot, global_seed, attempt + 1)
                    content = problem_key(problem)
                if redrawn and pool is not None:
                    # Queued behind the first draws still to come: the workers check it when they
                    # are through them, and this process goes on meanwhile.
                    redrawn_later.append((len(out), index, pool.submit(_check_redrawn, (index, attempt))))
                    g = None
                elif redrawn:
                    seed = slot.seed(global_seed, attempt)
                    g = finish(Generated(slot, seed, attempt, problem, check(slot, seed, problem)), False)
                keys.add(content)
            distinct[slot.group] = distinct.get(slot.group, 0) + 1
        except GenError as exc:
            _check_redraws(slots, redrawn_later, out, locate)    # an earlier slot's error comes first
            if locate is None:
                raise
            file, prefix = locate(slot)
            raise exc.located(file=file, prefix=prefix) from None
        draws[slot.group] = draws.get(slot.group, 0) + attempt + 1
        out.append(g)
    _check_redraws(slots, redrawn_later, out, locate)
    return out


def _check_redraws(slots, redrawn, out, locate) -> None:
    """The redraws' checks, manifest entries and LMS items (a few milliseconds each, hundreds in a
    10,000-variant build), made by the workers: put in place here, in plan order, and the first
    error raised."""
    for place, index, done in redrawn:
        g = done.result()
        check_stop()
        if isinstance(g, GenError):
            if locate is None:
                raise g
            file, prefix = locate(slots[index])
            raise g.located(file=file, prefix=prefix) from None
        out[place] = replace(g, slot=slots[index])
    redrawn.clear()


def _too_few(slot: Slot, distinct: int, tried: int, total: int) -> GenerationError:
    fits = slot.variant - 1          # variants 1 … variant−1 all found a problem of their own
    return GenerationError(
        f"only {distinct} distinct {slot.spec.family} problems fit these params for {slot.item} "
        f"(problem '{slot.spec.id}'): variant {slot.variant} found none new in {tried:,} draws "
        f"({total:,} draws for this problem in all).", field="params",
        fix=f"lower --variants to {fits} (and --copies to at most that), or widen {_params_named(slot)}.")


def spec_path(lesson, slot: Slot) -> str:
    """Where the slot's problem spec sits in the lesson file, e.g. 'exercises[3].problems[0]'."""
    section = lesson.exercises if slot.section == "exercises" else getattr(lesson.quiz, slot.section)
    prefix = "exercises" if slot.section == "exercises" else f"quiz.{slot.section}"
    for i, item in enumerate(section):
        if item.id == slot.item:
            for j, spec in enumerate(item.problems):
                if spec.id == slot.spec.id:
                    return f"{prefix}[{i}].problems[{j}]"
    return f"{slot.item}.problems.{slot.spec.id}"
