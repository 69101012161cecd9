"""Write a build safely: lock, stage, swap in atomically, and touch only what gen can prove it made.

Proof is a marker file, `.gen-build`, that gen writes into every folder it creates: a token (the
start of the manifest's sha256, so the same build gives the same bytes) and the sha256 of the
folder's manifest.json. A folder is gen's when its marker is intact, its manifest is the one the
marker names, and every file in it is listed in that manifest (with the sha256 gen wrote, for the
output folder itself). So:

- `--out` is replaced only if it is new, empty, or such a folder; a folder holding anything else
  is refused, naming the extra files (`--force` replaces a gen build anyway, never a folder that
  gen did not make at all);
- beside `--out`, gen creates only `.<out>.gen-staging-<token>` (and, where the kernel cannot
  swap two folders atomically, `.<out>.gen-old-<token>`) and removes them before it exits; one
  left by a killed build is removed by the next build only if its marker proves it is gen's;
- the lock is taken on the parent folder itself (flock on its file descriptor), so no lock file
  is left behind.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputError

MARKER = "gen"                 # manifest.json's "generator"
MARKER_FILE = ".gen-build"
MAGIC = "gen build folder v1"
LOCK_WAIT = 60.0               # seconds to wait for another gen writing beside the same --out
SHOW = 5                       # extra files named in a refusal
_RENAME_EXCHANGE = 2
_SCRATCH = re.compile(r"\.(?P<name>.+)\.gen-(?P<kind>staging|old)-(?P<token>[0-9a-f]{32})")


@dataclass(frozen=True)
class Marker:
    token: str
    manifest_sha256: str

    @classmethod
    def of(cls, manifest: bytes) -> "Marker":
        digest = hashlib.sha256(manifest).hexdigest()
        return cls(digest[:32], digest)

    def dump(self) -> bytes:
        return f"{MAGIC}\ntoken {self.token}\nmanifest-sha256 {self.manifest_sha256}\n".encode("ascii")


def read_marker(folder: Path) -> Marker | None:
    """The folder's marker if it is a regular file in gen's format, else None."""
    path = folder / MARKER_FILE
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 1000:
            return None
        lines = path.read_text("ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    fields = dict(line.split(" ", 1) for line in lines[1:] if " " in line)
    token, digest = fields.get("token", ""), fields.get("manifest-sha256", "")
    if lines[:1] != [MAGIC] or not re.fullmatch(r"[0-9a-f]{32}", token) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        return None
    return Marker(token, digest)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _listed(folder: Path, marker: Marker) -> dict[str, str] | None:
    """path → sha256 of the outputs in the folder's manifest, if it is the manifest the marker names."""
    path = folder / "manifest.json"
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != marker.manifest_sha256:
            return None
        return {o["path"]: o["sha256"] for o in outputs_of(data)}
    except (OSError, ValueError, KeyError, TypeError):
        return None


_OUTPUTS_KEY = b'\n "outputs": '


def outputs_of(manifest: bytes) -> list:
    """The "outputs" list of a manifest, without decoding its problem list (34 MB for 10,000
    problems, 0.25 s of json.loads, and a build into an existing --out reads it twice). gen writes
    it with json.dumps(indent=1): the top-level keys are the only lines indented by one space, and
    the list's closing bracket the first such line after its key. Any other layout is decoded whole."""
    start = manifest.find(_OUTPUTS_KEY)
    if start < 0:
        return json.loads(manifest)["outputs"]
    start += len(_OUTPUTS_KEY)
    end = manifest.find(b"\n ]", start)
    part = manifest[start:end + 3] if end >= 0 else manifest[start:]
    return json.JSONDecoder().raw_decode(part.decode("utf-8"))[0]


def unproven(folder: Path, *, hashes: bool) -> list[str] | None:
    """What in `folder` gen cannot prove it wrote ("notes.txt", "extra/", "a.html (changed)");
    None when the folder has no valid marker at all."""
    marker = read_marker(folder)
    if marker is None:
        return None
    listed = _listed(folder, marker)
    if listed is None and hashes:
        return ["manifest.json (changed or missing)"]
    listed = listed or {}
    dirs = {str(Path(p).parent) for p in listed}
    dirs |= {str(parent) for p in dirs for parent in Path(p).parents}
    extra = []
    for root, subdirs, names in os.walk(folder):
        rel_root = Path(root).relative_to(folder)
        for name in sorted(subdirs):
            rel = str(rel_root / name)
            if os.path.islink(os.path.join(root, name)) or rel not in dirs:
                extra.append(rel + "/")
        subdirs[:] = [d for d in subdirs if str(rel_root / d) in dirs and not os.path.islink(os.path.join(root, d))]
        for name in sorted(names):
            rel, path = str(rel_root / name), Path(root) / name
            if rel in (MARKER_FILE, "manifest.json"):
                continue
            if path.is_symlink() or not path.is_file() or rel not in listed:
                extra.append(rel)
            elif hashes and _sha256(path) != listed[rel]:
                extra.append(f"{rel} (changed since gen wrote it)")
    return extra


def _legacy(folder: Path) -> bool:
    """A build by a gen older than the marker: only a manifest says so, which proves little."""
    try:
        return json.loads((folder / "manifest.json").read_text("utf-8")).get("generator") == MARKER
    except (OSError, ValueError, AttributeError):
        return False


# ---------------------------------------------------------------------------------------------
# The output folder

