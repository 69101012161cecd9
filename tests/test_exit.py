"""gen leaves without interpreter teardown (cli.leave), but still does what an exit must do."""
from __future__ import annotations

import subprocess
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

