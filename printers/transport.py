"""Serial transport: open a port by URL, read whole lines, write lines, list ports, find the baud.

pyserial's ``serial_for_url`` opens ``/dev/ttyUSB0``, ``/dev/pts/N``, ``socket://host:port`` and
``rfc2217://host:port`` alike.  Nothing here knows the protocol beyond "lines end with \\n";
the only exception is :func:`detect_baud`, which sends a hello and judges the answer (P26).
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from dataclasses import dataclass

import serial
import serial.tools.list_ports

from printers.errors import TransportError

__all__ = [
    "BAUD_CANDIDATES",
    "PortInfo",
    "SerialTransport",
    "detect_baud",
    "list_serial_ports",
]

log = logging.getLogger(__name__)

BAUD_CANDIDATES = (115200, 250000, 230400, 57600, 38400, 19200, 9600)  # P26, OctoPrint order

# USB VID:PID of boards that printers commonly use, for the port list (hints only).
BOARD_HINTS: dict[tuple[int, int], str] = {
    (0x1A86, 0x7523): "CH340 (Creality, Anet, many clones)",
    (0x0403, 0x6001): "FTDI FT232 (RAMPS clones, older boards)",
    (0x10C4, 0xEA60): "CP210x (Creality 4.2.x, MKS)",
    (0x2341, 0x0042): "Arduino Mega 2560",
    (0x2341, 0x0010): "Arduino Mega 2560",
    (0x2C99, 0x0002): "Prusa MK3/MK3S (Einsy)",
    (0x2C99, 0x0001): "Prusa MK2",
    (0x0483, 0x5740): "STM32 virtual COM (SKR, Octopus, Marlin 2 32-bit)",
    (0x1D50, 0x614E): "Klipper MCU",
    (0x16D0, 0x076B): "Duet / RepRapFirmware",
}


@dataclass(frozen=True, slots=True)
class PortInfo:
    """One serial port as the OS lists it, with a board guess from its USB VID:PID."""

    device: str
    description: str
    vid: int | None
    pid: int | None
    board_hint: str


def list_serial_ports() -> list[PortInfo]:
    """Serial ports on this machine, likely printers first."""
    ports = []
    for port in serial.tools.list_ports.comports():
        hint = BOARD_HINTS.get((port.vid, port.pid), "") if port.vid is not None else ""
        ports.append(PortInfo(port.device, port.description or "", port.vid, port.pid, hint))
    return sorted(ports, key=lambda p: (not p.board_hint, p.vid is None, p.device))


class SerialTransport:
    """A line-oriented serial port.  One reader thread calls :meth:`read_lines`; any thread
    may call :meth:`write_line` (writes are serialized by a lock).
    """

    def __init__(self, url: str, baud: int) -> None:
        self.url = url
        self.baud = baud
        self._serial: serial.SerialBase | None = None
        self._write_lock = threading.Lock()
        self._pending = b""
        self._fd: int | None = None

    def open(self) -> None:
        """Open the port; :class:`TransportError` names the port when that fails."""
        try:
            self._serial = serial.serial_for_url(self.url, self.baud, timeout=0.1, write_timeout=5)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(f"cannot open {self.url}: {exc}") from None
        try:  # a local tty: read its file descriptor directly (pyserial's read is slow)
            self._fd = self._serial.fileno()
        except (AttributeError, OSError, ValueError, serial.SerialException):
            self._fd = None

    def _write_fd(self, data: bytes) -> int:
        """Write what the tty takes right now (its fd is non-blocking); pyserial does the rest."""
        assert self._fd is not None
        try:
            return os.write(self._fd, data)
        except BlockingIOError:
            return 0

    def _read_fd(self, timeout_s: float) -> bytes:
        assert self._fd is not None
        try:
            ready, _, _ = select.select([self._fd], [], [], max(0.0, timeout_s))
            if not ready:
                return b""
            data = os.read(self._fd, 65536)
        except (OSError, ValueError) as exc:
            raise TransportError(f"{self.url}: device disconnected ({exc})") from None
        if not data:
            raise TransportError(f"{self.url}: device disconnected (end of file)")
        return data

    def _read_port(self, timeout_s: float) -> bytes:
        port = self._serial
        if port is None:
            raise TransportError(f"{self.url} is not open")
        try:
            timeout_s = round(max(0.0, timeout_s), 2)
            if port.timeout != timeout_s:  # the setter reconfigures the port: only on change
                port.timeout = timeout_s
            data = port.read(max(1, port.in_waiting))
            if data and port.in_waiting:
                data += port.read(port.in_waiting)
        except (serial.SerialException, OSError, TypeError) as exc:
            raise TransportError(f"{self.url}: device disconnected ({exc})") from None
        return data

    def set_baud(self, baud: int) -> None:
        """Switch the rate of the open port (autodetection)."""
        self.baud = baud
        if self._serial is not None:
            self._serial.baudrate = baud
            self._pending = b""
            self._serial.reset_input_buffer()

    def close(self) -> None:
        """Close the port; later reads and writes raise :class:`TransportError`."""
        port, self._serial, self._fd = self._serial, None, None  # the fd number may be reused
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError) as exc:
                log.debug("closing %s: %s", self.url, exc)

    def write_line(self, line: str) -> None:
        """Write ``line`` plus ``\\n``; :class:`TransportError` if the port is gone."""
        data = line.encode("ascii", "replace") + b"\n"
        port = self._serial
        if port is None:
            raise TransportError(f"{self.url} is not open")
        with self._write_lock:
            try:
                if self._fd is not None:
                    data = data[self._write_fd(data) :]
                if data:
                    port.write(data)
            except serial.SerialTimeoutException as exc:
                raise TransportError(f"{self.url}: write timed out ({exc})") from None
            except (serial.SerialException, OSError) as exc:  # EIO/ENODEV: the device is gone
                raise TransportError(f"{self.url}: device disconnected (write: {exc})") from None

    def read_lines(self, timeout_s: float) -> list[str]:
        """Whole lines received within ``timeout_s`` (possibly none), without line endings.

        Undecodable bytes come back as U+FFFD so a wrong baud rate is visible (P26, P27).
        """
        data = self._read_fd(timeout_s) if self._fd is not None else self._read_port(timeout_s)
        if not data:
            return []
        *lines, self._pending = (self._pending + data).split(b"\n")
        return [line.decode("utf-8", "replace").rstrip("\r") for line in lines]


def _sane(line: str) -> bool:
    text = line.strip()
    return bool(text) and "\ufffd" not in text and text.isprintable()


def detect_baud(
    transport: SerialTransport,
    hello: str,
    candidates: tuple[int, ...] = BAUD_CANDIDATES,
    wait_s: float = 1.5,
) -> int:
    """Try each rate: send ``hello``, accept the first rate that answers a sane line (P26).

    The transport must be open; it is left at the detected rate.
    """
    for baud in candidates:
        transport.set_baud(baud)
        transport.write_line(hello)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            lines = transport.read_lines(deadline - time.monotonic())
            if any("\ufffd" in line for line in lines):
                log.info("%s: rubbish at %d baud", transport.url, baud)
                break
            if any(_sane(line) for line in lines):
                log.info("%s: answers at %d baud", transport.url, baud)
                return baud
    raise TransportError(f"{transport.url}: no sane answer at any of {candidates} baud")
