"""Loading, writing and validating FORMAT.md instances and plans."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from farm.errors import ScheduleError
from farm.fifo import fifo_plan
from farm.greedy import greedy_plan
from farm.instance_io import load_plan, load_problem, plan_to_dict, problem_to_dict
from farm.model import Assignment
from tests.farm.sched_util import DATA, assert_valid, instance, job, printer


def test_instance_round_trip():
    raw = json.loads((DATA / "S-101.json").read_text())
    problem = load_problem(DATA / "S-101.json")
    assert problem_to_dict(problem) == raw
    assert load_problem(problem_to_dict(problem)) == problem
    assert len(problem.tasks) == sum(j["quantity"] for j in raw["jobs"])


def test_plan_round_trip_keeps_actions_and_metrics():
    problem = load_problem(DATA / "S-7.json")
    plan = assert_valid(problem, greedy_plan(problem))
    again = load_plan(json.loads(json.dumps(plan_to_dict(plan, problem))), problem)
    assert again == plan


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["jobs"][0].update(due="3pm"), "job J0001: field 'due'"),
        (lambda d: d["jobs"][1].pop("durations"), "job J0002: missing field 'durations'"),
        (lambda d: d["printers"][0].update(nozzle_mm=-1), "printer P001: field 'nozzle_mm'"),
        (lambda d: d["shifts"][0].update(operators=0), "shifts[0]"),
        (lambda d: d["maintenance"].append({"printer": "P999", "start": 1, "end": 2}), "P999"),
        (lambda d: d.update(format="other/1"), "field 'format'"),
    ],
)
def test_bad_instances_name_the_field(mutate, message):
    raw = json.loads((DATA / "S-101.json").read_text())
    mutate(raw)
    with pytest.raises(ScheduleError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_problem(raw)


def test_unreadable_file_is_a_schedule_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ScheduleError, match="not JSON"):
        load_problem(bad)
    with pytest.raises(ScheduleError, match="cannot read"):
        load_problem(tmp_path / "missing.json")


def test_job_that_fits_no_printer_is_named():
    raw = instance([printer("P1")], [job("J0042", 60, material="ABS", nozzle_mm=0.6)])
    with pytest.raises(ScheduleError, match=r"J0042 fits no printer: needs ABS on a 0.6 nozzle"):
        greedy_plan(load_problem(raw))
    big = instance([printer("P1")], [job("J7", 60, bbox_mm=[300, 300, 10])])
    with pytest.raises(ScheduleError, match=r"J7 fits no printer.*300x300x10 mm too big"):
        fifo_plan(load_problem(big))


@pytest.mark.parametrize("name", ["S-101.json", "S-7.json"])
def test_baselines_are_valid(name):
    problem = load_problem(DATA / name)
    fifo = assert_valid(problem, fifo_plan(problem))
    greedy = assert_valid(problem, greedy_plan(problem))
    assert greedy.weighted_tardiness_min <= fifo.weighted_tardiness_min


@settings(max_examples=10, deadline=None)
@given(shift=st.integers(-30, 30), printer_index=st.integers(0, 9), task_index=st.integers(0, 40))
def test_check_plan_catches_moved_prints(shift, printer_index, task_index):
    """Moving a print of a valid plan either keeps it valid or check_plan says why."""
    from farm.check import check_plan
    from farm.derive import make_plan

    problem = load_problem(DATA / "S-7.json")
    plan = greedy_plan(problem, quick=True)
    moved = list(plan.assignments)
    a = moved[task_index % len(moved)]
    moved[task_index % len(moved)] = Assignment(
        a.task_id, problem.printers[printer_index].id, a.start_min + shift, a.end_min + shift
    )
    errors = check_plan(problem, make_plan(problem, moved, "moved"))
    if problem.printers[printer_index].id == a.printer_id and shift == 0:
        assert errors == []
    if not problem.printers[printer_index].can_print(problem.task_by_id[a.task_id].job):
        assert any("cannot print" in e for e in errors)
