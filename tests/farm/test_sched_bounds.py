"""Lower bounds on the schedule: never above the optimum, strictly tighter where built to be."""

from __future__ import annotations

import random

import numpy as np
import pytest

from farm.bound_lp import (
    CAPS_MIN,
    lp_bound,
    possible_ends,
    presence_gaps,
    presence_windows,
    printer_capacity,
)
from farm.bound_swaps import swaps_needed
from farm.bounds import job_ends, lower_bound, task_ends
from farm.fifo import fifo_plan
from farm.greedy import greedy_plan
from farm.instance_io import load_problem
from farm.model import Plan, Problem
from tests.farm.sched_util import DATA, instance, job, printer
from tests.farm.test_sched_cpsat import brute_force, cpsat_optimum


def assert_below(problem: Problem, *plans: Plan) -> None:
    """The full bound is at most each plan's objective, component by component."""
    bound = lower_bound(problem, with_operators=True)
    for plan in plans:
        assert bound.weighted_tardiness_min <= plan.weighted_tardiness_min, plan.solver
        assert bound.makespan_min <= plan.makespan_min, plan.solver


def chain_only(problem: Problem) -> int:
    return lower_bound(problem, with_operators=False, with_lp=False).weighted_tardiness_min


def crowded_tiny(rng: random.Random) -> Problem:
    """One or two printers, one operator in short shifts, due dates that do not all fit."""
    printers = [printer("P1", bed_clear=rng.random() < 0.5)]
    if rng.random() < 0.5:
        printers.append(printer("P2", model="m2", available_from=rng.choice([0, 40])))
    jobs = []
    for i in range(rng.randint(3, 5)):
        minutes = rng.randint(15, 160)
        jobs.append(job(
            f"J{i}", minutes, due=rng.choice([60, 120, 200, 400]), weight=rng.choice([1, 2, 5]),
            release=rng.choice([0, 0, 30]), color=rng.choice(["black", "black", "white"]),
            durations={"m1": minutes, "m2": minutes + rng.randint(-10, 30)},
        ))  # fmt: skip
    shifts = [
        {"start": 0, "end": rng.choice([60, 90, 150]), "operators": 1},
        {"start": 300, "end": 360, "operators": 1},
        {"start": 600, "end": 2000, "operators": rng.choice([1, 2])},
    ]
    return load_problem(instance(printers, jobs, shifts=shifts))


def test_bound_is_below_the_optimum_and_often_tighter_than_the_copies_alone():
    gains = []
    for seed in range(14):
        problem = crowded_tiny(random.Random(seed))
        best = brute_force(problem)
        assert_below(problem, best)
        lp = lp_bound(problem, job_ends(problem, task_ends(problem)))
        assert lp <= best.weighted_tardiness_min, seed
        gains.append(lp - chain_only(problem))
    assert min(gains) >= -1  # the LP never loses more than its rounding slack
    assert sum(g > 0 for g in gains) >= 3, gains


def test_two_jobs_cannot_both_use_one_printer_before_their_due_date():
    # each alone ends at 5 + 80 = 85 <= 100; together the second ends at 175 at best
    raw = instance([printer("P1")], [job("A", 80, due=100), job("B", 80, due=100)])
    problem = load_problem(raw)
    assert chain_only(problem) == 0
    bound = lower_bound(problem).weighted_tardiness_min
    assert 0 < bound <= brute_force(problem).weighted_tardiness_min == 75


def test_only_two_of_three_prints_fit_a_short_stretch():
    # operator on [0, 100) and from 1000: 5 + 60, 10 + 60, and the third waits until 1010
    shifts = [
        {"start": 0, "end": 100, "operators": 1},
        {"start": 1000, "end": 2000, "operators": 1},
    ]
    jobs = [job(f"J{i}", 60, due=300) for i in range(3)]
    problem = load_problem(instance([printer("P1")], jobs, shifts=shifts))
    assert chain_only(problem) == 0
    best = brute_force(problem).weighted_tardiness_min
    assert best == 770
    assert 700 <= lower_bound(problem, with_operators=False).weighted_tardiness_min <= best


