"""Errors of the G-code toolkit.

Every error says what was wrong and where: the file (when known) and the 1-based
line number (when known).
"""

from __future__ import annotations

from pathlib import Path


class GcodeError(Exception):
    """Base of the G-code toolkit's errors; carries the file and line where known."""

    def __init__(self, message: str, *, line: int | None = None, path: str | Path | None = None):
        self.message = message
        self.line = line
        self.path = str(path) if path is not None else None
        where = ""
        if self.path is not None:
            where = self.path + (f":{line}" if line is not None else "") + ": "
        elif line is not None:
            where = f"line {line}: "
        super().__init__(where + message)


class NotGcodeError(GcodeError):
    """The input is not G-code (binary data, or text without any G-code command)."""
