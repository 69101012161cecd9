"""The hostile corpus of issue 18: what a careless user or an attacker does to gen.

Classes: (1) loops and computations that never end, (2) deleting or replacing what gen did not
make, (3) processes that outlive the build, (4) `gen validate` ok then `gen build` fails, (5)
values that reach a gradebook, (6) user and environment mistakes reported as bugs.

Every case runs gen's real entry point (`generator.cli.main`) in a forked child, so it costs no
interpreter start-up yet has a hard time bound (the child is killed) and its own exit code. Each
asserts the exit code, a one-paragraph message without a traceback, the time bound, that nothing
beside --out changed (a decoy folder is hashed before and after; no lock or staging folder is
left) and that `gen validate` with the same options says exactly what `gen build` says.
"""
from __future__ import annotations

import copy
import errno
import hashlib
import os
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import LESSONS, small_options

HERE = Path(__file__).parent
BASE = yaml.safe_load((HERE / "hostile" / "base.yaml").read_text("utf-8"))
COMMON = ("--variants", "1", "--targets", "moodle")
TIME_BOUND = 25.0          # seconds; every case finishes in a fraction of this on an idle machine


# ---------------------------------------------------------------------------------------------
# Running gen

@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float

    @property
    def message(self) -> str:
        return self.err.strip()


