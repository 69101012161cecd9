"""Speed benchmark for gen (issue 15: one millisecond per verified variant, a start that beats R/exams).

Runs every figure as a real `gen` subprocess on this machine and prints one table: figure, median
wall time, median CPU time (user + sys of the whole process tree), the load average while it ran,
the target and pass/fail. The targets are judged on the wall medians. Runs of different figures
are interleaved (round after round), so a burst of load from other work lands on all of them.

    python3 bench/run.py            # full run (the 10,000-variant build takes a while)
    python3 bench/run.py --quick    # skip the 10,000-variant build

R/exams' comparable (its own `deriv.Rmd`, seed 42, Moodle XML and QTI 1.2) runs too when `Rscript`
with the `exams` package is installed; otherwise its row says why it was skipped.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GEN = [sys.executable, "-m", "generator"]
NON_PDF = ["--no-pdf"]                       # every target (Anki, QTI, Moodle, HTML worksheets, notebooks)


@dataclass
class Run:
    wall: float
    cpu: float                               # user + sys of the process and every child it reaped
    peak: int                                # largest PSS of the process tree seen (bytes)
    load: float                              # 1-minute load average when the run started
    summary: dict = field(default_factory=dict)


# What a one-variant Moodle build cannot do without, before any code of gen's runs: the
# third-party packages it imports (every one it has in sys.modules at the end) and SymPy's first
# sum, which imports sympy.tensor and sympy.combinatorics. Read the fixed-cost row against this
# one: gen's own share of that build is the difference, while gen keeps these dependencies.
MOODLE_FLOOR = ("import click, lxml.etree, mpmath, pydantic, sympy, yaml; from pydantic import BaseModel; "
                "sympy.Symbol('x') + sympy.Symbol('y')")


def load_average() -> float:
    return os.getloadavg()[0]


def timed(cmd, cwd, watch_memory=False) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = load_average()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0]

    def watch():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_pss(proc.pid))
            time.sleep(0.05)
    watcher = threading.Thread(target=watch, daemon=True)
    if watch_memory:
        watcher.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    if watch_memory:
        watcher.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{err.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, peak[0], load)


def gen_build(args, workdir, watch_memory=False) -> Run:
    """One `gen build`; every answer in it must have passed its checks."""
    out = Path(workdir) / "out"
    shutil.rmtree(out, ignore_errors=True)
    run = timed(GEN + ["build", *args, "--out", str(out), "--quiet"], ROOT, watch_memory)
    run.summary = json.loads((out / "manifest.json").read_text())["summary"]
    assert run.summary["checks"] == run.summary["checks_passed"], "every answer must be verified"
    return run


def tree_pss(pid: int) -> int:
    """Proportional set size (PSS) summed over the process tree: pages shared by forked workers
    are counted once in total, not once per worker as plain RSS would."""
    total = 0
    for child in [pid] + descendants(pid):
        try:
            for line in Path(f"/proc/{child}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def descendants(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    out = [int(c) for c in children]
    for c in list(out):
        out += descendants(c)
    return out


def interleaved(repeats: int, configs: dict) -> dict[str, list[Run]]:
    """Run every config once per round, `repeats` rounds."""
    runs: dict[str, list[Run]] = {name: [] for name in configs}
    for _ in range(repeats):
        for name, fn in configs.items():
            runs[name].append(fn())
    return runs


def med(runs: list[Run], attr: str) -> float:
    return statistics.median(getattr(r, attr) for r in runs)


# R/exams ---------------------------------------------------------------------------------------

R_SCRIPT = r"""
suppressMessages(library(exams))
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[1]); fmt <- args[2]; dir <- args[3]
set.seed(42)
if (fmt == "moodle") exams2moodle("deriv.Rmd", n = n, dir = dir, name = "deriv", verbose = FALSE)
if (fmt == "qti12") exams2qti12("deriv.Rmd", n = n, dir = dir, name = "deriv", verbose = FALSE)
"""


def r_exams_available() -> str | None:
    """None if R/exams can run here, else why not."""
    if shutil.which("Rscript") is None:
        return "Rscript is not installed (CRAN, where the exams package lives, is not reachable from this machine)"
    probe = subprocess.run(["Rscript", "-e", "library(exams)"], capture_output=True)
    if probe.returncode != 0:
        return "Rscript has no exams package (install.packages('exams'); CRAN is not reachable from this machine)"
    return None


def r_exams(n: int, fmt: str, workdir) -> Run:
    script = Path(workdir) / "deriv.R"
    script.write_text(R_SCRIPT)
    out = Path(workdir) / f"r-{fmt}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    return timed(["Rscript", str(script), str(n), fmt, str(out)], workdir)


# The table ---------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-variant build")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []           # (figure, wall, cpu, load, target, ok)
    # gen's modules as bytecode, as an installed gen has them (pip compiles a wheel's; an editable
    # install writes them on first use), even where PYTHONDONTWRITEBYTECODE keeps Python from
    # writing them itself (this machine sets it): otherwise every run compiles gen from source.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "generator")], check=True)

    def row(name, runs, target, limit, scale=1.0, unit="s", fmt="{:.2f}"):
        wall, cpu = med(runs, "wall") * scale, med(runs, "cpu") * scale
        load = statistics.median(r.load for r in runs)
        rows.append((name, f"{fmt.format(wall)} {unit}", f"{fmt.format(cpu)} {unit}", f"{load:.1f}", target,
                     "info" if limit == float("inf") else wall <= limit))

    with tempfile.TemporaryDirectory() as tmp:
        # The host's own speed drifts (by 10-25 % within hours, once 2x within one): a workload
        # gen's code does not touch, timed with the rest, says which tables were measured on a slower machine.
        cli = {"help": lambda: timed(GEN + ["--help"], ROOT), "list": lambda: timed(GEN + ["list"], ROOT),
               "sympy": lambda: timed([sys.executable, "-c", "import sympy"], ROOT),
               "floor": lambda: timed([sys.executable, "-c", MOODLE_FLOOR], ROOT)}
        runs = interleaved(5, cli)
        row("host speed, not gen: python -c 'import sympy'", runs["sympy"], "", float("inf"), fmt="{:.3f}")
        row("floor, not gen: the libraries a Moodle build imports", runs["floor"], "", float("inf"), fmt="{:.3f}")
        row("gen --help", runs["help"], "≤ 0.2 s", 0.2, fmt="{:.3f}")
        row("gen list", runs["list"], "≤ 0.2 s", 0.2, fmt="{:.3f}")

        serial, parallel = ["--jobs", "1"], ["--jobs", "2"]
        configs = {
            "moodle1": lambda: gen_build(["--targets", "moodle", "--variants", "1"], tmp),
            "nopdf1": lambda: gen_build(["--variants", "1", *NON_PDF], tmp),
            "default": lambda: gen_build(["--seed", "42"], tmp),
            "s20": lambda: gen_build(["--variants", "20", *NON_PDF, *serial], tmp),
            "s100": lambda: gen_build(["--variants", "100", *NON_PDF, *serial], tmp),
            "p20": lambda: gen_build(["--variants", "20", *NON_PDF, *parallel], tmp),
            "p100": lambda: gen_build(["--variants", "100", *NON_PDF, *parallel], tmp),
        }
        runs = interleaved(args.repeats, configs)
        row("fixed cost: gen build --targets moodle --variants 1", runs["moodle1"], "≤ 0.35 s", 0.35)
        row("fixed cost: gen build --no-pdf --variants 1", runs["nopdf1"], "≤ 0.8 s", 0.8)
        row("gen build --seed 42 (all outputs, PDFs too)", runs["default"], "≤ 2.0 s", 2.0)
        n20, n100 = runs["s20"][0].summary["problems"], runs["s100"][0].summary["problems"]
        extra = n100 - n20

        def marginal(name, a, b, target, limit):
            per = [Run((y.wall - x.wall) / extra, (y.cpu - x.cpu) / extra, 0, (x.load + y.load) / 2)
                   for x, y in zip(runs[a], runs[b])]        # paired by round: same load
            row(name, per, target, limit / 1000, scale=1000, unit="ms")
            return med(per, "wall")
        marginal("marginal cost of one verified variant, non-PDF targets, 1 core", "s20", "s100", "≤ 1.0 ms", 1.0)
        per2 = marginal("marginal cost of one verified variant, non-PDF targets, 2 cores", "p20", "p100",
                        "≤ 0.6 ms", 0.6)

        if not args.quick:
            specs = n100 // 100
            variants = -(-10_000 // specs)
            # Timed without the memory sampler, whose reads of /proc/*/smaps_rollup (~2.3 ms of CPU
            # each, every 50 ms) take ~6 % of the two cores from the build; the peak is its own run.
            big_args = ["--variants", str(variants), *NON_PDF, *parallel]
            big = [gen_build(big_args, tmp) for _ in range(2)]
            memory = gen_build(big_args, tmp, watch_memory=True)
            problems = big[0].summary["problems"]
            row(f"{problems:,} variants, non-PDF targets, 2 cores", big, "≤ 12 s", 12, fmt="{:.1f}")
            peak = memory.peak / 2**20
            rows.append(("peak memory of that build (process tree PSS)", f"{peak:.0f} MiB", "", f"{memory.load:.1f}",
                         "≤ 600 MiB", peak <= 600))
            per_big = (med(big, "wall") - med(runs["p20"], "wall")) / (problems - n20)
            rows.append(("growth: per-variant cost at 10,000 vs at 100 (2 cores)", f"{per_big / per2:.2f}×", "",
                         f"{big[0].load:.1f}", "≤ 1.2×", per_big <= 1.2 * per2))

        why_not = r_exams_available()
        if why_not:
            rows.append(("R/exams deriv.Rmd (moodle, QTI 1.2): skipped", "", "", "", why_not, None))
        else:
            r_runs = interleaved(args.repeats, {
                **{f"r-{fmt}-{n}": (lambda n=n, fmt=fmt: r_exams(n, fmt, tmp)) for fmt in ("moodle", "qti12")
                   for n in (1, 21)},
                "gen-moodle-1": configs["moodle1"],
            })
            for fmt in ("moodle", "qti12"):
                row(f"R/exams fixed cost, one {fmt} variant", r_runs[f"r-{fmt}-1"], "", float("inf"))
                per = [Run((y.wall - x.wall) / 20, (y.cpu - x.cpu) / 20, 0, x.load)
                       for x, y in zip(r_runs[f"r-{fmt}-1"], r_runs[f"r-{fmt}-21"])]
                row(f"R/exams marginal cost per variant, {fmt}", per, "", float("inf"), scale=1000, unit="ms")
            ratio = med(r_runs["r-moodle-1"], "wall") / med(r_runs["gen-moodle-1"], "wall")
            rows.append(("start, R/exams moodle ÷ gen moodle (one variant)", f"{ratio:.2f}×", "", "", "> 1×",
                         ratio > 1))

    width = max(len(r[0]) for r in rows)
    print(f"gen benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, Python "
          f"{sys.version.split()[0]}; medians; load = 1-minute load average at the start of the runs")
    print(f"{'figure':{width}}  {'wall':>10}  {'cpu':>10}  {'load':>4}  {'target':>10}  result")
    for name, wall, cpu, load, target, ok in rows:
        result = "skip" if ok is None else "" if ok == "info" else "pass" if ok else "FAIL"
        print(f"{name:{width}}  {wall:>10}  {cpu:>10}  {load:>4}  {target:>10}  {result}")


if __name__ == "__main__":
    main()
