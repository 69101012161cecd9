"""The one thread gen starts (matplotlib's import while workers generate) never meets a fork."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from generator import workers

HERE = Path(__file__).parent


def _square(x):
    return x * x


def test_a_pool_waits_for_background_threads_before_it_forks():
    done = threading.Event()

    def slow():
        time.sleep(0.3)
        done.set()
    workers.in_background(slow, "test-slow")
    with workers.worker_pool(1) as pool:
        assert done.is_set()                     # joined before the fork, not after
        assert list(pool.map(_square, [3])) == [9]
    assert not workers._BACKGROUND


def test_join_background_from_the_thread_itself_does_not_wait_for_itself():
    seen = []
    workers.in_background(lambda: (workers.join_background(), seen.append(1)), "test-self")
    workers.join_background()
    assert seen == [1] and not workers._BACKGROUND


def test_drawing_after_a_background_import_gives_the_same_png():
    code = ("from generator import figures; from generator.problem import X, Y, Pt, Vec; import sympy as sp, "
            "hashlib, sys\n"
            "spec = {'variables': (X, Y), 'function': X**2 + 3*Y, 'point': Pt(1, 2), 'arrows': [('∇f(P)', Vec(2, 3))]}\n"
            "if sys.argv[1] == 'bg': figures.import_in_background()\n"
            "print(hashlib.sha256(figures.render_png(spec)).hexdigest())")
    run = [subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, check=True, timeout=60,
                          cwd=HERE.parent).stdout for mode in ("bg", "fg")]
    assert run[0] == run[1] and len(run[0].strip()) == 64


def test_a_child_forked_inside_gen_dies_quietly_by_the_signal_it_inherits_a_handler_for():
    """A pool worker is forked with gen's SIGTERM handler and resets it a moment later; a SIGTERM in
    between (the pool stopping at once) must end it by SIGTERM, not raise gen's Stopped in it."""
    code = ("import os, signal, time\n"
            "from generator.workers import stop_on_signals\n"
            "with stop_on_signals():\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        time.sleep(5)\n"
            "        os._exit(0)\n"
            "    time.sleep(0.2)\n"
            "    os.kill(pid, signal.SIGTERM)\n"
            "    print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=HERE.parent)
    assert done.stdout.strip() == str(-15) and done.stderr == "", (done.stdout, done.stderr)
