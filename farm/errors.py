"""The scheduler's exception tree."""

from __future__ import annotations


class ScheduleError(Exception):
    """A scheduling instance or plan that cannot be used.

    The message is one line that names the job, printer or field at fault, e.g.
    ``J0042 fits no printer: needs ABS on a 0.6 nozzle``.  The CLI prints it and exits 2.
    """

    http_status = 422
