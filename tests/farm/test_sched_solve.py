"""solve(), the LNS and `slicefarm schedule` on small generated instances."""

from __future__ import annotations

import json

import pytest

from api.cli import main
from farm.greedy import greedy_plan
from farm.instance_io import load_plan, load_problem
from farm.lns import LnsConfig, improve
from farm.solve import solve
from tests.farm.sched_util import DATA, assert_valid, instance, job, printer


def test_solve_is_valid_and_no_worse_than_greedy():
    problem = load_problem(DATA / "S-101.json")
    greedy = assert_valid(problem, greedy_plan(problem))
    plan = assert_valid(problem, solve(problem, time_limit_s=3, workers=2, seed=1))
    assert plan.objective <= greedy.objective
    assert plan.solver in ("greedy", "cp-sat")


def test_lns_is_deterministic_for_a_seed_and_budget():
    problem = load_problem(DATA / "S-7.json")
    start = greedy_plan(problem, quick=True)
    # no wall-clock cap on the sub-solves: on a busy machine it would strike first
    config = LnsConfig(
        time_limit_s=60, deterministic_budget=0.15, workers=2, seed=4, sub_wall_max_s=60
    )
    first = assert_valid(problem, improve(problem, start, config))
    second = improve(problem, start, config)
    assert first.assignments == second.assignments
    assert first.objective <= start.objective


def test_solve_keeps_frozen_prints_of_the_hint():
    problem = load_problem(DATA / "S-7.json")
    previous = greedy_plan(problem, quick=True)
    plan = assert_valid(problem, solve(problem, time_limit_s=2, hint=previous, freeze_before=3000))
    frozen = {o.task_id for o in previous.operator_actions if o.start_min < 3000}
    assert frozen
    before = {a.task_id: a for a in previous.assignments}
    after = {a.task_id: a for a in plan.assignments}
    assert all(after[t] == before[t] for t in frozen)


def test_cli_writes_a_checked_solution(tmp_path, capsys):
    out = tmp_path / "plan.json"
    code = main(["schedule", str(DATA / "S-101.json"), "-o", str(out), "--time-limit", "3"])
    assert code == 0
    problem = load_problem(DATA / "S-101.json")
    data = json.loads(out.read_text())
    assert data["format"] == "printfarm-sched-solution/1"
    assert len(data["operator_actions"]) == len(problem.tasks)
    assert_valid(problem, load_plan(data, problem))
    printed = capsys.readouterr().out
    for word in ("weighted tardiness", "makespan", "utilisation", "swaps", "idle"):
        assert word in printed


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (instance([printer("P1")], [job("J0042", 60, material="ABS", nozzle_mm=0.6)]),
         "J0042 fits no printer: needs ABS on a 0.6 nozzle"),
        (instance([printer("P1")], [job("J1", 60, due="soon")]), "job J1: field 'due'"),
        (instance([printer("P1")], [job("J2", 3000)]), "J2#0 cannot be placed"),
    ],
)  # fmt: skip
def test_cli_bad_instance_exits_2_naming_the_job(tmp_path, capsys, raw, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    code = main(["schedule", str(path), "-o", str(tmp_path / "out.json"), "--time-limit", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_missing_file_exits_2(tmp_path, capsys):
    code = main(["schedule", str(tmp_path / "nope.json"), "-o", str(tmp_path / "o.json")])
    assert code == 2
    assert "cannot read" in capsys.readouterr().err


def test_zero_minute_turnarounds_need_no_shift():
    """start = clear = swap = 0: nothing for an operator to do, so prints start off shift too
    (this crashed the list scheduler's operator calendar)."""
    shifts = [{"start": 0, "end": 60, "operators": 1}]
    jobs = [job("A", 100, due=100, quantity=3), job("B", 100, due=300, material="PETG")]
    params = {"start_min": 0, "clear_min": 0, "swap_min": 0}
    raw = instance([printer("P1"), printer("P2")], jobs, shifts=shifts, params=params)
    problem = load_problem(raw)
    plan = assert_valid(problem, solve(problem, time_limit_s=2))
    assert max(a.end_min for a in plan.assignments) == 200
