"""The LNS neighbourhoods: a late job's window frees what competes with it."""

from __future__ import annotations

from farm.greedy import list_schedule
from farm.instance_io import load_problem
from farm.lns import Lns, LnsConfig, improve
from farm.model import Plan, Problem
from tests.farm.sched_util import assert_valid, instance, job, printer


def rush_behind_fillers() -> tuple[Problem, Plan]:
    """Four printers (P4 twice as fast for the rush job), one operator; a plan that
    turns the rush job around last, so that it is late."""
    printers = [printer(f"P{i}") for i in range(1, 4)] + [printer("P4", model="m2")]
    fillers = [job(f"F{i}", 120, due=2000) for i in range(8)]
    rush = job("R", 200, weight=5, due=150, durations={"m1": 200, "m2": 100})
    problem = load_problem(instance(printers, [*fillers, rush]))
    order = [t for t in problem.tasks if t.job.id != "R"] + [problem.task_by_id["R#0"]]
    return problem, list_schedule(problem, order, 0, "test", {})


def test_late_window_frees_the_prints_turned_around_before_the_late_job():
    problem, plan = rush_behind_fillers()
    lns = Lns(problem, plan, LnsConfig(seed=3), frozenset())
    rush_start = next(a.start_min for a in lns.best.assignments if a.task_id == "R#0")
    move = lns._late_move([("R", plan.metrics.weighted_tardiness_min)])
    freed = lns._fit_size(move)
    window = lns._window(move, freed)
    assert move.free_job == "R" and "P4" in move.printer_ids
    # every print starting before the rush job (there are fewer than the window's target)
    assert {a.task_id for a in freed} >= {
        a.task_id for a in lns.best.assignments if a.start_min <= rush_start
    }
    allowed = window.allowed or {t.id: frozenset(move.printer_ids) for t in window.tasks}
    assert allowed["R#0"] == frozenset(move.printer_ids)


def test_lns_brings_the_late_rush_job_forward():
    problem, plan = rush_behind_fillers()
    assert plan.metrics.weighted_tardiness_min > 0
    config = LnsConfig(time_limit_s=30, deterministic_budget=0.2, workers=2, seed=1)
    better = assert_valid(problem, improve(problem, plan, config))
    rush = next(a for a in better.assignments if a.task_id == "R#0")
    assert rush.printer_id == "P4"
    assert better.objective < plan.objective
