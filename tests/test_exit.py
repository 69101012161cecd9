"""gen leaves without interpreter teardown (cli.leave), but still does what an exit must do."""
from __future__ import annotations

import subprocess
import time
import sys

import pytest

PROGRAM = """
import atexit, sys, tempfile, threading, time, weakref
from pathlib import Path
from generator.cli import leave

folder = tempfile.TemporaryDirectory()                    # cleaned up by a weakref finaliser at exit
Path(sys.argv[2]).write_text(folder.name)
atexit.register(lambda: print("atexit ran"))
threading.Thread(target=lambda: (time.sleep(0.2), print("thread finished"))).start()
sys.stdout.write("buffered ")                          # not flushed yet
sys.stderr.write("to stderr ")
leave(eval(sys.argv[1]))
print("never printed")
"""


@pytest.mark.parametrize("code, status", [("3", 3), ("None", 0), ("0", 0), ("'a message'", 1)])
def test_leave_joins_threads_runs_atexit_flushes_and_exits_with_the_code(tmp_path, code, status):
    record = tmp_path / "folder.txt"
    run = subprocess.run([sys.executable, "-c", PROGRAM, code, str(record)], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == status
    assert run.stdout.startswith("buffered ")
    assert "thread finished" in run.stdout and "atexit ran" in run.stdout and "never printed" not in run.stdout
    assert run.stderr.startswith("to stderr ")
    if status == 1:
        assert "a message" in run.stderr
    from pathlib import Path
    assert not Path(record.read_text()).exists()          # the temporary folder was removed



PARTIAL_RESULT = '''
import os, struct, threading, time
from generator.workers import worker_pool
POOL = []


def partial(_):
    # A worker stopped in the middle of sending its result: the header promises 1 MiB, then nothing.
    writer = POOL[0]._result_queue._writer
    os.write(writer.fileno(), struct.pack("!i", 1 << 20))
    time.sleep(60)


try:
    with worker_pool(1) as pool:
        POOL.append(pool)
        pool.submit(partial, 0)
        time.sleep(1.0)                 # the pool's manager thread now reads the promised rest
        raise RuntimeError("stop")      # as a signal does (workers.Stopped)
except RuntimeError:
    pass
for thread in threading.enumerate():
    if thread is not threading.main_thread():
        thread.join(10)
print("alive", [t.name for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive()])
os._exit(0)
'''


def test_a_pool_left_while_a_worker_was_sending_its_result_lets_its_threads_end():
    """Found by stopping builds at random moments: a worker terminated while it wrote a result left
    the pool's manager thread reading the rest of that message forever (this process holds the
    pipe's other end), and gen's exit, which joins the threads, hung with it."""
    run = subprocess.run([sys.executable, "-c", PARTIAL_RESULT], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "alive []", run.stdout
    assert "Traceback" not in run.stderr


def test_leave_waits_for_a_stuck_thread_only_so_long(tmp_path):
    code = (
        "import threading, time\n"
        "import generator.cli as cli\n"
        "cli.THREADS_GRACE = 0.5\n"
        "threading.Thread(target=time.sleep, args=(60,)).start()\n"
        "cli.leave(3)\n")
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 3 and time.monotonic() - start < 20, run.stderr
