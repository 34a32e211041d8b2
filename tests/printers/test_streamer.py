"""Flow control without I/O: the streamer fed scripted firmware answers (P3–P21)."""

from __future__ import annotations

import pytest

from gcode.framing import frame, parse_frame
from printers.errors import ProtocolError
from printers.streamer import Streamer, StreamerSettings


def started(lines: list[str], **settings: object) -> tuple[Streamer, list[str]]:
    streamer = Streamer(StreamerSettings(**settings))  # type: ignore[arg-type]
    sent = streamer.start_job(iter(lines), 0.0)
    return streamer, sent


def numbers(lines: list[str]) -> list[int | None]:
    return [parse_frame(line).number for line in lines]


def test_p6_p7_job_starts_with_m110_then_counts_from_one() -> None:
    streamer, sent = started(["G1 X1 ; first", "; comment only", "G1 X2"])
    assert sent == ["N0 M110 N0*125"]
    assert streamer.on_ok(0.0) == [frame(1, "G1 X1")]
    assert streamer.on_ok(0.0) == [frame(2, "G1 X2")]  # P1: the comment line is never sent
    assert streamer.on_ok(0.0) == []
    assert streamer.job_complete


def test_p8_window_bounds_lines_in_flight() -> None:
    streamer, sent = started([f"G1 X{i}" for i in range(10)], window_lines=3)
    assert numbers(sent) == [0, 1, 2]
    assert numbers(streamer.on_ok(0.0)) == [3]
    assert streamer.in_flight == 3


def test_p13_p14_resend_rewinds_and_swallows_the_following_ok() -> None:
    streamer, _ = started([f"G1 X{i}" for i in range(10)])
    for _ in range(4):
        streamer.on_ok(0.0)  # acks N0..N3, sends N4
    assert numbers(streamer.on_resend(4, 0.0)) == [4]
    assert streamer.on_ok(0.0) == []  # the ok after "Resend:" is swallowed
    assert numbers(streamer.on_ok(0.0)) == [5]  # the resent line's ok moves on
    assert streamer.resends == 1


def test_p13_resend_of_an_older_line_replays_in_order() -> None:
    streamer, _ = started([f"G1 X{i}" for i in range(10)], window_lines=3)
    replay = streamer.on_resend(1, 0.0)
    assert numbers(replay) == [1, 2, 3]  # N1, N2 again, then the new N3 fills the window
    assert replay[0] == frame(1, "G1 X0")


def test_p15_request_for_the_unsent_line_is_ignored() -> None:
    streamer, _ = started([f"G1 X{i}" for i in range(5)])
    streamer.on_ok(0.0)
    streamer.on_ok(0.0)  # N2 in flight; next unsent is 3
    assert streamer.on_resend(3, 0.0) == []
    assert streamer.resends == 0


def test_p16_stuck_resends_give_up() -> None:
    streamer, _ = started(["G1 X1"] * 5, max_identical_resends=3)
    streamer.on_ok(0.0)
    with pytest.raises(ProtocolError, match="stuck"):
        for _ in range(4):
            streamer.on_resend(1, 0.0)


def test_p17_no_line_number_counts_as_ok() -> None:
    streamer, _ = started(["G1 X1", "G1 X2"])
    streamer.on_ok(0.0)
    assert numbers(streamer.on_no_line_number(0.0)) == [2]


def test_p20_p21_silence_is_a_lost_ok_and_the_printer_is_tickled() -> None:
    streamer, _ = started(["G1 X1", "G1 X2"], communication_timeout_s=1.0)
    streamer.on_ok(0.0)  # N1 in flight since t=0
    assert streamer.on_tick(0.5) == []
    assert streamer.on_tick(1.01) == ["M105"]
    assert streamer.on_ok(1.1) == []  # a plain ok: the late ok of N1, not the tickle's
    assert numbers(streamer.on_ok(1.2, with_temperatures=True)) == [2]


def test_p20_long_running_commands_have_no_deadline() -> None:
    streamer, _ = started(["M109 S210", "G1 X1"], communication_timeout_s=1.0)
    streamer.on_ok(0.0)
    assert streamer.long_running_in_flight
    assert streamer.deadline() is None
    assert streamer.on_tick(100.0) == []


def test_p20_consecutive_timeouts_give_up() -> None:
    streamer, _ = started(["G1 X1"], communication_timeout_s=1.0, max_consecutive_timeouts=2)
    with pytest.raises(ProtocolError, match="does not answer"):
        for second in range(1, 10):
            streamer.on_tick(float(second) * 1.01)


def test_p7_lost_reset_is_sent_again() -> None:
    streamer, _ = started(["G1 X1", "G1 X2"])
    streamer.on_ok(0.0)  # ok taken for M110, but the firmware never got it
    replay = streamer.on_resend(58, 0.0)  # still expects the old job's numbering
    assert replay == ["N0 M110 N0*125"]


def test_p3_history_is_bounded() -> None:
    streamer, _ = started([f"G1 X{i}" for i in range(100)], history_lines=10)
    for _ in range(50):
        streamer.on_ok(0.0)
    with pytest.raises(ProtocolError, match="no longer kept"):
        streamer.on_resend(5, 0.0)


def test_halt_sends_nothing_more() -> None:
    streamer, _ = started(["G1 X1", "G1 X2"])
    streamer.halt()
    assert streamer.on_ok(0.0) == []
    assert streamer.enqueue("M105", 0.0) == []
