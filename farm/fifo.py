"""What farm tools do today: a queue walked top-down, first match wins.

Whenever a printer falls free it takes the first released job in the queue (submission
order: release, then id) whose material and colour are loaded and whose nozzle and size
fit; failing that, the first it can print at all, with a filament swap.  No look-ahead,
no due dates.  The baseline of the benchmark.
"""

from __future__ import annotations

from farm.derive import make_plan
from farm.errors import ScheduleError
from farm.greedy import require_schedulable
from farm.model import Plan, Problem, Task
from farm.placement import FarmState, Track


def _pick(queue: list[Task], track: Track, now_min: int, problem: Problem) -> Task | None:
    """First released task this printer can print, preferring the loaded filament."""
    fallback = None
    for task in queue:
        if task.job.release_min > now_min or not track.printer.can_print(task.job):
            continue
        if task.job.filament == track.loaded:
            return task
        if fallback is None:
            fallback = task
    return fallback


def fifo_plan(problem: Problem) -> Plan:
    """The first-match queue baseline; raises :class:`ScheduleError` if it runs out of time."""
    require_schedulable(problem)
    state = FarmState(problem)
    queue = sorted(problem.tasks, key=lambda t: (t.job.release_min, t.job.id, t.copy))
    ready = {p.id: state.tracks[p.id].free_min for p in problem.printers}
    while queue:
        if not ready:
            raise ScheduleError(f"{queue[0].id}: no printer left before the horizon end")
        printer_id = min(ready, key=lambda pid: (ready[pid], pid))
        track, now = state.tracks[printer_id], ready[printer_id]
        task = _pick(queue, track, now, problem)
        if task is None:
            later = [t.job.release_min for t in queue if track.printer.can_print(t.job)]
            later = [r for r in later if r > now]
            if later:
                ready[printer_id] = min(later)
            else:
                del ready[printer_id]
            continue
        slot = state.earliest(task, track.printer)
        if slot is None:
            del ready[printer_id]
            continue
        state.commit(task, track.printer, slot)
        queue.remove(task)
        ready[printer_id] = slot.end_min
    return make_plan(problem, state.assignments, "fifo")
