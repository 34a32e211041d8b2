"""Fixtures for the printer host: virtual printers on real ptys and fast host settings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import pytest

from printers.connection import HostSettings, PrinterConnection
from printers.profiles import PrinterProfile, load_printer
from printers.state import EventKind, PrinterEvent
from printers.streamer import StreamerSettings
from printers.virtual import VirtualPrinter

T = TypeVar("T")

FAST = HostSettings(
    streamer=StreamerSettings(communication_timeout_s=0.25),
    connect_timeout_s=5.0,
    poll_interval_s=0.2,
    idle_poll_interval_s=0.2,
    autoreport_interval_s=1,
    status_interval_s=0.1,
    drain_timeout_s=10.0,
)


def run(coroutine: Awaitable[T]) -> T:
    """Run one test coroutine on a fresh loop."""
    return asyncio.run(coroutine)  # type: ignore[arg-type]


@pytest.fixture
def profile() -> PrinterProfile:
    return load_printer("ender3")


@pytest.fixture
def virtual() -> Iterator[Callable[..., VirtualPrinter]]:
    """Factory of started virtual printers, all stopped at the end of the test."""
    started: list[VirtualPrinter] = []

    def make(**kwargs: object) -> VirtualPrinter:
        kwargs.setdefault("busy_interval_s", 0.05)  # well inside FAST's 0.25 s timeout
        printer = VirtualPrinter(**kwargs)  # type: ignore[arg-type]
        printer.start()
        started.append(printer)
        return printer

    yield make
    for printer in started:
        printer.stop()


class Recorder:
    """Collects a connection's events and lets a test wait for one kind."""

    def __init__(self, connection: PrinterConnection) -> None:
        self.events: list[PrinterEvent] = []
        self._waiters: dict[EventKind, asyncio.Event] = {}
        connection.subscribe(self._on_event)

    def _on_event(self, event: PrinterEvent) -> None:
        self.events.append(event)
        self._waiters.setdefault(event.kind, asyncio.Event()).set()

    def kinds(self) -> list[EventKind]:
        return [event.kind for event in self.events]

    async def wait(self, *kinds: EventKind, timeout_s: float = 30.0) -> PrinterEvent:
        async def first() -> PrinterEvent:
            while True:
                for event in self.events:
                    if event.kind in kinds:
                        return event
                waiter = asyncio.Event()
                for kind in kinds:
                    self._waiters[kind] = waiter
                await waiter.wait()

        return await asyncio.wait_for(first(), timeout_s)


async def until(condition: Callable[[], object], timeout_s: float = 5.0) -> None:
    """Wait until ``condition()`` is true; fails the test after ``timeout_s``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.01)
