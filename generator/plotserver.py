"""A process that loads matplotlib while the build is still starting, then draws its plots.

A build's first ~0.4 s is one core importing SymPy and reading the lesson while the other core
idles; matplotlib and numpy cost ~0.45 s more to import, which otherwise lands in the parent
while both cores generate problems. So `gen build`, before it imports anything heavy, forks this
server: it imports what drawing needs on the idle core (not SymPy: it is sent plots as plain
numbers and the numpy source lambdify would write, see figures.portable), then waits for one request,
the build's plots, draws them as they arrive (in a fork pool of its own when the build is
parallel) and answers with the PNG bytes, the same bytes as drawn anywhere else.

One request, one answer, then the server exits. `running()` kills and reaps it whatever happens
and removes its matplotlib folder; the kernel kills it (PR_SET_PDEATHSIG) if gen dies. It never
writes to the terminal: a failure is sent back and raised in the build.

This module imports nothing heavy.
"""
from __future__ import annotations

import itertools
import os
import pickle
import shutil
import signal
import struct
import sys
import tempfile
from contextlib import contextmanager

_SERVER: list = []            # the running server of this process, if any


class PlotServer:
    def __init__(self, pid: int, requests: int, answers: int, folder: str | None):
        self.pid = pid
        self.folder = folder            # MPLCONFIGDIR of the server, made and removed here
        self._fds = {"requests": requests, "answers": answers}
        self.used = False

    def warm(self) -> None:
        """Have the server draw a throwaway plot before the build's (figures.warm_drawing): asked
        by a build that makes its problems in this process only, so the server's core is idle
        meanwhile. In a parallel build it would take that time from the workers."""
        if self.used or "requests" not in self._fds:
            return
        try:
            _write_all(self._fds["requests"], _record(b"W", b""))
        except BrokenPipeError:         # the server died; send() and receive() say how
            pass

    def send(self, tasks, jobs: int) -> None:
        """Ask for the plots: each a figures._draw_task argument tuple (portable specs), drawn with
        `jobs` processes. `tasks` may be a generator: each task is sent as it comes, so the server
        starts drawing while the build makes the rest. Returns while they are drawn; receive()
        gives them. A thread of this process reads them as the server sends them, so the
        server never waits on a full pipe while the build does other work."""
        import threading
        if self.used:
            raise RuntimeError("the plot server answers one request")
        self.used = True
        self._answer = {"pngs": [], "failure": None, "error": None, "expected": 0, "cut": False}
        # The thread owns the answers' end of the pipe from here: stop() kills the server, and
        # the thread, at the end of the stream, closes it.
        answers = os.fdopen(self._fds.pop("answers"), "rb")
        self._reader = threading.Thread(target=self._read_answers, args=(answers,), name="gen-plot-answers",
                                        daemon=True)
        self._reader.start()
        fd = self._fds["requests"]
        try:
            _write_all(fd, _record(b"J", pickle.dumps(jobs)))
            for task in tasks:
                _write_all(fd, _record(b"T", pickle.dumps(task, pickle.HIGHEST_PROTOCOL)))
                self._answer["expected"] += 1
            _write_all(fd, _record(b"D", b""))
        except BrokenPipeError:         # the server died; its exit status says how, in receive()
            self._answer["cut"] = True
        finally:
            self._close("requests")

    def _read_answers(self, answers) -> None:
        answer = self._answer
        try:
            with answers:
                while True:
                    kind, payload = _read_record(answers)
                    if kind == b"P":
                        answer["pngs"].append(payload)
                        continue
                    if kind == b"E":
                        answer["failure"] = pickle.loads(payload)
                    break                       # D: all drawn; nothing: the server died
        except Exception as exc:        # an unreadable answer: receive() raises it, as gen's own error
            answer["error"] = exc

    def receive(self) -> list[bytes]:
        """The PNGs asked for by send(), once all are drawn; the server's failure raised here."""
        self._reader.join()
        pngs, failure = self._answer["pngs"], self._answer["failure"]
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        if self._answer["error"] is not None:
            raise self._answer["error"]
        if len(pngs) == self._answer["expected"] and not self._answer["cut"]:
            return pngs
        if failure is None:
            from concurrent.futures.process import BrokenProcessPool
            raise BrokenProcessPool(f"the plot process died ({_describe(status)})")
        if isinstance(failure, BaseException):      # the machine's refusal (a killed worker, a full disk)
            raise failure
        summary, trace = failure
        if "--debug" in sys.argv:
            print(trace, file=sys.stderr)
        raise RuntimeError(f"drawing the plots failed in the plot process: {summary}")

    def _close(self, name: str) -> None:
        fd = self._fds.pop(name, None)
        if fd is not None:
            os.close(fd)

    def stop(self) -> None:
        """Kill the server if it is still there (its drawing workers die with it, PR_SET_PDEATHSIG),
        reap it, and remove the matplotlib folder made for it. SIGKILL, not a signal it handles:
        a handler that raises can land in any callback (a lock's release, a __del__) and print
        a traceback there."""
        for name in list(self._fds):
            self._close(name)
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# Both ways, records: kind, length, payload. The request: W (draw a throwaway plot first) perhaps,
# then J (the number of drawing processes), a T per task, D at its end. The answer: a P per PNG, in
# the tasks' order, then D, or E (a pickled failure) instead.
_HEADER = struct.Struct("<cQ")


