"""Write a build safely: lock, stage, swap in atomically, never touch a folder that is not ours.

A build folder is ours when it holds a manifest.json whose "generator" is "gen". Anything else
that already exists and is not empty is refused, so `gen build --out ~` cannot wipe a home folder.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError

MARKER = "gen"
_RENAME_EXCHANGE = 2


def is_ours(folder: Path) -> bool:
    try:
        return json.loads((folder / "manifest.json").read_text("utf-8")).get("generator") == MARKER
    except (OSError, ValueError, AttributeError):
        return False


def check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder.", fix="choose a folder path.")
    if out.is_dir() and any(out.iterdir()) and not is_ours(out):
        raise OutputError(f"--out {out} exists and was not made by gen (it has no gen manifest.json); "
                          "refusing to replace it.", fix="choose an empty or new folder.")


@contextmanager
def locked(out: Path):
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out.parent / f".{out.name}.lock"
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise OutputError(f"another gen build is writing {out} right now.",
                              fix="wait for it to finish, or use a different --out.") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def recover(out: Path) -> None:
    """If an earlier build was killed between two renames, put the previous output back."""
    for old in sorted(out.parent.glob(f".{out.name}.old-*")):
        if not out.exists() and is_ours(old):
            old.rename(out)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for stale in out.parent.glob(f".{out.name}.staging-*"):
        shutil.rmtree(stale, ignore_errors=True)


def write_staged(out: Path, files: dict[str, bytes]) -> None:
    """Write every file into a staging folder beside `out`, then swap it in."""
    staging = out.parent / f".{out.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for rel in sorted(files):
            path = staging / rel
            if ".." in Path(rel).parts or Path(rel).is_absolute():
                raise OutputError(f"refusing to write outside the build folder: {rel}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(files[rel])
        for root, _, names in os.walk(staging):
            for name in names:
                with open(os.path.join(root, name), "rb") as handle:
                    os.fsync(handle.fileno())
        swap(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def swap(staging: Path, out: Path) -> None:
    if out.exists() and _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)   # now holds the previous build
        return
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two folders (Linux renameat2); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD = -100
    if fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS, errno.EXDEV):
        return False
    raise OutputError(f"cannot swap the new build into {b}: {os.strerror(ctypes.get_errno())}")
