"""``solve``: the scheduler's front door - greedy, iterated greedy, CP-SAT LNS, checked result.

The best greedy variant's task order is improved by iterated greedy (:mod:`farm.reorder`:
late jobs move forward in the order, which is replayed; one lane of chains per core);
that plan (or a repaired ``hint``, whichever is better) is the incumbent, and CP-SAT
large-neighbourhood search improves it within the rest of the time limit.  The best plan
passes :func:`farm.check.check_plan` before it is returned.  Never raises on a feasible
input: if the search fails, the checked greedy plan comes back.

Time: greedy passes ~12 %, iterated greedy until 85 % of the limit (its replays are
budgeted, so on a quiet machine it ends earlier and deterministically), LNS until 92 %.
"""

from __future__ import annotations

import logging
import math
import time

from farm.check import check_plan
from farm.errors import ScheduleError
from farm.greedy import (
    VARIANTS,
    Pinned,
    best_variant,
    list_schedule,
    priority_rules,
    require_schedulable,
)
from farm.jit_kernel import use_compiled
from farm.lns import LnsConfig, improve
from farm.model import Plan, Problem
from farm.reorder import reorder_variants

log = logging.getLogger(__name__)

# at most this share of the time limit for greedy passes: the first variants win most
# often, the iterated greedy gains more on big farms than the last ones would
GREEDY_SHARE = 0.15
REORDER_SHARE = 0.65  # about this share of the time limit for the iterated greedy
# a list-schedule replay of the iterated greedy (a move's replay, counted as its share of
# a full one): about ``a`` s per (task, eligible printer) + ``b`` s; compiled / in Python
# (compiled, measured: M-01 0.9 ms, L-02 2.3 ms)
REPLAY_S = ((1.5e-8, 0.0008), (15e-6, 0.002))
SEARCH_END = 0.92  # the LNS stops by this share of the time limit (then: check, return)
REORDER_END = 0.85  # ... which stops by this share of the time limit in any case
# compiled / in Python: more rarely pays in Python (slow replays), where CP-SAT does better
REORDER_MAX_REPLAYS = (100_000, 100)
PARALLEL_LANES_MIN_S = 5.0  # from this time limit a second lane runs in a worker process
PARALLEL_GREEDY_TASKS = 800  # from this many tasks the greedy passes run in processes
# CP-SAT deterministic time per second of time limit: the search ends on this budget (the
# same seed, workers and limit then give the same plan) unless the wall clock strikes first,
# which happens on a loaded machine, where CP-SAT does much less work per second.
DETERMINISTIC_PER_S = 0.15


def _greedy_processes(problem: Problem, workers: int) -> int:
    """Worker processes for the greedy passes: only big farms repay starting them."""
    return min(workers, 2) if len(problem.tasks) >= PARALLEL_GREEDY_TASKS else 1


def _greedy_passes(problem: Problem, time_limit_s: float, processes: int) -> int:
    """How many greedy orders fit in the time budget."""
    fit = math.floor(GREEDY_SHARE * time_limit_s / _replay_s(problem)) * processes
    return max(1, min(len(VARIANTS), fit))


def repair_hint(problem: Problem, hint: Plan, freeze_before: int | None = None) -> Plan:
    """A feasible plan that follows ``hint``: same printers and order where still possible.

    Tasks of the hint are re-placed in its start order on their printers (those whose
    turnaround starts before ``freeze_before`` no earlier than before); tasks the hint does
    not know, or whose printer cannot take them any more, are appended by due date.
    """
    known = {a.task_id: a for a in hint.assignments if a.task_id in problem.task_by_id}
    turnaround_start = {o.task_id: o.start_min for o in hint.operator_actions}
    pinned = {}
    for tid, a in known.items():
        u = turnaround_start.get(tid, a.start_min)
        frozen = freeze_before is not None and u < freeze_before
        pinned[tid] = Pinned(a.printer_id, u if frozen else 0)
    edd = priority_rules(problem)["edd"]
    order = [problem.task_by_id[a.task_id] for a in sorted(known.values(), key=_start_key)]
    order += sorted((t for t in problem.tasks if t.id not in known), key=edd)
    return list_schedule(problem, order, problem.params.swap_min * 3, hint.solver, pinned)


def _start_key(a) -> tuple[int, str]:
    return (a.start_min, a.task_id)


