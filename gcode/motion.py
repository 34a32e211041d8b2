"""Modal state of a parsed G-code program, turned into arrays of straight moves.

Positions are logical coordinates (what the file says, after ``G92``), in mm.
Modal state is resolved without a Python loop over lines: absolute/relative
mode and units are forward-filled, and each axis position is "last absolute
value + sum of relative steps since" (a cumulative sum with resets).  Arcs
(``G2``/``G3``, I/J centre or R radius) become chords of at most
``ARC_SEGMENT_MM``, as Marlin cuts them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gcode.parse import ParsedGcode

INCH_MM = 25.4
ARC_SEGMENT_MM = 1.0
DEFAULT_FEEDRATE_MM_MIN = 1500.0
HOMING_FEEDRATE_MM_S = 50.0  # Marlin's default XY homing speed
AXES = "XYZE"


@dataclass(frozen=True, eq=False)
class Moves:
    """Straight moves in file order (arcs already cut into chords).

    line   : (n,) int64, 0-based source line of each move
    start  : (n, 4) float64, X Y Z E logical position before the move, mm
    end    : (n, 4) float64, X Y Z E logical position after the move, mm
    feedrate_mm_s : (n,) float64, commanded feedrate
    """

    line: np.ndarray
    start: np.ndarray
    end: np.ndarray
    feedrate_mm_s: np.ndarray

    @property
    def delta(self) -> np.ndarray:
        """(n, 4) float64 X Y Z E displacement of each move, mm."""
        return self.end - self.start

    def __len__(self) -> int:
        return len(self.line)

    def extruding(self) -> np.ndarray:
        """(n,) bool: moves that extrude while moving in XY."""
        delta = self.delta
        return (delta[:, 3] > 0) & ((delta[:, 0] != 0) | (delta[:, 1] != 0))

    def layer_start_lines(self) -> np.ndarray:
        """(k,) int64 0-based lines of the first extrusion above every earlier one (new layers)."""
        ext = self.extruding()
        z = self.end[ext, 2]
        lines = self.line[ext]
        if not len(z):
            return np.zeros(0, np.int64)
        below = np.concatenate([[-np.inf], np.maximum.accumulate(z)[:-1]])
        return lines[z > below + 1e-6]


def ffill_mode(n: int, set_rows: list[tuple[np.ndarray, bool]], initial: bool) -> np.ndarray:
    """(n,) bool modal flag: each (rows, value) pair sets the flag from those rows on.

    The row sets must not overlap (one command per line); the latest row wins.
    """
    value = np.full(n + 1, -1, np.int8)
    value[0] = int(initial)
    for rows, flag in set_rows:
        value[rows + 1] = int(flag)
    idx = np.where(value >= 0, np.arange(n + 1), 0)
    np.maximum.accumulate(idx, out=idx)
    return value[idx][1:].astype(bool)


def ffill(values: np.ndarray, initial: float) -> np.ndarray:
    """(n,) float64: NaN entries take the last non-NaN value before them (``initial`` at first)."""
    filled = np.concatenate([[initial], values])
    idx = np.where(np.isnan(filled), 0, np.arange(len(filled)))
    np.maximum.accumulate(idx, out=idx)
    return filled[idx][1:]


def axis_positions(
    set_mask: np.ndarray, set_value: np.ndarray, add_value: np.ndarray
) -> np.ndarray:
    """(n,) float64 position after each row.

    A row either sets the position (``set_mask``, value ``set_value``) or adds
    ``add_value`` (0 where nothing happens).  Start position is 0.
    """
    steps = np.cumsum(np.where(set_mask, 0.0, add_value))
    last = np.where(set_mask, np.arange(len(set_mask)), -1)
    np.maximum.accumulate(last, out=last)
    has = last >= 0
    safe = np.where(has, last, 0)
    base = np.where(has, set_value[safe] - steps[safe], 0.0)
    return base + steps


def resolve_moves(parsed: ParsedGcode) -> tuple[Moves, np.ndarray]:
    """Straight moves of the program, and (n_lines, 4) logical X Y Z E after each line.

    Homing (``G28``) counts as a straight move to 0 on the homed axes, from the last
    known position (0 at the start of the file).
    """
    n = parsed.n_lines
    g = parsed.cmd_letter == ord("G")
    m = parsed.cmd_letter == ord("M")
    num = parsed.cmd_number
    is_move = g & np.isin(num, (0.0, 1.0, 2.0, 3.0))
    g90, g91 = np.flatnonzero(g & (num == 90)), np.flatnonzero(g & (num == 91))
    relative_xyz = ffill_mode(n, [(g90, False), (g91, True)], False)
    # Marlin: G90/G91 also switch E; M82/M83 switch only E.  Later rows win.
    e_sets = [(g90, False), (g91, True)]
    e_sets += [(np.flatnonzero(m & (num == 82)), False), (np.flatnonzero(m & (num == 83)), True)]
    relative_e = ffill_mode(n, e_sets, False)
    inches = ffill_mode(
        n,
        [(np.flatnonzero(g & (num == 20)), True), (np.flatnonzero(g & (num == 21)), False)],
        False,
    )
    unit = np.where(inches, INCH_MM, 1.0)
    g92 = g & (num == 92)
    g28 = g & (num == 28)
    no_axis = ~(parsed.has("X") | parsed.has("Y") | parsed.has("Z") | parsed.has("E"))
    positions = np.empty((n, 4))
    for k, axis in enumerate(AXES):
        value = parsed.param(axis) * unit
        present = ~np.isnan(value)
        relative = relative_e if axis == "E" else relative_xyz
        move_set = is_move & present & ~relative
        g92_set = g92 & (present | no_axis)
        home_set = (g28 & (parsed.has(axis) | no_axis)) if axis != "E" else np.zeros(n, bool)
        set_mask = move_set | g92_set | home_set
        set_value = np.where(move_set | g92_set, np.nan_to_num(value), 0.0)
        add_value = np.where(is_move & present & relative, value, 0.0)
        positions[:, k] = axis_positions(set_mask, set_value, add_value)
    f_word = parsed.param("F")
    feed = np.where(is_move & (f_word > 0), f_word, np.nan) * unit / 60.0  # Marlin ignores F<=0
    feedrate = ffill(feed, DEFAULT_FEEDRATE_MM_MIN / 60.0)
    # Homing travels to 0 at the homing speed (Z is capped by its maximum feedrate later).
    feedrate = np.where(g28, HOMING_FEEDRATE_MM_S, feedrate)
    rows = np.flatnonzero(is_move | g28)
    before = np.vstack([np.zeros((1, 4)), positions])[rows]
    after = positions[rows]
    arcs = np.isin(num[rows], (2.0, 3.0))
    moves = Moves(rows.astype(np.int64), before, after, feedrate[rows])
    if arcs.any():
        moves = _cut_arcs(moves, parsed, arcs, unit)
    moving = np.any(moves.end != moves.start, axis=1)
    return _select(moves, moving), positions


def _select(moves: Moves, mask: np.ndarray) -> Moves:
    return Moves(moves.line[mask], moves.start[mask], moves.end[mask], moves.feedrate_mm_s[mask])


def _cut_arcs(moves: Moves, parsed: ParsedGcode, arcs: np.ndarray, unit: np.ndarray) -> Moves:
    """Replace arc moves by chords of at most ARC_SEGMENT_MM (XY plane, G17)."""
    rows = moves.line[arcs]
    start, end = moves.start[arcs], moves.end[arcs]
    clockwise = parsed.cmd_number[rows] == 2.0
    i = np.nan_to_num(parsed.param("I")[rows]) * unit[rows]
    j = np.nan_to_num(parsed.param("J")[rows]) * unit[rows]
    r = parsed.param("R")[rows] * unit[rows]
    centre = start[:, :2] + np.stack([i, j], axis=1)
    use_r = ~np.isnan(r)
    if use_r.any():
        centre[use_r] = _centre_from_radius(
            start[use_r, :2], end[use_r, :2], r[use_r], clockwise[use_r]
        )
    a0 = np.arctan2(start[:, 1] - centre[:, 1], start[:, 0] - centre[:, 0])
    a1 = np.arctan2(end[:, 1] - centre[:, 1], end[:, 0] - centre[:, 0])
    sweep = np.where(clockwise, a0 - a1, a1 - a0) % (2 * np.pi)
    full = np.isclose(start[:, 0], end[:, 0]) & np.isclose(start[:, 1], end[:, 1])
    sweep = np.where(full & (sweep < 1e-9), 2 * np.pi, sweep)
    radius = np.hypot(start[:, 0] - centre[:, 0], start[:, 1] - centre[:, 1])
    length = sweep * radius
    pieces = np.maximum(1, np.ceil(length / ARC_SEGMENT_MM)).astype(np.int64)
    owner = np.repeat(np.arange(len(rows)), pieces)
    step = np.arange(len(owner)) - np.repeat(np.cumsum(pieces) - pieces, pieces) + 1
    frac = step / pieces[owner]
    direction = np.where(clockwise, -1.0, 1.0)[owner]
    angle = a0[owner] + direction * sweep[owner] * frac
    point = start[owner] + (end[owner] - start[owner]) * frac[:, None]
    point[:, 0] = centre[owner, 0] + radius[owner] * np.cos(angle)
    point[:, 1] = centre[owner, 1] + radius[owner] * np.sin(angle)
    last = frac == 1.0
    point[last] = end[owner[last]]
    prev = np.vstack([start[:1], point[:-1]])
    first = step == 1
    prev[first] = start[owner[first]]
    chords = Moves(rows[owner], prev, point, moves.feedrate_mm_s[arcs][owner])
    line = np.concatenate([moves.line[~arcs], chords.line])
    order = np.argsort(line, kind="stable")
    return Moves(
        line[order],
        np.vstack([moves.start[~arcs], chords.start])[order],
        np.vstack([moves.end[~arcs], chords.end])[order],
        np.concatenate([moves.feedrate_mm_s[~arcs], chords.feedrate_mm_s])[order],
    )


def _centre_from_radius(
    start: np.ndarray, end: np.ndarray, radius: np.ndarray, clockwise: np.ndarray
) -> np.ndarray:
    """(k, 2) arc centres for R-form arcs (negative R: the long way round)."""
    mid = (start + end) / 2
    chord = end - start
    half = np.hypot(chord[:, 0], chord[:, 1]) / 2
    h = np.sqrt(np.maximum(radius**2 - half**2, 0.0))
    normal = np.stack([-chord[:, 1], chord[:, 0]], axis=1) / np.maximum(2 * half, 1e-12)[:, None]
    sign = np.where(clockwise, -1.0, 1.0) * np.sign(radius)
    return mid + normal * (h * sign)[:, None]