def _record(kind: bytes, payload: bytes) -> bytes:
    return _HEADER.pack(kind, len(payload)) + payload


def _read_record(stream) -> tuple[bytes, bytes]:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return b"", b""                              # the end: the server died
    kind, size = _HEADER.unpack(header)
    payload = stream.read(size)
    return (kind, payload) if len(payload) == size else (b"", b"")


def _write_record(stream, kind: bytes, payload: bytes) -> None:
    stream.write(_record(kind, payload))


def _tasks(stream):
    """The request's tasks as they arrive; a request cut short (the build stopped) ends them."""
    while True:
        kind, payload = _read_record(stream)
        if kind != b"T":
            if kind != b"D":
                raise _CutShort()
            return
        yield pickle.loads(payload)


class _CutShort(Exception):
    """The build stopped sending: nobody waits for the answer."""


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status)}"


def available() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1 and "sympy" not in sys.modules


@contextmanager
def running(wanted: bool):
    """Fork the server for the block (when `wanted` and the machine has a core to spare); the
    build finds it with `current()`."""
    if not wanted or not available() or _SERVER:
        yield None
        return
    server = None
    try:
        # A signal between the fork and this block's `finally` would leave the server (and its
        # folder) unowned: held back until then, and delivered here.
        stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
        try:
            server = _start(mask)
            _SERVER.append(server)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        yield server
    finally:
        if server is not None:
            _SERVER.remove(server)
            server.stop()


def current() -> PlotServer | None:
    """The server, if one is running and has not answered yet."""
    return _SERVER[0] if _SERVER and not _SERVER[0].used else None


def _start(mask) -> PlotServer:
    """Fork the server (signals blocked by the caller; the server restores `mask`)."""
    parent = os.getpid()
    # Matplotlib writes a font cache at import; the server's goes in a folder this process makes
    # (figures._private_config leaves a chosen MPLCONFIGDIR alone). The server removes it after
    # its import, and stop() does if the server was killed before.
    folder = None if os.environ.get("MPLCONFIGDIR") else tempfile.mkdtemp(prefix="gen-matplotlib-")
    fds = []
    try:
        fds = [*os.pipe(), *os.pipe()]
        request_r, request_w, answer_r, answer_w = fds
        pid = os.fork()
    except BaseException:
        for fd in fds:
            os.close(fd)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    if pid == 0:                                        # the server
        code = 1
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(request_w)
            os.close(answer_r)
            if folder is not None:
                os.environ["MPLCONFIGDIR"] = folder
            _serve(request_r, answer_w, parent, folder)
            code = 0
        finally:
            os._exit(code)
    os.close(request_r)
    os.close(answer_w)
    return PlotServer(pid, request_w, answer_r, folder)


def _serve(requests: int, answers: int, parent: int, folder: str | None) -> None:
    from .workers import _die_with_parent, imports_uncollected
    _die_with_parent(parent)
    with os.fdopen(answers, "wb") as out:
        try:
            with imports_uncollected():                 # as gen's own imports (cli.build): −0.02 s
                from . import figures
                figures.warm_up(folder)
            if folder is not None:                      # read at import only; gone as soon as it can be
                del os.environ["MPLCONFIGDIR"]
                shutil.rmtree(folder, ignore_errors=True)
            if "sympy" in sys.modules:                  # a plot server without SymPy is the point
                raise RuntimeError("the plot server imported SymPy")
            with os.fdopen(requests, "rb") as stream:
                kind, payload = _read_record(stream)
                warmed = False
                while kind == b"W":                     # while the build is still making its problems
                    if not warmed:
                        figures.warm_drawing()
                        warmed = True
                    kind, payload = _read_record(stream)
                if kind != b"J":                        # the build needed no plots after all
                    return
                jobs = pickle.loads(payload)
                tasks = _tasks(stream)
                head = list(itertools.islice(tasks, 2 if jobs > 1 else 1))
                if len(head) > 1:                       # a pool only for two plots or more
                    from .workers import worker_pool
                    with worker_pool(jobs) as pool:     # its workers fork at the first task
                        drawn = [pool.submit(figures._draw_task, task) for task in itertools.chain(head, tasks)]
                        for png in drawn:
                            _write_record(out, b"P", png.result())
                else:                                   # drawn here, as they come
                    for task in itertools.chain(head, tasks):
                        _write_record(out, b"P", figures._draw_task(task))
            _write_record(out, b"D", b"")
        except (BrokenPipeError, _CutShort):            # the build stopped reading, or sending
            return
        except Exception as exc:                        # sent to the build, which raises it
            _write_record(out, b"E", pickle.dumps(_failure(exc), pickle.HIGHEST_PROTOCOL))


def _failure(exc: Exception):
    """What the build raises: the machine's own refusals as themselves (gen reports those as exit
    2), anything else as (one line, traceback) for an internal error."""
    from concurrent.futures.process import BrokenProcessPool
    if isinstance(exc, (BrokenProcessPool, OSError)):
        try:
            pickle.loads(pickle.dumps(exc))
            return exc
        except Exception:
            pass
    import traceback
    return f"{type(exc).__name__}: {exc}", traceback.format_exc()
