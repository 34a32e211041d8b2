"""An operator calendar that remembers its answers while turnarounds are only booked.

A list scheduler asks :meth:`OperatorCalendar.earliest` the same question many times:
every task looks at the same printers, free from the same minutes, with the same
turnaround lengths.  Booking only takes capacity away, so an answer ``u`` for
``(t, d)`` stays the earliest as long as ``[u, u + d)`` still has an operator free at
every minute: every earlier candidate was blocked and stays blocked.  When that check
fails, the search resumes at ``u`` instead of ``t``.  Giving capacity back
(:meth:`release`) forgets every answer.
"""

from __future__ import annotations

import numpy as np

from farm.shifts import OperatorCalendar

_NONE = -1  # remembered "no slot before the horizon"


class MemoCalendar(OperatorCalendar):
    """:class:`OperatorCalendar` with remembered ``earliest`` answers (same results)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._memo: dict[tuple[int, int], int] = {}

    def earliest(self, start_min: int, duration_min: int) -> int | None:
        key = (start_min, duration_min)
        known = self._memo.get(key)
        if known == _NONE:
            return None
        if known is not None:
            if np.all(self.free[known : known + duration_min] > 0):  # (empty: 0-minute turnaround)
                return known
            start_min = known
        found = super().earliest(start_min, duration_min)
        self._memo[key] = _NONE if found is None else found
        return found

    def next_on_shift_many(self, t_min: np.ndarray) -> np.ndarray:
        """:meth:`next_on_shift` of every minute of ``t_min`` (int array)."""
        return self._next_on_shift[np.clip(t_min, 0, self.horizon_min)]

    def release(self, start_min: int, duration_min: int) -> None:
        self._memo.clear()
        super().release(start_min, duration_min)
