"""The plot server (plotserver.py): forked before SymPy is imported, it draws a build's plots to the
same bytes, and whatever happens to it, the build reports it and nothing is left running."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import figures, plotserver
from generator.cli import cli

from .conftest import ROOT
from .test_figures import family_specs, notes_specs

SPECS = family_specs()[::15] + notes_specs()[:2]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("blank", [False, True])
def test_a_portable_spec_draws_the_same_png(spec, blank):
    task = (spec, blank, figures.WIDTH, figures.HEIGHT, figures.DPI)
    png = figures._draw_task(task)
    portable = figures.portable(spec)
    assert portable is not None and _plain(portable)
    figures._NUMERIC.clear()                      # rebuilt from the source alone, as in the server
    assert figures._draw_task((portable,) + task[1:]) == png
    assert figures.figure_name(portable) == figures.figure_name(spec)
    assert figures.figure_name(portable, "blank-notes") == figures.figure_name(spec, "blank-notes")


def _plain(value) -> bool:
    """Only what a process without SymPy can unpickle."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, tuple):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (str, float, int, bool)


def _gen(tmp_path, args, setup=""):
    """`gen ARGS` in a fresh interpreter (no SymPy loaded yet, so the build forks a server), after
    SETUP; prints how many plots the server was asked for."""
    code = textwrap.dedent("""
        import atexit, sys
        from generator import plotserver
        asked = []
        send = plotserver.PlotServer.send
        def counted(self, tasks, jobs):
            def counting(tasks):
                for task in tasks:
                    asked.append(task)
                    yield task
            return send(self, counting(tasks), jobs)
        plotserver.PlotServer.send = counted
        atexit.register(lambda: print(f"server drew {len(asked)}"))
    """) + textwrap.dedent(setup) + "\nfrom generator.cli import main\nsys.argv = ['gen'] + sys.argv[1:]\nmain()\n"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def _files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("targets", ["anki,worksheet", "qti,anki,moodle,worksheet,notebook"])
def test_a_build_with_a_plot_server_writes_the_same_bytes(tmp_path, targets):
    # With targets that show no plot, a serial build renders them while the server draws.
    args = ["build", "--seed", "5", "--targets", targets, "--no-pdf", "--variants", "2", "-q"]
    run = _gen(tmp_path, [*args, "--out", str(tmp_path / "served")])
    assert run.returncode == 0, run.stderr
    drawn = int(run.stdout.split("server drew ")[1].split()[0])
    assert drawn >= 8                               # every plot of the deck and the worksheets
    here = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "here")])   # SymPy loaded: no server
    assert here.exit_code == 0, here.output
    assert _files(tmp_path / "served") == _files(tmp_path / "here")


def _early_setup(kill_server: bool) -> str:
    """Moodle refuses the lesson; the order of moodle's render and of waiting for the plots is
    printed at exit; with kill_server, the server is killed as it is asked (it draws the plots
    while they are sent, so killed later it may have drawn them all). Patched once
    the plots are asked for: importing the target earlier would import SymPy, and a build that
    finds SymPy loaded forks no server."""
    return f"""
        import os, signal
        order = []
        atexit.register(lambda: print("order " + ",".join(order)))
        asking, receiving = plotserver.PlotServer.send, plotserver.PlotServer.receive
        def refuse_then_ask(self, tasks, jobs):
            from generator.errors import GenError
            from generator.targets import moodle
            def refused(lb, options):
                order.append("moodle")
                raise GenError("moodle refused this lesson.", fix="none.")
            moodle.render = refused
            def killing(tasks):
                os.kill(self.pid, signal.SIGKILL)
                yield from tasks
            return asking(self, killing(tasks) if {kill_server} else tasks, jobs)
        def received(self):
            order.append("plots")
            return receiving(self)
        plotserver.PlotServer.send = refuse_then_ask
        plotserver.PlotServer.receive = received
    """


