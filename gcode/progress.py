"""Host-side progress: insert ``M73 P<percent> R<minutes left>`` lines.

One M73 goes before the first command, one after each layer change marker
(PrusaSlicer/Orca/SuperSlicer/slicefarm ``;LAYER_CHANGE``, Cura and ideaMaker
``;LAYER:<n>``, Simplify3D ``; layer <n>, Z = ``, KISSlicer ``; BEGIN_LAYER``) and
``M73 P100 R0`` after the last command.  A file without markers gets one before
the first extrusion of every new layer height.  Times come from
:func:`gcode.estimate.estimate`.
"""

from __future__ import annotations

import math
import re

import numpy as np

from gcode.estimate import Estimate, estimate_parsed
from gcode.motion import Moves, resolve_moves
from gcode.parse import parse
from printers.profiles import MachineLimits

# Markers start their line; the pattern starts with a literal so the search is fast,
# and marker_lines keeps only the matches at the start of a line.
LAYER_MARKER_RE = re.compile(r";(?:LAYER_CHANGE\b|LAYER:-?\d+| ?layer \d+, Z = | ?BEGIN_LAYER)")
_M73_RE = re.compile(r"^\s*M73\b", re.MULTILINE | re.IGNORECASE)


def m73_line(elapsed_s: float, total_s: float) -> str:
    """``M73 P<percent> R<minutes>``: percent done (floor), whole minutes left (rounded)."""
    if total_s <= 0:
        return "M73 P100 R0"
    percent = min(100, max(0, math.floor(100.0 * elapsed_s / total_s + 1e-9)))
    remaining_min = max(0, round((total_s - elapsed_s) / 60.0))
    return f"M73 P{percent} R{remaining_min}"


def has_m73(text: str) -> bool:
    """Whether the text already carries M73 progress lines."""
    if "M73" not in text and "m73" not in text:
        return False
    return _M73_RE.search(text) is not None


def marker_lines(text: str, pattern: re.Pattern[str]) -> np.ndarray:
    """(k,) int64 0-based line numbers where ``pattern`` matches at the start of a line."""
    rows: list[int] = []
    line = 0
    pos = 0
    for match in pattern.finditer(text):
        start = match.start()
        if start and text[start - 1] != "\n":
            continue
        line += text.count("\n", pos, start)
        pos = start
        rows.append(line)
    return np.asarray(rows, np.int64)


def layer_marker_lines(text: str) -> np.ndarray:
    """(k,) int64 0-based line numbers of layer change markers."""
    return marker_lines(text, LAYER_MARKER_RE)


def add_m73(
    text: str, limits: MachineLimits, *, replace_existing: bool = False
) -> tuple[str, Estimate]:
    """Insert M73 progress lines; returns the new text and the estimate of the input.

    A text that already has M73 lines is returned unchanged unless
    ``replace_existing``, which drops the old lines first.  Lines end as the
    file's own lines do (``\n`` or ``\r\n``).
    """
    if has_m73(text):
        if not replace_existing:
            return text, estimate_parsed(parse(text), limits)
        text = "\n".join(line for line in text.split("\n") if not _M73_RE.match(line))
    parsed = parse(text)
    moves, _ = resolve_moves(parsed)
    est = estimate_parsed(parsed, limits, moves)
    command_rows = np.flatnonzero(parsed.cmd_letter)
    if not len(command_rows):
        return text, est
    inserts = _progress_lines(est, moves, text, int(command_rows[0]), int(command_rows[-1]))
    eol = "\r\n" if "\r\n" in text[:4096] else "\n"
    rows = text.split("\n")  # the parser's rows: only \n ends a line
    out: list[str] = []
    for row, line in enumerate(rows):
        if row in inserts:
            out.append(inserts[row] + eol)
        out.append(line if row == len(rows) - 1 else line + "\n")
    if rows[-1]:
        out.append(eol)  # a last line without a line end gets one
    if len(rows) in inserts:
        out.append(inserts[len(rows)] + eol)
    return "".join(out), est


def _progress_lines(
    est: Estimate, moves: Moves, text: str, first: int, last: int
) -> dict[int, str]:
    """M73 lines by the 0-based row they go before: start, layer starts, end."""
    total = est.total_s
    inserts = {first: m73_line(0.0, total)}
    previous = inserts[first]
    markers = layer_marker_lines(text)
    # after a marker line, or before the first extrusion of a layer
    before_rows = markers + 1 if len(markers) else moves.layer_start_lines()
    for row in before_rows.tolist():
        line = m73_line(est.elapsed_at(row - 1), total)
        if first < row <= last and line != previous:
            inserts[row] = previous = line
    inserts[last + 1] = m73_line(total, total)
    return inserts
