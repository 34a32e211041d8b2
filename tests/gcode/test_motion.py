"""Modal state: absolute/relative modes, G92, units, homing and arcs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gcode.motion import resolve_moves
from gcode.parse import parse


def positions(text: str) -> np.ndarray:
    return resolve_moves(parse(text))[1]


def test_absolute_and_relative_moves():
    pos = positions("G1 X10 Y5\nG91\nG1 X1 Y1\nG1 X1\nG90\nG1 X0\n")
    assert pos[:, 0].tolist() == [10, 10, 11, 12, 12, 0]
    assert pos[:, 1].tolist() == [5, 5, 6, 6, 6, 6]


def test_g91_switches_e_and_m82_switches_it_back():
    pos = positions("G1 E1\nG91\nG1 E1\nM82\nG1 E5\nM83\nG1 E2\nG90\nG1 E1\n")
    assert pos[:, 3].tolist() == [1, 1, 2, 2, 5, 5, 7, 7, 1]


def test_g92_sets_position_without_moving():
    moves, pos = resolve_moves(parse("G1 X10 E5\nG92 E0\nG1 E2\nG92 X0\nG1 X1\n"))
    assert pos[:, 3].tolist() == [5, 0, 2, 2, 2]
    # the move after G92 E0 extrudes 2 mm, the move after G92 X0 travels 1 mm
    assert moves.delta[:, 3].tolist() == [5, 2, 0]
    assert moves.delta[:, 0].tolist() == [10, 0, 1]


def test_inches_and_homing():
    pos = positions("G20\nG1 X1\nG21\nG1 Y1\nG28 X\nG1 Z2\nG28\n")
    assert pos[1].tolist()[:2] == [25.4, 0]
    assert pos[4].tolist()[:3] == [0, 1, 0]
    assert pos[6].tolist()[:3] == [0, 0, 0]


def test_feedrate_is_modal_and_zero_moves_are_dropped():
    moves, _ = resolve_moves(parse("G1 X1 F600\nG1 X1\nG1 X2\nG0 X3 F6000\n"))
    assert moves.line.tolist() == [0, 2, 3]
    assert moves.feedrate_mm_s.tolist() == [10, 10, 100]


@pytest.mark.parametrize("arc", ["G2 X10 Y0 I5 J0 E1", "G2 X10 Y0 R5 E1"])
def test_half_circle_arc_is_cut_into_short_chords(arc):
    moves, _ = resolve_moves(parse(f"G1 X0 Y0\n{arc}\n"))
    chords = moves.line == 1
    lengths = np.hypot(moves.delta[chords, 0], moves.delta[chords, 1])
    assert lengths.max() <= 1.0 + 1e-9
    assert lengths.sum() == pytest.approx(math.pi * 5, rel=2e-3)
    # clockwise from (0,0) around (5,0): passes through (5, 5)
    assert moves.end[chords, 1].max() == pytest.approx(5, abs=0.05)
    assert moves.end[chords][-1].tolist() == [10, 0, 0, 1]
    assert moves.delta[chords, 3].sum() == pytest.approx(1)


def test_counter_clockwise_full_circle():
    moves, _ = resolve_moves(parse("G1 X0 Y0\nG3 X0 Y0 I5 J0\n"))
    chords = moves.line == 1
    assert np.hypot(moves.delta[chords, 0], moves.delta[chords, 1]).sum() == pytest.approx(
        2 * math.pi * 5, rel=2e-3
    )
    assert moves.end[chords, 1].min() == pytest.approx(-5, abs=0.05)
