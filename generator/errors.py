"""Errors a user can fix. Each carries where it happened as data and says how to fix it.

Everything here subclasses click.ClickException, so the CLI prints one clean paragraph and exits
with code 2 (usage, data or environment error). Any other exception is a bug of ours (exit code 1).

Messages echo lesson text (keys, family names, file names), so every piece is escaped: a lesson
file must not be able to send terminal control sequences to whoever validates it.
"""
from __future__ import annotations

import errno
import re

import click

# C0/C1 controls (ESC starts terminal sequences, CSI is U+009B), DEL, and the invisible
# direction overrides that can make a message read differently from what it says.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def printable(text) -> str:
    """`text` with every control character written as a visible escape (\\x1b, \\u202e, \\n)."""
    def escape(match):
        code = ord(match.group())
        return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(match.group(), f"\\x{code:02x}" if code < 256
                                                             else f"\\u{code:04x}")
    return _UNSAFE.sub(escape, str(text))


class GenError(click.ClickException):
    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 line: int | None = None, fix: str | None = None):
        message = printable(message)
        file = None if file is None else printable(file)
        field = None if field is None else printable(field)
        fix = None if fix is None else printable(fix)
        self.file, self.field, self.line, self.fix = file, field, line, fix
        where = []
        if file:
            where.append(f"{file}" + (f", line {line}" if line else ""))
        if field:
            where.append(f"field '{field}'")
        text = (": ".join([" ".join(where[:1]) + (f" ({where[1]})" if len(where) > 1 else "")])
                + ": " if where else "") + message
        if fix:
            text += f" Fix: {fix}"
        super().__init__(text)
        self.bare_message = message

    def __reduce__(self):
        # Errors raised in worker processes are pickled back to the parent: keep the location.
        return (_rebuild, (type(self), self.bare_message, self.file, self.field, self.line, self.fix))

    def located(self, *, file: str | None = None, prefix: str | None = None) -> "GenError":
        """The same error with the lesson file and the path of the spec it concerns filled in."""
        field = self.field
        if prefix:
            field = prefix + ("." + field if field else "")
        return type(self)(self.bare_message, file=file or self.file, field=field, line=self.line, fix=self.fix)


def _rebuild(cls, message, file, field, line, fix):
    return cls(message, file=file, field=field, line=line, fix=fix)


class LessonError(GenError):
    """The lesson file is unreadable or invalid."""


class GenerationError(GenError):
    """A problem spec cannot be satisfied (bounded retries ran out, or its fixed values are unusable)."""


class VerificationError(GenError):
    """An answer failed its independent check: never shipped. This is a bug, not a user mistake."""
    exit_code = 1


class OutputError(GenError):
    """The output folder cannot be written safely."""


class EnvironmentProblem(GenError):
    """The file system or the environment refused: a full or read-only disk, a missing permission."""


# errno → (what happened, how to fix it). Only conditions of the machine, never of gen's own code.
_OS_ERRORS = {
    errno.ENOSPC: ("the disk is full", "free some space or choose --out on another disk."),
    errno.EDQUOT: ("the disk quota is exhausted", "free some space or choose --out on another disk."),
    errno.EROFS: ("the file system is read-only", "choose an --out folder on a writable disk."),
    errno.EACCES: ("permission denied", "choose a folder you may write to, or fix its permissions."),
    errno.EPERM: ("the operation is not permitted", "choose a folder you may write to, or fix its permissions."),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "choose a path whose parents are folders."),
    errno.ENAMETOOLONG: ("the path is too long", "choose a shorter path."),
    errno.ELOOP: ("the path has too many symbolic links (or a loop of them)", "resolve the links by hand."),
    errno.EMFILE: ("too many files are open", "raise the open-files limit (ulimit -n) or use fewer --jobs."),
    errno.ENFILE: ("the system has too many files open", "close some programs and retry."),
    errno.EIO: ("the disk reported an input/output error", "check the disk or network share, then retry."),
    errno.EBUSY: ("it is busy (in use by another program or a mount point)", "choose another --out."),
}


def environment_error(exc: BaseException) -> GenError | None:
    """One place that turns the machine's refusals (the file system's, a worker killed from
    outside) into exit-2 messages; None if it is not one."""
    from concurrent.futures.process import BrokenProcessPool
    if isinstance(exc, BrokenProcessPool):
        return EnvironmentProblem("a worker process died while building (killed from outside, often by the "
                                  "out-of-memory killer).", fix="free some memory or use fewer --jobs, and retry.")
    if not isinstance(exc, OSError) or exc.errno not in _OS_ERRORS:
        return None
    what, fix = _OS_ERRORS[exc.errno]
    target = " and ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    return EnvironmentProblem(f"cannot use {target or 'a file'}: {what} ({exc.strerror or exc}).", fix=fix)