def test_a_target_that_fails_while_the_server_draws_is_reported_after_the_plots(tmp_path):
    """A serial build renders the plot-free targets (here Moodle) before it waits for the plots; an
    error there waits for its turn: the plot process's failure is reported first, and a target's
    error once the plots are in. Nothing is written either way."""
    args = ["build", "--targets", "moodle,anki", "--variants", "1"]
    run = _gen(tmp_path, [*args, "--out", str(tmp_path / "o")], setup=_early_setup(kill_server=False))
    assert run.returncode == 2, run.stderr
    assert "moodle refused this lesson" in run.stderr and "Traceback" not in run.stderr
    assert "order moodle,plots" in run.stdout                  # rendered while the plots were drawn
    assert not (tmp_path / "o").exists()
    run = _gen(tmp_path, [*args, "--out", str(tmp_path / "k")], setup=_early_setup(kill_server=True))
    assert run.returncode == 2, run.stderr
    assert "worker process died" in run.stderr and "moodle refused" not in run.stderr
    assert "order moodle,plots" in run.stdout and "Traceback" not in run.stderr
    assert not (tmp_path / "k").exists()


def test_an_unreadable_answer_from_the_plot_server_is_raised_as_itself(tmp_path):
    """What the reading thread cannot read (a failure record that does not unpickle) reaches the
    build as that error, gen's own (exit 1), not as a plot process that died."""
    setup = """
        import pickle
        def bad_record(stream, kind, payload):
            stream.write(plotserver._HEADER.pack(b"E", 3))
            stream.write(b"not")
        def serve_badly(requests, answers, parent, folder):
            import os
            os.read(requests, 1 << 20)
            with os.fdopen(answers, "wb") as out:
                bad_record(out, b"E", b"")
        plotserver._serve = serve_badly
    """
    run = _gen(tmp_path, ["build", "--targets", "anki", "--variants", "1", "--out", str(tmp_path / "o")],
               setup=setup)
    assert run.returncode == 1, run.stderr
    assert "internal error" in run.stderr and "Unpickling" in run.stderr and "died" not in run.stderr
    assert not (tmp_path / "o").exists()


def test_a_killed_plot_server_is_reported_and_nothing_is_written(tmp_path):
    run = _gen(tmp_path, ["build", "--targets", "anki", "--variants", "1", "--out", str(tmp_path / "o")],
               setup="import os, signal\nplotserver._serve = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n")
    assert run.returncode == 2, run.stderr
    assert "worker process died" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "o").exists()


def test_a_failure_in_the_plot_server_is_gen_s_internal_error(tmp_path):
    setup = """
        from generator import figures
        def broken(task):
            raise ValueError("simulated drawing bug")
        figures._draw_task = broken
    """
    args = ["build", "--targets", "anki", "--variants", "1", "--out", str(tmp_path / "o")]
    run = _gen(tmp_path, args, setup=setup)
    assert run.returncode == 1, run.stderr
    assert "internal error" in run.stderr and "simulated drawing bug" in run.stderr
    assert "Traceback" not in run.stderr and run.stderr.count("\n") == 1      # one paragraph
    assert not (tmp_path / "o").exists()
    debug = _gen(tmp_path, ["--debug", *args], setup=setup)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "in broken" in debug.stderr


def test_a_drawing_worker_killed_from_outside_is_reported_as_such(tmp_path):
    """The out-of-memory killer takes one of the server's drawing workers: exit 2 and gen's message
    for a killed worker, as for any other worker."""
    setup = """
        import os, signal
        from generator import figures
        def _draw_task(task):                    # found by name when the pool sends it
            os.kill(os.getpid(), signal.SIGKILL)
        _draw_task.__module__ = "generator.figures"
        figures._draw_task = _draw_task
    """
    run = _gen(tmp_path, ["build", "--targets", "anki,worksheet", "--no-pdf", "--variants", "2",
                          "--out", str(tmp_path / "o")], setup=setup)
    assert run.returncode == 2, run.stderr
    assert "worker process died" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("stop", ["refused --out", "SIGINT"])
