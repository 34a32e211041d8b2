"""Iterated greedy over the list order (farm.reorder) on generated instances."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from farm.greedy import VARIANTS, list_schedule, variant_order
from farm.instance_io import load_problem
from farm.jit_kernel import HAVE_NUMBA
from farm.jit_schedule import placed_assignments
from farm.reorder import (
    CHAIN_KICKS,
    CHAIN_MOVES,
    EXPLORE_SHARE,
    MAX_STARTS,
    _Chain,
    _kick,
    _lane,
    lane_starts,
    reorder,
    reorder_variants,
    replayer,
    task_indices,
)
from farm.reorder_moves import MOVES, Moves
from tests.farm.sched_util import DATA, assert_valid

LATE = VARIANTS[2]  # its plan of M-5 has late jobs
ENGINES = [True, False] if HAVE_NUMBA else [False]


def _key(a):
    return (a.printer_id, a.start_min, a.task_id)


def _late_start(compiled):
    """M-5, LATE's order, penalty, a replayer and its accepted first plan."""
    problem = load_problem(DATA / "M-5.json")
    order, penalty_min = variant_order(problem, LATE)
    rep = replayer(problem, penalty_min, compiled=compiled)
    base = rep.run(task_indices(problem, order), 0)
    rep.accept(base)
    return problem, order, penalty_min, rep, base


@pytest.mark.parametrize("compiled", ENGINES)
def test_a_replay_from_a_snapshot_equals_a_replay_from_the_start(compiled):
    problem, order, penalty_min, rep, base = _late_start(compiled)
    listed = list_schedule(problem, order, penalty_min, "x").assignments
    assert sorted(placed_assignments(problem, base.placed), key=_key) == list(listed)
    jobs, _ = rep.late_jobs(base)
    assert jobs
    rng = random.Random(3)
    mover = Moves(rep.arr, MOVES["mixed"])
    for job in jobs[:8]:
        moved, k = mover.move(base.placed, job, rng)
        assert np.array_equal(moved[:k], base.placed.order[:k])
        assert sorted(moved.tolist()) == list(range(len(order)))
        resumed = rep.run(moved, k)
        fresh = replayer(problem, penalty_min, compiled=compiled).run(moved, 0)
        for mine, theirs in zip(resumed.placed.outputs(), fresh.placed.outputs(), strict=True):
            assert np.array_equal(mine, theirs)
        assert resumed.objective == fresh.objective
        barred = rep.run(moved, k, base.objective[0])  # compiled: stops once above the bar
        assert (barred is None) == (compiled and resumed.objective[0] > base.objective[0])
        if resumed.objective <= base.objective:
            rep.accept(resumed)
            base = resumed


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba missing")
@pytest.mark.parametrize("moves", [*sorted(MOVES), "jump,target"])
def test_compiled_and_python_replays_find_the_same_plan(moves):
    problem = load_problem(DATA / "M-5.json")
    order, penalty_min = variant_order(problem, LATE)
    plans = [
        reorder(problem, order, penalty_min, replays=6, seed=4, moves=moves, compiled=c)
        for c in (True, False)
    ]
    assert plans[0] == plans[1]


@pytest.mark.parametrize("moves", [*sorted(MOVES), "jump,target"])
def test_reorder_is_valid_no_worse_and_deterministic(moves):
    problem = load_problem(DATA / "M-5.json")
    order, penalty_min = variant_order(problem, LATE)
    start = list_schedule(problem, order, penalty_min, "greedy")
    assert start.weighted_tardiness_min > 0  # something to improve
    first = reorder(problem, order, penalty_min, replays=15, seed=2, moves=moves)
    second = reorder(problem, order, penalty_min, replays=15, seed=2, moves=moves)
    assert_valid(problem, first)
    assert first.assignments == second.assignments
    assert first.weighted_tardiness_min < start.weighted_tardiness_min  # 253 -> 0
    unchanged = reorder(problem, order, penalty_min, replays=0, seed=2, moves=moves)
    assert unchanged.assignments == start.assignments
    impatient = reorder(problem, order, penalty_min, replays=15, seed=2, patience=0)
    assert impatient.assignments == start.assignments


def test_chains_in_worker_processes_give_the_best_chain():
    problem = load_problem(DATA / "M-5.json")
    variants = [LATE, VARIANTS[-1]]
    both = reorder_variants(problem, variants, replays=3, seed=1, lanes=2)
    assert_valid(problem, both)
    kwargs = {"replays": 3, "kicks": CHAIN_KICKS}
    alone = [
        reorder(problem, *variant_order(problem, v), seed=1 + i, moves=CHAIN_MOVES[i], **kwargs)
        for i, v in enumerate(variants)
    ]
    assert both.objective == min(p.objective for p in alone)
    assert reorder_variants(problem, variants[:1], replays=3, seed=1) == alone[0]