def _child(args, env, setup, out_fd, err_fd) -> None:
    code = 99
    try:
        os.setpgid(0, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
        for key, value in (env or {}).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if setup:
            setup()
        sys.argv = ["gen", *map(str, args)]
        from generator.cli import main
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def start(args, env=None, setup=None):
    """Fork a child running `gen ARGS`; its stdout and stderr are pipes. Returns (pid, out, err)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(err_r)
        _child(args, env, setup, out_w, err_w)
    os.close(out_w)
    os.close(err_w)
    return pid, out_r, err_r


def gen(args, env=None, setup=None, timeout=TIME_BOUND) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(args, env, setup, out.fileno(), err.fileno())
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() - began > timeout:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail(f"gen {' '.join(map(str, args))} ran longer than {timeout} s")
            time.sleep(0.01)
        seconds = time.monotonic() - began
        out.seek(0)
        err.seek(0)
        return Run(os.waitstatus_to_exitcode(status), out.read().decode("utf-8", "replace"),
                   err.read().decode("utf-8", "replace"), seconds)


def snapshot(folder: Path, skip: str | None = None) -> dict[str, str]:
    """Every entry under folder (but `skip` at its top) with a hash of what it is."""
    seen = {}
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        if rel == Path(".") and skip in dirs:
            dirs.remove(skip)
        for name in dirs + files:
            path, key = Path(root) / name, str(rel / name)
            if key == skip:
                continue
            if path.is_symlink():
                seen[key] = "link " + os.readlink(path)
            elif path.is_dir():
                seen[key] = "dir"
            else:
                seen[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return seen


def assert_one_paragraph(run: Run) -> None:
    text = run.message
    assert text, "no message"
    assert "\n" not in text, f"more than one paragraph:\n{text}"
    assert "Traceback" not in run.out + run.err
    assert "\x1b" not in run.out + run.err and "\x07" not in run.err
    assert "internal error" not in text and "bug in gen" not in text, text


# ---------------------------------------------------------------------------------------------
# The corpus

def item(doc, item_id):
    return next(e for e in doc["exercises"] if e["id"] == item_id)


def spec(doc, item_id):
    return item(doc, item_id)["problems"][0]


def fixed_dd(**values):
    def mutate(doc):
        spec(doc, "dd")["fixed"] = {"function": "x**2 + 3*y", "point": [1, 2], "direction": [3, 4], **values}
    return mutate


def params(item_id, **values):
    return lambda doc: spec(doc, item_id)["params"].update(values)


def set_field(**values):
    return lambda doc: doc.update(values)


def raw(text: str):
    return lambda doc: text


def prior_build(extra: Callable[[Path], None] | None = None):
    """An --out that is a finished gen build, then changed by `extra`."""
    def prepare(lesson: Path, out: Path) -> None:
        assert gen(["build", "--lessons", lesson, "--out", out, "--quiet", *COMMON]).code == 0
        if extra:
            extra(out)
    return prepare


def enospc():
    import pathlib

    def full(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
    pathlib.Path.write_bytes = full


def failing_mkdir(code):
    def setup():
        real = os.mkdir

        def mkdir(path, *a, **k):
            if ".gen-staging-" in str(path):
                raise OSError(code, os.strerror(code), str(path))
            return real(path, *a, **k)
        os.mkdir = mkdir
    return setup


@dataclass(frozen=True)
class Case:
    name: str
    cls: int                                    # the class, 1-6
    lesson: Callable[[dict], Any] | None = None  # mutates the base lesson (or returns raw text)
    code: int = 2
    says: str = ""
    field: str | None = None
    args: tuple = ()
    env: dict | None = None
    setup: Callable[[], None] | None = None     # runs in gen's process before it starts (the machine)
    prepare: Callable[[Path, Path], None] | None = None   # (lesson, out): what was there before
    lesson_path: str | None = None               # read this path instead of a lesson file
    out_under: str | None = None                 # --out is <work>/<out_under>/out
    symlink_out: bool = False
    validate: bool = True                        # False where the lesson is fine and only --out or the disk is not
    check: Callable[[Path, Path], None] | None = None


def _untouched_grades(tmp, out):
    assert (out / "my-grades.csv").read_text() == "ana,12\n"


def _forced(tmp, out):
    assert not (out / "my-grades.csv").exists() and (out / "manifest.json").is_file()


def _link_kept(tmp, out):
    assert out.is_symlink() and (out / "manifest.json").is_file() and (tmp / "real" / ".gen-build").is_file()


CASES = [
    # 1. Nothing hangs: bounded redraws, bounded formulas, bounded reads.
    Case("too-few-distinct-problems", 1, params("cp", coefficients=[1, 1], point_range=[1, 2]), args=("--variants", "5"),
         says="only 4 distinct critical_point problems fit these params", field="exercises[1].problems[0].params"),
    Case("tower-of-constant-powers", 1, fixed_dd(function="(((((((1000000)**12)**12)**12)**12)**12)**12)**12*x + y"),
         says="builds a number beyond", field="exercises[0].problems[0].fixed.function"),
    Case("power-tower-at-the-point", 1, fixed_dd(function="x**(x**12) + y", point=[20, 1]),
         says="can reach", field="exercises[0].problems[0].fixed.function"),
    Case("fifo-as-lesson", 1, lesson_path="fifo", says="FIFO, not a regular file"),
    Case("device-as-lesson", 1, lesson_path="/dev/zero", says="device, not a regular file"),
    Case("ten-megabyte-lesson", 1, raw("#" * 10_000_000), says="limited to 1,000,000"),
    # 2. gen touches only what it can prove it made.
    Case("teacher-file-in-out", 2, prepare=prior_build(lambda o: (o / "my-grades.csv").write_text("ana,12\n")),
         says="my-grades.csv", validate=False, check=_untouched_grades),
    Case("force-replaces-a-gen-build", 2, prepare=prior_build(lambda o: (o / "my-grades.csv").write_text("ana,12\n")),
         args=("--force",), code=0, validate=False, check=_forced),
    Case("edited-output", 2, prepare=prior_build(lambda o: (o / "hostile-base" / "moodle.xml").write_text("mine")),
         says="changed since gen wrote it", validate=False),
    Case("copied-manifest-only", 2, prepare=lambda lesson, out: (out.mkdir(), (out / "manifest.json").write_text(
        '{"generator": "gen"}')), says="no .gen-build marker", validate=False),
    Case("users-old-folder-beside-out", 2, code=0, validate=False,
         prepare=lambda lesson, out: ((out.parent / ".out.old-2024").mkdir(),
                                      (out.parent / ".out.old-2024" / "thesis.tex").write_text("years"))),
    Case("planted-staging-folders-beside-out", 2, code=0, validate=False,
         prepare=lambda lesson, out: [(out.parent / n).mkdir() or (out.parent / n / "x").write_text("x")
                                      for n in (".out.gen-staging-" + "ab" * 16, ".out.staging-123")]),
    Case("symlinked-out", 2, code=0, symlink_out=True, validate=False, check=_link_kept),
    # 4. validate ok ⇒ build ok: the lesson's own values, checked where the build uses them.
    Case("undefined-at-the-point", 4, fixed_dd(function="1/x + y", point=[0, 1]),
         says="cannot be used at the fixed point", field="exercises[0].problems[0].fixed.function"),
    Case("undefined-next-to-the-point", 4, fixed_dd(function="sqrt(x) + y", point=[0, 1]),
         says="next to P = (0, 1)", field="exercises[0].problems[0].fixed.function"),
    Case("cancellation-noise", 4, fixed_dd(function="1/(sin(x)**2 + cos(x)**2 - 1) + y", point=[1, 1]),
         says="cannot be used at the fixed point", field="exercises[0].problems[0].fixed.function"),
    Case("overflowing-exponentials", 4, fixed_dd(function="exp(exp(exp(exp(x)))) + y", point=[2, 1]),
         says="can reach", field="exercises[0].problems[0].fixed.function"),
    Case("symbolic-answer-never-defined", 4, lambda d: spec(d, "gr")["fixed"].update(
        function="1/(sin(x)**2 + cos(x)**2 - 1) + y"), says="where gen checks symbolic answers",
         field="exercises[3].problems[0].fixed.function"),
    Case("point-of-the-wrong-length", 4, fixed_dd(point=[1, 2, 3]), says="fixed.point has 3 components",
         field="exercises[0].problems[0]"),
    Case("direction-of-the-wrong-length", 4, fixed_dd(direction=[1, 2, 3]), says="fixed.direction has 3 components",
         field="exercises[0].problems[0]"),
    Case("point-far-away", 4, fixed_dd(point=[10**25, 1]), says="beyond ±1000", field="exercises[0].problems[0].fixed.point"),
    Case("zero-direction", 4, fixed_dd(direction=[0, 0]), says="zero vector", field="exercises[0].problems[0].fixed"),
    Case("four-descent-steps", 4, params("gd", steps=4), says="less than or equal to 3",
         field="exercises[2].problems[0]"),
    Case("critical-point-only-at-origin", 4, params("cp", point_range=[0, 0]), says="origin",
         field="exercises[1].problems[0].params"),
    Case("plot-with-undeclared-variable", 4, lambda d: d["mini_project"]["functions"][0].update(function="x*z"),
         says="unknown name 'z'", field="mini_project.functions[0].function"),
    Case("plot-through-a-pole", 4, lambda d: d["mini_project"]["functions"][0].update(function="1/x", point=[0, 1]),
         says="cannot be plotted", field="mini_project.functions[0]"),
    Case("revised-after-2107", 4, set_field(revised="2108-01-01"), says="2107", field="revised"),
    # 5. What a gradebook receives.
    Case("quiz-points-nan", 5, lambda d: d["quiz"]["points"].update(true_false=float("nan")),
         says="finite number", field="quiz.points.true_false"),
    Case("quiz-points-negative", 5, lambda d: d["quiz"]["points"].update(conceptual=-5),
         says="greater than 0", field="quiz.points.conceptual"),
    Case("quiz-points-huge", 5, lambda d: d["quiz"]["points"].update(coding=1e300),
         says="less than or equal to 100", field="quiz.points.coding"),
    Case("level-points-infinite", 5, lambda d: d["levels"][0].update(points=float("inf")),
         says="finite number", field="levels[0].points"),
    # 6. User and environment mistakes: exit 2, one paragraph, a fix.
    Case("yaml-tag", 6, raw("schema_version: 1\nid: !!python/object/apply:os.system [\"true\"]\n"), says="YAML tags"),
    Case("integer-beyond-the-digit-limit", 6, raw("schema_version: 1\nid: x\nlevels: [{level: 1, name: a, points: "
                                                  + "9" * 5000 + "}]\n"), says="characters long"),
    Case("deep-nesting", 6, raw("schema_version: 1\nhomework: {items: " + "[" * 2000 + "]" * 2000 + "}\n"),
         says="nests lists and mappings"),
    Case("disk-full", 6, setup=enospc, says="the disk is full", validate=False),
    Case("read-only-disk", 6, setup=failing_mkdir(errno.EROFS), says="read-only", validate=False),
    Case("permission-denied", 6, setup=failing_mkdir(errno.EACCES), says="permission denied", validate=False),
    Case("out-under-a-file", 6, out_under="a-file", says="which is a file, not a folder", validate=False),
    Case("epoch-negative", 6, env={"SOURCE_DATE_EPOCH": "-5"}, says="whole number of seconds"),
    Case("epoch-not-digits", 6, env={"SOURCE_DATE_EPOCH": "12a"}, says="whole number of seconds"),
    Case("epoch-after-2107", 6, env={"SOURCE_DATE_EPOCH": "4354819200"}, says="after 2107-12-31"),
    Case("epoch-huge", 6, env={"SOURCE_DATE_EPOCH": "9" * 40}, says="whole number of seconds"),
    Case("escape-sequence-in-a-key", 6, set_field(**{"\x1b[2J\x1b]0;owned\x07title": "x"}),
         says="unknown field '\\x1b[2J\\x1b]0;owned\\x07title'"),
    Case("escape-sequence-in-a-family", 6, lambda d: spec(d, "cp").update(family="critical\x1b[31m"),
         says="unknown family 'critical\\x1b[31m'"),
    Case("deck-level-in-title", 6, set_field(title="Gradients::Hidden"), says="Anki deck tree", field="title"),
    Case("deck-level-in-topic", 6, set_field(topic="Calculus:"), says="Anki deck tree", field="topic"),
    Case("windows-device-name", 6, set_field(id="con"), says="device name on Windows", field="id"),
    Case("trailing-dot", 6, set_field(id="lesson."), says="ends with a dot", field="id"),
    Case("ids-differing-in-case", 6, lambda d: d["quiz"]["conceptual"][0].update(id="DD"),
         says="differ only in upper/lower case"),
]


def test_corpus_covers_every_class():
    counts = {c: sum(case.cls == c for case in CASES) for c in range(1, 7)}
    counts[3] = len(SIGNALS)
    assert all(n >= 3 for n in counts.values()), counts


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case(case: Case, tmp_path):
    lessons, work = tmp_path / "lessons", tmp_path / "work"
    lessons.mkdir()
    work.mkdir()
    decoy = work / "decoy"
    decoy.mkdir()
    (decoy / "notes.txt").write_text("the teacher's own notes\n")
    lesson = lessons / "lesson.yaml"
    doc = copy.deepcopy(BASE)
    text = case.lesson(doc) if case.lesson else None
    if isinstance(text, str):
        lesson.write_text(text, "utf-8")
    else:
        lesson.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    if case.lesson_path == "fifo":
        lesson.unlink()
        os.mkfifo(lesson)
    elif case.lesson_path:
        lesson = Path(case.lesson_path)
    out = work / "out"
    if case.out_under:
        (work / case.out_under).write_text("a file, not a folder")
        out = work / case.out_under / "out"
    if case.symlink_out:
        (tmp_path / "real").mkdir()
        out.symlink_to(tmp_path / "real")
    if case.prepare:
        case.prepare(lesson, out)
    keep = "real" if case.symlink_out else None
    before = snapshot(work, skip=None if case.code else out.name)
    before_outside = snapshot(tmp_path, skip=keep) if case.symlink_out else None

    run = gen(["build", "--lessons", lesson, "--out", out, "--quiet", *COMMON, *case.args], case.env, case.setup)

    assert run.code == case.code, run.err
    assert run.seconds < TIME_BOUND
    if case.code:
        assert_one_paragraph(run)
        assert case.says in run.message, run.message
        if case.field:
            assert f"field '{case.field}'" in run.message, run.message
        if case.lesson or case.lesson_path:
            assert str(lesson) in run.message
    else:
        assert "Traceback" not in run.err, run.err
    after = snapshot(work, skip=None if case.code else out.name)
    assert after == before, "something beside --out changed (or --out itself, on a refusal)"
    if before_outside is not None:
        assert snapshot(tmp_path, skip=keep) == before_outside
    if case.check:
        case.check(tmp_path, out)
    if case.validate:
        checked = gen(["validate", lesson, *COMMON, *case.args], case.env, case.setup)
        assert checked.code == run.code
        if run.code:
            assert checked.message == run.message
        assert snapshot(work, skip=None if case.code else out.name) == after


LEAVES = st.sampled_from(["x", "y", "1", "2", "12", "13", "1000000", "999999", "0.5", "1e-9", "0", "pi", "e"])
FORMULAS = st.recursive(LEAVES, lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
    st.tuples(st.sampled_from(["exp", "sin", "tan", "log", "sqrt", "-"]), inner).map(lambda t: f"{t[0]}({t[1]})")),
    max_leaves=20)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(FORMULAS)
def test_every_formula_is_parsed_or_refused_quickly(text):
    """1. Formulas built from small literals can describe astronomically large numbers
    (exp(999999*log(1000000)), towers of powers): each step is bounded before SymPy computes it."""
    from generator.mathparse import FormulaError, check_magnitude, parse_formula
    began = time.monotonic()
    try:
        check_magnitude(parse_formula(text), 21)
    except FormulaError:
        pass
    assert time.monotonic() - began < 2, text


# ---------------------------------------------------------------------------------------------
# 3. Processes that outlive the build

def children(pid: int) -> set[int]:
    kids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.add(int(entry))
    return kids


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


SIGNALS = {signal.SIGTERM: 143, signal.SIGKILL: -signal.SIGKILL, signal.SIGINT: 130}   # → exit code


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killed_parallel_builds_leave_no_process(tmp_path):
    """SIGTERM, SIGKILL and SIGINT, each sent to a parallel build while its workers run; 5 s later
    none of their processes is left and nothing holds their stderr open."""
    builds = {}
    try:
        for sig in SIGNALS:
            folder = tmp_path / sig.name
            folder.mkdir()
            builds[sig] = (folder, *start(["build", "--jobs", "2", "--variants", "20", "--targets", "moodle,qti",
                                           "--lessons", LESSONS, "--out", folder / "out", "--quiet"]))
        deadline = time.monotonic() + TIME_BOUND
        workers = {}
        for sig, (folder, pid, out_r, err_r) in builds.items():
            while len(children(pid)) < 2:
                assert time.monotonic() < deadline, "the build never started its workers"
                time.sleep(0.02)
            workers[sig] = children(pid)
            os.kill(pid, sig)
        for sig, (folder, pid, out_r, err_r) in builds.items():
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == SIGNALS[sig], sig.name
            os.set_blocking(err_r, False)
        time.sleep(5)
        for sig, (folder, pid, out_r, err_r) in builds.items():
            assert not [w for w in workers[sig] if alive(w)], f"workers outlived the build ({sig.name})"
            err = b""
            while chunk := os.read(err_r, 65536):      # EOF: no process holds the build's stderr any more
                err += chunk
            assert list(folder.iterdir()) == [], f"{sig.name} left {list(folder.iterdir())}"
            if sig != signal.SIGKILL:
                text = err.decode().strip()
                assert "Traceback" not in text and "\n" not in text, text
                assert text.startswith("gen: interrupted" if sig == signal.SIGINT else "gen: stopped by SIGTERM"), text
    finally:
        for folder, pid, out_r, err_r in builds.values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            os.close(out_r)
            os.close(err_r)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_killed_from_outside_stops_the_build(tmp_path):
    """The out-of-memory killer takes a worker: gen says so (exit 2) instead of waiting forever."""
    pid, out_r, err_r = start(["build", "--jobs", "2", "--variants", "20", "--targets", "moodle",
                               "--lessons", LESSONS, "--out", tmp_path / "out", "--quiet"])
    try:
        deadline = time.monotonic() + TIME_BOUND
        while len(children(pid)) < 2:
            assert time.monotonic() < deadline, "the build never started its workers"
            time.sleep(0.02)
        os.kill(min(children(pid)), signal.SIGKILL)
        while not (reaped := os.waitpid(pid, os.WNOHANG))[0]:
            assert time.monotonic() < deadline, "gen waits for a dead worker"
            time.sleep(0.02)
        assert os.waitstatus_to_exitcode(reaped[1]) == 2
        err = b""
        while chunk := os.read(err_r, 65536):
            err += chunk
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(out_r)
        os.close(err_r)
    text = err.decode().strip()
    assert "worker process died" in text and "\n" not in text and "Traceback" not in text, text
    assert list(tmp_path.iterdir()) == []


_DIES_MID_RESULT = """
import os, signal, struct, sys
from concurrent.futures.process import BrokenProcessPool
from generator.workers import worker_pool

def die_while_sending():
    # The worker's result queue, as CPython's worker loop holds it: a message's length and the
    # first bytes of it reach the pipe, then the worker is killed (as by the out-of-memory killer).
    frame = sys._getframe()
    while "result_queue" not in frame.f_locals:
        frame = frame.f_back
    fd = frame.f_locals["result_queue"]._writer.fileno()
    os.write(fd, struct.pack("!i", 1000) + b"partial")
    os.kill(os.getpid(), signal.SIGKILL)

try:
    with worker_pool(2) as pool:
        pool.submit(die_while_sending).result()
except BrokenProcessPool:
    print("broken")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and /proc")
def test_a_worker_killed_halfway_through_its_result_stops_the_pool():
    """CPython's pool reads a result message whole; without gen's watch, a worker killed in the
    middle of one leaves that read (and the build) waiting forever."""
    import subprocess
    run = subprocess.run([sys.executable, "-c", _DIES_MID_RESULT], capture_output=True, text=True,
                         timeout=TIME_BOUND)
    assert run.stdout.strip() == "broken", run.stderr


_IDLE_WORKER_DIES_AT_SHUTDOWN = """
import os, signal, time
from generator.workers import worker_pool

for _ in range(5):
    with worker_pool(2) as pool:
        for done in [pool.submit(time.sleep, 0.01) for _ in range(4)]:
            done.result()
        # Idle, one worker waits for a task holding the task queue's lock (blocked reading its
        # pipe), the other waits for that lock. The first is killed as the pool shuts down.
        deadline, holder = time.monotonic() + 5, None
        while holder is None:
            try:
                channels = {pid: open(f"/proc/{pid}/wchan").read() for pid in list(pool._processes)}
            except OSError:
                channels = {}
            holder = next((pid for pid, channel in channels.items() if "pipe" in channel), None)
            if holder is None and time.monotonic() > deadline:
                if all(c in ("", "0") for c in channels.values()):
                    raise SystemExit("this kernel does not name wait channels")
                raise AssertionError(f"no worker is reading the task queue: {channels}")
            time.sleep(0.01)
        os.kill(holder, signal.SIGKILL)
print("shut down")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/wchan")
def test_an_idle_worker_killed_as_the_pool_shuts_down_does_not_hang_it():
    """CPython's pool waits at its shutdown for workers that can no longer take the shutdown's
    message (the dead one holds the lock they need); without gen's watch this hung in 2 of 3
    repeats (a run repeats it 5 times)."""
    import subprocess
    run = subprocess.run([sys.executable, "-c", _IDLE_WORKER_DIES_AT_SHUTDOWN], capture_output=True,
                         text=True, timeout=TIME_BOUND)
    if "does not name wait channels" in run.stderr:
        pytest.skip("this kernel does not name wait channels (/proc/<pid>/wchan)")
    assert run.stdout.strip() == "shut down", run.stderr


def _in_empty_home(tmp_path, code: str) -> str:
    """Run `code` in a new Python with an empty HOME and TMPDIR (both in tmp_path); its stdout."""
    import subprocess
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), TMPDIR=str(tmp_path))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                          timeout=TIME_BOUND, cwd=HERE.parent).stdout.strip()


def test_matplotlib_writes_nothing_into_home(tmp_path):
    code = "from generator import figures; figures.warm_up(); import matplotlib; print(matplotlib.get_cachedir())"
    cache = _in_empty_home(tmp_path, code)
    assert list((tmp_path / "home").iterdir()) == []
    assert not Path(cache).exists() and sorted(p.name for p in tmp_path.iterdir()) == ["home"]


def test_a_background_matplotlib_import_leaves_nothing_behind(tmp_path):
    # The process exits while the import may still run: its exit waits for the thread, whose
    # clean-up removes matplotlib's temporary config folder.
    assert _in_empty_home(tmp_path, "from generator import figures; figures.import_in_background(); "
                                    "print('started')") == "started"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"] and list((tmp_path / "home").iterdir()) == []


# ---------------------------------------------------------------------------------------------
# validate ok ⇒ build ok, over random edits of the real lesson

from .test_fuzz import BASE as LESSON, apply, mutation  # noqa: E402

PROPERTY_OPTIONS = dict(variants=1, targets=("moodle",))


def validate_then_build(tmp_path_factory, mutations) -> None:
    from generator.errors import GenError
    from generator.pipeline import assemble, build
    doc = LESSON
    for path, action, value in mutations:
        try:
            doc = apply(doc, path, action, value)
        except (KeyError, IndexError, TypeError):
            continue
    tmp = tmp_path_factory.mktemp("prop")
    lesson = tmp / "lesson.yaml"
    lesson.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    try:
        assemble([lesson], small_options(**PROPERTY_OPTIONS))
        verdict = None
    except GenError as exc:
        assert exc.exit_code == 2, exc.message
        verdict = exc.message
    try:
        build([lesson], tmp / "out", small_options(**PROPERTY_OPTIONS))
        built = None
    except GenError as exc:
        built = exc.message
    assert built == verdict
    assert (tmp / "out").exists() == (verdict is None)


@settings(max_examples=int(os.environ.get("GEN_PROPERTY_EXAMPLES", "30")), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=3))
def test_validate_ok_means_build_ok(tmp_path_factory, mutations):
    validate_then_build(tmp_path_factory, mutations)


@pytest.mark.slow
@settings(max_examples=500, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=5))
def test_validate_ok_means_build_ok_many(tmp_path_factory, mutations):
    validate_then_build(tmp_path_factory, mutations)
