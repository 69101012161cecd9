"""Worker processes that die with gen.

Every pool gen starts comes from `worker_pool`. A killed build must not leave workers behind:
they would keep running and hold the caller's stdout/stderr open, so a CI step waiting for the
output would hang too. Three layers:

- the kernel: each worker asks Linux (prctl PR_SET_PDEATHSIG) for SIGKILL when its parent dies,
  which covers SIGKILL of the parent and any crash;
- the parent: on SIGTERM/SIGINT/SIGHUP the CLI raises an exception (see `stop_on_signals`), and
  leaving `worker_pool` on an exception terminates and reaps the workers; a worker that dies
  under it is reported (BrokenProcessPool), never waited for, even one that dies halfway through
  sending its result (see `_Watch`);
- the workers ignore SIGINT (a Ctrl-C reaches the whole process group; the parent decides) and
  keep the default SIGTERM, which is how the pool stops them.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from contextlib import contextmanager

PR_SET_PDEATHSIG = 1
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


class Stopped(BaseException):
    """gen was asked to stop by a signal. A BaseException, like KeyboardInterrupt, so no
    `except Exception` on the way up swallows it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.signum, 128 + self.signum)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:          # the parent died before prctl took effect
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


_BACKGROUND: list = []          # threads started by in_background, until joined


def in_background(fn, name: str) -> None:
    """Run `fn` in a thread of this process (not a daemon: gen's exit waits for it, so its
    clean-up runs). Every fork waits for it first: a fork while it holds a lock (the import
    system's) would copy the lock, held, into the child."""
    import threading
    thread = threading.Thread(target=fn, name=name)
    _BACKGROUND.append(thread)
    thread.start()


def join_background() -> None:
    """Wait for the threads of in_background (except the calling one)."""
    import threading
    for thread in list(_BACKGROUND):
        if thread is not threading.current_thread():
            thread.join()
            _BACKGROUND.remove(thread)


@contextmanager
def few_collections():
    """A build allocates millions of small objects and frees few: modules as it imports them,
    SymPy trees, strings, entries that live to the end. With Python's default thresholds the
    cyclic collector runs every 700 allocations and rescans everything that lived (5–8 % of a
    build, more the larger it is). Collect rarely while this lasts;
    nothing in gen depends on prompt collection of cycles."""
    import gc
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def imports_uncollected():
    """gen's imports (~0.3 s of SymPy, pydantic and the rest) with no cyclic collection, their
    objects then frozen (gc.freeze): nearly all live to the end, so a collection could only scan
    them, and even one every 50,000 allocations scans each once (~0.02 s a build). Merely
    disabling the collector would leave them all young, for the first collection after. The
    cyclic garbage the imports leave is frozen with them and never freed: ~0.3 MiB in gen,
    ~0.8 MiB in the plot server.
    Nothing happens where they are imported already (a second build in one process, the tests):
    freezing there would keep whatever garbage awaits collection for good."""
    import gc
    if "generator.pipeline" in sys.modules:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@contextmanager
def worker_pool(jobs: int):
    """A fork pool of `jobs` workers (a ProcessPoolExecutor: unlike multiprocessing.Pool it
    reports a worker killed from outside, e.g. by the out-of-memory killer, instead of waiting
    for it forever; `_Watch` covers the cases where it would wait). Left on an exception, its
    workers are killed and reaped at once."""
    import gc
    join_background()
    # Objects the workers inherit stay out of their collections: a collection would write to
    # every inherited object and so copy every page of the parent's heap into each worker.
    gc.freeze()
    pool = _watched_pool(jobs)
    finished = False
    try:
        yield pool
        # shutdown(wait=True), but with the watch kept on until the manager thread has joined the
        # workers; the result pipe is closed below, as shutdown(wait=True) would close it.
        manager = pool._executor_manager_thread
        pool.shutdown(wait=False)
        if manager is not None:
            manager.join()
        finished = True
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)   # no public way to stop running tasks
        for process in pool.watch.processes:
            process.terminate()
        for process in pool.watch.processes:
            process.join()
        raise
    finally:
        try:
            pool.watch.stop()
        finally:
            # After an exception the pool's manager thread may still read the pipe: only this
            # process's write end is closed then, which ends a read a dead worker left unfinished.
            pool.watch.close_result_pipe(reader_too=finished)
            gc.unfreeze()


def _watched_pool(jobs: int):
    from concurrent.futures import ProcessPoolExecutor

    class WatchedPool(ProcessPoolExecutor):
        """Starts its watch once its workers are forked (at the first task, with its own
        thread: none may run while the workers fork)."""

        def __init__(self):
            super().__init__(jobs, mp_context=multiprocessing.get_context("fork"),
                             initializer=_die_with_parent, initargs=(os.getpid(),))
            self.watch = _Watch(self._result_queue)

        def _start_executor_manager_thread(self):
            first = self._executor_manager_thread is None
            super()._start_executor_manager_thread()
            if first:
                self.watch.start(list(self._processes.values()))

    return WatchedPool()