def test_a_chain_advanced_in_steps_equals_one_run_to_the_end():
    problem = load_problem(DATA / "M-5.json")
    order, penalty_min = variant_order(problem, LATE)
    kwargs = {"seed": 3, "moves": "jump,target", "patience": 4, "kicks": 3}
    chain = _Chain(problem, order, penalty_min, **kwargs)
    for replays in (5, 5, 12, 30):
        chain.advance(replays, None)
    whole = reorder(problem, order, penalty_min, replays=30, **kwargs)
    assert chain.plan() == whole
    assert chain.tried > 0


def test_lane_starts_spread_variants_seeds_and_moves_over_the_lanes():
    variants = list(VARIANTS[:5])
    short = lane_starts(variants, 500, 2, 7)  # too few replays for more than one start each
    assert short == [[(variants[0], 7, CHAIN_MOVES[0])], [(variants[1], 8, CHAIN_MOVES[1])]]
    long = lane_starts(variants, 10**6, 2, 0)
    assert [len(starts) for starts in long] == [MAX_STARTS, MAX_STARTS]
    flat = sorted((s for starts in long for s in starts), key=lambda s: s[1])
    assert [seed for _, seed, _ in flat] == list(range(2 * MAX_STARTS))
    assert [v for v, seed, _ in flat] == [variants[seed % 5] for _, seed, _ in flat]
    for starts in long:  # the moves alternate along a lane
        assert all(a[2] != b[2] for a, b in itertools.pairwise(starts))


def test_a_lane_keeps_the_best_start_and_climbs_on_with_it():
    problem = load_problem(DATA / "M-5.json")
    starts = [(LATE, 1, "jump,target"), (VARIANTS[-1], 2, "target,jump"), (LATE, 5, "jump")]
    replays = 24
    lane = _lane(problem, starts, replays, None)
    assert_valid(problem, lane)
    assert _lane(problem, starts, replays, None) == lane
    share = replays * EXPLORE_SHARE / len(starts)
    alone = []
    for variant, seed, moves in starts:
        order, penalty_min = variant_order(problem, variant)
        kwargs = {"seed": seed, "moves": moves, "kicks": CHAIN_KICKS}
        alone.append(reorder(problem, order, penalty_min, replays=share, **kwargs))
    assert lane.objective <= min(p.objective for p in alone)
    single = _lane(problem, starts[:1], replays, None)
    order, penalty_min = variant_order(problem, LATE)
    kwargs = {"seed": 1, "moves": "jump,target", "kicks": CHAIN_KICKS}
    assert single == reorder(problem, order, penalty_min, replays=replays, **kwargs)


def test_a_stalled_chain_goes_on_with_the_next_moves():
    problem = load_problem(DATA / "M-5.json")
    order, penalty_min = variant_order(problem, VARIANTS[-1])
    start = list_schedule(problem, order, penalty_min, "greedy")
    kwargs = {"replays": 30, "seed": 1, "patience": 2}
    staged = [reorder(problem, order, penalty_min, moves="jump,target", **kwargs) for _ in "ab"]
    assert_valid(problem, staged[0])
    assert staged[0].assignments == staged[1].assignments
    assert staged[0].objective <= start.objective


@pytest.mark.parametrize("compiled", ENGINES)
def test_a_kicked_chain_climbs_again_and_keeps_its_best(compiled):
    problem = load_problem(DATA / "M-5.json")
    order, penalty_min = variant_order(problem, LATE)
    kwargs = {"replays": 60, "seed": 1, "patience": 3, "moves": "jump", "compiled": compiled}
    stalled = reorder(problem, order, penalty_min, **kwargs)
    kicked = [reorder(problem, order, penalty_min, kicks=5, **kwargs) for _ in "ab"]
    assert_valid(problem, kicked[0])
    assert kicked[0].assignments == kicked[1].assignments
    assert kicked[0].objective <= stalled.objective  # same moves until the first kick


@pytest.mark.parametrize("compiled", ENGINES)
def test_a_kick_moves_late_jobs_forward_and_is_accepted(compiled):
    problem, order, penalty_min, rep, best = _late_start(compiled)
    jobs, _ = rep.late_jobs(best)
    kicked = _kick(rep, Moves(rep.arr, MOVES["jump"]), best, random.Random(2))
    assert rep.inc is kicked
    assert sorted(kicked.placed.order.tolist()) == list(range(len(order)))
    assert not np.array_equal(kicked.placed.order, best.placed.order)
    moved = np.flatnonzero(kicked.placed.order != best.placed.order)[0]
    assert rep.arr.task_job[kicked.placed.order[moved]] in jobs  # a late job came first
    fresh = replayer(problem, penalty_min, compiled=compiled).run(kicked.placed.order, 0)
    assert fresh.objective == kicked.objective
