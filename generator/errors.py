"""Errors a user can fix. Each carries where it happened as data and says how to fix it.

Everything here subclasses click.ClickException, so the CLI prints one clean paragraph and exits
with code 2 (usage or data error). Any other exception is a bug of ours (exit code 1).
"""
from __future__ import annotations

import click


class GenError(click.ClickException):
    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 line: int | None = None, fix: str | None = None):
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


class LessonError(GenError):
    """The lesson file is unreadable or invalid."""


class GenerationError(GenError):
    """A problem spec cannot be satisfied (bounded retries ran out)."""


class VerificationError(GenError):
    """An answer failed its independent check: never shipped. This is a bug, not a user mistake."""
    exit_code = 1


class OutputError(GenError):
    """The output folder cannot be written safely."""
