"""The bound from a few jobs planned exactly: never above the optimum, and exact on S-01."""

from __future__ import annotations

import itertools
import random

from farm.bound_subset import late_job_ids, subset_bound, subset_problem
from farm.bounds import lower_bound
from farm.instance_io import load_problem
from farm.model import Problem
from tests.farm.sched_util import instance, job, printer
from tests.farm.test_sched_cpsat import brute_force


def released_tiny(rng: random.Random) -> Problem:
    """One or two printers, one operator in short shifts, three colours, all released at 0:
    leaving a job out may cost a kept print a swap it then has to find a slot for."""
    printers = [printer("P1", bed_clear=rng.random() < 0.5)]
    if rng.random() < 0.6:
        printers.append(printer("P2", model="m2", loaded={"material": "PLA", "color": "white"}))
    jobs = []
    for i in range(rng.randint(3, 5)):
        minutes = rng.randint(15, 160)
        jobs.append(job(
            f"J{i}", minutes, due=rng.choice([60, 120, 200, 400]), weight=rng.choice([1, 2, 5]),
            color=rng.choice(["black", "white", "red"]),
            durations={"m1": minutes, "m2": minutes + rng.randint(-10, 30)},
        ))  # fmt: skip
    shifts = [
        {"start": 0, "end": rng.choice([60, 90, 150]), "operators": 1},
        {"start": 300, "end": 360, "operators": 1},
        {"start": 600, "end": 2000, "operators": 1},
    ]
    return load_problem(instance(printers, jobs, shifts=shifts))


def test_any_subset_is_below_the_optimum_and_sometimes_above_the_relaxations():
    tighter = 0
    for seed in range(8):
        problem = released_tiny(random.Random(seed))
        optimum = brute_force(problem)
        ids = [j.id for j in problem.jobs]
        for size in range(1, len(ids)):
            for subset in itertools.combinations(ids, size):
                found = subset_bound(problem, subset, deterministic_limit=5.0, workers=1)
                assert found is not None and found[1], subset
                assert found[0] <= optimum.weighted_tardiness_min, (seed, subset)
        late = late_job_ids(problem, optimum)
        if late:
            found = subset_bound(problem, late, deterministic_limit=5.0, workers=1)
            assert found is not None and found[0] <= optimum.weighted_tardiness_min
            relaxed = lower_bound(problem, with_operators=True).weighted_tardiness_min
            tighter += found[0] > relaxed
    assert tighter >= 1  # the relaxations of farm.bounds miss what these few jobs cost


def test_not_valid_with_maintenance_or_late_releases():
    base = instance([printer("P1")], [job("A", 30, due=20), job("B", 30, due=20)])
    assert subset_problem(load_problem(base), ["A"]) is not None
    late = instance([printer("P1")], [job("A", 30, due=20, release=10), job("B", 30)])
    assert subset_problem(load_problem(late), ["A"]) is None
    serviced = {**base, "maintenance": [{"printer": "P1", "start": 100, "end": 200}]}
    assert subset_problem(load_problem(serviced), ["A"]) is None
