"""Print-time estimate from a model of Marlin's motion planner.

Each straight move is a planner block with a cruise speed (the commanded
feedrate capped by the per-axis maximum feedrates), an acceleration (print,
travel or retract acceleration capped per axis), a safe speed (the speed it can
start or stop at without acceleration, from the jerk limits) and a maximum
junction speed with the block before it (classic jerk, or junction deviation
when the profile sets ``junction_deviation_mm``).  The look-ahead is solved for
the whole program at once: in squared speeds the backward pass
``v[i]^2 = min(vmax[i]^2, v[i+1]^2 + 2 a d)`` is a running minimum over
prefix sums, and so is the forward pass; then every block's trapezoid (accelerate,
cruise, decelerate) gives its duration.  Planner synchronisation points (dwell,
``M400``, homing, ``G92`` of XYZ) bring the machine to a stop.

Limits come from the printer profile and are overridden by ``M201``, ``M203``,
``M204`` and ``M205`` (and Klipper's ``SET_VELOCITY_LIMIT``) in the file from the
line where they appear.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gcode.motion import Moves, ffill, resolve_moves
from gcode.parse import ParsedGcode, named_arguments, parse
from printers.profiles import MachineLimits

MINIMUM_PLANNER_SPEED_MM_S = 0.05
_EPS = 1e-12


@dataclass(frozen=True, eq=False)
class Estimate:
    """Estimated durations.

    total_s        : whole program, s
    line_elapsed_s : (n_lines,) float64, time elapsed when each line has been executed, s
    move_time_s    : (n_moves,) float64, duration of each planner block, s
    move_line      : (n_moves,) int64, 0-based source line of each block
    dwell_s        : time spent in G4 dwells, s
    """

    total_s: float
    line_elapsed_s: np.ndarray
    move_time_s: np.ndarray
    move_line: np.ndarray
    dwell_s: float = 0.0

    def elapsed_at(self, line: int) -> float:
        """Seconds elapsed after 0-based ``line`` has run (0 before the first line)."""
        if line < 0 or not len(self.line_elapsed_s):
            return 0.0
        return float(self.line_elapsed_s[min(line, len(self.line_elapsed_s) - 1)])


def estimate(text: str, limits: MachineLimits) -> Estimate:
    """Estimate the print time of a G-code text on a machine with these limits."""
    return estimate_parsed(parse(text), limits)


def estimate_parsed(
    parsed: ParsedGcode, limits: MachineLimits, moves: Moves | None = None
) -> Estimate:
    """Estimate from an already parsed program (and, optionally, its resolved moves)."""
    if moves is None:
        moves, _ = resolve_moves(parsed)
    per_row = _limits_per_row(parsed, limits)
    lim = {k: v if np.ndim(v) == 0 else v[moves.line] for k, v in per_row.items()}
    blocks = _blocks(moves, lim)
    starts = _segment_starts(moves.line, _sync_rows(parsed), _homing_rows(parsed))
    if limits_use_junction_deviation(per_row):
        vmax = _junction_deviation(blocks, lim, starts)
    else:
        vmax = _classic_jerk(blocks, lim, starts)
    move_time = _plan(blocks, vmax, starts)
    dwell = _dwell_s(parsed)
    per_line = np.bincount(moves.line, weights=move_time, minlength=parsed.n_lines)
    per_line = per_line.astype(np.float64) + dwell
    line_elapsed = np.cumsum(per_line)
    total = float(line_elapsed[-1]) if len(line_elapsed) else 0.0
    return Estimate(total, line_elapsed, move_time, moves.line, float(dwell.sum()))


def limits_use_junction_deviation(per_row: dict[str, np.ndarray]) -> bool:
    """Whether the profile or the file sets a junction deviation (Marlin 2 / Klipper)."""
    return bool(np.any(per_row["junction_deviation_mm"] > 0))


# --- limits ----------------------------------------------------------------------------

# (command number, word letter, limit field names set by it)
_LIMIT_WORDS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (201, "X", ("max_accel_x_mm_s2",)),
    (201, "Y", ("max_accel_y_mm_s2",)),
    (201, "Z", ("max_accel_z_mm_s2",)),
    (201, "E", ("max_accel_e_mm_s2",)),
    (203, "X", ("max_feedrate_x_mm_s",)),
    (203, "Y", ("max_feedrate_y_mm_s",)),
    (203, "Z", ("max_feedrate_z_mm_s",)),
    (203, "E", ("max_feedrate_e_mm_s",)),
    (204, "S", ("accel_print_mm_s2", "accel_travel_mm_s2")),
    (204, "P", ("accel_print_mm_s2",)),
    (204, "R", ("accel_retract_mm_s2",)),
    (204, "T", ("accel_travel_mm_s2",)),
    (205, "X", ("jerk_x_mm_s", "jerk_y_mm_s")),
    (205, "Y", ("jerk_y_mm_s",)),
    (205, "Z", ("jerk_z_mm_s",)),
    (205, "E", ("jerk_e_mm_s",)),
    (205, "J", ("junction_deviation_mm",)),
    (205, "S", ("minimum_feedrate_mm_s",)),
)


def _klipper_limits(args: str, limits: MachineLimits) -> dict[str, float]:
    """Limits set by Klipper's ``SET_VELOCITY_LIMIT`` (VELOCITY, ACCEL, SQUARE_CORNER_VELOCITY).

    Klipper's square corner velocity is junction deviation with
    ``jd = scv**2 * (sqrt(2) - 1) / accel``.
    """
    out: dict[str, float] = {}
    try:
        values = {k: float(v) for k, v in named_arguments(args).items()}
    except ValueError:
        return out
    if values.get("VELOCITY", 0) > 0:
        out["max_feedrate_x_mm_s"] = out["max_feedrate_y_mm_s"] = values["VELOCITY"]
    accel = values.get("ACCEL", 0)
    if accel > 0:
        out["accel_print_mm_s2"] = out["accel_travel_mm_s2"] = accel
    scv = values.get("SQUARE_CORNER_VELOCITY")
    if scv is not None and scv >= 0:
        reference = accel if accel > 0 else limits.accel_print_mm_s2
        out["junction_deviation_mm"] = max(scv**2 * (2**0.5 - 1) / reference, 1e-6)
    return out


def _limits_per_row(parsed: ParsedGcode, limits: MachineLimits) -> dict[str, np.ndarray]:
    """Each limit as a (n_lines,) float64 column: profile value, then M20x overrides.

    A limit the file never changes stays a scalar (it broadcasts).
    """
    is_m = parsed.cmd_letter == ord("M")
    updates: dict[str, np.ndarray] = {}
    for number, letter, names in _LIMIT_WORDS:
        rows = is_m & (parsed.cmd_number == number)
        if not rows.any():
            continue
        value = np.where(rows, parsed.param(letter), np.nan)
        if names[0].startswith(("max_", "accel_")):
            value = np.where(value > 0, value, np.nan)  # a zero limit would stop the machine
        for name in names:
            column = updates.setdefault(name, np.full(parsed.n_lines, np.nan))
            np.copyto(column, value, where=~np.isnan(value))
    for row, name, args in parsed.extended:
        if name == "SET_VELOCITY_LIMIT":
            for field, value in _klipper_limits(args, limits).items():
                updates.setdefault(field, np.full(parsed.n_lines, np.nan))[row] = value
    out: dict[str, np.ndarray] = {}
    for name in MachineLimits.model_fields:
        initial = getattr(limits, name)
        initial = 0.0 if initial is None else float(initial)
        column = updates.get(name)
        out[name] = np.float64(initial) if column is None else ffill(column, initial)
    return out


# --- blocks ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Blocks:
    distance_mm: np.ndarray  # (n,)
    unit: np.ndarray  # (n, 4) direction cosines X Y Z E
    cruise_mm_s: np.ndarray  # (n,)
    axis_speed_mm_s: np.ndarray  # (n, 4) signed axis speeds at cruise
    accel_mm_s2: np.ndarray  # (n,)
    safe_mm_s: np.ndarray  # (n,)


def _per_axis(lim: dict[str, np.ndarray], pattern: str, n: int) -> np.ndarray:
    """(n, 4) X Y Z E values of a limit named like ``jerk_{}_mm_s`` (a read-only view)."""
    values = [lim[pattern.format(a)] for a in "xyze"]
    if all(np.ndim(v) == 0 for v in values):
        return np.broadcast_to(np.array(values, np.float64), (n, 4))
    return np.stack([np.broadcast_to(v, (n,)) for v in values], axis=1)


def _blocks(moves: Moves, lim: dict[str, np.ndarray]) -> _Blocks:
    """Planner blocks of the moves: length, direction, cruise speed, acceleration, safe speed."""
    delta = moves.delta
    xyz = np.sqrt(np.einsum("ij,ij->i", delta[:, :3], delta[:, :3]))
    distance = np.where(xyz > 0, xyz, np.abs(delta[:, 3]))  # extruder-only moves: E length
    unit = delta / np.maximum(distance, _EPS)[:, None]
    n = len(moves)
    cruise, axis_speed = _cruise(moves.feedrate_mm_s, unit, lim, n)
    accel = _acceleration(delta, xyz, unit, lim, n)
    safe = _safe_speed(cruise, np.abs(axis_speed), _per_axis(lim, "jerk_{}_mm_s", n))
    return _Blocks(distance, unit, cruise, axis_speed, accel, safe)


def _cruise(
    feedrate_mm_s: np.ndarray, unit: np.ndarray, lim: dict[str, np.ndarray], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """(n,) cruise speed and (n, 4) signed axis speeds: the feedrate capped per axis."""
    feed = np.maximum(feedrate_mm_s, lim["minimum_feedrate_mm_s"])
    feed = np.maximum(feed, MINIMUM_PLANNER_SPEED_MM_S)
    axis_speed = feed[:, None] * unit
    max_feed = _per_axis(lim, "max_feedrate_{}_mm_s", n)
    with np.errstate(divide="ignore"):
        factor = np.min(np.where(axis_speed != 0, max_feed / np.abs(axis_speed), np.inf), axis=1)
    factor = np.minimum(factor, 1.0)
    return feed * factor, axis_speed * factor[:, None]


def _acceleration(
    delta: np.ndarray, xyz: np.ndarray, unit: np.ndarray, lim: dict[str, np.ndarray], n: int
) -> np.ndarray:
    """(n,) acceleration: travel, retract (extruder only) or print, capped per axis."""
    de = delta[:, 3]
    moved = xyz > 0
    travel = (de == 0) | ((de < 0) & moved)
    travel |= (de > 0) & (delta[:, 0] == 0) & (delta[:, 1] == 0) & moved
    accel = np.where(
        travel,
        lim["accel_travel_mm_s2"],
        np.where(~moved, lim["accel_retract_mm_s2"], lim["accel_print_mm_s2"]),
    )
    max_accel = _per_axis(lim, "max_accel_{}_mm_s2", n)
    with np.errstate(divide="ignore"):
        cap = np.min(np.where(unit != 0, max_accel / np.abs(unit), np.inf), axis=1)
    return np.minimum(accel, cap)


def _safe_speed(cruise: np.ndarray, speed: np.ndarray, jerk: np.ndarray) -> np.ndarray:
    """Marlin's safe speed: the first jerk-limited axis caps it at its jerk, later ones scale."""
    safe = cruise.copy()
    limited = np.zeros(len(cruise), bool)
    for a in range(4):
        over = speed[:, a] > jerk[:, a]
        first = over & ~limited
        safe[first] = jerk[first, a]
        later = over & limited
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = jerk[:, a] * cruise / speed[:, a]
        safe[later] = np.minimum(safe[later], scaled[later])
        limited |= over
    return np.minimum(safe, cruise)


