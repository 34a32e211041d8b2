"""Compile the list-scheduler kernels into numba's on-disk cache: ``python -m farm.jit_warm``.

``make install`` runs it, so that the first schedule does not spend its time limit
compiling (see :func:`warm`).
"""

from __future__ import annotations

import logging
import time

from farm.jit_kernel import HAVE_NUMBA
from farm.model import Filament, Job, Params, Printer, Problem, Shift

log = logging.getLogger(__name__)


def tiny_problem() -> Problem:
    """Two printers, two jobs, one shift: enough to call every kernel once."""
    pla = Filament("PLA", "black")
    printers = tuple(
        Printer(f"P{i}", "m1", 0.4, (200, 200, 200), False, ("PLA",), pla) for i in range(2)
    )
    jobs = tuple(
        Job(f"J{i}", "PLA", "black", 0.4, (10, 10, 10), 2, 1, 0, 60, {"m1": 30}) for i in range(2)
    )
    return Problem("warm", 600, Params(5, 5, 10), printers, jobs, (Shift(0, 600, 1),))


def warm() -> float:
    """Run the compiled list scheduler and the iterated greedy once; seconds it took
    (compiling on a cold cache, loading the cached code otherwise)."""
    if not HAVE_NUMBA:
        return 0.0
    from farm.greedy import list_schedule
    from farm.reorder import reorder

    t0 = time.perf_counter()
    problem = tiny_problem()
    order = list(problem.tasks)
    list_schedule(problem, order, 10, "warm", compiled=True)
    reorder(problem, order, 10, replays=2, seed=0, compiled=True)
    return time.perf_counter() - t0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    log.info("list-scheduler kernels ready in %.1f s", warm())
