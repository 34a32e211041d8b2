"""Line framing: N<n> <cmd>*<cs>, comment stripping, M110 reset (serial-protocol P1–P7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gcode.framing import (
    FramingError,
    checksum,
    clean_command,
    command_code,
    frame,
    parse_frame,
    reset_line,
    word_values,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("G1 X10 ; move", "G1 X10"),
        ("  M104 S200  ", "M104 S200"),
        ("; only a comment", ""),
        ("", ""),
        ("G1 X1 ; a * in a comment", "G1 X1"),
        ("M117 hi;there", "M117 hi"),
    ],
)
def test_p1_comments_and_whitespace_are_stripped(raw: str, clean: str) -> None:
    assert clean_command(raw) == clean


@pytest.mark.parametrize(
    ("number", "command", "framed"),
    [
        (1, "M115", "N1 M115*39"),
        (0, "M110 N0", "N0 M110 N0*125"),
        (12, "G1 X10", f"N12 G1 X10*{checksum('N12 G1 X10')}"),
    ],
)
def test_p2_numbered_form_with_xor_checksum(number: int, command: str, framed: str) -> None:
    assert frame(number, command) == framed


@pytest.mark.parametrize("command", ["", "G1 X1*5", "G1\nG1"])
def test_p1_unframeable_commands_are_refused(command: str) -> None:
    with pytest.raises(FramingError):
        frame(3, command)


def test_p6_reset_line_matches_octoprint_hello() -> None:
    assert reset_line(0) == "N0 M110 N0*125"
    parsed = parse_frame(reset_line(-1))
    assert parsed.number == -1
    assert parsed.command == "M110 N-1"
    assert parsed.checksum_ok


@pytest.mark.parametrize(
    ("line", "number", "command", "ok"),
    [
        ("N1 M115*39", 1, "M115", True),
        ("N1 M115*40", 1, "M115", False),
        ("N1 M115", 1, "M115", False),
        ("M105", None, "M105", True),
        ("N7 G1 X1 Y2*" + str(checksum("N7 G1 X1 Y2")) + "\n", 7, "G1 X1 Y2", True),
    ],
)
def test_p2_parse_frame(line: str, number: int | None, command: str, ok: bool) -> None:
    parsed = parse_frame(line)
    assert (parsed.number, parsed.command, parsed.checksum_ok) == (number, command, ok)


def test_p2_malformed_line_number_is_an_error() -> None:
    with pytest.raises(FramingError):
        parse_frame("Nx G1*3")


def test_words_and_codes() -> None:
    assert command_code("g1 x10") == "G1"
    assert command_code("") == ""
    assert word_values("G1 X10 Y-2.5 E.3 F600") == {"X": 10.0, "Y": -2.5, "E": 0.3, "F": 600.0}
    assert word_values("M105") == {}


_COMMANDS = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="*;"),
    min_size=1,
    max_size=60,
)


@given(number=st.integers(min_value=-1, max_value=10**7), command=_COMMANDS)
def test_p2_frame_round_trip(number: int, command: str) -> None:
    parsed = parse_frame(frame(number, command))
    assert parsed.number == number
    assert parsed.command == command
    assert parsed.checksum_ok


@given(number=st.integers(min_value=0, max_value=10**6), command=_COMMANDS, flip=st.integers(0, 6))
def test_p2_any_single_bit_flip_in_the_body_breaks_the_checksum(
    number: int, command: str, flip: int
) -> None:
    framed = frame(number, command)
    body, _, cs = framed.rpartition("*")
    index = len(body) - 1
    corrupted = body[:index] + chr(ord(body[index]) ^ (1 << flip)) + "*" + cs
    try:
        parsed = parse_frame(corrupted)
    except FramingError:
        return
    assert not parsed.checksum_ok or parsed.command != command