def test_copies_spread_over_printers_each_need_a_swap():
    # four copies of a white job, four printers loaded with black, one operator: a copy
    # on a new printer costs start + clear + swap = 25 operator minutes
    printers = [printer(f"P{i}", bed_clear=False) for i in range(4)]
    problem = load_problem(instance(printers, [job("W", 30, color="white", quantity=4, due=50)]))
    done = job_ends(problem, task_ends(problem))
    without = lp_bound(problem, done, with_swaps=False)
    best = brute_force(problem).weighted_tardiness_min
    assert without < lp_bound(problem, done, with_swaps=True) <= best == 65


def test_one_operator_cannot_start_ten_printers_at_once():
    # 10 printers, 10 jobs of 30 min due at 40: one operator does a 5 min start each
    printers = [printer(f"P{i}") for i in range(10)]
    jobs = [job(f"J{i}", 30, due=40) for i in range(10)]
    problem = load_problem(instance(printers, jobs))
    assert chain_only(problem) == 0
    # the k-th start ends at 5k at best, its print at 5k + 30: late by 0, 0, 5, ..., 40
    assert lower_bound(problem, with_operators=False).weighted_tardiness_min > 0
    assert lower_bound(problem, with_operators=True).weighted_tardiness_min == 180


def test_short_prints_cannot_fill_the_night():
    # operator on [0, 60) and from 600; twelve 20 min prints on two printers, due at 400:
    # each printer's last print before the night may run past 60, the others must wait
    shifts = [{"start": 0, "end": 60, "operators": 2}, {"start": 600, "end": 2000, "operators": 2}]
    printers = [printer("P1"), printer("P2")]
    jobs = [job(f"J{i}", 20, due=400) for i in range(12)]
    problem = load_problem(instance(printers, jobs, shifts=shifts))
    assert chain_only(problem) == 0
    assert lower_bound(problem, with_operators=False).weighted_tardiness_min > 1000


@pytest.mark.parametrize("name", ["S-101.json", "S-7.json", "M-5.json"])
def test_bound_is_below_every_plan_on_generated_instances(name):
    problem = load_problem(DATA / name)
    assert_below(problem, fifo_plan(problem), greedy_plan(problem))


def crowded_small(rng: random.Random) -> Problem:
    """Three printers and 7-9 prints around a night: too big for brute force, not for CP-SAT."""
    printers = [
        printer("P1", bed_clear=False),
        printer("P2", model="m2", loaded={"material": "PLA", "color": "white"}),
        printer("P3", available_from=rng.choice([0, 90])),
    ]
    jobs = []
    for i in range(rng.randint(5, 7)):
        minutes = rng.randint(15, 200)
        jobs.append(job(
            f"J{i}", minutes, due=rng.choice([90, 150, 300, 700]), weight=rng.choice([1, 2, 5]),
            color=rng.choice(["black", "white"]), quantity=rng.choice([1, 1, 2]),
            durations={"m1": minutes, "m2": minutes + rng.randint(-10, 30)},
        ))  # fmt: skip
    shifts = [
        {"start": 0, "end": 120, "operators": 1},
        {"start": 540, "end": 2000, "operators": rng.choice([1, 2])},
    ]
    return load_problem(instance(printers, jobs, shifts=shifts))


@pytest.mark.parametrize("seed", range(6))
def test_bound_is_below_the_proven_optimum_on_small_crowded_instances(seed):
    problem = crowded_small(random.Random(seed))
    assert_below(problem, cpsat_optimum(problem))


def test_where_copies_start_tightens_the_lp_on_small_crowded_instances():
    gains = []
    for seed in range(6):
        problem = crowded_small(random.Random(seed))
        done = job_ends(problem, task_ends(problem))
        gains.append(lp_bound(problem, done) - lp_bound(problem, done, with_windows=False))
    assert min(gains) >= -1
    assert sum(g > 0 for g in gains) >= 2, gains


NIGHT = [{"start": 0, "end": 100, "operators": 1}, {"start": 600, "end": 2000, "operators": 1}]


