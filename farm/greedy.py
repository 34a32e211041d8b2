"""Shift-aware greedy list scheduler: the warm start and fallback of the CP-SAT search.

Tasks are taken in a priority order (earliest due date, or weighted slack) and each is
appended to the printer where it would end first, counting the turnaround the operator
needs (start, clear, filament swap) and when an operator is on shift and free.  A swap
costs an extra penalty so that printers keep their filament when another printer is
nearly as good.  Several orders and penalties are tried; the best plan wins.
"""

from __future__ import annotations

import itertools
import logging
import math
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from farm.derive import make_plan
from farm.errors import ScheduleError
from farm.fast_state import FastFarmState
from farm.jit_arrays import arrays_of
from farm.jit_schedule import place, placed_assignments, scored, use_compiled
from farm.model import Plan, Problem, Task
from farm.placement import FarmState, Slot

log = logging.getLogger(__name__)

PriorityKey = Callable[[Task], tuple]


def require_schedulable(problem: Problem) -> None:
    """Raise :class:`ScheduleError` naming the first job no printer can print."""
    for job in problem.jobs:
        if problem.eligible[job.id]:
            continue
        same = [
            p
            for p in problem.printers
            if p.nozzle_mm == job.nozzle_mm and job.material in p.materials
        ]
        need = f"needs {job.material} on a {job.nozzle_mm:g} nozzle"
        if not same:
            raise ScheduleError(f"{job.id} fits no printer: {need}")
        if not any(p.fits(job.bbox_mm) for p in same):
            x, y, z = job.bbox_mm
            raise ScheduleError(f"{job.id} fits no printer: {need}, part {x}x{y}x{z} mm too big")
        models = sorted({p.model for p in same})
        raise ScheduleError(f"{job.id} fits no printer: no slicer duration for {', '.join(models)}")


def _min_duration(problem: Problem, task: Task) -> int:
    return min(task.job.durations_min[p.model] for p in problem.eligible[task.job.id])


WEIGHT_PULL_MIN = 120  # latest start moved earlier per unit of weight above 1


def priority_rules(problem: Problem, pull_min: int = WEIGHT_PULL_MIN) -> dict[str, PriorityKey]:
    """Named task orders: earliest due date, latest start, weighted latest start (a job's
    latest start moves ``pull_min`` earlier per unit of weight above 1)."""

    def due(task: Task) -> float:
        return math.inf if task.job.due_min is None else task.job.due_min

    def edd(task: Task) -> tuple:
        return (due(task), -task.job.weight, task.job.release_min, task.id)

    shortest = {t.job.id: _min_duration(problem, t) for t in problem.tasks}

    def lst(task: Task) -> tuple:
        return (due(task) - shortest[task.job.id], -task.job.weight, task.id)

    def wlst(task: Task) -> tuple:
        pull = pull_min * (task.job.weight - 1)
        return (due(task) - shortest[task.job.id] - pull, task.id)

    return {"edd": edd, "lst": lst, "wlst": wlst}


def best_slot(state: FastFarmState, task: Task, swap_penalty_min: int) -> tuple[str, Slot] | None:
    """The printer and slot with the earliest end (+ penalty for a swap)."""
    best: tuple[int, str, Slot] | None = None
    for bound, p in state.ranked_printers(task, swap_penalty_min):
        if best is not None and bound >= best[0]:
            break
        slot = state.earliest(task, p)
        if slot is None:
            continue
        cost = slot.end_min + swap_penalty_min * slot.swap
        if best is None or cost < best[0]:
            best = (cost, p.id, slot)
    return None if best is None else (best[1], best[2])


@dataclass(frozen=True)
class Pinned:
    """A task the list scheduler keeps on ``printer_id``, turnaround not before a time."""

    printer_id: str
    not_before_min: int = 0


def _pinned_slot(state: FarmState, task: Task, pin: Pinned) -> tuple[str, Slot] | None:
    printer = state.problem.printer_by_id.get(pin.printer_id)
    if printer is None or not printer.can_print(task.job):
        return None
    slot = state.earliest(task, printer, pin.not_before_min)
    return None if slot is None else (printer.id, slot)


