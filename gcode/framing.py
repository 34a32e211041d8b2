"""Serial line framing for Marlin-class firmware: ``N<n> <cmd>*<checksum>`` (rules P1–P7).

The host frames every job line with a line number and an XOR checksum; the firmware (and our
virtual printer) parses the frame back and checks both.  Everything here is pure text in, text
out; nothing does I/O.

    >>> frame(1, "M115")
    'N1 M115*39'
    >>> reset_line(0)
    'N0 M110 N0*125'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "FramedLine",
    "FramingError",
    "checksum",
    "clean_command",
    "command_code",
    "frame",
    "parse_frame",
    "reset_line",
    "word_values",
]


class FramingError(ValueError):
    """A framed line that cannot be parsed (no checksum, bad number, ...)."""


@dataclass(frozen=True, slots=True)
class FramedLine:
    """One received line split into its parts.

    ``number`` and ``checksum`` are None for an unnumbered line.  ``checksum_ok`` is True when
    the XOR of everything before ``*`` equals ``checksum`` (and for unnumbered lines).
    """

    number: int | None
    command: str
    checksum: int | None
    checksum_ok: bool


_NUMBER_RE = re.compile(r"N(-?\d+)\s*")
_WORD_RE = re.compile(r"([A-Z])\s*([-+]?(?:\d+\.?\d*|\.\d+))")


def checksum(text: str) -> int:
    """XOR of every byte of ``text`` (P2), 0..255."""
    value = 0
    for byte in text.encode("ascii", "replace"):
        value ^= byte
    return value


def clean_command(line: str) -> str:
    """Strip a ``;`` comment and surrounding whitespace (P1); '' for a comment-only line.

    A ``*`` inside a comment goes with the comment, so it can never be taken for a checksum.
    """
    cut = line.find(";")
    if cut >= 0:
        line = line[:cut]
    return line.strip()


def frame(number: int, command: str) -> str:
    """``N<number> <command>*<cs>`` with the XOR checksum of everything before ``*`` (P2).

    ``command`` must already be clean (see :func:`clean_command`); an empty command or one
    holding ``*`` or a newline is a :class:`FramingError`.
    """
    if not command or "*" in command or "\n" in command or "\r" in command:
        raise FramingError(f"cannot frame command {command!r}")
    body = f"N{number} {command}"
    return f"{body}*{checksum(body)}"


def reset_line(last_number: int = 0) -> str:
    """The M110 line that makes ``last_number`` the last line number (P6): next is +1."""
    return frame(last_number, f"M110 N{last_number}")


def parse_frame(line: str) -> FramedLine:
    """Split a received line into number, command and checksum (the firmware side of P2).

    Unnumbered lines come back with ``number=None``.  A numbered line without ``*`` has
    ``checksum=None`` and ``checksum_ok=False``.
    """
    text = line.strip()
    if not text.startswith("N"):
        return FramedLine(None, text, None, True)
    star = text.rfind("*")
    body = text if star < 0 else text[:star]
    match = _NUMBER_RE.match(body)
    if match is None:
        raise FramingError(f"malformed line number in {text!r}")
    number = int(match.group(1))
    command = body[match.end() :].strip()
    if star < 0:
        return FramedLine(number, command, None, False)
    received_text = text[star + 1 :]
    if not received_text.isdigit():
        return FramedLine(number, command, None, False)
    received = int(received_text)
    return FramedLine(number, command, received, checksum(body) == received)


def command_code(command: str) -> str:
    """The command word in upper case, e.g. ``"G1"`` for ``"g1 x10"``; '' if none."""
    head = command.split(maxsplit=1)[0] if command.strip() else ""
    return head.upper()


def word_values(command: str) -> dict[str, float]:
    """Numeric parameters of a command after its code: ``"G1 X10 F600"`` -> X and F.

    Letters are upper-cased; a letter without a number is skipped.
    """
    parts = command.split(maxsplit=1)
    if len(parts) < 2:
        return {}
    return {letter: float(value) for letter, value in _WORD_RE.findall(parts[1].upper())}
