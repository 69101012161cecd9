"""Milliseconds a problem of each phase, by family, serial and in process (what a worker does).

    python3 bench/families.py [--variants 60] [--rounds 3]

Plans the example lesson with that many variants and, for every slot, times the draw, the
family's own checks, the distractor checks, the duplicate key, the manifest entry, its JSON and
the LMS item, as generate._made and generate.Finish do them. One warm-up round on another seed,
then the round with the lowest total of `--rounds` (seeds 42, 43, …). The cyclic collector is set
as a build sets it (pipeline._few_collections): with Python's default thresholds its passes land
in whichever phase allocates when they fall due, and move time between phases.
"""
from __future__ import annotations

import argparse
import collections
import gc
import time
from pathlib import Path

from generator import generate as G
from generator import manifest as M
from generator import pipeline as P
from generator import verify as V
from generator.families import get_family
from generator.targets import lms

PHASES = ("draw", "checks", "distractors", "key", "entry", "json", "lms")
LESSONS = Path(__file__).resolve().parent.parent / "lesson_data"


def one_round(slots, seed):
    spent = collections.defaultdict(lambda: dict.fromkeys(PHASES, 0.0))
    count = collections.Counter()

    def timed(family, phase, fn, *args):
        start = time.perf_counter()
        out = fn(*args)
        spent[family][phase] += time.perf_counter() - start
        return out

    for slot in slots:
        name = slot.spec.family
        family = get_family(name)
        attempt, problem = timed(name, "draw", G.draw, slot, seed)
        checks = timed(name, "checks", lambda: tuple(family.verify(problem)))
        timed(name, "distractors", V.distractor_checks, problem)
        g = G.Generated(slot, slot.seed(seed, attempt), attempt, problem, checks)
        timed(name, "key", G.problem_key, problem)
        entry = timed(name, "entry", M.problem_entry, g)
        timed(name, "json", M.encode_entry, entry)
        timed(name, "lms", lms.make_question, g)
        count[name] += 1
    return spent, count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    gc.set_threshold(50_000, 20, 100)
    [(_, lesson)] = P.load_lessons([LESSONS])
    slots = P.plan(lesson, args.variants)
    one_round(slots, 7)
    rounds = [one_round(slots, 42 + r) for r in range(args.rounds)]
    spent, count = min(rounds, key=lambda r: sum(sum(p.values()) for p in r[0].values()))
    print(f"{'family':24s} {'n':>5s} " + " ".join(f"{p:>11s}" for p in PHASES) + "       total")
    total = dict.fromkeys(PHASES, 0.0)
    for name in sorted(count):
        row = [spent[name][p] / count[name] * 1e3 for p in PHASES]
        for p in PHASES:
            total[p] += spent[name][p]
        print(f"{name:24s} {count[name]:5d} " + " ".join(f"{x:11.3f}" for x in row) + f" {sum(row):11.3f}")
    n = sum(count.values())
    row = [total[p] / n * 1e3 for p in PHASES]
    print(f"{'all':24s} {n:5d} " + " ".join(f"{x:11.3f}" for x in row) + f" {sum(row):11.3f}")


if __name__ == "__main__":
    main()
