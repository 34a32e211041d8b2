"""The planning adapter: a previous plan carried into a new problem's task ids and minutes."""

from __future__ import annotations

import datetime as dt

from farm import model as m
from farm.check import check_plan
from farm.derive import make_plan
from farm.planning import FarmPlan, Mapping, carry_over
from farm.solve import solve

T0 = dt.datetime(2026, 11, 22, 20, 0, tzinfo=dt.UTC)
PRINTER = m.Printer(
    "P1", "ender3", 0.4, (220, 220, 250), False, ("PLA",), m.Filament("PLA", "black")
)


def problem(t0: dt.datetime, quantity: int) -> m.Problem:
    job = m.Job("J0001", "PLA", "black", 0.4, (20, 20, 20), quantity, 1, 0, None, {"ender3": 25})
    return m.Problem(
        name="t",
        horizon_end_min=24 * 60,
        params=m.Params(5, 5, 15),
        printers=(PRINTER,),
        jobs=(job,),
        shifts=(m.Shift(0, 24 * 60, 1),),
        horizon_start=t0.strftime("%Y-%m-%dT%H:%M:%S"),
    )


def test_previous_plan_is_carried_into_the_new_task_ids_and_minutes():
    before = problem(T0, 2)
    plan = solve(before, time_limit_s=1, workers=1)
    assert check_plan(before, plan) == []
    old = Mapping(task_to_print={"J0001#0": "J0001-1", "J0001#1": "J0001-2"})
    previous = FarmPlan(T0, T0, before, plan, old)

    later = T0 + dt.timedelta(minutes=30)  # J0001-1 printed; J0001-2 is task #0 now
    after = problem(later, 1)
    hint = carry_over(previous, after, Mapping(task_to_print={"J0001#0": "J0001-2"}))
    assert hint is not None and [a.task_id for a in hint.assignments] == ["J0001#0"]
    was = next(a for a in plan.assignments if old.task_to_print[a.task_id] == "J0001-2")
    assert hint.assignments[0].start_min == max(0, was.start_min - 30)
    replanned = solve(after, time_limit_s=1, workers=1, hint=hint)
    assert check_plan(after, replanned) == []
    assert carry_over(None, after, Mapping()) is None


def test_nothing_to_carry_gives_no_hint():
    before = problem(T0, 1)
    previous = FarmPlan(T0, T0, before, make_plan(before, [], "greedy"), Mapping())
    assert carry_over(previous, problem(T0, 1), Mapping({"J0001#0": "J0001-9"})) is None
