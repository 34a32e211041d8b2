"""The CP-SAT model: optimal on tiny instances (brute force), exact on hand-made cases."""

from __future__ import annotations

import itertools
import random

import pytest

from farm.cpsat import build_model, full_window, solve_model
from farm.derive import make_plan
from farm.instance_io import load_problem
from farm.model import ActionKind, Plan, Problem
from farm.placement import FarmState
from farm.solve import solve
from tests.farm.sched_util import assert_valid, instance, job, printer


def brute_force(problem: Problem) -> Plan:
    """Every task order x printer choice, each print as early as possible: the optimum.

    Appending in every order generates every active schedule, and for a regular
    objective (weighted tardiness, makespan) some active schedule is optimal.
    """
    best = None
    tasks = problem.tasks
    for order in itertools.permutations(tasks):
        for choice in itertools.product(problem.printers, repeat=len(tasks)):
            state = FarmState(problem)
            for task, printer_ in zip(order, choice, strict=True):
                slot = state.earliest(task, printer_) if printer_.can_print(task.job) else None
                if slot is None:
                    break
                state.commit(task, printer_, slot)
            else:
                plan = make_plan(problem, state.assignments, "brute")
                if best is None or plan.objective < best.objective:
                    best = plan
    assert best is not None
    return best


def cpsat_optimum(problem: Problem) -> Plan:
    fm = build_model(problem, full_window(problem))
    result = solve_model(fm, deterministic_limit=30, wall_limit_s=30, workers=1, seed=0)
    assert result.optimal
    return assert_valid(problem, make_plan(problem, result.assignments, "cp-sat"))


def random_tiny(rng: random.Random) -> Problem:
    colors = ["black", "white"]
    printers = [
        printer("P1", loaded={"material": "PLA", "color": rng.choice(colors)},
                bed_clear=rng.random() < 0.5),
        printer("P2", model="m2", loaded={"material": "PLA", "color": rng.choice(colors)},
                available_from=rng.choice([0, 30])),
    ]  # fmt: skip
    jobs = []
    for i in range(rng.randint(3, 4)):
        minutes = rng.randint(20, 150)
        jobs.append(job(
            f"J{i}", minutes, color=rng.choice(colors), due=rng.choice([None, 100, 200, 300]),
            weight=rng.choice([1, 2, 5]), release=rng.choice([0, 0, 50]),
            durations={"m1": minutes, "m2": minutes + rng.randint(-10, 40)},
            quantity=rng.choice([1, 1, 2]) if i == 0 else 1,
        ))  # fmt: skip
    shifts = [
        {"start": 0, "end": 120, "operators": 1},
        {"start": 200, "end": 400, "operators": rng.choice([1, 2])},
        {"start": 500, "end": 2000, "operators": 1},
    ]
    maintenance = [{"printer": "P2", "start": 130, "end": 210}] if rng.random() < 0.5 else []
    return load_problem(instance(printers, jobs, shifts=shifts, maintenance=maintenance))


@pytest.mark.parametrize("seed", range(8))
def test_model_is_optimal_on_tiny_instances(seed):
    problem = random_tiny(random.Random(seed))
    assert len(problem.tasks) <= 6
    assert cpsat_optimum(problem).objective == brute_force(problem).objective


def _actions(plan: Plan) -> dict[str, tuple[int, int, tuple[ActionKind, ...]]]:
    return {o.task_id: (o.start_min, o.end_min, o.kinds) for o in plan.operator_actions}


def test_short_print_goes_first_when_the_long_one_would_block_overnight():
    # operator on [0,200) and from 1000; a 400 min print first would leave the printer
    # blocked off shift, the 60 min print would miss its due date
    shifts = [
        {"start": 0, "end": 200, "operators": 1},
        {"start": 1000, "end": 2000, "operators": 1},
    ]
    raw = instance([printer("P1")], [job("LONG", 400, due=1500), job("SHORT", 60, due=200)],
                   shifts=shifts)  # fmt: skip
    problem = load_problem(raw)
    plan = cpsat_optimum(problem)
    starts = {a.task_id: a.start_min for a in plan.assignments}
    assert starts == {"SHORT#0": 5, "LONG#0": 75}  # start 5; then start 5 + clear 5
    assert plan.weighted_tardiness_min == 0
    assert plan.metrics.idle_wait_min == 0


