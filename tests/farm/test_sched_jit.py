"""The compiled list scheduler (farm.jit_kernel) places exactly like the Python one."""

from __future__ import annotations

import random

import pytest

from farm.errors import ScheduleError
from farm.greedy import VARIANTS, Pinned, best_variant, list_schedule, variant_order
from farm.instance_io import load_problem
from farm.model import Problem
from tests.farm.sched_util import DATA, assert_valid, instance, job, printer

pytest.importorskip("numba")

COLORS = ["black", "white", "red"]


def random_farm(rng: random.Random, *, zero_start: bool = False) -> Problem:
    """A few printers and jobs with gaps between shifts, maintenance, running prints and
    occupied beds; ``zero_start``: turnarounds may take 0 minutes."""
    printers = [
        printer(
            f"P{i}",
            model=rng.choice(["m1", "m2"]),
            loaded={"material": rng.choice(["PLA", "PETG"]), "color": rng.choice(COLORS)},
            bed_clear=rng.random() < 0.6,
            available_from=rng.choice([0, 0, 45]),
        )
        for i in range(rng.randint(2, 5))
    ]
    jobs = []
    for i in range(rng.randint(3, 3 * len(printers))):
        minutes = rng.randint(15, 240)
        jobs.append(job(
            f"J{i}", minutes, material=rng.choice(["PLA", "PETG"]), color=rng.choice(COLORS),
            due=rng.choice([None, 200, 500, 900]), weight=rng.choice([1, 2, 5]),
            release=rng.choice([0, 0, 60, 400]), quantity=rng.choice([1, 1, 2, 3]),
            durations={"m1": minutes, "m2": minutes + rng.randint(-10, 60)},
        ))  # fmt: skip
    shifts = [
        {"start": 0, "end": 300, "operators": rng.choice([1, 2])},
        {"start": 480, "end": 900, "operators": 1},
        {"start": 1100, "end": 2400, "operators": rng.choice([1, 3])},
    ]
    maintenance = [
        {"printer": p["id"], "start": rng.randint(0, 900), "end": 0}
        for p in printers
        for _ in range(rng.choice([0, 0, 1, 2]))  # two may overlap
    ]
    for m in maintenance:
        m["end"] = m["start"] + rng.randint(10, 200)
    running = [
        {"task": f"R{i}", "printer": p["id"], "start": -30, "end": rng.randint(10, 200),
         "material": "PLA", "color": rng.choice(COLORS)}
        for i, p in enumerate(printers)
        if rng.random() < 0.3
    ]  # fmt: skip
    params = {"start_min": 0 if zero_start else 5, "clear_min": rng.choice([0, 5]),
              "swap_min": rng.choice([0, 15])}  # fmt: skip
    raw = instance(printers, jobs, shifts=shifts, maintenance=maintenance, running=running,
                   params=params, horizon_end=2400)  # fmt: skip
    return load_problem(raw)


def _both(problem: Problem, order, penalty_min: int, pinned=None):
    """The compiled and the Python plan, or the ScheduleError messages of both."""
    out = []
    for compiled in (True, False):
        try:
            out.append(list_schedule(problem, order, penalty_min, "g", pinned, compiled=compiled))
        except ScheduleError as error:
            out.append(str(error))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_compiled_placements_equal_the_python_ones_on_random_farms(seed):
    rng = random.Random(seed)
    problem = random_farm(rng, zero_start=seed % 4 == 0)
    fitted = 0
    for variant in VARIANTS[:6]:
        order, penalty_min = variant_order(problem, variant)
        compiled, python = _both(problem, order, penalty_min)
        assert compiled == python
        if not isinstance(compiled, str):
            assert_valid(problem, compiled)
            fitted += 1
        shuffled = rng.sample(order, len(order))
        compiled, python = _both(problem, shuffled, rng.choice([0, 30]))
        assert compiled == python
    assert fitted


@pytest.mark.parametrize("seed", range(10))
def test_pinned_tasks_are_placed_alike(seed):
    rng = random.Random(100 + seed)
    problem = random_farm(rng)
    order = rng.sample(list(problem.tasks), len(problem.tasks))
    ids = [p.id for p in problem.printers] + ["NOPE"]
    pinned = {
        t.id: Pinned(rng.choice(ids), rng.choice([0, 0, 250, 1000]))
        for t in order
        if rng.random() < 0.5
    }
    compiled, python = _both(problem, order, 15, pinned)
    assert compiled == python


def test_a_task_that_ends_past_the_horizon_is_named_alike():
    raw = instance([printer("P1")], [job("A", 1500), job("B", 1000)])
    problem = load_problem(raw)
    compiled, python = _both(problem, list(problem.tasks), 0)
    assert compiled == python == "B#0 cannot be placed before the horizon end (2000 min)"


@pytest.mark.parametrize("name", ["S-7", "S-101", "M-5"])
def test_every_greedy_variant_of_a_generated_farm_is_the_same_plan(name):
    problem = load_problem(DATA / f"{name}.json")
    for variant in VARIANTS:
        order, penalty_min = variant_order(problem, variant)
        compiled, python = _both(problem, order, penalty_min)
        assert compiled == python


@pytest.mark.parametrize("name", ["S-7", "M-5"])
def test_the_best_compiled_variant_is_the_best_python_one(name):
    problem = load_problem(DATA / f"{name}.json")
    compiled = best_variant(problem, compiled=True)
    python = best_variant(problem, compiled=False)
    assert compiled == python
