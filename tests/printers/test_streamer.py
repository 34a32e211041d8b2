"""Flow control without I/O: the streamer fed scripted firmware answers (P3–P21)."""

from __future__ import annotations

import pytest

from gcode.framing import frame, parse_frame
from printers.errors import ProtocolError
from printers.responses import Ok, Resend, parse_response
from printers.streamer import Streamer, StreamerSettings
from printers.virtual import FaultConfig, VirtualFirmware


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
    assert streamer.on_ok(0.0) == [frame(3, "M400")]  # closes the job, witnesses N2
    assert streamer.job_draining and not streamer.job_complete
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


def test_p13_p16_window_of_three_replays_in_order_and_ignores_explained_repeats() -> None:
    streamer, _ = started([f"G1 X{i}" for i in range(10)], window_lines=3)
    assert numbers(streamer.on_ok(0.0)) == [3]  # M110 acked; N1..N3 in flight
    # N1 arrived corrupted: the firmware rejects N1, then N2 and N3 (wrong number), each with
    # "Resend: 1" + ok.  Each stale rejection frees one slot for the replay.
    assert numbers(streamer.on_resend(1, 0.0)) == [1]
    assert streamer.on_ok(0.0) == []
    assert numbers(streamer.on_resend(1, 0.0)) == [2]  # P16: explained by N2 in flight
    assert streamer.on_ok(0.0) == []
    assert numbers(streamer.on_resend(1, 0.0)) == [3]
    assert streamer.on_ok(0.0) == []
    assert streamer.resends == 1
    assert numbers(streamer.on_ok(0.0)) == [4]  # the replayed N1 is acknowledged


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


def test_p19_with_busy_protocol_silence_during_long_commands_is_a_timeout() -> None:
    streamer, _ = started(["M109 S210", "G1 X1"], communication_timeout_s=1.0)
    streamer.busy_protocol = True
    streamer.on_ok(0.0)
    assert streamer.deadline() == 1.0
    streamer.on_activity(0.9)  # a busy: or temperature line
    assert streamer.on_tick(1.5) == []
    assert streamer.on_tick(2.0) == ["M105"]


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


def test_p15_request_for_the_next_line_never_replays_the_job() -> None:
    """The M110's ok was lost (timeout), later lines went through: a request for the line
    after the last one sent is a duplicate's echo, not a lost reset."""
    streamer, _ = started([f"G1 X{i}" for i in range(10)], communication_timeout_s=1.0)
    assert streamer.on_tick(1.5) == ["M105"]  # no ok for the M110 ...
    assert numbers(streamer.on_ok(1.6, with_temperatures=True)) == [1]
    assert numbers(streamer.on_ok(1.7)) == [2]  # ... yet N1 is acknowledged
    assert streamer.on_resend(3, 1.8) == []  # N3 is unsent: ignore (P15)
    assert streamer.resends == 0


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


def _drive(streamer: Streamer, firmware: VirtualFirmware, commands: list[str]) -> float:
    """Wire a streamer to the virtual firmware without a pty; returns simulated seconds."""
    now = 0.0
    firmware.boot(now)
    firmware.output.clear()
    wire = streamer.start_job(iter(commands), now)
    for _ in range(200_000):
        if streamer.job_complete:
            return now
        for line in wire:
            firmware.receive(line, now)
        wire = []
        firmware.step(now)
        answers, firmware.output = firmware.output, []
        if not answers:
            now += 0.05
            wire += streamer.on_tick(now)
        for text in answers:
            response = parse_response(text)
            streamer.on_activity(now)
            if isinstance(response, Ok):
                wire += streamer.on_ok(now, with_temperatures=response.temperatures is not None)
            elif isinstance(response, Resend):
                wire += streamer.on_resend(response.line_number, now)
    raise AssertionError("the job did not complete")


@pytest.mark.parametrize("window_lines", [1, 2, 4])
@pytest.mark.parametrize("seed", range(4))
def test_p13_p16_p21_every_line_runs_once_over_a_faulty_link(window_lines: int, seed: int) -> None:
    faults = FaultConfig(corrupt_rate=0.02, drop_rate=0.003, lost_ok_rate=0.003)
    firmware = VirtualFirmware(instant=True, faults=faults, seed=seed)
    streamer = Streamer(StreamerSettings(window_lines=window_lines, communication_timeout_s=0.2))
    streamer.busy_protocol = True  # the virtual firmware keeps long commands alive
    commands = [f"G1 X{i} F6000" for i in range(1500)]
    _drive(streamer, firmware, commands)
    assert [c for c in firmware.executed if c.startswith("G1")] == commands
    assert streamer.resends > 0
