"""Wall time per phase of one `gen build`, from timers wrapped around the pipeline's functions.

    python3 bench/phases.py --seed 42 --no-pdf --variants 100 --jobs 1 --out /tmp/p -q

Run it for two sizes (e.g. --variants 20 and 100) and divide the differences by the extra
problems for the per-problem figures in bench/README.md. Timers in forked workers are not seen,
so use --jobs 1.
"""
import atexit
import sys
import time

T0 = time.perf_counter()
import generator.cli as cli  # noqa: E402
import generator.generate as G  # noqa: E402
import generator.manifest as M  # noqa: E402
import generator.output as O  # noqa: E402
import generator.pipeline as P  # noqa: E402
import generator.targets as TG  # noqa: E402
import generator.targets.lms as L  # noqa: E402
from generator import figures  # noqa: E402

totals: dict[str, float] = {}


def wrap(module, name, label=None):
    fn = getattr(module, name)

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            key = label or name
            totals[key] = totals.get(key, 0.0) + time.perf_counter() - start
    setattr(module, name, timed)


for module, name in ((P, "prepare"), (P, "render_all"), (G, "draw"), (G, "check"), (G, "problem_key"),
                     (M, "problem_entry"), (M, "encode_entry"), (M, "build_manifest"), (L, "make_question"),
                     (figures, "_draw"), (figures, "_matplotlib"), (O, "write_staged")):
    wrap(module, name)
_get_target = TG.get_target


def get_target(name):
    target = _get_target(name)
    if not getattr(target, "_timed", False):
        wrap(target, "render", f"render:{name}")
        target._timed = True
    return target


TG.get_target = get_target
IMPORTS = time.perf_counter() - T0


@atexit.register
def report():
    print(f"{'imports':24s} {IMPORTS:.3f}", file=sys.stderr)
    for key, value in totals.items():
        print(f"{key:24s} {value:.3f}", file=sys.stderr)
    print(f"{'total':24s} {time.perf_counter() - T0:.3f}", file=sys.stderr)


if __name__ == "__main__":
    sys.argv = ["gen", "build"] + sys.argv[1:]
    cli.main()
