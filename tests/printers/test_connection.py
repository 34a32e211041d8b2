"""The printer host against the virtual printer over a real pty (serial-protocol P1–P32).

Every test drives :class:`PrinterConnection` exactly as the farm service does and checks what
the virtual firmware executed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import pytest

from printers.connection import HostSettings, PrinterConnection
from printers.errors import PrinterError
from printers.profiles import PrinterProfile
from printers.state import ConnectionState, EventKind
from printers.streamer import StreamerSettings
from printers.virtual import FaultConfig, VirtualPrinter
from tests.printers.conftest import FAST, Recorder, run, until

S = ConnectionState
Factory = Callable[..., VirtualPrinter]


def relative_moves(count: int, feed_mm_min: int = 6000) -> list[str]:
    """G91 then ``count`` small moves; the final X is 0.1 mm per odd line, Y per even line."""
    lines = ["G91 ; relative", "M83"]
    for index in range(count):
        axis = "X" if index % 2 else "Y"
        lines.append(f"G1 {axis}0.1 E0.01 F{feed_mm_min} ; move {index}")
    return lines


def job_moves(executed: list[str]) -> list[str]:
    return [command for command in executed if command.startswith("G1 ") and "E0.01" in command]


async def connected(
    printer: VirtualPrinter, profile: PrinterProfile, settings: HostSettings = FAST
) -> tuple[PrinterConnection, Recorder]:
    connection = PrinterConnection(printer.port, profile=profile, name="p1", settings=settings)
    recorder = Recorder(connection)
    await connection.connect()
    return connection, recorder


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("faults", "window_lines"),
    [
        (FaultConfig(corrupt_rate=0.02, drop_rate=0.003), 1),
        (FaultConfig(lost_ok_rate=0.003, corrupt_rate=0.005), 1),
        (FaultConfig(corrupt_rate=0.02, drop_rate=0.003), 4),
    ],
    ids=["corrupt2%-drop0.3%", "lost-ok", "window4"],
)
def test_p2_p13_p21_faulty_link_runs_every_line_exactly_once(
    virtual: Factory, profile: PrinterProfile, faults: FaultConfig, window_lines: int
) -> None:
    """P2–P7 framing, P13/P14 resend + swallowed ok, P16 repeats, P21 lost-ok recovery."""
    printer = virtual(instant=True, faults=faults, seed=7)
    lines = relative_moves(2000)
    settings = HostSettings(
        streamer=StreamerSettings(communication_timeout_s=0.25, window_lines=window_lines),
        connect_timeout_s=5.0,
    )

    async def scenario() -> None:
        connection, recorder = await connected(printer, profile, settings)
        await connection.start_print(lines, job_name="faulty")
        finished = await recorder.wait(EventKind.JOB_FINISHED, EventKind.JOB_FAILED)
        assert finished.kind is EventKind.JOB_FINISHED, finished.message
        assert connection.status.state is S.IDLE
        assert finished.status.resends > 0
        await connection.disconnect()

    run(scenario())
    expected = [line.split(";")[0].strip() for line in lines[2:]]
    assert job_moves(printer.executed) == expected
    assert printer.position_mm["X"] == pytest.approx(100.0)
    assert printer.position_mm["Y"] == pytest.approx(100.0)


@pytest.mark.timeout(30)
def test_p19_p20_busy_and_long_running_commands_do_not_time_out(
    virtual: Factory, profile: PrinterProfile
) -> None:
    """G4/G28/M109 take longer than the 0.6 s timeout; busy keep-alives cover a full planner."""
    printer = virtual(speed=4.0, busy_interval_s=0.05)
    # one 1.25 s move then 17 tiny ones: the 17th waits for a planner slot (busy, P19)
    lines = ["G28", "G4 S3", "M109 S35", "G91", "G1 X5 F60", *["G1 X0.01 F60"] * 17, "M400"]
    settings = HostSettings(streamer=StreamerSettings(communication_timeout_s=0.6))

    async def scenario() -> None:
        connection, recorder = await connected(printer, profile, settings)
        await connection.start_print(lines, job_name="slow")
        finished = await recorder.wait(EventKind.JOB_FINISHED, EventKind.JOB_FAILED)
        assert finished.kind is EventKind.JOB_FINISHED, finished.message
        assert connection._worker is not None
        assert connection._worker.streamer.timeouts == 0
        await connection.disconnect()

    run(scenario())
    assert "M105" not in printer.executed  # no timeout tickle was needed (P21)
    assert printer.position_mm["X"] == pytest.approx(5.17)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("autoreport", [True, False], ids=["autoreport", "polling"])
def test_p22_autoreport_or_polling(
    virtual: Factory, profile: PrinterProfile, autoreport: bool
) -> None:
    """M155 when the firmware has AUTOREPORT_TEMP, M105 polling otherwise."""
    printer = virtual(instant=True, autoreport_temp=autoreport)

    async def scenario() -> None:
        connection, _ = await connected(printer, profile)
        await connection.send_command("M104 S200")
        await until(lambda: connection.status.hotend_target_c == 200.0)
        status = connection.status
        assert status.capabilities["AUTOREPORT_TEMP"] is autoreport
        assert status.hotend_c == pytest.approx(200.0)
        assert status.hotend_target_c == pytest.approx(200.0)
        await connection.disconnect()

    run(scenario())
    assert ("M155 S1" in printer.executed) is autoreport
    assert ("M105" in printer.executed) is not autoreport


@pytest.mark.timeout(30)
def test_p28_thermal_runaway_fails_job_and_nothing_more_is_sent(
    virtual: Factory, profile: PrinterProfile
) -> None:
    printer = virtual(instant=True, faults=FaultConfig(thermal_runaway_after_lines=50))

    async def scenario() -> None:
        connection, recorder = await connected(printer, profile)
        await connection.start_print(relative_moves(1000), job_name="hot")
        failed = await recorder.wait(EventKind.JOB_FAILED, EventKind.JOB_FINISHED)
        assert failed.kind is EventKind.JOB_FAILED
        assert "Thermal Runaway" in failed.message
        assert connection.status.state is S.ERROR
        assert connection._worker is not None
        sent = connection._worker.streamer.lines_sent
        await asyncio.sleep(0.2)
        received = printer.firmware.lines_received
        await asyncio.sleep(0.5)
        assert connection._worker.streamer.lines_sent == sent
        assert printer.firmware.lines_received == received
        assert "kill() called" in (connection.status.error or "")  # P28: both lines read
        await connection.connect()  # P29: the job is failed, the printer can be reconnected
        assert connection.status.state is S.IDLE
        await connection.disconnect()
        assert connection.status.state is S.DISCONNECTED

    run(scenario())
    assert len(job_moves(printer.executed)) < 60


@pytest.mark.timeout(30)
def test_p30_pause_parks_and_resume_restores_relative_mode(
    virtual: Factory, profile: PrinterProfile
) -> None:
    printer = virtual(speed=4.0)
    lines = relative_moves(400, feed_mm_min=600)

    async def scenario() -> None:
        connection, recorder = await connected(printer, profile)
        await connection.start_print(lines, job_name="pausable")
        await asyncio.sleep(0.2)
        await connection.pause()
        assert connection.status.state is S.PAUSED
        await asyncio.sleep(0.1)
        parked = printer.position_mm
        assert (parked["X"], parked["Y"]) == (0.0, profile.bed_y_mm)
        await connection.resume()
        finished = await recorder.wait(EventKind.JOB_FINISHED, EventKind.JOB_FAILED)
        assert finished.kind is EventKind.JOB_FINISHED, finished.message
        states = [e.message for e in recorder.events if e.kind is EventKind.STATE_CHANGED]
        assert states == (
            [
                "connecting",
                "idle",
                "printing",
                "pausing",
                "paused",
                "resuming",
                "printing",
                "finishing",
                "idle",
            ]
        )
        await connection.disconnect()

    run(scenario())
    assert "M114" in printer.executed
    assert len(job_moves(printer.executed)) == 400
    pause_at = printer.executed.index("M114")
    before = job_moves(printer.executed[:pause_at])
    parked_x = 0.0
    expected_x = (
        parked_x
        + 0.1 * sum(" X" in line for line in job_moves(printer.executed))
        - (0.1 * sum(" X" in line for line in before))
    )
    # resume restored the position at pause, so X = position at pause + moves after it
    x_at_pause = 0.1 * sum(" X" in line for line in before)
    assert printer.position_mm["X"] == pytest.approx(x_at_pause + expected_x)
    assert 0 < len(before) < 400


@pytest.mark.timeout(30)
def test_p30_resume_returns_to_the_paused_position(
    virtual: Factory, profile: PrinterProfile
) -> None:
    """Absolute moves: after pause/resume the head ends exactly where the job says."""
    printer = virtual(speed=4.0)
    lines = ["G90"] + [f"G1 X{10 + i * 0.1:.1f} Y{20 + i * 0.05:.2f} F600" for i in range(300)]

    async def scenario() -> None:
        connection, recorder = await connected(printer, profile)
        await connection.start_print(lines, job_name="absolute")
        await asyncio.sleep(0.1)
        await connection.pause()
        await connection.resume()
        await recorder.wait(EventKind.JOB_FINISHED)
        await connection.disconnect()

    run(scenario())
    assert printer.position_mm["X"] == pytest.approx(39.9)
    assert printer.position_mm["Y"] == pytest.approx(34.95)


@pytest.mark.timeout(30)
def test_p30_cancel_runs_cancel_script_and_aborts_heatup(
    virtual: Factory, profile: PrinterProfile
) -> None:
    printer = virtual(speed=4.0)

    async def scenario() -> None:
        connection, recorder = await connected(printer, profile)
        await connection.start_print(["M109 S210", *relative_moves(50)], job_name="cold")
        await asyncio.sleep(0.3)
        await asyncio.wait_for(connection.cancel(), 5)
        assert connection.status.state is S.IDLE
        assert EventKind.JOB_CANCELLED in recorder.kinds()
        await connection.disconnect()

    run(scenario())
    assert job_moves(printer.executed) == []
    assert printer.executed[-1] == "M84"
    assert "M104 S0" in printer.executed
    assert printer.firmware.hotend.target_c == 0


LOST_PRINTERS = [
    pytest.param(FaultConfig(disconnect_after_lines=100), "disconnected", id="disconnect"),
    # P20: a printer that stops answering fails the job instead of hanging the host
    pytest.param(FaultConfig(hang_after_lines=100), "does not answer", id="p20-frozen"),
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("faults", "words"), LOST_PRINTERS)
def test_a_printer_lost_mid_print_goes_to_error(
    virtual: Factory, profile: PrinterProfile, faults: FaultConfig, words: str
) -> None:
    printer = virtual(instant=True, faults=faults)

    async def scenario() -> None:
        connection, recorder = await connected(printer, profile)
        await connection.start_print(relative_moves(1000), job_name="lost")
        failed = await recorder.wait(EventKind.JOB_FAILED, EventKind.JOB_FINISHED, timeout_s=10)
        assert failed.kind is EventKind.JOB_FAILED
        assert words in failed.message
        assert connection.status.state is S.ERROR
        await connection.disconnect()

    run(scenario())


@pytest.mark.timeout(30)
def test_p32_action_pause_from_firmware(virtual: Factory, profile: PrinterProfile) -> None:
    printer = virtual(speed=2.0, faults=FaultConfig(action_pause_after_lines=30))

    async def scenario() -> None:
        connection, recorder = await connected(printer, profile)
        await connection.start_print(relative_moves(300, 600), job_name="filament")
        await recorder.wait(EventKind.ACTION)
        await until(lambda: connection.status.state is S.PAUSED)
        await connection.resume()
        finished = await recorder.wait(EventKind.JOB_FINISHED)
        assert finished.status.state is S.IDLE
        await connection.disconnect()

    run(scenario())
    assert len(job_moves(printer.executed)) == 300


@pytest.mark.timeout(30)
def test_p5_emergency_stop_halts_the_firmware(virtual: Factory, profile: PrinterProfile) -> None:
    printer = virtual(speed=1.0)

    async def scenario() -> None:
        connection, recorder = await connected(printer, profile)
        await connection.start_print(["M190 S90", *relative_moves(10)], job_name="stop")
        await asyncio.sleep(0.2)
        await connection.emergency_stop()
        assert connection.status.state is S.ERROR
        assert EventKind.JOB_FAILED in recorder.kinds()
        await asyncio.sleep(0.2)
        await connection.disconnect()

    run(scenario())
    assert printer.firmware.halted


@pytest.mark.timeout(30)
def test_p25_p27_boot_garbage_and_swallowed_hello(
    virtual: Factory, profile: PrinterProfile
) -> None:
    printer = virtual(instant=True, faults=FaultConfig(garbage_on_boot=True))

    async def scenario() -> None:
        connection, _ = await connected(printer, profile)
        assert connection.status.firmware_name.startswith("Marlin")
        await connection.disconnect()

    run(scenario())


@pytest.mark.timeout(60)
def test_p26_baud_rate_autodetection(virtual: Factory, profile: PrinterProfile) -> None:
    printer = virtual(instant=True, baud=57600)

    async def scenario() -> None:
        connection = PrinterConnection(printer.port, profile=profile, baud="auto", settings=FAST)
        await connection.connect()
        assert connection._worker is not None
        assert connection._worker.transport.baud == 57600
        await connection.disconnect()

    run(scenario())


@pytest.mark.timeout(30)
def test_p25_silent_port_fails_to_connect_with_a_clear_error(profile: PrinterProfile) -> None:
    master, slave = os.openpty()
    port = os.ttyname(slave)
    settings = HostSettings(streamer=StreamerSettings(), connect_timeout_s=1.0)

    async def scenario() -> None:
        connection = PrinterConnection(port, profile=profile, settings=settings)
        with pytest.raises(PrinterError, match="no answer"):
            await connection.connect()
        assert connection.status.state is S.ERROR

    try:
        run(scenario())
    finally:
        os.close(slave)
        os.close(master)


@pytest.mark.timeout(60)
def test_many_printers_stream_from_one_loop(virtual: Factory, profile: PrinterProfile) -> None:
    printers = [virtual(instant=True, name=f"v{i}", seed=i) for i in range(6)]

    async def one(printer: VirtualPrinter) -> None:
        connection, recorder = await connected(printer, profile)
        await connection.start_print(relative_moves(300), job_name=printer.name)
        finished = await recorder.wait(EventKind.JOB_FINISHED, EventKind.JOB_FAILED)
        assert finished.kind is EventKind.JOB_FINISHED
        await connection.disconnect()

    async def scenario() -> None:
        await asyncio.gather(*(one(printer) for printer in printers))

    run(scenario())
    assert all(len(job_moves(printer.executed)) == 300 for printer in printers)


@pytest.mark.timeout(30)
def test_p31_m0_in_a_job_pauses_on_the_host(virtual: Factory, profile: PrinterProfile) -> None:
    printer = virtual(instant=True)
    lines = [*relative_moves(20), "M0 ; change colour", *relative_moves(20)[2:]]

    async def scenario() -> None:
        connection, recorder = await connected(printer, profile)
        await connection.start_print(lines, job_name="colour")
        await until(lambda: connection.status.state is S.PAUSED)
        assert len(job_moves(printer.executed)) == 20
        await connection.resume()
        await recorder.wait(EventKind.JOB_FINISHED)
        await connection.disconnect()

    run(scenario())
    assert "M0" not in printer.executed
    assert len(job_moves(printer.executed)) == 40


@pytest.mark.timeout(30)
def test_a_slow_printer_does_not_stall_a_fast_one(
    virtual: Factory, profile: PrinterProfile
) -> None:
    slow = virtual(speed=4.0, name="slow")
    fast = virtual(instant=True, name="fast")

    async def scenario() -> None:
        slow_connection, _ = await connected(slow, profile)
        fast_connection, fast_events = await connected(fast, profile)
        await slow_connection.start_print(["M190 S100", "G1 X1"], job_name="heating")
        await fast_connection.start_print(relative_moves(1000), job_name="quick")
        await fast_events.wait(EventKind.JOB_FINISHED, timeout_s=10)
        assert slow_connection.status.state is S.PRINTING
        await slow_connection.cancel()
        await asyncio.gather(slow_connection.disconnect(), fast_connection.disconnect())

    run(scenario())
    assert len(job_moves(fast.executed)) == 1000


@pytest.mark.timeout(30)
def test_p30_pause_during_the_last_command_finishes_after_resume(
    virtual: Factory, profile: PrinterProfile
) -> None:
    printer = virtual(speed=4.0)

    async def scenario() -> None:
        connection, recorder = await connected(printer, profile)
        await connection.start_print(["G91", "G4 S2"], job_name="short")
        await asyncio.sleep(0.1)
        await connection.pause()  # waits for the dwell, which is the job's last line
        await connection.resume()
        finished = await recorder.wait(EventKind.JOB_FINISHED, timeout_s=10)
        assert finished.status.state is S.IDLE
        await connection.disconnect()

    run(scenario())
    assert printer.executed.count("G4 S2") == 1


@pytest.mark.timeout(30)
def test_p26_wrong_baud_rate_is_named_in_the_error(
    virtual: Factory, profile: PrinterProfile
) -> None:
    printer = virtual(instant=True, baud=57600)
    settings = HostSettings(streamer=StreamerSettings(), connect_timeout_s=1.5)

    async def scenario() -> None:
        connection = PrinterConnection(printer.port, profile=profile, settings=settings)
        with pytest.raises(PrinterError, match="wrong baud rate"):
            await connection.connect()

    run(scenario())


@pytest.mark.timeout(30)
def test_p31_p32_m600_prompt_is_answered_and_the_job_goes_on(
    virtual: Factory, profile: PrinterProfile
) -> None:
    printer = virtual(instant=True)
    lines = [*relative_moves(30), "M600 ; filament change", *relative_moves(30)[2:]]

    async def scenario() -> None:
        connection, recorder = await connected(printer, profile)
        await connection.start_print(lines, job_name="two colours")
        await until(lambda: connection.status.prompt)
        assert connection.status.prompt == "Filament change: load new filament"
        await asyncio.sleep(0.4)  # busy: paused for user keeps the link alive (P19)
        assert connection.status.state is S.PRINTING
        assert len(job_moves(printer.executed)) == 30
        await connection.answer_prompt(0)
        finished = await recorder.wait(EventKind.JOB_FINISHED, EventKind.JOB_FAILED)
        assert finished.kind is EventKind.JOB_FINISHED, finished.message
        assert connection._worker is not None
        assert connection._worker.streamer.timeouts == 0
        await connection.disconnect()

    run(scenario())
    assert len(job_moves(printer.executed)) == 60
    assert printer.executed.count("M600") == 1


@pytest.mark.timeout(30)
def test_p5_numbered_emergency_commands_keep_the_numbering(
    virtual: Factory, profile: PrinterProfile
) -> None:
    """M108 sent as an ordinary (numbered) command acts at once and is still acknowledged."""
    printer = virtual(instant=True)

    async def scenario() -> None:
        connection, recorder = await connected(printer, profile)
        await connection.send_command("M108")
        await connection.start_print(relative_moves(50), job_name="after m108")
        finished = await recorder.wait(EventKind.JOB_FINISHED, EventKind.JOB_FAILED)
        assert finished.kind is EventKind.JOB_FINISHED, finished.message
        await connection.disconnect()

    run(scenario())
    assert "M108" in printer.executed
