"""Re-planning after time passes, new jobs, a failed print and a printer going down."""

from __future__ import annotations

from dataclasses import replace

from farm.derive import make_plan
from farm.greedy import greedy_plan
from farm.instance_io import load_problem
from farm.model import Assignment
from farm.replan import add_jobs, advance, printer_down, ready_prefix, replan, without
from farm.solve import repair_hint
from tests.farm.sched_util import DATA, assert_valid, instance, job, printer


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


def _two_printers(running: list | None = None):
    """P1 holds PLA black, P2 PETG red; one PETG red print and two PLA black ones."""
    printers = [printer("P1"), printer("P2", loaded={"material": "PETG", "color": "red"})]
    jobs = [job("PETG", 60, material="PETG", color="red"), job("A", 60), job("B", 60)]
    return load_problem(instance(printers, jobs, running=running or []))


def test_a_print_waiting_on_a_swap_nobody_did_is_not_kept():
    problem = _two_printers()
    # the previous plan sent the PETG print to P1: a swap the operator never did
    previous = make_plan(
        problem,
        [Assignment("PETG#0", "P1", 25, 85), Assignment("A#0", "P1", 100, 160),
         Assignment("B#0", "P2", 20, 80)],
        "previous",
    )  # fmt: skip
    assert ready_prefix(problem, previous, 120) == []  # P2's first print swaps too
    new = assert_valid(problem, replan(problem, previous, time_limit_s=2, workers=1))
    on = {a.task_id: a.printer_id for a in new.assignments}
    assert on["PETG#0"] == "P2"  # where PETG red is loaded: no swap waits


def test_ready_near_term_prints_keep_printer_and_start_when_a_job_arrives():
    running = [{"task": "RUN", "printer": "P2", "start": -10, "end": 30,
                "material": "PETG", "color": "red"}]  # fmt: skip
    problem = _two_printers(running)
    previous = replan(problem, greedy_plan(problem), time_limit_s=2, workers=1)
    kept = ready_prefix(problem, previous, 120)
    assert {a.task_id for a in kept} >= {"PETG#0"}  # after P2's running print: not due yet
    rush = replace(problem.jobs[1], id="RUSH", due_min=150, weight=1)  # gains < 1 h first
    later = add_jobs(problem, [rush])
    new = assert_valid(later, replan(later, previous, time_limit_s=2, workers=1))
    assert set(kept) <= set(new.assignments)
    assert "RUSH#0" in {a.task_id for a in new.assignments}


def test_self_clearing_printers_keep_their_queue_after_a_running_print():
    running = [{"task": "RUN", "printer": "P1", "start": -10, "end": 20,
                "material": "PLA", "color": "black"}]  # fmt: skip
    problem = _two_printers(running)
    plan = greedy_plan(problem)
    pla = [a for a in plan.assignments if a.printer_id == "P1" and a.start_min < 120]
    assert len(pla) == 2
    assert ready_prefix(problem, plan, 120, self_clearing=["P1"])[:2] == pla
    assert ready_prefix(problem, plan, 120)[:1] == pla[:1]  # its next clear is after a print


def test_a_print_the_previous_plan_did_not_have_is_not_kept():
    printers = [printer("P1"), printer("P2")]
    problem = load_problem(instance(printers, [job("A", 60), job("NEW", 60)]))
    previous = make_plan(problem, [Assignment("A#0", "P1", 5, 65)], "previous")
    repaired = repair_hint(problem, previous)  # NEW goes first on the idle P2
    assert ready_prefix(problem, repaired, 120)[-1].task_id == "NEW#0"
    assert ready_prefix(problem, repaired, 120, known=["A#0"]) == [previous.assignments[0]]


def test_any_plan_of_the_rest_fits_around_the_kept_prints():
    problem = load_problem(DATA / "M-5.json")
    plan = greedy_plan(problem, quick=True)
    everyone = [p.id for p in problem.printers]  # keeps more: clears do not stop a prefix
    fixed = ready_prefix(problem, plan, 24 * 60, self_clearing=everyone)
    assert len({a.printer_id for a in fixed}) > 1 and len(fixed) < len(plan.assignments)
    rest, old_id = without(problem, fixed, plan)
    assert len(rest.tasks) == len(problem.tasks) - len(fixed)
    rest_plan = greedy_plan(rest, quick=True)  # knows nothing of the kept prints
    back = [replace(a, task_id=old_id[a.task_id]) for a in rest_plan.assignments]
    assert_valid(problem, make_plan(problem, [*fixed, *back], "merged"))
