"""The farm's event bus: producers publish typed events, listeners (SSE clients, metrics,
history) subscribe.  Producers never import their listeners.

Each subscriber gets its own bounded queue; a slow subscriber loses its oldest events rather
than slowing the farm down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)
QUEUE_SIZE = 256


class EventType(StrEnum):
    PRINTER = "printer"
    JOB = "job"
    PLAN = "plan"


@dataclass(frozen=True)
class Event:
    type: EventType
    data: dict[str, Any]


class Subscription:
    def __init__(self, bus: EventBus):
        self._bus = bus
        self.queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)

    async def get(self, timeout_s: float) -> Event | None:
        """The next event, or None after ``timeout_s`` without one."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout_s)
        except TimeoutError:
            return None

    def close(self) -> None:
        self._bus._subscriptions.discard(self)

    def _offer(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(event)


class EventBus:
    """Publish from the event loop's thread or any other (thread-safe)."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._listeners: list[Callable[[Event], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self) -> Subscription:
        subscription = Subscription(self)
        self._subscriptions.add(subscription)
        return subscription

    def listen(self, callback: Callable[[Event], None]) -> None:
        """Call ``callback(event)`` on the loop for every event (for in-process listeners)."""
        self._listeners.append(callback)

    def publish(self, type_: EventType, data: dict[str, Any]) -> None:
        event = Event(type_, data)
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(event)
        else:
            loop.call_soon_threadsafe(self._deliver, event)

    def _deliver(self, event: Event) -> None:
        for subscription in list(self._subscriptions):
            subscription._offer(event)
        for callback in self._listeners:
            try:
                callback(event)
            except Exception:
                log.exception("event listener failed on %s", event.type)