def _classic_jerk(blocks: _Blocks, lim: dict[str, np.ndarray], starts: np.ndarray) -> np.ndarray:
    """Maximum junction speed with the previous block, Marlin 1.1 classic jerk.

    Marlin scales both blocks' axis speeds down axis after axis until every axis
    jump is within its jerk; jumps scale with the speeds, so the final factor is
    min(1, jerk_a / jump_a) over the axes.
    """
    n = len(blocks.cruise_mm_s)
    vmax = blocks.safe_mm_s.copy()
    if n < 2:
        return vmax
    cur_v = blocks.cruise_mm_s[1:]
    prev_v = blocks.cruise_mm_s[:-1]
    prev_larger = prev_v > cur_v
    with np.errstate(divide="ignore", invalid="ignore"):
        smaller = np.where(prev_larger, cur_v / prev_v, 1.0)
    junction = np.minimum(cur_v, prev_v)
    v_exit = blocks.axis_speed_mm_s[:-1] * smaller[:, None]
    v_entry = blocks.axis_speed_mm_s[1:]
    coasting = np.where(
        v_exit > v_entry, (v_entry > 0) | (v_exit < 0), (v_entry < 0) | (v_exit > 0)
    )
    jump = np.where(
        coasting,
        np.abs(v_exit - v_entry),
        np.maximum(np.abs(v_exit), np.abs(v_entry)),
    )
    jerk = _per_axis(lim, "jerk_{}_mm_s", n)[1:]
    with np.errstate(divide="ignore"):
        factor = np.min(np.where(jump > jerk, jerk / jump, 1.0), axis=1)
    junction = junction * factor
    threshold = junction * 0.99
    not_coasting = (blocks.safe_mm_s[:-1] > threshold) & (blocks.safe_mm_s[1:] > threshold)
    junction = np.where(not_coasting, blocks.safe_mm_s[1:], junction)
    vmax[1:] = np.where(prev_v > 1e-4, junction, blocks.safe_mm_s[1:])
    vmax[starts] = blocks.safe_mm_s[starts]
    return np.minimum(vmax, blocks.cruise_mm_s)


