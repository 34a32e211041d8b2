"""Iterated greedy over the list order (farm.reorder) on generated instances."""

from __future__ import annotations

import random

from farm.greedy import VARIANTS, list_schedule, variant_order
from farm.instance_io import load_problem
from farm.reorder import _move, _Replayer, reorder, reorder_variants
from tests.farm.sched_util import DATA, assert_valid

LATE = VARIANTS[2]  # its plan of M-5 has late jobs


def _key(a):
    return (a.printer_id, a.start_min, a.task_id)


def test_a_replay_from_a_snapshot_equals_a_replay_from_the_start():
    problem = load_problem(DATA / "M-5.json")
    order, penalty_min = variant_order(problem, LATE)
    replayer = _Replayer(problem, penalty_min)
    base = replayer.run(order, None, 0)
    listed = list_schedule(problem, order, penalty_min, "x").assignments
    assert sorted(base.assignments, key=_key) == list(listed)
    assert replayer.late_jobs(base)
    rng = random.Random(3)
    for job_id, _ in replayer.late_jobs(base)[:5]:
        moved, k = _move(order, job_id, rng)
        assert moved[:k] == order[:k] and sorted(t.id for t in moved) == sorted(t.id for t in order)
        fresh = replayer.run(moved, None, 0)
        resumed = replayer.run(moved, base, k)
        assert resumed.assignments == fresh.assignments
        assert resumed.objective == fresh.objective


def test_reorder_is_valid_no_worse_and_deterministic():
    problem = load_problem(DATA / "M-5.json")
    order, penalty_min = variant_order(problem, LATE)
    start = list_schedule(problem, order, penalty_min, "greedy")
    assert start.weighted_tardiness_min > 0  # something to improve
    first = assert_valid(problem, reorder(problem, order, penalty_min, replays=15, seed=2))
    second = reorder(problem, order, penalty_min, replays=15, seed=2)
    assert first.assignments == second.assignments
    assert first.weighted_tardiness_min < start.weighted_tardiness_min  # 253 -> 0
    unchanged = reorder(problem, order, penalty_min, replays=0, seed=2)
    assert unchanged.assignments == start.assignments


def test_chains_in_worker_processes_give_the_best_chain():
    problem = load_problem(DATA / "M-5.json")
    variants = [LATE, VARIANTS[-1]]
    both = assert_valid(problem, reorder_variants(problem, variants, replays=3, seed=1))
    alone = [reorder_variants(problem, [v], replays=3, seed=1 + i) for i, v in enumerate(variants)]
    assert both.objective == min(p.objective for p in alone)
