"""The transport: ports by URL (a pty, ``socket://``), port listing, baud detection."""

from __future__ import annotations

import os
import select
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
import serial

from printers.connection import PrinterConnection
from printers.errors import TransportError
from printers.profiles import PrinterProfile
from printers.state import EventKind
from printers.transport import SerialTransport, detect_baud, list_serial_ports
from printers.virtual import FaultConfig, VirtualPrinter
from tests.printers.conftest import FAST, Recorder, run

Factory = Callable[..., VirtualPrinter]


def _shuttle(client: socket.socket, tty_fd: int, stop: threading.Event) -> None:
    while not stop.is_set():
        ready, _, _ = select.select([client, tty_fd], [], [], 0.1)
        if client in ready:
            data = client.recv(4096)
            if not data:
                return
            os.write(tty_fd, data)
        if tty_fd in ready:
            client.sendall(os.read(tty_fd, 4096))


@pytest.fixture
def tcp_bridge() -> Iterator[Callable[[str], str]]:
    """A tiny ser2net: a TCP port that forwards bytes to and from a serial device."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def make(device: str) -> str:
        server = socket.create_server(("127.0.0.1", 0))

        def serve() -> None:
            client, _ = server.accept()
            with serial.serial_for_url(device, 115200, timeout=0) as tty, client:
                _shuttle(client, tty.fileno(), stop)
            server.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return f"socket://127.0.0.1:{server.getsockname()[1]}"

    yield make
    stop.set()
    for thread in threads:
        thread.join(timeout=2)


@pytest.mark.timeout(30)
def test_socket_url_streams_like_a_tty(
    virtual: Factory, profile: PrinterProfile, tcp_bridge: Callable[[str], str]
) -> None:
    printer = virtual(instant=True, faults=FaultConfig(corrupt_rate=0.02), seed=3)
    url = tcp_bridge(printer.port)
    lines = ["G91", *[f"G1 X0.5 F6000 ; {i}" for i in range(400)]]

    async def scenario() -> None:
        connection = PrinterConnection(url, profile=profile, settings=FAST)
        recorder = Recorder(connection)
        await connection.connect()
        await connection.start_print(lines, job_name="over tcp")
        finished = await recorder.wait(EventKind.JOB_FINISHED, EventKind.JOB_FAILED)
        assert finished.kind is EventKind.JOB_FINISHED, finished.message
        assert finished.status.resends > 0
        await connection.disconnect()

    run(scenario())
    assert printer.position_mm["X"] == pytest.approx(200.0)


def test_bad_url_is_a_transport_error_naming_the_port() -> None:
    with pytest.raises(TransportError, match="cannot open /dev/does-not-exist"):
        SerialTransport("/dev/does-not-exist", 115200).open()


@pytest.mark.timeout(30)
def test_p26_detect_baud_gives_up_with_the_rates_tried(virtual: Factory) -> None:
    printer = virtual(instant=True, baud=9600)
    transport = SerialTransport(printer.port, 115200)
    transport.open()
    try:
        with pytest.raises(TransportError, match="no sane answer"):
            detect_baud(transport, "M105", candidates=(115200, 57600), wait_s=0.5)
        assert detect_baud(transport, "M105", candidates=(57600, 9600), wait_s=0.5) == 9600
    finally:
        transport.close()


def test_port_listing_is_a_list_of_port_infos() -> None:
    for port in list_serial_ports():
        assert port.device


def test_a_port_gone_under_a_write_is_a_disconnect_naming_it() -> None:
    """A pty whose other side closed fails writes with EIO, as an unplugged USB port does:
    the error says the device is gone, whether a read or a write notices first."""
    master, slave = os.openpty()
    transport = SerialTransport(os.ttyname(slave), 115200)
    transport.open()
    os.close(slave)
    os.close(master)
    try:
        with pytest.raises(TransportError, match=r"/dev/pts/\d+: device disconnected"):
            for _ in range(1000):  # the pty buffer may take a few lines first
                transport.write_line("G1 X1")
    finally:
        transport.close()
