"""Speed benchmark for gen (issue: class and department scale, compared with R/exams).

Runs every figure as a real `gen` subprocess on this machine, takes medians, and prints a table
(figure, value, target, pass/fail) with the core count. Usage:

    python3 bench/run.py            # full run (the 10,000-variant build takes a few minutes)
    python3 bench/run.py --quick    # skip the 10,000-variant build
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GEN = [sys.executable, "-m", "generator"]
NON_PDF = ["--targets", "anki,qti,moodle,worksheet", "--no-pdf"]


def run(args, workdir) -> tuple[float, int, dict]:
    """Wall seconds, peak RSS of the whole process tree (bytes), and the manifest summary."""
    out = Path(workdir) / "out"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    proc = subprocess.Popen(GEN + args + ["--out", str(out), "--quiet"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0]

    def watch():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.05)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"gen {' '.join(args)} failed:\n{err.decode()}")
    summary = {}
    if (out / "manifest.json").exists():
        summary = json.loads((out / "manifest.json").read_text())["summary"]
        assert summary["checks"] == summary["checks_passed"], "every answer must be verified"
    return wall, peak[0], summary


def tree_rss(pid: int) -> int:
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


def median_of(n, fn):
    results = [fn() for _ in range(n)]
    return statistics.median(r[0] for r in results), results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-variant build")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        def cli(argv):
            start = time.perf_counter()
            subprocess.run(GEN + argv, cwd=ROOT, check=True, capture_output=True)
            return (time.perf_counter() - start,)
        help_s, _ = median_of(5, lambda: cli(["--help"]))
        list_s, _ = median_of(5, lambda: cli(["list"]))
        rows.append(("gen --help", f"{help_s:.3f} s", "≤ 0.2 s", help_s <= 0.2))
        rows.append(("gen list", f"{list_s:.3f} s", "≤ 0.2 s", list_s <= 0.2))

        default_s, _ = median_of(args.repeats, lambda: run(["build", "--seed", "42"], tmp))
        rows.append(("gen build --seed 42 (all outputs, PDFs too)", f"{default_s:.2f} s", "≤ 3 s", default_s <= 3))

        serial = ["--jobs", "1"]
        t20, r20 = median_of(args.repeats, lambda: run(["build", "--variants", "20", *NON_PDF, *serial], tmp))
        t100, r100 = median_of(args.repeats, lambda: run(["build", "--variants", "100", *NON_PDF, *serial], tmp))
        n20, n100 = r20[0][2]["problems"], r100[0][2]["problems"]
        marginal = (t100 - t20) / (n100 - n20)
        rows.append(("marginal cost of one verified variant, non-PDF targets, 1 core",
                     f"{marginal * 1000:.2f} ms", "≤ 2 ms", marginal <= 0.002))
        t100p, r100p = median_of(args.repeats, lambda: run(["build", "--variants", "100", *NON_PDF, "--jobs", "2"], tmp))
        t20p, r20p = median_of(args.repeats, lambda: run(["build", "--variants", "20", *NON_PDF, "--jobs", "2"], tmp))
        marginal2 = (t100p - t20p) / (n100 - n20)
        rows.append(("marginal cost of one verified variant, non-PDF targets, 2 cores",
                     f"{marginal2 * 1000:.2f} ms", "≤ 2 ms", marginal2 <= 0.002))

        if not args.quick:
            specs = n100 // 100
            variants = -(-10_000 // specs)
            big_s, big_runs = median_of(1, lambda: run(["build", "--variants", str(variants), *NON_PDF, "--jobs", "2"], tmp))
            problems, peak = big_runs[0][2]["problems"], big_runs[0][1]
            rows.append((f"{problems:,} variants, non-PDF targets, 2 cores", f"{big_s:.1f} s", "≤ 20 s", big_s <= 20))
            rows.append(("peak memory of that build (process tree PSS)", f"{peak / 2**20:.0f} MiB", "≤ 1024 MiB",
                         peak <= 2**30))
            per_big = (big_s - t20p) / (problems - r20p[0][2]["problems"])
            rows.append(("growth: per-variant cost at 10,000 vs at 100 (2 cores)",
                         f"{per_big / marginal2:.2f}×", "≤ 1.2×", per_big <= 1.2 * marginal2))

    width = max(len(r[0]) for r in rows)
    print(f"gen benchmark, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'figure':{width}}  {'value':>10}  {'target':>11}  result")
    for name, value, target, ok in rows:
        print(f"{name:{width}}  {value:>10}  {target:>11}  {'pass' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