def test_a_server_stopped_early_leaves_no_temporary_folder(tmp_path, stop):
    """Stopped while it imports matplotlib (the build refused its --out, or Ctrl-C), the server
    still removes the private matplotlib folder it made."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    foreign = tmp_path / "not-gen"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine")
    out = foreign if stop == "refused --out" else tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "generator", "build", "--targets", "anki", "--out", str(out),
                             "--quiet"], cwd=ROOT, env={**os.environ, "TMPDIR": str(tmp)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if stop == "SIGINT":
        deadline = time.monotonic() + 30
        while not list(tmp.glob("gen-matplotlib-*")):       # the server is importing matplotlib
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.002)
        proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=60)
    assert code == (2 if stop == "refused --out" else 130), proc.stderr.read()
    assert list(tmp.iterdir()) == []
    assert (foreign / "thesis.tex").read_text() == "mine"


def test_an_unused_server_is_killed_and_reaped():
    code = textwrap.dedent("""
        import os
        from generator import plotserver
        with plotserver.running(False) as none:
            assert none is None
        with plotserver.running(True) as server:
            pid = server.pid
            assert plotserver.current() is server
        assert plotserver.current() is None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("gone")
    """)
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "gone", run.stderr


def test_no_server_where_sympy_is_already_loaded():
    import sympy  # noqa: F401
    with plotserver.running(True) as server:
        assert server is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig, code, when", [(signal.SIGKILL, -signal.SIGKILL, "importing"),
                                             (signal.SIGKILL, -signal.SIGKILL, "drawing"),
                                             (signal.SIGTERM, 143, "drawing"), (signal.SIGINT, 130, "importing")])
def test_a_killed_build_leaves_no_plot_server(tmp_path, sig, code, when):
    """Killed while its server imports matplotlib, or while the server's own pool draws: within 5 s
    no process of the build is left, none holds its stderr open, nothing is written, and the
    server's matplotlib folder is gone (but after SIGKILL during the import: nothing runs then to
    remove it, and it lands in the test's own TMPDIR)."""
    from .test_hardening import alive, children
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "generator", "build", "--targets", "anki", "--variants", "20",
                             "--jobs", "2", "--out", str(tmp_path / "o"), "--quiet"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "TMPDIR": str(tmp)})
    try:
        seen: set[int] = set()
        deadline = time.monotonic() + 20

        def ready():
            kids = children(proc.pid)
            grandchildren = set().union(*(children(k) for k in kids)) if kids else set()
            seen.update(kids | grandchildren)
            # The server's pool: forked Pythons. Its import runs fc-list too (matplotlib's font
            # scan), which is a grandchild but not the pool.
            return bool(kids) if when == "importing" else any(_is_python(p) for p in grandchildren)
        while not ready():
            assert proc.poll() is None, "the build finished before it could be killed"
            assert time.monotonic() < deadline, "the build never started its server (and its pool)"
            time.sleep(0.002)
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == code
        deadline = time.monotonic() + 5
        while [p for p in seen if alive(p)] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in seen if alive(p)], "a process outlived the build"
        err = proc.stderr.read().decode()          # EOF: nothing holds the build's stderr
        assert "Traceback" not in err, err
        assert not (tmp_path / "o").exists()
        if not (sig == signal.SIGKILL and when == "importing"):
            assert not list(tmp.glob("gen-matplotlib-*"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _is_python(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == sys.executable.encode()
    except OSError:
        return False


def test_specs_that_cannot_travel_are_left_for_the_build_to_draw(monkeypatch):
    """send_served sends the portable specs and returns the others, in the request form the
    build's own pool path takes; the cache then holds the served PNGs."""
    specs = [s.values[0] for s in SPECS[:3]]
    requests = [(specs[0], {}), (specs[1], {"blank": True}), (specs[2], {})]
    figures._CACHE.clear()
    stay = figures.figure_name(specs[1])
    portable = figures.portable
    monkeypatch.setattr(figures, "portable", lambda spec: None if figures.figure_name(spec) == stay else portable(spec))

    class Here:
        def send(self, tasks, jobs):
            self.tasks = list(tasks)

        def receive(self):
            return [figures._draw_task(task) for task in self.tasks]
    left = figures.send_served(requests, Here(), 1)()
    assert [(figures.figure_name(spec), kw.get("blank")) for spec, kw in left] == [(stay, True)]
    assert figures._undrawn(requests).keys() == figures._undrawn(left).keys()
    figures.prefetch(left)
    assert not figures._undrawn(requests)


def _served(count: int, body: str, before: str = "") -> str:
    """`body` in a fresh interpreter (no SymPy loaded, so a server forks), inside `with
    plotserver.running(True) as server:` and given `tasks`, the portable plots of the first
    `count` family specs; after `before`. Its stdout."""
    code = (textwrap.dedent(before) + "\nfrom generator import figures, plotserver\n"
            "with plotserver.running(True) as server:\n"
            "    from tests.test_figures import family_specs\n"
            "    tasks = [(figures.portable(s), False, figures.WIDTH, figures.HEIGHT, figures.DPI)\n"
            f"             for s in (p.values[0] for p in family_specs()[:{count}])]\n"
            + textwrap.indent(textwrap.dedent(body), "    "))
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_server_draws_while_the_plots_are_still_being_sent(jobs):
    """The build sends each plot as soon as it is portable (a lambdify each); the server starts on
    the first before the last is sent, and the answer is the same PNGs in the same order."""
    out = _served(4, f"""
        def slowly():
            yield tasks[0]
            deadline = time.monotonic() + 20
            while {jobs} == 1 and not server._answer["pngs"] and time.monotonic() < deadline:
                time.sleep(0.01)
            print("drawn before the rest was sent:", len(server._answer["pngs"]))
            yield from tasks[1:]
        server.send(slowly(), {jobs})
        pngs = server.receive()
        figures._NUMERIC.clear()
        print("same:", pngs == [figures._draw_task(t) for t in tasks])
    """, before="import time")
    assert "same: True" in out
    if jobs == 1:
        assert "drawn before the rest was sent: 1" in out


def test_a_server_warmed_up_first_draws_the_same_pngs(tmp_path):
    """PlotServer.warm: the server draws a throwaway plot (figures.warm_drawing) before the request,
    and then the build's plots to the same bytes."""
    out = _served(3, """
        server.warm()
        server.send(iter(tasks), 1)
        pngs = server.receive()
        figures._NUMERIC.clear()
        print("same:", pngs == [figures._draw_task(t) for t in tasks])
    """, before=f"""
        from generator import figures
        drawing = figures.warm_drawing
        def marked():                               # inherited by the server when it forks
            open({str(tmp_path / "warmed")!r}, "w").close()
            drawing()
        figures.warm_drawing = marked
    """)
    assert "same: True" in out
    assert (tmp_path / "warmed").exists()


@pytest.mark.parametrize("jobs, warmed", [("0", 1), ("2", 0)])
def test_only_a_serial_build_has_the_server_warm_up(tmp_path, jobs, warmed):
    """A build that makes its problems in one process (--jobs 0: too few for workers) leaves the
    server's core idle meanwhile: it asks for the warm-up drawing there. A parallel one does not
    (it would take that time from the workers)."""
    setup = """
        warm = plotserver.PlotServer.warm
        warmed = []
        def counted(self):
            warmed.append(1)
            warm(self)
        plotserver.PlotServer.warm = counted
        atexit.register(lambda: print(f"warmed {len(warmed)}"))
    """
    run = _gen(tmp_path, ["build", "--seed", "5", "--targets", "anki", "--variants", "2", "--jobs", jobs, "-q",
                          "--out", str(tmp_path / "out")], setup)
    assert run.returncode == 0, run.stderr
    assert f"warmed {warmed}" in run.stdout


def test_a_server_asked_twice_to_warm_up_still_draws():
    out = _served(1, """
        server.warm()
        server.warm()
        server.send(iter(tasks), 1)
        print("drawn:", len(server.receive()))
    """)
    assert "drawn: 1" in out