def resolve_out(out) -> Path:
    """--out as a real path: a symlink is followed, so the link keeps pointing at the new build
    and nothing is ever swapped with the link itself."""
    given = Path(out)
    resolved = Path(os.path.realpath(given))
    if resolved.is_symlink():
        raise OutputError(f"--out {given} is a loop of symbolic links.", fix="point --out at a real folder.")
    if resolved.name in ("", ".", "..") or resolved == resolved.parent:
        raise OutputError(f"--out {given} is the root of the file system.", fix="choose a folder for the build.")
    return resolved


def check_target(out: Path, force: bool = False) -> None:
    """Refuse an --out gen must not replace; see the module docstring for the rules."""
    for ancestor in [out, *out.parents]:
        if os.path.lexists(ancestor):
            break
    if ancestor != out:
        if not ancestor.is_dir():
            raise OutputError(f"--out {out} is inside {ancestor}, which is a file, not a folder.",
                              fix="choose a path whose parents are folders.")
        return
    if not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder.", fix="choose a folder path.")
    if not any(out.iterdir()):
        return
    extra = unproven(out, hashes=True)
    if extra is None:
        if force and _legacy(out):
            return
        how = ("it holds a manifest.json but no .gen-build marker (an older gen, or a copied manifest)"
               if _legacy(out) else "it has no .gen-build marker")
        raise OutputError(f"--out {out} exists and was not made by this gen ({how}); refusing to replace it.",
                          fix="choose an empty or new folder" + (", or pass --force to replace this old build."
                                                                 if _legacy(out) else "."))
    if extra and not force:
        named = ", ".join(extra[:SHOW]) + (f" and {len(extra) - SHOW} more" if len(extra) > SHOW else "")
        raise OutputError(f"--out {out} holds {len(extra)} file(s) gen did not write: {named}; replacing the "
                          "folder would delete them.",
                          fix="move them out of the folder, or pass --force to replace it anyway (they are deleted).")


@contextmanager
def locked(out: Path):
    """Hold an exclusive flock on --out's parent folder; waits up to LOCK_WAIT for another gen."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputError(f"another gen build is writing beside {out} right now.",
                                      fix="wait for it to finish, or use a different --out.") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)           # releases the lock


# ---------------------------------------------------------------------------------------------
# Scratch folders beside --out

def _own_scratch(folder: Path, token: str, live: Marker | None) -> bool:
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return False
    except OSError:
        return False
    marker = read_marker(folder)
    if marker is None:
        return False
    # Its own token is in its name, or the live output's is (a build killed right after the swap
    # leaves the previous build under the new build's staging name).
    made_here = marker.token == token or (live is not None and live.token == token)
    return made_here and unproven(folder, hashes=False) == []


def recover(out: Path) -> None:
    """Clean up after a killed build: put a previous build back if only it survived, and remove
    scratch folders that carry gen's proof. Anything else beside --out is left alone."""
    live = read_marker(out) if out.is_dir() else None
    for entry in sorted(out.parent.iterdir()):
        m = _SCRATCH.fullmatch(entry.name)
        if not m or m["name"] != out.name or not _own_scratch(entry, m["token"], live):
            continue
        if m["kind"] == "old" and not os.path.lexists(out) and unproven(entry, hashes=True) == []:
            entry.rename(out)
            live = read_marker(out)
        else:
            remove_scratch(entry)


def remove_scratch(folder: Path) -> None:
    """Delete a folder gen made, its proof last, so a kill half-way leaves it provably gen's."""
    if os.path.islink(folder) or not folder.is_dir():
        if os.path.lexists(folder):
            os.unlink(folder)
        return
    last = (folder / "manifest.json", folder / MARKER_FILE)
    for child in folder.iterdir():
        if child in last:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    for path in last:
        if os.path.lexists(path):
            path.unlink()
    folder.rmdir()


def write_staged(out: Path, files: dict[str, bytes]) -> None:
    """Write every file into a staging folder beside `out` (marker first, then the manifest, then
    the rest), then swap it in."""
    from .workers import signals_deferred
    for rel in files:
        if ".." in Path(rel).parts or Path(rel).is_absolute() or rel == MARKER_FILE:
            raise OutputError(f"refusing to write outside the build folder: {rel}")
    previous = read_marker(out) if out.is_dir() else None
    marker = Marker.of(files["manifest.json"])
    staging = out.parent / f".{out.name}.gen-staging-{marker.token}"
    os.mkdir(staging)
    try:
        fd = os.open(staging / MARKER_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(marker.dump())
            handle.flush()
            os.fsync(handle.fileno())
        for rel in ["manifest.json"] + sorted(r for r in files if r != "manifest.json"):
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(files[rel])
        for root, _, names in os.walk(staging):
            for name in names:
                with open(os.path.join(root, name), "rb") as handle:
                    os.fsync(handle.fileno())
        with signals_deferred():
            swap(staging, out, previous)
    finally:
        if os.path.lexists(staging):
            remove_scratch(staging)      # our half-written build, or the previous one after a swap


def swap(staging: Path, out: Path, previous: Marker | None = None) -> None:
    if os.path.lexists(out) and _exchange(staging, out):
        return                                          # staging now holds the previous build
    if os.path.lexists(out):
        old = out.parent / f".{out.name}.gen-old-{previous.token if previous else secrets.token_hex(16)}"
        out.rename(old)
        staging.rename(out)
        remove_scratch(old)
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
    code = ctypes.get_errno()
    raise OSError(code, os.strerror(code), str(b))
