"""The dispatcher: keeps a plan and starts prints on free printers.

When a printer is free, its bed clear and an operator present, it starts the next print the
plan gives that printer.  It re-plans on new jobs, finished or failed prints, printer errors
and operator actions (or periodically, per the config's ``replan`` policy).  Solving runs in a
thread; the event loop stays free.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable

from farm import model as m
from farm.config import FarmConfig, ReplanPolicy, SchedulingConfig, operators_at
from farm.derive import make_plan
from farm.greedy import greedy_plan
from farm.planning import FarmPlan, FarmSnapshot, build_problem, carry_over
from farm.replan import replan
from farm.service_printers import FarmPrinter
from farm.solve import solve

log = logging.getLogger(__name__)
TICK_S = 0.5


def solve_problem(
    problem: m.Problem,
    params: SchedulingConfig,
    hint: m.Plan | None = None,
    self_clearing: frozenset[str] = frozenset(),
) -> m.Plan:
    """CP-SAT, re-planning from the previous plan when there is one (:func:`replan`: the
    prints about to start that need no operator action keep their printer); the greedy
    plan if CP-SAT fails."""
    if not problem.jobs:
        return make_plan(problem, [], "greedy")
    limit = {"time_limit_s": params.time_limit_s, "workers": params.workers, "seed": 0}
    try:
        if hint is None:
            return solve(problem, **limit)
        return replan(
            problem, hint, stable_min=params.stable_min, self_clearing=self_clearing, **limit
        )
    except Exception:
        log.exception("CP-SAT failed; falling back to the greedy plan")
    return greedy_plan(problem)


class Dispatcher:
    def __init__(
        self,
        config: FarmConfig,
        printers: list[FarmPrinter],
        snapshot: Callable[[], FarmSnapshot],
        offer_print: Callable[[str, str], Awaitable[bool]],
        on_plan: Callable[[FarmPlan], None],
        nothing_for: Callable[[str], None],
    ):
        """``snapshot()`` copies the farm's state; ``offer_print(printer_id, print_id)``
        starts one print (or asks an operator to prepare it) and returns True when the
        printer is taken care of, False to offer it the plan's next print (this one is gone);
        ``on_plan`` hears of every new plan; ``nothing_for(printer_id)`` hears that the plan
        has nothing for a ready printer now."""
        self.config = config
        self._printers = printers
        self._snapshot = snapshot
        self._offer_print = offer_print
        self._on_plan = on_plan
        self._nothing_for = nothing_for
        self.plan: FarmPlan | None = None
        self._wake = asyncio.Event()
        self._replan_reasons: list[str] = ["start"]
        self._last_plan_monotonic = float("-inf")
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self.plans_made = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="dispatcher")

    async def stop(self) -> None:
        """End the loop.  Cancelling alone is not enough: on Python 3.11 ``asyncio.wait_for``
        returns instead of raising when what it waits for finishes just as the task is
        cancelled (a poke right before the stop), so the loop also checks a flag."""
        self._stopped = True
        if self._task is not None:
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def replan(self, reason: str) -> None:
        """Ask for a new plan (honoured at once under the on_change policy)."""
        self._replan_reasons.append(reason)
        self._wake.set()

    def poke(self) -> None:
        """Something changed that may let a printer start (no new plan needed)."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopped:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_S)
            self._wake.clear()
            try:
                if self._plan_due():
                    await self._make_plan()
                await self._dispatch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher step failed")
                await asyncio.sleep(1.0)

    def _plan_due(self) -> bool:
        since = time.monotonic() - self._last_plan_monotonic
        if self.config.scheduling.replan is ReplanPolicy.PERIODIC:
            return since >= self.config.scheduling.replan_interval_s
        return bool(self._replan_reasons)

    async def _make_plan(self) -> None:
        reasons, self._replan_reasons = self._replan_reasons, []
        snap = self._snapshot()
        problem, mapping = build_problem(self.config, snap)
        hint = carry_over(self.plan, problem, mapping)
        clears_itself = frozenset(p.id for p in self.config.printers if p.self_clearing)
        # CP-SAT leaves SIGINT to the server (farm/cpsat.py: catch_sigint_signal = False)
        plan = await asyncio.to_thread(
            solve_problem, problem, self.config.scheduling, hint, clears_itself
        )
        self._last_plan_monotonic = time.monotonic()
        self.plans_made += 1
        self.plan = FarmPlan(snap.t0, dt.datetime.now(dt.UTC), problem, plan, mapping)
        log.info(
            "plan %d (%s): %d prints, makespan %d min, after %s",
            self.plans_made,
            plan.solver,
            len(plan.assignments),
            plan.makespan_min,
            ", ".join(sorted(set(reasons))) or "timer",
        )
        self._on_plan(self.plan)

    async def _dispatch(self) -> None:
        plan = self.plan
        if plan is None:
            return
        now = dt.datetime.now(dt.UTC)
        if operators_at(self.config.operators, now) <= 0:
            return
        for printer in self._printers:
            if not printer.ready():
                continue
            for print_id in plan.queue_for(printer.id):
                if await self._offer_print(printer.id, print_id):
                    break
            else:
                self._nothing_for(printer.id)
