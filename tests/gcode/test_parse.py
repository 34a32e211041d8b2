"""The G-code parser: table-driven single lines, invariants over real files."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gcode.parse import TEXT_COMMANDS, iter_parse, parse, parse_line

# (line, command, {letter: value}, issue substring or None)
CASES = [
    ("G1 X1 Y2 E3", "G1", {"X": 1, "Y": 2, "E": 3}, None),
    ("G1X1.5Y-2.25E.5", "G1", {"X": 1.5, "Y": -2.25, "E": 0.5}, None),
    ("g1 x5 f1200", "G1", {"X": 5, "F": 1200}, None),
    (
        "G0 F9000 X80.241 Y100.054 Z0.2",
        "G0",
        {"F": 9000, "X": 80.241, "Y": 100.054, "Z": 0.2},
        None,
    ),
    ("M104 S210 ; set temperature", "M104", {"S": 210}, None),
    ("N123 G1 X10*81", "G1", {"X": 10}, None),
    ("N3 T0*57", "T0", {}, None),
    ("N123 G1 X10*80", None, {}, "checksum mismatch"),
    ("N123 G1 X10*", None, {}, "checksum mismatch"),
    ("G1 X1 (a comment) Y3", "G1", {"X": 1, "Y": 3}, None),
    ("(only a comment)", None, {}, None),
    ("; only a comment", None, {}, None),
    ("", None, {}, None),
    ("   \t ", None, {}, None),
    ("T1", "T1", {}, None),
    ("M117 Hello X1 world", "M117", {}, None),
    ("M117 Layer 5", "M117", {}, None),
    ("G2 X10 Y0 I5 J0 E1", "G2", {"X": 10, "Y": 0, "I": 5, "J": 0, "E": 1}, None),
    ("G3 X0 Y10 R-5", "G3", {"X": 0, "Y": 10, "R": -5}, None),
    ("G1 X+1 Y1.", "G1", {"X": 1, "Y": 1}, None),
    ("M73 P42 R7", "M73", {"P": 42, "R": 7}, None),
    ('M862.3 P "MK3S" ; printer model check', "M862.3", {}, None),
    ("M862.1 P0.4 ; nozzle diameter check", "M862.1", {"P": 0.4}, None),
    ("G1 X1.2.3", None, {}, "malformed number"),
    ("G1 X--1", None, {}, "malformed number"),
    ("X10 Y10", None, {}, "does not start with a command"),
    ("G1 X1 # junk", None, {}, "unexpected text"),
    ("G1 X1 Y\u00e9", None, {}, "unexpected text"),
]


@pytest.mark.parametrize(("line", "command", "params", "issue"), CASES)
def test_single_lines(line, command, params, issue):
    parsed = parse(line + "\n")
    assert parsed.n_lines == 1
    if issue is not None:
        assert len(parsed.issues) == 1
        assert parsed.issues[0].line == 1
        assert issue in parsed.issues[0].message
        assert parsed.cmd_letter[0] == 0
        return
    assert parsed.issues == ()
    if command is None:
        assert parsed.cmd_letter[0] == 0
    else:
        assert chr(parsed.cmd_letter[0]) + f"{parsed.cmd_number[0]:g}" == command
    got = {k: float(v[0]) for k, v in parsed.params.items() if not math.isnan(v[0])}
    assert got == pytest.approx(params)


def test_byte_order_mark_is_ignored():
    parsed = parse("\ufeffG28\nG1 X1\n")
    assert parsed.issues == ()
    assert parsed.cmd_number.tolist() == [28, 1]
    (streamed,) = iter_parse(io.BytesIO("\ufeffG28\nG1 X1\n".encode()))
    assert streamed.issues == () and streamed.cmd_number.tolist() == [28, 1]


def test_bare_letters_are_flags():
    parsed = parse("G28 X Y\nG28\n")
    assert parsed.has("X").tolist() == [True, False]
    assert parsed.has("Z").tolist() == [False, False]
    assert math.isnan(parsed.param("X")[0])


def test_klipper_named_commands_are_kept_apart():
    parsed = parse("PRINT_START BED=60 EXTRUDER=210\nG1 X1\nEXCLUDE_OBJECT_START NAME=a\n")
    assert parsed.extended == (
        (0, "PRINT_START", "BED=60 EXTRUDER=210"),
        (2, "EXCLUDE_OBJECT_START", "NAME=a"),
    )
    assert parsed.issues == ()
    assert parsed.cmd_letter.tolist() == [0, ord("G"), 0]


def test_line_numbers_count_every_line_and_issues_name_them():
    text = "G1 X1\n\n; c\nG1 X1.2.3\nG1 Y2\r\nG1 X@\nG1 Z3"
    parsed = parse(text)
    assert parsed.n_lines == 7
    assert [issue.line for issue in parsed.issues] == [4, 6]
    assert parsed.param("Y")[4] == 2.0
    assert parsed.param("Z")[6] == 3.0


def test_fast_path_agrees_with_line_by_line_parser(prusa_text, cura_text):
    for text in (prusa_text, cura_text):
        parsed = parse(text)
        lines = text.splitlines()
        assert parsed.n_lines == len(lines)
        rows = np.flatnonzero(parsed.cmd_letter)
        assert len(rows) > 1000
        for row in rows[:: max(1, len(rows) // 400)].tolist():
            words, _ = parse_line(lines[row])
            assert words[0][0] == chr(parsed.cmd_letter[row])
            assert words[0][1] == parsed.cmd_number[row]
            for letter, value in words[1:]:
                assert parsed.param(letter)[row] == value


def test_iter_parse_blocks_match_whole_parse(prusa_text):
    whole = parse(prusa_text)
    blocks = list(iter_parse(io.BytesIO(prusa_text.encode()), block_bytes=20_000))
    assert len(blocks) > 3
    assert sum(b.n_lines for b in blocks) == whole.n_lines
    x = np.concatenate([b.param("X") for b in blocks])
    np.testing.assert_array_equal(x, whole.param("X"))
    assert [b.first_line for b in blocks][1] == blocks[0].n_lines


numbers = st.floats(min_value=-1e5, max_value=1e5, allow_nan=False).map(lambda v: round(v, 5))


@given(st.lists(st.tuples(numbers, numbers, numbers), min_size=1, max_size=30))
@settings(deadline=None)
def test_numbers_round_trip(rows):
    text = "".join(f"G1 X{x:.5f} Y{y:.3f} E{e:.5f}\n" for x, y, e in rows)
    parsed = parse(text)
    assert parsed.issues == ()
    assert parsed.param("X").tolist() == [float(f"{x:.5f}") for x, _, _ in rows]
    assert parsed.param("Y").tolist() == [float(f"{y:.3f}") for _, y, _ in rows]
    assert parsed.param("E").tolist() == [float(f"{e:.5f}") for _, _, e in rows]


def test_same_input_same_output(prusa_text):
    a, b = parse(prusa_text), parse(prusa_text)
    for letter in a.params:
        np.testing.assert_array_equal(a.params[letter], b.params[letter])


TOKENS = [
    "1",
    "-2.5",
    ".5",
    "1.",
    "+3.25",
    "123.45678",
    "-0.001",
    "12345678.12345678",
    "123456789",
    "0.00001",
    "-.5",
    "3967.76123",
    "1.23456789",
    "-12345678.9",
    "0",
    "00012.500",
    "12345678901234567890.5",
    "1.2.3",
    "--1",
    "-",
    ".",
    "+",
    "1-2",
    "1+",
    "..5",
]


def test_number_reader_agrees_with_float():
    from gcode.numbers import read_numbers

    text = (" " + " ".join(TOKENS) + " ").encode()
    raw = np.frombuffer(text, np.uint8)
    starts, int_ends, ends, pos = [], [], [], 1
    for token in TOKENS:
        starts.append(pos)
        int_ends.append(pos + (token.index(".") if "." in token else len(token)))
        ends.append(pos + len(token))
        pos += len(token) + 1
    got = read_numbers(raw, np.array(starts), np.array(int_ends), np.array(ends))
    for token, value in zip(TOKENS, got.tolist(), strict=True):
        try:
            expected = float(token)
        except ValueError:
            expected = math.inf
        assert value == expected, token


def test_block_boundaries_do_not_matter(prusa_text, monkeypatch):
    import gcode.parse as module

    whole = parse(prusa_text)
    monkeypatch.setattr(module, "BLOCK_BYTES", 5000)
    pieces = parse(prusa_text)
    assert pieces.n_lines == whole.n_lines
    np.testing.assert_array_equal(pieces.cmd_number, whole.cmd_number)
    for letter in whole.params:
        np.testing.assert_array_equal(pieces.params[letter], whole.params[letter])
    text = "G28 X\n" * 3000 + "PRINT_START\nG1 X1.2.3\n"
    a, b = parse(text), module.parse(text)
    assert b.extended == ((3000, "PRINT_START", ""),)
    assert [i.line for i in b.issues] == [3002]
    np.testing.assert_array_equal(b.flags["X"], np.arange(3000))
    assert a.n_lines == b.n_lines


gcode_chars = st.sampled_from(list('GMTXYZEFNSP gxyz0123456789.-+;*()\t_="#\r'))
gcode_lines = st.lists(st.text(gcode_chars, max_size=24), max_size=12)


@given(gcode_lines)
@settings(deadline=None, max_examples=300)
def test_fast_path_matches_line_parser_on_any_text(lines):
    text = "\n".join(lines)
    parsed = parse(text)
    assert parsed.n_lines == text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    issue_lines = {issue.line for issue in parsed.issues}
    extended = {row for row, _, _ in parsed.extended}
    for row, line in enumerate(text.split("\n")[: parsed.n_lines]):
        try:
            words, name = parse_line(line)
        except ValueError:
            assert row + 1 in issue_lines
            continue
        if name is not None:
            assert row in extended
            continue
        if not words or (words[0][0] == "N" and len(words) == 1):
            assert parsed.cmd_letter[row] == 0
            continue
        head = words[1] if words[0][0] == "N" else words[0]
        if head[0] not in "GMT" or head[1] is None:
            assert row + 1 in issue_lines
            continue
        assert chr(parsed.cmd_letter[row]) == head[0]
        assert parsed.cmd_number[row] == head[1]
        if head[0] == "M" and head[1] in TEXT_COMMANDS:
            continue
        rest = words[words.index(head) + 1 :]
        for letter, value in rest:
            if value is not None and letter not in [
                w[0] for w in rest[rest.index((letter, value)) + 1 :]
            ]:
                assert parsed.param(letter)[row] == value
