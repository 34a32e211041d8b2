"""MemoCalendar answers exactly as OperatorCalendar while turnarounds are booked."""

from __future__ import annotations

import random

from farm.memo_calendar import MemoCalendar
from farm.model import Shift
from farm.shifts import OperatorCalendar

SHIFTS = (Shift(60, 300, 2), Shift(300, 420, 1), Shift(900, 1300, 3), Shift(1500, 1700, 1))


def test_remembered_answers_match_a_fresh_search_through_bookings_and_releases():
    rng = random.Random(5)
    plain, memo = OperatorCalendar(SHIFTS, 2000), MemoCalendar(SHIFTS, 2000)
    questions = [(rng.randrange(0, 1900), rng.choice([5, 10, 20, 35])) for _ in range(40)]
    booked = []
    for step in range(400):
        t, d = rng.choice(questions)
        u = memo.earliest(t, d)
        assert u == plain.earliest(t, d), (step, t, d)
        if u is not None and rng.random() < 0.5:
            for cal in (plain, memo):
                cal.book(u, d)
            booked.append((u, d))
        elif booked and rng.random() < 0.05:
            gone = booked.pop(rng.randrange(len(booked)))
            for cal in (plain, memo):
                cal.release(*gone)
    assert booked  # the calendar filled up along the way
    assert memo.earliest(0, 5000) is None
