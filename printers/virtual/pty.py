"""The virtual printer behind a real pseudo-terminal, driven by one thread.

The host opens the pty's slave path with pyserial exactly as it would open ``/dev/ttyUSB0``.
The driver notices the open (the master stops reporting POLLHUP) and boots the firmware, which
prints ``start`` (P25); it notices a close the same way.  It reads the baud rate the host set
and answers garbage at a wrong rate (P26).  The ``disconnect`` fault closes the master, which
the host sees as a vanished USB device.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import termios
import threading
import time
import tty
from types import TracebackType

from printers.virtual.faults import FaultConfig
from printers.virtual.firmware import VirtualFirmware

__all__ = ["VirtualPrinter"]

log = logging.getLogger(__name__)

BOOT_DELAY_S = 0.05
IDLE_POLL_S = 0.2
HANGUP_POLL_S = 0.05  # how soon a host opening the port is noticed (then the boot banner)
WRONG_BAUD_REPLY = b"\xfe\x80\x9c\xff\r\n"


class VirtualPrinter:
    """A Marlin-like printer on a pty.  ``start()`` returns the path to give pyserial.

    speed: simulated seconds per real second for motion, dwell and heating.
    instant: motion and heating take no time at all (throughput tests).
    faults: what goes wrong (:class:`FaultConfig`), drawn from ``random.Random(seed)``.
    baud: the rate the firmware listens at; a host at another rate reads garbage.
    autoreport_temp: advertise ``Cap:AUTOREPORT_TEMP:1`` and honour M155.
    busy_interval_s: real seconds between ``busy: processing`` keep-alives.

    ``executed`` lists every command the firmware ran, in order (without N/checksum).
    Usable as a context manager: ``with VirtualPrinter(instant=True) as printer: ...``
    (``printer.port`` holds the path).
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        instant: bool = False,
        faults: FaultConfig | None = None,
        seed: int = 0,
        name: str = "virtual",
        baud: int = 115200,
        autoreport_temp: bool = True,
        busy_interval_s: float = 2.0,
    ) -> None:
        self.name = name
        self.baud = baud
        self.firmware = VirtualFirmware(
            speed=speed,
            instant=instant,
            faults=faults,
            seed=seed,
            name=name,
            autoreport_temp=autoreport_temp,
            busy_interval_s=busy_interval_s,
        )
        self.port = ""
        self.connections = 0
        self._master = -1
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._pending = b""

    @property
    def executed(self) -> list[str]:
        """Commands the firmware executed, in order."""
        return self.firmware.executed

    @property
    def position_mm(self) -> dict[str, float]:
        """The firmware's logical position (X, Y, Z, E) in mm."""
        return dict(self.firmware.position_mm)

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> str:
        """Open the pty, start the driver thread; returns the slave path (``/dev/pts/N``)."""
        master, slave = os.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(master, False)
        self._master = master
        self._thread = threading.Thread(target=self._run, name=f"virtual-{self.name}", daemon=True)
        self._thread.start()
        log.info("virtual printer %s on %s", self.name, self.port)
        return self.port

    def stop(self) -> None:
        """Stop the thread and close the pty (idempotent)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close_master()

    def __enter__(self) -> VirtualPrinter:
        if not self.port:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _close_master(self) -> None:
        with self._lock:
            if self._master >= 0:
                with contextlib.suppress(OSError):
                    os.close(self._master)
                self._master = -1

    # ----------------------------------------------------------------- the loop
    def _run(self) -> None:
        poller = select.poll()
        poller.register(self._master, select.POLLIN)
        connected = False
        booted_at = 0.0
        firmware = self.firmware
        while not self._stopping.is_set():
            now = time.monotonic()
            deadline = firmware.next_deadline() if connected else None
            if connected and now < booted_at:
                deadline = booted_at  # the banner is due when the boot window ends
            idle_s = IDLE_POLL_S if connected else HANGUP_POLL_S
            timeout_s = idle_s if deadline is None else min(idle_s, deadline - now)
            events = poller.poll(max(0.0, timeout_s) * 1000.0)
            hangup = any(mask & select.POLLHUP for _, mask in events)
            now = time.monotonic()
            if hangup:
                connected = False
                self._pending = b""
                time.sleep(HANGUP_POLL_S)
                continue
            if not connected:
                connected, booted_at = True, now + BOOT_DELAY_S
                self.connections += 1
                firmware.boot(now)
            if events and not self._read_into(firmware, now, booting=now < booted_at):
                return
            firmware.step(now)
            if firmware.output and now >= booted_at:
                self._flush(firmware)
            if firmware.disconnect_requested:
                log.info("virtual printer %s: disconnect fault", self.name)
                self._close_master()
                return

    def _read_into(self, firmware: VirtualFirmware, now: float, *, booting: bool) -> bool:
        try:
            data = os.read(self._master, 65536)
        except BlockingIOError:
            return True
        except OSError as exc:
            if exc.errno == errno.EIO:
                return True
            log.warning("virtual printer %s: %s", self.name, exc)
            return False
        if booting:
            return True  # the bootloader swallows input (P25)
        if not self._baud_matches():
            self._write(WRONG_BAUD_REPLY)
            return True
        *lines, self._pending = (self._pending + data).split(b"\n")
        for line in lines:
            firmware.receive(line.decode("ascii", "replace"), now)
        return True

    def _baud_matches(self) -> bool:
        expected = getattr(termios, f"B{self.baud}", None)
        try:
            speed = termios.tcgetattr(self._master)[5]
        except termios.error:
            return True
        return expected is None or speed == expected

    def _flush(self, firmware: VirtualFirmware) -> None:
        text = "\n".join(firmware.output) + "\n"
        firmware.output.clear()
        self._write(text.encode("latin-1", "replace") if self._baud_matches() else WRONG_BAUD_REPLY)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stopping.is_set():
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                select.select([], [self._master], [], IDLE_POLL_S)
                continue
            except OSError:
                return
            view = view[written:]