def list_schedule(
    problem: Problem,
    order: list[Task],
    swap_penalty_min: int,
    name: str,
    pinned: dict[str, Pinned] | None = None,
    *,
    compiled: bool | None = None,
) -> Plan:
    """Append tasks in ``order``, each to its best printer (or its pinned one, if it fits).

    ``compiled``: by :mod:`farm.jit_kernel` (the same plan, ~50x faster) rather than here;
    by default when its code is ready (:func:`farm.jit_kernel.use_compiled`).
    """
    if use_compiled(compiled):
        placed = place(problem, order, swap_penalty_min, pinned)
        return make_plan(problem, placed_assignments(problem, placed), name)
    state = FastFarmState(problem)
    pinned = pinned or {}
    for task in order:
        pin = pinned.get(task.id)
        found = _pinned_slot(state, task, pin) if pin else None
        found = found or best_slot(state, task, swap_penalty_min)
        if found is None:
            raise ScheduleError(
                f"{task.id} cannot be placed before the horizon end ({problem.horizon_end_min} min)"
            )
        printer_id, slot = found
        state.commit(task, problem.printer_by_id[printer_id], slot)
    return make_plan(problem, state.assignments, name)


# (order, swap penalty in swap_min units, weight pull in min), most useful first: big farms
# run only a few.  Which wins depends on the farm: operators short -> bigger swap penalty;
# chosen on the gen.py practice set (each of the first four wins on some M or L farm).
VARIANTS = (
    ("wlst", 30, 240),
    ("wlst", 3, 120),
    ("wlst", 60, 240),
    ("wlst", 3, 720),
    ("lst", 3, 0),
    ("edd", 3, 0),
    ("wlst", 12, 120),
    ("wlst", 12, 360),
    ("wlst", 30, 120),
    ("edd", 12, 0),
    ("wlst", 12, 240),
    ("wlst", 60, 120),
)


Variant = tuple[str, int, int]


def variant_order(problem: Problem, variant: Variant) -> tuple[list[Task], int]:
    """The task order and the swap penalty (min) of one greedy variant."""
    rule, factor, pull_min = variant
    order = sorted(problem.tasks, key=priority_rules(problem, pull_min)[rule])
    return order, factor * problem.params.swap_min


def _one_pass(problem: Problem, variant: Variant) -> Plan:
    order, penalty_min = variant_order(problem, variant)
    plan = list_schedule(problem, order, penalty_min, "greedy")
    log.debug("greedy %s: wt=%d makespan=%d", variant, *plan.objective)
    return plan


def greedy_plan(
    problem: Problem, *, quick: bool = False, passes: int | None = None, processes: int = 1
) -> Plan:
    """The best of several list schedules (one when ``quick``); always feasible or raises.

    ``processes`` > 1 runs the passes in that many worker processes (same result).
    """
    return best_variant(problem, passes=1 if quick else passes, processes=processes)[0]


def best_variant(
    problem: Problem, *, passes: int | None = None, processes: int = 1, compiled: bool | None = None
) -> tuple[Plan, list[Variant]]:
    """The best of the first ``passes`` list schedules of :data:`VARIANTS`, and those
    variants from best to worst.  Compiled passes run here: they take less time than
    starting a worker process."""
    require_schedulable(problem)
    variants = VARIANTS[: passes or len(VARIANTS)]
    if use_compiled(compiled):
        return _best_compiled(problem, variants)
    if processes > 1 and len(variants) > 1:
        context = multiprocessing.get_context("spawn")  # safe from threads, unlike fork
        with ProcessPoolExecutor(min(processes, len(variants)), mp_context=context) as pool:
            plans = list(pool.map(_one_pass, itertools.repeat(problem), variants))
    else:
        plans = [_one_pass(problem, v) for v in variants]
    ranked = sorted(range(len(plans)), key=lambda i: plans[i].objective)  # stable: first best
    return plans[ranked[0]], [variants[i] for i in ranked]


def _best_compiled(problem: Problem, variants: tuple[Variant, ...]) -> tuple[Plan, list[Variant]]:
    """:func:`best_variant` by the compiled list scheduler; one plan is built, the best."""
    arr = arrays_of(problem)
    placed, objectives = [], []
    for variant in variants:
        order, penalty_min = variant_order(problem, variant)
        placed.append(place(problem, order, penalty_min))
        objectives.append(scored(arr, placed[-1])[0])
        log.debug("greedy %s: wt=%d makespan=%d", variant, *objectives[-1])
    ranked = sorted(range(len(variants)), key=objectives.__getitem__)  # stable: first best
    plan = make_plan(problem, placed_assignments(problem, placed[ranked[0]]), "greedy")
    return plan, [variants[i] for i in ranked]