class _Watch:
    """Watches a pool's workers from a thread, from their fork to the end of the pool's shutdown.

    CPython's pool can miss a worker's death, and then waits for it forever:
    - its manager thread reads a result message whole, from a pipe whose write end this process
      holds too: a worker killed halfway through writing one (the out-of-memory killer's SIGKILL
      can land there) leaves that read without an end;
    - a death seen together with a wakeup (each task sent, and the shutdown, wakes the manager)
      is taken for the wakeup alone; an idle worker waits for its next task holding the task
      queue's lock, so when it dies so, the others can never take a task, not even the shutdown's,
      and the shutdown waits for them.
    Both hung builds (tests/test_hardening.py's worker-kill case, and kills during rendering: 1 in
    20 to 40 repeats). When a worker dies other than by a normal exit, this stops the others and
    closes this process's end of the result pipe: the read ends, the pool reports itself broken
    (or, in its shutdown, has no worker left to wait for), and `worker_pool` winds it down as for
    any death."""

    def __init__(self, results):
        import threading
        self._results = results             # the pool's result queue (a SimpleQueue: two ends)
        self._lock = threading.Lock()       # each end is closed by one thread, once
        self.processes: list = []
        self._thread = None
        self._stop_r = self._stop_w = None

    def start(self, processes) -> None:
        import threading
        self.processes = processes
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="gen-watch-workers", daemon=True)
        self._thread.start()

    def close_result_pipe(self, reader_too: bool = False) -> None:
        with self._lock:
            ends = (self._results._writer, self._results._reader) if reader_too else (self._results._writer,)
            for end in ends:
                if not end.closed:
                    end.close()

    def stop(self) -> None:
        if self._thread is None:
            return
        os.write(self._stop_w, b"x")
        self._thread.join()
        self._thread = None
        os.close(self._stop_r)
        os.close(self._stop_w)

    def _run(self) -> None:
        import time
        from multiprocessing.connection import wait
        watched = list(self.processes)
        while watched:
            ready = wait([self._stop_r, *(p.sentinel for p in watched)])
            if self._stop_r in ready:
                return
            # A sentinel reports the exit before the process can be reaped, and the pool's thread
            # may be reaping it meanwhile (then exitcode is None for a moment): ask again shortly.
            gone = [p for p in watched if p.sentinel in ready]
            codes = [p.exitcode for p in gone]
            if any(code not in (0, None) for code in codes):
                # (A pid the pool's thread reaped a moment ago could in principle be reused by
                # then; terminate() skips a process whose exit it has seen.)
                for process in watched:
                    process.terminate()
                self.close_result_pipe()
                return
            exited = [p for p, code in zip(gone, codes) if code == 0]    # asked to exit
            watched = [p for p in watched if p not in exited]
            if None in codes:
                time.sleep(0.01)


_PENDING: list[int] = []       # signals received; see check_stop


def check_stop() -> None:
    """Raise `Stopped` if a signal arrived. Python runs a signal handler wherever the main thread
    is; if that is inside a `__del__` or a GC callback, the exception it raises is printed and
    dropped. The build calls this between units of work, so such a signal still stops it."""
    if _PENDING:
        raise Stopped(_PENDING[0])


@contextmanager
def stop_on_signals(signals=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP)):
    """Turn these signals into `Stopped` in the main thread, so every `finally` runs (pools are
    terminated, staging folders removed) before gen exits."""
    owner = os.getpid()

    def handler(signum, frame):
        if os.getpid() != owner:
            # A worker forked a moment ago, before _die_with_parent reset its handlers: it takes
            # the signal's default action (the pool's SIGTERM ends it) instead of raising Stopped
            # inside multiprocessing, which would print a traceback on gen's stderr.
            signal.signal(signum, signal.SIG_IGN if signum == signal.SIGINT else signal.SIG_DFL)
            if signum != signal.SIGINT:
                os.kill(os.getpid(), signum)
            return
        _PENDING.append(signum)
        raise Stopped(signum)
    # A signal the caller chose to ignore stays ignored (`nohup gen build` must survive a hangup).
    _PENDING.clear()
    previous = {s: signal.signal(s, handler) for s in signals if signal.getsignal(s) is not signal.SIG_IGN}
    try:
        yield
        check_stop()       # a signal whose exception was dropped after the last checkpoint
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        _PENDING.clear()


@contextmanager
def signals_deferred(signals=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP)):
    """Hold these signals back for a few system calls that must not be split (the swap of the
    new build into place); they are delivered when the block ends."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
