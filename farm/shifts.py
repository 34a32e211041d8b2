"""Operator presence as a per-minute capacity profile, and turnaround placement on it."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from farm.model import Shift


def covered_min(shifts: Iterable[Shift], start_min: int, end_min: int) -> int:
    """Minutes of ``[start_min, end_min)`` during which some shift is on."""
    return sum(max(0, min(end_min, s.end_min) - max(start_min, s.start_min)) for s in shifts)


def capacity_profile(shifts: Iterable[Shift], horizon_min: int) -> np.ndarray:
    """Operators on shift at every minute: ``(horizon_min,) int32``, 0 off shift."""
    cap = np.zeros(max(horizon_min, 0), dtype=np.int32)
    for s in shifts:
        cap[max(s.start_min, 0) : max(min(s.end_min, horizon_min), 0)] = s.operators
    return cap


class OperatorCalendar:
    """Free operator capacity per minute; turnarounds are booked on it one by one.

    ``free[t]`` is the number of operators still free at minute ``t`` (0 off shift).
    """

    def __init__(self, shifts: Iterable[Shift], horizon_min: int):
        self.horizon_min = horizon_min
        self.free = capacity_profile(shifts, horizon_min)
        self._next_on_shift = _next_on_shift(self.free > 0)

    def next_on_shift(self, t_min: int) -> int:
        """The first minute ``>= t_min`` with an operator on shift (horizon if none)."""
        return int(self._next_on_shift[min(max(t_min, 0), self.horizon_min)])

    def fits(self, start_min: int, duration_min: int) -> bool:
        """Is one operator free during all of ``[start_min, start_min + duration_min)``?"""
        end = start_min + duration_min
        if start_min < 0 or end > self.horizon_min:
            return False
        return bool(np.all(self.free[start_min:end] > 0))

    def earliest(self, start_min: int, duration_min: int) -> int | None:
        """The first ``u >= start_min`` with one operator free during ``[u, u + duration)``."""
        u = max(start_min, 0)
        if duration_min <= 0:  # nothing for an operator to do: any minute will do
            return u if u <= self.horizon_min else None
        chunk = 64  # most answers are near: look close first, then in wide strides
        while u + duration_min <= self.horizon_min:
            u = int(self._next_on_shift[u])
            window = self.free[u : u + chunk + duration_min] > 0
            chunk = 4096
            if window.size < duration_min:
                return None
            runs = np.concatenate(([0], np.cumsum(window, dtype=np.int32)))
            ok = np.flatnonzero(runs[duration_min:] - runs[:-duration_min] == duration_min)
            if ok.size:
                return u + int(ok[0])
            u += window.size - duration_min + 1
        return None

    def book(self, start_min: int, duration_min: int) -> None:
        """Take one operator for ``[start_min, start_min + duration_min)``."""
        self.free[start_min : start_min + duration_min] -= 1

    def release(self, start_min: int, duration_min: int) -> None:
        """Give back an operator booked with :meth:`book`."""
        self.free[start_min : start_min + duration_min] += 1


def _next_on_shift(on: np.ndarray) -> np.ndarray:
    """``next[t]``: the first minute ``>= t`` with ``on`` true, ``len(on)`` if none."""
    n = on.size
    idx = np.where(on, np.arange(n), n)
    return np.append(np.minimum.accumulate(idx[::-1])[::-1], n)