def _junction_deviation(
    blocks: _Blocks, lim: dict[str, np.ndarray], starts: np.ndarray
) -> np.ndarray:
    """Maximum junction speed with the previous block, Marlin 2 junction deviation."""
    n = len(blocks.cruise_mm_s)
    vmax = np.full(n, MINIMUM_PLANNER_SPEED_MM_S)
    if n < 2:
        return vmax
    cos_theta = -np.einsum("ij,ij->i", blocks.unit[:-1, :3], blocks.unit[1:, :3])
    cos_theta = np.clip(cos_theta, -0.999999, 0.999999)
    sin_half = np.sqrt(0.5 * (1.0 - cos_theta))
    jd = np.broadcast_to(lim["junction_deviation_mm"], (n,))[1:]
    v2 = blocks.accel_mm_s2[1:] * jd * sin_half / (1.0 - sin_half)
    v2 = np.minimum(v2, np.minimum(blocks.cruise_mm_s[1:], blocks.cruise_mm_s[:-1]) ** 2)
    vmax[1:] = np.sqrt(v2)
    vmax[starts] = MINIMUM_PLANNER_SPEED_MM_S
    return np.minimum(vmax, blocks.cruise_mm_s)


# --- look-ahead and trapezoids ---------------------------------------------------------


def _plan(blocks: _Blocks, vmax: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(n,) duration of every block after backward and forward look-ahead passes."""
    n = len(vmax)
    entry2 = np.empty(n)
    exit2 = np.empty(n)
    bounds = np.append(starts, n)
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        if hi > lo:
            speeds2 = _lookahead(
                vmax[lo:hi] ** 2,
                2.0 * blocks.accel_mm_s2[lo:hi] * blocks.distance_mm[lo:hi],
                blocks.safe_mm_s[hi - 1] ** 2,
            )
            entry2[lo:hi] = speeds2[:-1]
            exit2[lo:hi] = speeds2[1:]
    return _trapezoid_time(
        np.sqrt(entry2), np.sqrt(exit2), blocks.cruise_mm_s, blocks.accel_mm_s2, blocks.distance_mm
    )


def _lookahead(max2: np.ndarray, reach2: np.ndarray, final2: float) -> np.ndarray:
    """(k+1,) squared entry speeds of k blocks plus the final exit speed.

    Backward: r[i] = min(max2[i], r[i+1] + reach2[i]); forward:
    f[i+1] = min(r[i+1], f[i] + reach2[i]).  Both as running minima over prefix sums.
    """
    m = np.append(max2, final2)
    c = np.append(reach2, 0.0)
    s = np.concatenate([[0.0], np.cumsum(c[:-1])])
    r = np.minimum.accumulate((m + s)[::-1])[::-1] - s
    f = np.minimum.accumulate(r - s) + s
    return np.maximum(f, 0.0)


def _trapezoid_time(
    v0: np.ndarray, v1: np.ndarray, vc: np.ndarray, accel: np.ndarray, distance: np.ndarray
) -> np.ndarray:
    """(n,) seconds to travel ``distance`` from v0 to v1, cruising at most at vc."""
    a = np.maximum(accel, _EPS)
    v0 = np.minimum(v0, vc)
    v1 = np.minimum(v1, vc)
    acc_d = np.maximum(0.0, (vc**2 - v0**2) / (2 * a))
    dec_d = np.maximum(0.0, (vc**2 - v1**2) / (2 * a))
    short = acc_d + dec_d > distance
    acc_short = np.clip((2 * a * distance - v0**2 + v1**2) / (4 * a), 0.0, distance)
    acc_d = np.where(short, acc_short, acc_d)
    peak = np.where(short, np.sqrt(np.maximum(v0**2 + 2 * a * acc_d, 0.0)), vc)
    cruise_d = np.where(short, 0.0, distance - acc_d - dec_d)
    dec_d = distance - acc_d - cruise_d
    end_v = np.sqrt(np.maximum(peak**2 - 2 * a * dec_d, 0.0))
    return (peak - v0) / a + cruise_d / np.maximum(vc, _EPS) + (peak - end_v) / a


# --- synchronisation and dwell -------------------------------------------------------


def _sync_rows(parsed: ParsedGcode) -> np.ndarray:
    """Rows where the planner empties: G4, G28, G29, M400, M0/M1, M600, G92 without E."""
    g = parsed.cmd_letter == ord("G")
    m = parsed.cmd_letter == ord("M")
    num = parsed.cmd_number
    sync = g & np.isin(num, (4.0, 28.0, 29.0))
    sync |= m & np.isin(num, (0.0, 1.0, 400.0, 600.0))
    sync |= g & (num == 92) & ~parsed.has("E")
    return np.flatnonzero(sync)


def _homing_rows(parsed: ParsedGcode) -> np.ndarray:
    return np.flatnonzero(parsed.is_cmd("G", 28))


def _segment_starts(
    move_line: np.ndarray, sync_rows: np.ndarray, alone_rows: np.ndarray
) -> np.ndarray:
    """Indices of the first block after each synchronisation (always includes 0).

    Blocks of ``alone_rows`` (homing) also start a segment of their own.
    """
    if not len(move_line):
        return np.zeros(0, np.int64)
    first = np.concatenate(
        [
            np.searchsorted(move_line, sync_rows, side="right"),
            np.searchsorted(move_line, alone_rows, side="left"),
        ]
    )
    first = first[first < len(move_line)]
    return np.unique(np.concatenate([[0], first])).astype(np.int64)


def _dwell_s(parsed: ParsedGcode) -> np.ndarray:
    """(n_lines,) seconds of G4 dwell on each line (P in ms, S in s)."""
    g4 = (parsed.cmd_letter == ord("G")) & (parsed.cmd_number == 4)
    p = np.nan_to_num(parsed.param("P")) / 1000.0
    s = np.nan_to_num(parsed.param("S"))
    return np.where(g4, np.maximum(p + s, 0.0), 0.0)
