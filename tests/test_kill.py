"""Killing a build at any moment leaves the previous build/ complete (or the new one, complete)."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from generator.pipeline import build

from .conftest import LESSONS, small_options

KILL_AT = {
    # A subprocess patches one step of the writer to kill itself with SIGKILL right there.
    "while_writing_staging": "generator.output.Path.write_bytes",
    "before_swap": "generator.output.swap",
    "after_swap_before_cleanup": "generator.output._exchange",
}


def complete(out) -> str:
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    listed = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    present = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {"manifest.json", ".gen-build"}
    assert present == set(listed)
    for path, digest in listed.items():
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == digest
    return manifest["summary"]["problems"] and str(manifest["seed"])


@pytest.fixture
def previous(tmp_path):
    out = tmp_path / "build"
    build([LESSONS], out, small_options(variants=1, targets=("moodle", "qti")))
    return out


@pytest.mark.parametrize("point", list(KILL_AT))
def test_sigkill_at_each_write_step(previous, point):
    target = KILL_AT[point]
    module, attr = target.rsplit(".", 1)
    code = textwrap.dedent(f"""
        import os, signal, importlib
        from pathlib import Path
        from generator.pipeline import build, Options
        parts = "{module}".split(".")
        obj = importlib.import_module(".".join(parts[:2]))
        for p in parts[2:]:
            obj = getattr(obj, p)
        original = getattr(obj, "{attr}")
        calls = []
        def dying(*a, **k):
            calls.append(1)
            if "{attr}" == "_exchange":
                original(*a, **k)
                os.kill(os.getpid(), signal.SIGKILL)
            if len(calls) >= 2 or "{attr}" != "write_bytes":
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*a, **k)
        setattr(obj, "{attr}", dying)
        build([Path(r"{LESSONS}")], Path(r"{previous}"), Options(seed=7, variants=1, targets=("moodle", "qti")))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    seed = complete(previous)
    if point == "after_swap_before_cleanup":
        assert seed == "7"        # the new build was already in place, and it is complete
    else:
        assert seed == "42"       # the previous build is untouched
    # The next build cleans up whatever the killed one left beside the output folder.
    build([LESSONS], previous, small_options(variants=1, targets=("moodle",)))
    leftovers = [p.name for p in previous.parent.iterdir() if p.name != "build"]
    assert leftovers == []


@pytest.mark.parametrize("delay", [0.6, 1.8])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_signal_at_random_moments(previous, delay, sig, tmp_path):
    # Its own temporary folder: what a SIGKILLed build cannot remove (Typst's and matplotlib's
    # scratch folders) stays out of /tmp, and an interrupted one must leave it empty.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "generator", "build", "--seed", "9", "--variants", "2",
                             "--out", str(previous), "--lessons", str(LESSONS), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(scratch)})
    time.sleep(delay)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err
    assert complete(previous) in ("42", "9")
    if sig != signal.SIGKILL:
        assert list(scratch.iterdir()) == []
