"""Slots → problems → verified problems. Retries are bounded; duplicates are redrawn.

Each variant is drawn from attempt 0 of its own seed; only a degenerate draw (Rejected) or a
duplicate of an earlier variant moves it to attempt 1, 2, …. Duplicates are resolved in plan
order after the parallel phase, so the result is byte-identical whatever the worker count.
"""
from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from .errors import GenerationError, VerificationError
from .families import get_family
from .families._common import Rejected, bounds_violation
from .plan import Slot
from .problem import Check, Problem

MAX_ATTEMPTS = 60


@dataclass(frozen=True)
class Generated:
    slot: Slot
    seed: int
    attempt: int
    problem: Problem
    checks: tuple[Check, ...]


def draw(slot: Slot, global_seed: int, start: int = 0) -> tuple[int, Problem]:
    family = get_family(slot.spec.family)
    params = slot.spec.family_params()
    fixed = slot.spec.fixed_dict if slot.variant == 0 else None
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
    common = max(reasons, key=reasons.get) if reasons else "unknown"
    what = "the fixed instance" if fixed else f"{MAX_ATTEMPTS} random draws"
    raise GenerationError(
        f"cannot generate a usable {slot.spec.family} problem for {slot.item} (problem '{slot.spec.id}', "
        f"variant {slot.variant}): {what} failed, most often because {common}.",
        field=f"{slot.item}.problems.{slot.spec.id}",
        fix="widen params (coefficients, point_range, forms) or change the fixed values.")


def check(slot: Slot, seed: int, problem: Problem) -> tuple[Check, ...]:
    from .verify import verify
    verified = verify(problem, get_family(slot.spec.family))
    if not verified.passed:
        failed = "; ".join(f"{c.name}: {c.detail}" for c in verified.checks if not c.passed)
        raise VerificationError(
            f"answer failed independent verification for family {slot.spec.family}, exercise {slot.item}, "
            f"variant {slot.variant}, seed {seed}: {failed}. Nothing was written.",
            fix="this is a bug in gen; please report it with the command you ran.")
    return verified.checks


def _draw_and_check(args):
    slot, global_seed = args
    attempt, problem = draw(slot, global_seed)
    return attempt, problem, check(slot, slot.seed(global_seed, attempt), problem)


def generate_all(slots: list[Slot], global_seed: int, jobs: int = 1, progress=None) -> list[Generated]:
    tasks = [(s, global_seed) for s in slots]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            return _resolve(slots, pool.map(_draw_and_check, tasks, chunksize=8), global_seed, progress)
    return _resolve(slots, map(_draw_and_check, tasks), global_seed, progress)


def _resolve(slots, results, global_seed, progress) -> list[Generated]:
    """Redraw duplicates serially, in plan order: deterministic whatever the worker count.

    A duplicate is the same mathematical content (Problem.key, which includes the family) anywhere
    in the same lesson, so no prompt appears in two pools of one quiz. The lesson's own fixed
    instances are claimed first: a random variant never takes the place of the text's example.
    """
    arrived = []
    for result in results:
        arrived.append(result)
        if progress:
            progress(1, None)
    results = arrived
    seen: dict[str, set] = {}
    for slot, (_, problem, _) in zip(slots, results):
        if slot.variant == 0:
            seen.setdefault(slot.lesson, set()).add(problem.key())
    out = []
    for slot, (attempt, problem, checks) in zip(slots, results):
        keys = seen.setdefault(slot.lesson, set())
        while slot.variant != 0 and problem.key() in keys:
            attempt, problem = draw(slot, global_seed, attempt + 1)
            checks = check(slot, slot.seed(global_seed, attempt), problem)
        keys.add(problem.key())
        out.append(Generated(slot, slot.seed(global_seed, attempt), attempt, problem, checks))
    return out