def test_print_ending_off_shift_blocks_the_printer_until_the_next_shift():
    shifts = [{"start": 0, "end": 100, "operators": 1}, {"start": 600, "end": 2000, "operators": 1}]
    raw = instance([printer("P1")], [job("A", 200, due=210), job("B", 30)], shifts=shifts)
    problem = load_problem(raw)
    plan = cpsat_optimum(problem)
    acts = _actions(plan)
    assert acts["A#0"][:2] == (0, 5)
    assert acts["B#0"][:2] == (600, 610)  # A ends at 205, nobody there until 600
    assert plan.metrics.idle_wait_min == 600 - 205 - 0


def test_swap_only_on_a_real_filament_change_and_campaigns_save_swaps():
    jobs = [job("K1", 60), job("W1", 60, color="white"), job("K2", 60)]
    problem = load_problem(instance([printer("P1")], jobs))
    plan = cpsat_optimum(problem)
    assert plan.metrics.swaps == 1  # black, black, white
    kinds = sorted(_actions(plan).values())
    assert [k[2] for k in kinds] == [
        (ActionKind.START,),
        (ActionKind.START, ActionKind.CLEAR),
        (ActionKind.START, ActionKind.CLEAR, ActionKind.SWAP),
    ]
    assert plan.makespan_min == 5 + 60 + 10 + 60 + 25 + 60


def test_maintenance_window_is_respected():
    maint = [{"printer": "P1", "start": 100, "end": 300, "reason": "belt"}]
    problem = load_problem(instance([printer("P1")], [job("A", 150)], maintenance=maint))
    plan = cpsat_optimum(problem)
    assert _actions(plan)["A#0"][:2] == (300, 305)


def test_running_print_is_kept_and_its_part_cleared():
    running = [{"task": "RUN-P1", "printer": "P1", "start": -50, "end": 200,
                "material": "PLA", "color": "white"}]  # fmt: skip
    p1 = printer("P1", available_from=200, bed_clear=False)
    problem = load_problem(instance([p1], [job("A", 100)], running=running))
    plan = cpsat_optimum(problem)
    assert _actions(plan)["A#0"] == (
        200,
        225,
        (ActionKind.START, ActionKind.CLEAR, ActionKind.SWAP),
    )


def test_one_operator_turns_printers_around_one_at_a_time():
    problem = load_problem(instance([printer("P1"), printer("P2")], [job("A", 100), job("B", 100)]))
    plan = cpsat_optimum(problem)
    spans = sorted(v[:2] for v in _actions(plan).values())
    assert spans == [(0, 5), (5, 10)]
    assert plan.makespan_min == 110


@pytest.mark.parametrize("seed", [3, 5])
def test_solve_matches_brute_force_and_is_checked(seed):
    problem = random_tiny(random.Random(seed))
    plan = assert_valid(problem, solve(problem, time_limit_s=3, workers=1, seed=0))
    assert plan.objective == brute_force(problem).objective


@pytest.mark.parametrize("passes", [None, 0, 1])
def test_every_presolve_setting_finds_the_optimum(passes):
    problem = random_tiny(random.Random(3))
    fm = build_model(problem, full_window(problem))
    result = solve_model(
        fm, deterministic_limit=30, wall_limit_s=30, workers=1, seed=0, presolve_passes=passes
    )
    assert result.optimal
    plan = assert_valid(problem, make_plan(problem, result.assignments, "cp-sat"))
    assert plan.objective == brute_force(problem).objective
