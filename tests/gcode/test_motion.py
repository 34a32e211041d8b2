"""Modal state: absolute/relative modes, G92, units, homing and arcs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    moves, _ = resolve_moves(parse("G1 X1 F600\nG1 X1\nG1 X2\nG0 X3 F6000\nG1 X4 F0\n"))
    assert moves.line.tolist() == [0, 2, 3, 4]
    assert moves.feedrate_mm_s.tolist() == [10, 10, 100, 100]  # F0 is ignored, as Marlin does


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


def reference_positions(lines: list[str]) -> list[list[float]]:
    """A plain line-by-line interpreter (Marlin semantics) to check the vectorized one."""
    pos = [0.0, 0.0, 0.0, 0.0]
    rel_xyz = rel_e = False
    out = []
    for line in lines:
        words = line.split()
        cmd, args = words[0], {w[0]: float(w[1:]) for w in words[1:]}
        if cmd in ("G90", "G91"):
            rel_xyz = rel_e = cmd == "G91"
        elif cmd in ("M82", "M83"):
            rel_e = cmd == "M83"
        elif cmd == "G92":
            for k, axis in enumerate("XYZE"):
                if axis in args:
                    pos[k] = args[axis]
        elif cmd == "G1":
            for k, axis in enumerate("XYZE"):
                if axis in args:
                    relative = rel_e if axis == "E" else rel_xyz
                    pos[k] = pos[k] + args[axis] if relative else args[axis]
        out.append(list(pos))
    return out


values = st.integers(-50, 50).map(lambda v: v / 4)
program_line = st.one_of(
    st.sampled_from(["G90", "G91", "M82", "M83"]),
    st.builds(
        lambda axes, v: "G92 " + " ".join(f"{a}{v}" for a in axes),
        st.sets(st.sampled_from("XYZE"), min_size=1),
        values,
    ),
    st.builds(
        lambda moves: "G1 " + " ".join(f"{a}{v}" for a, v in moves),
        st.lists(
            st.tuples(st.sampled_from("XYZE"), values),
            min_size=1,
            max_size=4,
            unique_by=lambda t: t[0],
        ),
    ),
)


@given(st.lists(program_line, min_size=1, max_size=40))
@settings(deadline=None, max_examples=200)
def test_positions_match_a_line_by_line_interpreter(lines):
    expected = np.array(reference_positions(lines))
    np.testing.assert_allclose(positions("\n".join(lines) + "\n"), expected, atol=1e-9)
