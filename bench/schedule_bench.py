"""Scheduler benchmark: FIFO (what farm tools do), greedy, CP-SAT LNS and a lower bound.

    .venv/bin/python bench/schedule_bench.py [--sizes S,M,L,XL] [--workers 2] [--seed 0]
        [--set DIR] [--write] [--bounds-only]

Instances: the practice set of /work/shared/schedule/gen.py --set (generated into a temp
directory unless --set names one).  Every plan is checked by the independent
/work/shared/schedule/evaluate.py.  --write replaces the Scheduler section of
bench/RESULTS.md with the table and the verdict on the targets.  --bounds-only computes the
lower bound alone, component by component, without running any planner.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from farm.bound_lp import lp_bound  # noqa: E402
from farm.bound_subset import late_job_ids, subset_bound  # noqa: E402
from farm.bounds import Bound, job_ends, lower_bound, operator_bound, task_ends  # noqa: E402
from farm.instance_io import load_problem, plan_to_dict, write_json  # noqa: E402

SHARED = Path("/work/shared/schedule")
LIMIT_S = {"S": 10, "M": 10, "L": 60, "XL": 120}  # wall-clock targets incl. model build
SAFETY = 0.9  # the solver gets this share of the target, the rest is start-up slack
SECTION = "## Scheduler (bench/schedule_bench.py)"
NOTES = [
    "Notes: CP-SAT = `farm.solve.solve` with 90 % of the wall-clock target as its time limit "
    "(greedy warm start included, model building included); it starts from the same greedy "
    "passes, so it is never worse than the greedy column.  The lower bound is the largest of "
    "these valid bounds: each job's copies chained on its eligible printers alone "
    "(turnarounds inside shifts, maintenance, night blocking between copies), an "
    "operator-capacity assignment bound, an LP relaxation of the whole farm "
    "(`farm/bound_lp.py`, `farm/bound_windows.py`, `farm/bound_swaps.py`: completion-time "
    "buckets per job, printer time per set of printers with night blocking, copies placed "
    "in stretches of operator presence per printer class, operator time including the "
    "filament swaps no plan avoids, over the whole farm and per stretch with the printers "
    "each filament's copies need, cover cuts), and, where it applies (no maintenance, the "
    "jobs released at 0, at most 24 prints), the CP-SAT plan's late jobs planned alone by "
    "the exact model (`farm/bound_subset.py`: leaving jobs out never delays the others; "
    "proven optimum, or CP-SAT's bound after 120 deterministic s); `--bounds-only` shows "
    "the relaxations' parts.  These still relax most sequencing (fractional completions), "
    "so part of the remaining gap is the bound's.",
]


@dataclass
class Row:
    name: str
    size: str
    tasks: int
    fifo: dict
    greedy: dict
    cpsat: dict
    greedy_s: float
    cpsat_s: float
    lb_wt: int
    lb_makespan: int
    lb_s: float


def evaluate(instance: Path, plan_dict: dict, tmp: Path) -> dict:
    """Run the shared evaluate.py on a plan; its JSON verdict."""
    path = tmp / f"{instance.stem}-{plan_dict['solver']}.json"
    write_json(path, plan_dict)
    cmd = [sys.executable, str(SHARED / "evaluate.py"), str(instance), str(path), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return json.loads(out.stdout)


def run_instance(path: Path, size: str, workers: int, seed: int, tmp: Path) -> Row:
    # the planners are imported here: --bounds-only runs without them
    from farm.fifo import fifo_plan
    from farm.greedy import greedy_plan
    from farm.solve import solve

    problem = load_problem(path)
    fifo = fifo_plan(problem)
    t0 = time.monotonic()
    greedy = greedy_plan(problem)
    greedy_s = time.monotonic() - t0
    t0 = time.monotonic()
    cpsat = solve(problem, time_limit_s=LIMIT_S[size] * SAFETY, workers=workers, seed=seed)
    cpsat_s = time.monotonic() - t0
    t0 = time.monotonic()
    bound = lower_bound(problem, with_operators=True)
    exact = subset_bound(problem, late_job_ids(problem, cpsat), workers=workers, seed=seed)
    if exact is not None and exact[0] > bound.weighted_tardiness_min:
        bound = Bound(exact[0], bound.makespan_min)
    lb_s = time.monotonic() - t0
    verdicts = [evaluate(path, plan_to_dict(p, problem), tmp) for p in (fifo, greedy, cpsat)]
    row = Row(
        path.stem,
        size,
        len(problem.tasks),
        *verdicts,
        greedy_s,
        cpsat_s,
        bound.weighted_tardiness_min,
        bound.makespan_min,
        lb_s,
    )
    print(
        f"{row.name}: fifo {_wt(row.fifo)} greedy {_wt(row.greedy)} ({greedy_s:.1f} s) "
        f"cp-sat {_wt(row.cpsat)} ({cpsat_s:.1f} s) lb {row.lb_wt} ({lb_s:.1f} s)",
        flush=True,
    )
    return row


@dataclass
class SeedRun:
    name: str
    seed: int
    wt: int | None  # None: infeasible by evaluate.py
    seconds: float
    ran: bool  # False: greedy = bound, so every plan no worse than greedy has this WT


def other_seeds(
    found: list[tuple[Path, str]], rows: list[Row], seeds: list[int], workers: int, tmp: Path
) -> list[SeedRun]:
    """The CP-SAT planner again with other seeds on the M-XL instances: where the greedy
    already meets the lower bound, every plan no worse than it (the solver never returns
    worse) has the bound's WT, so only the others run."""
    from farm.solve import solve

    runs = []
    for seed in seeds:
        for (path, size), row in zip(found, rows, strict=True):
            if size == "S":
                continue
            greedy_wt = int(row.greedy["weighted_tardiness_min"])
            if greedy_wt == row.lb_wt:
                runs.append(SeedRun(row.name, seed, greedy_wt, 0.0, False))
                continue
            problem = load_problem(path)
            t0 = time.monotonic()
            plan = solve(problem, time_limit_s=LIMIT_S[size] * SAFETY, workers=workers, seed=seed)
            seconds = time.monotonic() - t0
            checked = evaluate(path, plan_to_dict(plan, problem), tmp)
            wt = int(checked["weighted_tardiness_min"]) if checked.get("feasible") else None
            runs.append(SeedRun(row.name, seed, wt, seconds, True))
            print(f"{row.name} seed {seed}: cp-sat {wt} ({seconds:.1f} s)", flush=True)
    return runs


