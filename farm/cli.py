"""``slicefarm schedule``: plan a FORMAT.md instance onto the farm and write the solution."""

from __future__ import annotations

import argparse
import sys
import time

from farm.errors import ScheduleError
from farm.instance_io import load_problem, plan_to_dict, write_json
from farm.model import Plan
from farm.solve import solve


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schedule",
        help="plan print jobs onto the farm (CP-SAT), write a FORMAT.md solution",
        description="Read a printfarm-sched/1 instance, plan it with a greedy warm start and "
        "CP-SAT large-neighbourhood search, write the solution with its operator actions "
        "and print a summary.  A malformed or infeasible instance names the job or printer "
        "and exits 2.",
    )
    parser.add_argument("instance", metavar="INSTANCE.json", help="the instance to plan")
    parser.add_argument("-o", "--output", metavar="PLAN.json", required=True, help="solution")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=10.0,
        metavar="S",
        help="wall-clock seconds, model building included (default 10)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, metavar="N", help="parallel CP-SAT searches (default 2)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="random seed; same seed, workers and limit: same plan",
    )
    parser.set_defaults(func=run_schedule)


def summary(plan: Plan, elapsed_s: float) -> list[str]:
    """The lines ``slicefarm schedule`` prints about a plan."""
    m = plan.metrics
    return [
        f"solver                {plan.solver} ({elapsed_s:.1f} s)",
        f"weighted tardiness    {m.weighted_tardiness_min} weight·min "
        f"({m.weighted_tardiness_min / 60:.1f} weight·h), {m.tardy_jobs} tardy job(s), "
        f"max {m.max_tardiness_min / 60:.1f} h",
        f"makespan              {m.makespan_min} min ({m.makespan_min / 60:.1f} h)",
        f"utilisation           {100 * m.utilisation:.1f} %",
        f"material swaps        {m.swaps}",
        f"idle waiting for ops  {m.idle_wait_min / 60:.1f} h",
    ]


def run_schedule(args: argparse.Namespace) -> int:
    if args.time_limit <= 0 or args.workers < 1:
        print("slicefarm: error: --time-limit must be > 0 and --workers >= 1", file=sys.stderr)
        return 2
    t_start = time.monotonic()
    try:
        problem = load_problem(args.instance)
        plan = solve(problem, time_limit_s=args.time_limit, workers=args.workers, seed=args.seed)
        write_json(args.output, plan_to_dict(plan, problem))
    except ScheduleError as exc:
        print(f"slicefarm: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"slicefarm: error: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"{len(plan.assignments)} prints on {len(problem.printers)} printers -> {args.output}")
    for line in summary(plan, time.monotonic() - t_start):
        print(line)
    return 0
