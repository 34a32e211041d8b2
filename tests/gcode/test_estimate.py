"""The planner model: closed-form cases and PrusaSlicer's own estimate."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gcode.estimate import estimate
from printers.profiles import MachineLimits, load_printer
from tests.gcode.conftest import DATA

LIMITS = MachineLimits(
    accel_print_mm_s2=500, accel_travel_mm_s2=500, jerk_x_mm_s=10, jerk_y_mm_s=10
)


def trapezoid_s(distance, v0, vc, accel):
    ramp = (vc**2 - v0**2) / (2 * accel)
    return 2 * (vc - v0) / accel + (distance - 2 * ramp) / vc


def test_single_long_move_is_a_trapezoid():
    est = estimate("G1 X100 F3000\n", LIMITS)
    assert est.total_s == pytest.approx(trapezoid_s(100, 10, 50, 500))


def test_short_move_never_reaches_cruise():
    est = estimate("G1 X1 F6000\n", LIMITS)
    # from 10 mm/s, accelerate over 0.5 mm and brake over 0.5 mm
    peak = (10**2 + 2 * 500 * 0.5) ** 0.5
    assert est.total_s == pytest.approx(2 * (peak - 10) / 500)


def test_straight_continuation_keeps_speed():
    one = estimate("G1 X100 F3000\n", LIMITS).total_s
    two = estimate("G1 X50 F3000\nG1 X100\n", LIMITS).total_s
    assert two == pytest.approx(one)


def test_reversal_stops_at_the_corner():
    back = estimate("G1 X50 F3000\nG1 X0\n", LIMITS).total_s
    assert back == pytest.approx(2 * trapezoid_s(50, 10, 50, 500))


def test_file_limits_override_profile():
    slow = estimate("M204 P100 T100\nG1 X100 F3000\n", LIMITS).total_s
    assert slow == pytest.approx(trapezoid_s(100, 10, 50, 100))
    capped = estimate("M203 X20\nG1 X100 F3000\n", LIMITS).total_s
    assert capped == pytest.approx(trapezoid_s(100, 10, 20, 500))


def test_zero_limits_in_the_file_are_ignored():
    t = estimate("M201 X0 Y0\nM203 X0\nM204 P0 T0\nG1 X100 F3000\n", LIMITS).total_s
    assert t == pytest.approx(trapezoid_s(100, 10, 50, 500))


def test_axis_feedrate_limit_applies():
    est = estimate("G1 Z10 F3000\n", LIMITS)
    assert est.total_s > 10 / 5


def test_dwell_adds_time_and_line_elapsed_is_monotone():
    est = estimate("G1 X10 F600\nG4 P1500\nG4 S2\nG1 X0\n", LIMITS)
    move = trapezoid_s(10, 10, 10, 500)
    assert est.total_s == pytest.approx(2 * move + 3.5)
    assert est.dwell_s == pytest.approx(3.5)
    assert list(est.line_elapsed_s) == sorted(est.line_elapsed_s)
    assert est.elapsed_at(2) == pytest.approx(move + 3.5)


def test_junction_deviation_mode_is_between_stop_and_go():
    jd = MachineLimits(junction_deviation_mm=0.05)
    square = "G1 X20 F3000\nG1 Y20\nG1 X0\nG1 Y0\n" * 5
    t = estimate(square, jd).total_s
    stop_and_go = 20 * trapezoid_s(20, 0.05, 50, 500)
    assert 20 * 20 / 50 < t < stop_and_go


@pytest.mark.parametrize(
    "name",
    [
        "thin_walls_varying.prusa.gcode",
        # machine limits emitted as M201-M205, per-feature M204 P, relative E
        "thin_walls_varying.prusa_m204.gcode",
    ],
)
def test_within_five_percent_of_prusaslicer(name):
    text = (DATA / name).read_text()
    match = re.search(r"estimated printing time \(normal mode\) = (.*)", text)
    parts = re.findall(r"(\d+)([dhms])", match.group(1))
    reference = sum(int(n) * {"d": 86400, "h": 3600, "m": 60, "s": 1}[u] for n, u in parts)
    # the ender3 profile's limits are the first file's; the second file overrides them
    est = estimate(text, load_printer("ender3").limits)
    assert est.total_s == pytest.approx(reference, rel=0.05)


def test_same_input_same_estimate(cura_text):
    limits = load_printer("ender3").limits
    assert estimate(cura_text, limits).total_s == estimate(cura_text, limits).total_s


def test_homing_travels_back_at_homing_speed():
    away = estimate("G1 X100 F3000\n", LIMITS).total_s
    home = estimate("G1 X100 F3000\nG28 X\n", LIMITS).total_s
    assert home - away == pytest.approx(trapezoid_s(100, 10, 50, 500))
    # homing at the start of a file (position unknown, taken as 0) costs nothing
    assert estimate("G28\nG1 X100 F3000\n", LIMITS).total_s == pytest.approx(away)


points = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 200), st.sampled_from([600, 1800, 3000, 9000])),
    min_size=2,
    max_size=40,
)


@given(points, st.booleans())
@settings(max_examples=60, deadline=None)
def test_time_lies_between_cruising_and_stopping_at_every_corner(path, junction_deviation):
    limits = LIMITS.model_copy(
        update={"junction_deviation_mm": 0.02 if junction_deviation else None}
    )
    text = "".join(f"G1 X{x} Y{y} F{f}\n" for x, y, f in path)
    est = estimate(text, limits)
    x = np.array([0] + [p[0] for p in path], float)
    y = np.array([0] + [p[1] for p in path], float)
    speed = np.array([p[2] for p in path], float) / 60.0
    d = np.hypot(np.diff(x), np.diff(y))
    moving = d > 0
    d, speed = d[moving], speed[moving]
    accel = 500.0
    cruise = d / speed
    stop_and_go = np.where(d >= speed**2 / accel, d / speed + speed / accel, 2 * np.sqrt(d / accel))
    assert cruise.sum() - 1e-9 <= est.total_s <= stop_and_go.sum() + 1e-9
    assert np.all(np.diff(est.line_elapsed_s) >= 0)


def test_klipper_set_velocity_limit():
    slow = estimate("SET_VELOCITY_LIMIT ACCEL=100\nG1 X100 F3000\n", LIMITS).total_s
    assert slow == pytest.approx(trapezoid_s(100, 10, 50, 100))
    capped = estimate("SET_VELOCITY_LIMIT VELOCITY=20\nG1 X100 F3000\n", LIMITS).total_s
    assert capped == pytest.approx(trapezoid_s(100, 10, 20, 500))
    # square corner velocity switches to junction deviation: corners get slower than jerk
    square = "G1 X20 F3000\nG1 Y20\nG1 X0\nG1 Y0\n" * 3
    jerk = estimate(square, LIMITS).total_s
    scv = estimate("SET_VELOCITY_LIMIT SQUARE_CORNER_VELOCITY=1\n" + square, LIMITS).total_s
    assert scv > jerk