def seed_table(rows: list[Row], seed: int, runs: list[SeedRun]) -> list[str]:
    """CP-SAT WT per seed on M-XL and the share of the gap each seed closes."""
    seeds = sorted({r.seed for r in runs})
    big = [r for r in rows if r.size != "S"]
    greedy = {r.name: int(r.greedy["weighted_tardiness_min"]) for r in big}
    head = " | ".join(f"seed {s}" for s in [seed, *seeds])
    lines = [
        f"| instance | greedy WT | lower bound WT | CP-SAT WT {head} |",
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in range(len(seeds) + 1)) + " |",
    ]
    runs_of = {(r.name, r.seed): r for r in runs}
    for r in big:
        cells = [_wt(r.cpsat)]
        for s in seeds:
            run = runs_of[(r.name, s)]
            value = "INFEASIBLE" if run.wt is None else str(run.wt)
            cells.append(value + (f" ({run.seconds:.1f} s)" if run.ran else " (= bound)"))
        lines.append(f"| {r.name} | {greedy[r.name]} | {r.lb_wt} | " + " | ".join(cells) + " |")
    feasible = all(run.wt is not None for run in runs)
    limit = {r.name: LIMIT_S[r.size] for r in big}
    in_time = all(run.seconds <= limit[run.name] for run in runs)
    not_worse = feasible and all(run.wt <= greedy[run.name] for run in runs)
    gap = sum(greedy[r.name] - r.lb_wt for r in big)
    wt = {(r.name, seed): int(r.cpsat["weighted_tardiness_min"]) for r in big}
    wt |= {(run.name, run.seed): run.wt or 0 for run in runs}  # infeasible: the verdict is no
    shares = {
        s: sum(greedy[r.name] - wt[(r.name, s)] for r in big) / gap if gap else 1.0
        for s in [seed, *seeds]
    }
    median = statistics.median(shares.values()) if feasible else 0.0
    listed = ", ".join(f"seed {s} {v:.3f}" for s, v in shares.items())
    return [
        *lines,
        "",
        f"- every plan of the other seeds feasible (evaluate.py): {_yes(feasible)}; within "
        f"the wall-clock targets: {_yes(in_time)}; CP-SAT WT <= greedy WT: {_yes(not_worse)}",
        f"- gap greedy -> lower bound closed over M-XL: {listed}; median {median:.3f} "
        f"(target >= 0.5): {_yes(median >= 0.5)}",
    ]


def _wt(verdict: dict) -> str:
    if not verdict.get("feasible"):
        return "INFEASIBLE"
    return str(verdict["weighted_tardiness_min"])


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| instance | tasks | FIFO WT | greedy WT | CP-SAT WT | lower bound WT | "
        "CP-SAT makespan h | CP-SAT swaps | CP-SAT idle h | greedy s | CP-SAT s (limit) | "
        "bound s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        c = r.cpsat
        lines.append(
            f"| {r.name} | {r.tasks} | {_wt(r.fifo)} | {_wt(r.greedy)} | {_wt(c)} | {r.lb_wt} | "
            f"{c.get('makespan_h', '-')} | {c.get('material_swaps', '-')} | "
            f"{c.get('idle_waiting_for_operator_h', '-')} | {r.greedy_s:.1f} | "
            f"{r.cpsat_s:.1f} ({LIMIT_S[r.size]}) | {r.lb_s:.1f} |"
        )
    return lines


