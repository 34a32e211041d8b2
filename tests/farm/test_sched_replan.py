"""Re-planning after time passes, new jobs, a failed print and a printer going down."""

from __future__ import annotations

from dataclasses import replace

from farm.greedy import greedy_plan
from farm.instance_io import load_problem
from farm.replan import add_jobs, advance, printer_down, replan
from tests.farm.sched_util import DATA, assert_valid


def _midway():
    problem = load_problem(DATA / "S-7.json")
    plan = greedy_plan(problem, quick=True)
    now = sorted(a.start_min for a in plan.assignments)[len(plan.assignments) // 3] + 1
    return problem, plan, now


def test_advance_keeps_running_prints_fixed_and_drops_finished_ones():
    problem, plan, now = _midway()
    later, hint = advance(problem, plan, now)
    begun = {o.task_id for o in plan.operator_actions if o.start_min < now}
    on_printer = [a for a in plan.assignments if a.task_id in begun and a.end_min > now]
    assert on_printer
    running = {r.task_id: r for r in later.running}
    for a in on_printer:
        assert running[a.task_id].end_min == a.end_min - now
    finished = sum(a.end_min <= now for a in plan.assignments)
    assert len(later.tasks) == len(problem.tasks) - finished - len(on_printer)
    assert_valid(later, hint)  # the rest of the old plan still holds, shifted
    assert hint.objective[1] == max(a.end_min for a in plan.assignments) - now


def test_replan_after_failure_new_job_and_printer_down():
    problem, plan, now = _midway()
    failed = next(a for a in plan.assignments if a.start_min < now < a.end_min)
    later, hint = advance(problem, plan, now, failed=[failed.task_id])
    # the failed print's printer goes down for a day; a rush order arrives
    later = printer_down(later, failed.printer_id, 0, 1440)
    rush = replace(problem.jobs[0], id="RUSH1", quantity=2, weight=5, release_min=0, due_min=600)
    later = add_jobs(later, [rush])
    new = assert_valid(later, replan(later, hint, time_limit_s=3, workers=2, seed=0))
    ids = {a.task_id for a in new.assignments}
    assert {"RUSH1#0", "RUSH1#1"} <= ids
    assert not any(
        a.printer_id == failed.printer_id and a.start_min < 1440 for a in new.assignments
    )
    # near-term prints of the hint that are still possible keep printer and start
    stable = {o.task_id for o in hint.operator_actions if o.start_min < 120}
    kept = {a.task_id: a for a in hint.assignments if a.task_id in stable}
    moved = [
        t for t, a in kept.items() if a not in new.assignments and a.printer_id != failed.printer_id
    ]
    assert len(moved) <= len(kept) // 2