@pytest.mark.parametrize(
    ("after", "durations", "end"),
    [
        (50, {30}, 50),  # starts at 20, inside the first stretch
        (130, {30}, 130),  # starts at 100, the end of the stretch, at the latest ...
        (200, {30}, 630),  # ... and then not before 600 + 30
        (200, {30, 150}, 200),  # a 150 min print started at 50
        (260, {30, 150}, 630),  # started at 100 it ends by 250
        (1990, {30}, 1990),
        (2000, {30}, 2000),
    ],
)
def test_possible_ends_start_prints_inside_a_stretch_of_presence(after, durations, end):
    problem = load_problem(instance([printer("P1")], [job("A", 30)], shifts=NIGHT))
    windows = presence_windows(problem)
    got = possible_ends(np.array([after]), durations, windows)[0]
    assert got == end


def test_printer_capacity_caps_the_night_and_skips_maintenance():
    raw = instance([printer("P1", bed_clear=False)], [job("A", 30)], shifts=NIGHT,
                   maintenance=[{"printer": "P1", "start": 300, "end": 700}])  # fmt: skip
    problem = load_problem(raw)
    times = np.array([100, 250, 800])
    cap = printer_capacity(problem, problem.printers[0], times, presence_gaps(problem))
    no_cap, cap_60 = CAPS_MIN.index(0), CAPS_MIN.index(60)
    # presence 100, then 600..800 minus maintenance to 700: 100 more; the night [100, 600)
    # can be covered only up to the maintenance at 300
    assert list(cap[:, no_cap]) == [100, 100 + 150, 200 + 200]
    assert list(cap[:, cap_60]) == [100, 100 + 60, 200 + 60]


CHAINS = {"A": [10, 20, 30], "B": [15, 25, 35], "C": [12, 40, 50]}


@pytest.mark.parametrize(
    ("loaded", "times", "swaps"),
    [
        ({"A"}, [20, 30, 40], [1, 0, 0]),  # A fits 2 copies by 20, B or C the third
        (set(), [15, 25], [3, 2]),
        ({"A", "B", "C"}, [15], [0]),
        ({"A"}, [10], [3]),  # 3 copies cannot end by 10: more than the other printers
    ],
)
def test_swaps_needed_fill_the_loaded_printers_first(loaded, times, swaps):
    assert list(swaps_needed(CHAINS, loaded, 3, np.array(times))) == swaps


def test_operator_rows_see_past_the_night():
    # one operator on [0, 20), two from 1000; three 200 min jobs due at 1203 on three
    # printers with a part on the bed: two 10 min turnarounds fit before the night, the
    # third turnaround ends at 1010 at best.  Completing by 1203 needs the turnaround
    # before the night (a turnaround after it ends at 1005 at the earliest), although the
    # row at 1000 only sees completions by 1000 + 200.
    shifts = [{"start": 0, "end": 20, "operators": 1}, {"start": 1000, "end": 2000, "operators": 2}]
    printers = [printer(f"P{i}", bed_clear=False) for i in range(3)]
    problem = load_problem(instance(printers, [job(f"J{i}", 200, due=1203) for i in range(3)],
                                    shifts=shifts))  # fmt: skip
    best = brute_force(problem).weighted_tardiness_min
    assert best == 7
    done = job_ends(problem, task_ends(problem))
    assert 0 < lp_bound(problem, done, with_windows=False, with_swaps=False) <= best


def test_long_prints_of_one_filament_in_one_stretch_each_need_a_swap():
    # one operator on [0, 60) and from 1000; three 500 min white jobs due at 600 on three
    # printers loaded with black: each needs its own printer before the night, so three
    # swaps, 3 x 30 operator minutes > 60: one job completes at 1000 + 30 + 500 at best.
    # Each job alone needs one swap only, which the operator rows of the whole farm absorb.
    shifts = [{"start": 0, "end": 60, "operators": 1}, {"start": 1000, "end": 2000, "operators": 1}]
    printers = [printer(f"P{i}", bed_clear=False) for i in range(3)]
    jobs = [job(f"W{i}", 500, color="white", due=600) for i in range(3)]
    problem = load_problem(instance(printers, jobs, shifts=shifts))
    best = brute_force(problem).weighted_tardiness_min
    assert best == 910
    done = job_ends(problem, task_ends(problem))
    assert lp_bound(problem, done, with_swaps=False) == 0
    assert lp_bound(problem, done, with_windows=False) == 0
    assert 400 <= lp_bound(problem, done) <= best