def verdict(rows: list[Row]) -> list[str]:
    """The targets of issue 6, each with its figure."""
    ok = all(
        r.fifo.get("feasible") and r.greedy.get("feasible") and r.cpsat.get("feasible")
        for r in rows
    )
    if not ok:
        return ["- **some plan is infeasible** (see the table)"]

    def wt(v: dict) -> int:
        return int(v["weighted_tardiness_min"])

    big = [r for r in rows if r.size != "S"]
    in_time = all(r.cpsat_s <= LIMIT_S[r.size] for r in rows)
    not_worse = all(wt(r.cpsat) <= wt(r.greedy) for r in rows)
    fifo_sum, cpsat_sum = sum(wt(r.fifo) for r in big), sum(wt(r.cpsat) for r in big)
    gap = sum(wt(r.greedy) - r.lb_wt for r in big)
    closed = sum(wt(r.greedy) - wt(r.cpsat) for r in big)
    small = [r for r in rows if r.size == "S"]
    s_ok = all(wt(r.cpsat) <= r.lb_wt * 1.02 for r in small)
    lines = [
        f"- every plan feasible (evaluate.py): yes, {len(rows)} instances x 3 planners",
        f"- CP-SAT wall time within 10 s S/M, 60 s L, 120 s XL: {_yes(in_time)}",
        f"- CP-SAT WT <= greedy WT on every instance: {_yes(not_worse)}",
    ]
    if big:
        ratio = cpsat_sum / fifo_sum if fifo_sum else 0.0
        lines.append(
            f"- CP-SAT WT summed over M-XL = {cpsat_sum} = {ratio:.3f} x FIFO's "
            f"{fifo_sum} (target <= 0.1): {_yes(ratio <= 0.1)}"
        )
        share = closed / gap if gap else 1.0
        lines.append(
            f"- gap greedy -> lower bound closed over M-XL: {closed} of {gap} "
            f"= {share:.2f} (target >= 0.5): {_yes(share >= 0.5)}"
        )
    if small:
        above = ", ".join(
            f"{r.name} {wt(r.cpsat)} vs {r.lb_wt}"
            + (" (optimal)" if wt(r.cpsat) == r.lb_wt else f" (+{wt(r.cpsat) / r.lb_wt - 1:.1%})")
            for r in small
        )
        lines.append(f"- S optimal or within 2 % of the lower bound: {_yes(s_ok)} ({above})")
    return lines


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def write_results(lines: list[str]) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    end = len(text) if end < 0 else end + 1
    path.write_text(text[:start] + SECTION + "\n\n" + "\n".join(lines) + "\n\n" + text[end:])


def instances(set_dir: Path | None, sizes: list[str], tmp: Path) -> list[tuple[Path, str]]:
    if set_dir is None:
        set_dir = tmp / "set"
        subprocess.run(
            [sys.executable, str(SHARED / "gen.py"), "--set", "--out", str(set_dir)],
            check=True,
            capture_output=True,
        )
    found = []
    for size in sizes:
        found += [(p, size) for p in sorted(set_dir.glob(f"{size}-*.json"))]
    return found


def bound_table(found: list[tuple[Path, str]]) -> list[str]:
    """The lower bound of every instance, part by part (no planner runs)."""
    lines = [
        "| instance | tasks | copies alone WT | operators WT | LP WT | bound WT | bound s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for path, _size in found:
        problem = load_problem(path)
        t0 = time.monotonic()
        ends = task_ends(problem)
        done = job_ends(problem, ends)
        alone = sum(
            j.weight * max(0, done[j.id] - j.due_min) for j in problem.jobs if j.due_min is not None
        )
        operators = operator_bound(problem, ends)
        lp = lp_bound(problem, done)
        seconds = time.monotonic() - t0
        lines.append(
            f"| {path.stem} | {len(problem.tasks)} | {alone} | {operators} | {lp} | "
            f"{max(alone, operators, lp)} | {seconds:.1f} |"
        )
        print(lines[-1], flush=True)
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="S,M,L,XL")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", type=Path, default=None, help="directory of gen.py --set output")
    ap.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    ap.add_argument("--bounds-only", action="store_true", help="lower bounds alone, by part")
    ap.add_argument(
        "--more-seeds", default="", help="comma-separated seeds: CP-SAT again on M-XL with each"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.bounds_only:
            bound_table(instances(args.set, args.sizes.split(","), tmp))
            return 0
        found = instances(args.set, args.sizes.split(","), tmp)
        rows = [run_instance(p, size, args.workers, args.seed, tmp) for p, size in found]
        more = [int(s) for s in args.more_seeds.split(",") if s.strip()]
        runs = other_seeds(found, rows, more, args.workers, tmp)
    more_arg = f" --more-seeds {args.more_seeds}" if more else ""
    command = (
        f"`.venv/bin/python bench/schedule_bench.py --sizes {args.sizes} "
        f"--workers {args.workers} --seed {args.seed}{more_arg} --write`"
    )
    lines = [f"Command: {command} (2-core machine shared with other jobs; WT = weighted "
             "tardiness in weight·min, FIFO = first-match queue, lower bound from "
             "farm/bounds.py).", "", *table(rows), "", *verdict(rows), "", *NOTES]  # fmt: skip
    if more:
        intro = (
            f"Other seeds ({more_arg.strip()}): the CP-SAT planner again, same limits and bounds."
        )
        lines += ["", intro, "", *seed_table(rows, args.seed, runs)]
    print("\n".join(lines))
    if args.write:
        write_results(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