def _frozen_ids(plan: Plan, freeze_before: int | None) -> frozenset[str]:
    if freeze_before is None:
        return frozenset()
    return frozenset(o.task_id for o in plan.operator_actions if o.start_min < freeze_before)


def _incumbent(
    problem: Problem,
    time_limit_s: float,
    workers: int,
    seed: int,
    hint: Plan | None,
    freeze_before: int | None,
) -> Plan:
    """The best starting plan: greedy improved by iterated greedy, or the repaired hint
    (which wins on frozen tasks)."""
    t_start = time.monotonic()
    if hint is not None:
        repaired = repair_hint(problem, hint, freeze_before)
        if freeze_before is not None:
            return repaired
    processes = _greedy_processes(problem, workers)
    passes = _greedy_passes(problem, time_limit_s, processes)
    greedy, ranked = best_variant(problem, passes=passes, processes=processes)
    replays = min(
        REORDER_MAX_REPLAYS[not use_compiled()], REORDER_SHARE * time_limit_s / _replay_s(problem)
    )
    deadline = t_start + REORDER_END * time_limit_s
    if greedy.weighted_tardiness_min > 0:  # the iterated greedy only moves late jobs
        # chains from the best greedy variants in turn: climbs from different starts
        # differ a lot (L-02 at 5,000 replays: 121,659 to 145,523 from 12 starts)
        lanes = _lanes(time_limit_s, workers)
        better = reorder_variants(
            problem, ranked, replays=replays, seed=seed, deadline=deadline, lanes=lanes
        )
        if better is not None and better.objective < greedy.objective:
            greedy = better
    if hint is not None and repaired.objective < greedy.objective:
        return repaired
    return greedy


def _lanes(time_limit_s: float, workers: int) -> int:
    """Lanes of iterated-greedy chains: one per core when the time limit repays starting
    a worker process (short re-plans of the service do not)."""
    return 2 if workers >= 2 and time_limit_s >= PARALLEL_LANES_MIN_S else 1


def _replay_s(problem: Problem) -> float:
    """Estimated seconds of one list-schedule replay of every task."""
    pairs = sum(len(problem.eligible[t.job.id]) for t in problem.tasks)
    per_pair_s, fixed_s = REPLAY_S[not use_compiled()]
    return per_pair_s * pairs + fixed_s


def solve(
    problem: Problem,
    *,
    time_limit_s: float = 10,
    workers: int = 2,
    seed: int = 0,
    hint: Plan | None = None,
    freeze_before: int | None = None,
) -> Plan:
    """The best plan found within ``time_limit_s`` (wall clock, model building included).

    ``hint``: a previous plan to start from (repaired if it no longer fits).
    ``freeze_before``: with a hint, its prints whose turnaround starts before this minute
    keep their printer and start.  Raises :class:`ScheduleError` only on an infeasible
    or malformed problem.
    """
    t_start = time.monotonic()
    require_schedulable(problem)
    incumbent = _incumbent(problem, time_limit_s, workers, seed, hint, freeze_before)
    _require_valid(problem, incumbent)
    frozen = _frozen_ids(incumbent, freeze_before)
    # leave time for the final check and for a sub-solve that overruns its share
    remaining_s = SEARCH_END * time_limit_s - (time.monotonic() - t_start) - 0.2
    best = incumbent
    if remaining_s > 0.3:
        config = LnsConfig(
            time_limit_s=remaining_s,
            deterministic_budget=DETERMINISTIC_PER_S * time_limit_s,
            workers=workers,
            seed=seed,
        )
        try:
            best = improve(problem, incumbent, config, frozen=frozen)
        except Exception:  # the search must never lose the incumbent
            log.exception("CP-SAT search failed; returning the list schedule")
    if best.objective >= incumbent.objective:
        best = incumbent
    else:
        best = _relabel(best, "cp-sat")
        errors = check_plan(problem, best)
        if errors:
            log.error("CP-SAT plan rejected by check_plan: %s", errors[0])
            best = incumbent
    log.info("solve: %s %s in %.1f s", best.solver, best.objective, time.monotonic() - t_start)
    return best


def _require_valid(problem: Problem, plan: Plan) -> None:
    errors = check_plan(problem, plan)
    if errors:
        raise ScheduleError(f"no feasible plan found: {errors[0]}")


def _relabel(plan: Plan, solver: str) -> Plan:
    return Plan(plan.assignments, plan.operator_actions, solver, plan.metrics)
