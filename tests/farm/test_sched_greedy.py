"""List schedulers (greedy, FIFO), repair of a hint and the lower bound, on hand-made cases."""

from __future__ import annotations

import random

import pytest

from farm.bounds import lower_bound
from farm.fifo import fifo_plan
from farm.greedy import greedy_plan
from farm.instance_io import load_problem
from farm.solve import repair_hint
from tests.farm.sched_util import DATA, assert_valid, instance, job, printer
from tests.farm.test_sched_cpsat import brute_force, random_tiny


def test_fifo_takes_the_first_job_matching_the_loaded_filament():
    p1 = printer("P1", loaded={"material": "PLA", "color": "white"})
    jobs = [job("J1", 60, color="black"), job("J2", 60, color="white")]
    plan = assert_valid(
        load_problem(instance([p1], jobs)), fifo_plan(load_problem(instance([p1], jobs)))
    )
    first = min(plan.assignments, key=lambda a: a.start_min)
    assert first.task_id == "J2#0"
    assert plan.metrics.swaps == 1


def test_greedy_serves_the_due_job_first_and_keeps_filament_when_it_can():
    printers = [printer("P1"), printer("P2", loaded={"material": "PETG", "color": "black"})]
    jobs = [job("LATE", 100, due=1500), job("SOON", 100, due=150),
            job("PETG", 100, material="PETG", due=400)]  # fmt: skip
    problem = load_problem(instance(printers, jobs))
    plan = assert_valid(problem, greedy_plan(problem))
    where = {a.task_id: a.printer_id for a in plan.assignments}
    assert where["PETG#0"] == "P2"
    assert plan.weighted_tardiness_min == 0
    assert plan.metrics.swaps == 0


def test_repair_keeps_the_hint_order_and_appends_new_tasks():
    problem = load_problem(DATA / "S-7.json")
    hint = greedy_plan(problem, quick=True)
    repaired = assert_valid(problem, repair_hint(problem, hint))
    assert {a.task_id: a.printer_id for a in repaired.assignments} == {
        a.task_id: a.printer_id for a in hint.assignments
    }
    fewer = repair_hint(problem, hint.__class__(hint.assignments[5:], (), "x", hint.metrics))
    assert_valid(problem, fewer)


@pytest.mark.parametrize("seed", range(11, 23))
def test_lower_bound_is_below_the_optimum(seed):
    problem = random_tiny(random.Random(seed))
    best = brute_force(problem)
    bound = lower_bound(problem, with_operators=True)
    assert bound.weighted_tardiness_min <= best.weighted_tardiness_min
    assert bound.makespan_min <= best.makespan_min


def test_lower_bound_waits_for_a_shift_between_copies_on_one_printer():
    # two copies, one printer: the second turnaround waits for the operator at 600
    shifts = [{"start": 0, "end": 100, "operators": 1}, {"start": 600, "end": 2000, "operators": 1}]
    raw = instance([printer("P1")], [job("A", 200, quantity=2, due=300)], shifts=shifts)
    problem = load_problem(raw)
    bound = lower_bound(problem)
    assert bound.weighted_tardiness_min == brute_force(problem).weighted_tardiness_min == 510
    assert bound.makespan_min == 810


def test_lower_bound_is_below_every_plan_on_a_generated_instance():
    problem = load_problem(DATA / "S-101.json")
    bound = lower_bound(problem, with_operators=True)
    for plan in (fifo_plan(problem), greedy_plan(problem)):
        assert bound.weighted_tardiness_min <= plan.weighted_tardiness_min
        assert bound.makespan_min <= plan.makespan_min


def test_greedy_in_worker_processes_gives_the_same_plan():
    problem = load_problem(DATA / "S-7.json")
    assert greedy_plan(problem, processes=2) == greedy_plan(problem)
