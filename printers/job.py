"""A print job as the streamer sees it: raw G-code lines with progress, layer and modal state.

:class:`JobSource` is the iterator the streamer pulls from (on the I/O thread).  While it hands
out lines it counts them, follows ``;LAYER_CHANGE`` / ``;LAYER:n`` / ``M73`` markers and keeps
the modal state (absolute/relative XYZ and E, feedrate) that a resume must restore (P30).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gcode.framing import clean_command, command_code, word_values
from printers.profiles import PrinterProfile
from printers.responses import Position

__all__ = ["JobSource", "ModalState", "count_lines", "fill_script", "open_job", "resume_lines"]


_MODE_CODES = ("G90", "G91", "M82", "M83")


@dataclass(slots=True)
class ModalState:
    """Modes a resume restores: G90/G91, M82/M83 and the last feedrate in mm/min.

    ``follow`` runs for every streamed line, so it only remembers the last command with an
    ``F`` word; the number is read when a pause asks for it.
    """

    absolute_xyz: bool = True
    absolute_e: bool = True
    last_feed_command: str = ""

    @property
    def feedrate_mm_min(self) -> float | None:
        return word_values(self.last_feed_command).get("F") or None

    def follow(self, command: str) -> None:
        if "F" in command and command[:2] in ("G0", "G1", "G2", "G3"):
            self.last_feed_command = command
        elif command.startswith(_MODE_CODES):
            code = command_code(command)
            if code in ("G90", "G91"):
                self.absolute_xyz = self.absolute_e = code == "G90"
            elif code in ("M82", "M83"):
                self.absolute_e = code == "M82"


class JobSource:
    """Iterates the raw lines of a job and tracks where the job is (read by the loop)."""

    def __init__(self, lines: Iterable[str], total_lines: int | None) -> None:
        self._lines = iter(lines)
        self.total_lines = total_lines
        self.lines_read = 0
        self.layer: int | None = None
        self.remaining_s_hint: float | None = None
        self.modal = ModalState()

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = next(self._lines)
        self.lines_read += 1
        if raw.startswith(";"):
            self._comment(raw)
            return raw
        command = clean_command(raw)
        if command:
            self.modal.follow(command)
            if command.startswith("M73"):
                self._m73(command)
        return raw

    def _comment(self, raw: str) -> None:
        if raw.startswith(";LAYER_CHANGE"):
            self.layer = 0 if self.layer is None else self.layer + 1
        elif raw.startswith(";LAYER:"):
            value = raw[7:].strip()
            if value.lstrip("-").isdigit():
                self.layer = int(value)

    def _m73(self, command: str) -> None:
        remaining_min = word_values(command).get("R")
        if remaining_min is not None:
            self.remaining_s_hint = remaining_min * 60.0


def count_lines(path: Path) -> int:
    """Number of lines in a file, counted in blocks (fast for large G-code)."""
    count = 0
    last = b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (0 if last == b"\n" else 1)


def _file_lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        yield from handle


def open_job(lines: Iterable[str] | str | Path, total_lines: int | None) -> JobSource:
    """A :class:`JobSource` for a path, G-code text (holding newlines) or an iterable of lines."""
    if isinstance(lines, str) and "\n" in lines:
        text_lines = lines.splitlines()
        return JobSource(text_lines, total_lines or len(text_lines))
    if isinstance(lines, str | Path):
        path = Path(lines)
        if not path.is_file():
            raise FileNotFoundError(f"no such G-code file: {path}")
        return JobSource(_file_lines(path), total_lines or count_lines(path))
    if total_lines is None and isinstance(lines, list | tuple):
        total_lines = len(lines)
    return JobSource(lines, total_lines)


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill_script(template: str, profile: PrinterProfile) -> list[str]:
    """The profile script's commands with ``{bed_y_mm}``-style placeholders filled."""
    values = _Keep({k: f"{v:g}" if isinstance(v, float) else v for k, v in profile})
    text = string.Formatter().vformat(template, (), values)
    return [command for command in map(clean_command, text.splitlines()) if command]


def resume_lines(position: Position | None, modal: ModalState) -> list[str]:
    """Restore position, E, modes and feedrate after a pause (P30, Printrun's order).

    Without a position (the firmware did not answer M114) only modes and feedrate.
    """
    lines = ["G90", "M82"]
    if position is not None:
        lines = [
            "G90",
            f"G1 X{position.x_mm:.3f} Y{position.y_mm:.3f} F6000",
            f"G1 Z{position.z_mm:.3f} F600",
            "M82",
            f"G92 E{position.e_mm:.5f}",
        ]
    if not modal.absolute_xyz:
        lines.append("G91")
    if not modal.absolute_e:
        lines.append("M83")
    if modal.feedrate_mm_min:
        lines.append(f"G1 F{modal.feedrate_mm_min:g}")
    return lines
