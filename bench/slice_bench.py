"""Slicer benchmark: slicefarm vs PrusaSlicer 2.5 and CuraEngine 4.13, whole processes.

    .venv/bin/python bench/slice_bench.py [--runs 5] [--models 3dbenchy,xyz_cube_20mm]

Every slicer runs under ``/usr/bin/time -v`` (wall, user + sys CPU, peak RSS) on the same model,
interleaved run by run so machine load hits all alike; one warm-up run each is discarded.  The
anchors run through /work/shared/anchors/run_anchor.sh with their matched settings.  Medians
(and min-max) go into this benchmark's section of bench/RESULTS.md with ratios against the
anchors.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANCHORS = Path("/work/shared/anchors")
MODELS = Path("/work/shared/models")
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Slicer (bench/slice_bench.py)"
CURA_DEFS = "/opt/cura-defs/usr/share/cura/resources/definitions"


def parse_time_v(text: str) -> dict[str, float]:
    """Wall s, CPU s and peak RSS MiB from GNU time -v output."""
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text)
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", text).group(1))
    sys_s = float(re.search(r"System time \(seconds\): ([\d.]+)", text).group(1))
    rss_kb = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    h, m, s = wall.groups()
    return {
        "wall_s": int(h or 0) * 3600 + int(m) * 60 + float(s),
        "cpu_s": user + sys_s,
        "rss_mib": rss_kb / 1024,
    }


def _run_ours(name: str, entry: list[str], model: Path, out: Path) -> dict[str, float]:
    timing = out / f"{model.stem}.{name}.time"
    gcode = out / f"{model.stem}.{name}.gcode"
    cmd = ["/usr/bin/time", "-v", "-o", str(timing), *entry, str(model), "-o", str(gcode)]
    subprocess.run([*cmd, "--quiet"], check=True, cwd=ROOT)
    return parse_time_v(timing.read_text())


def run_slicefarm(model: Path, out: Path) -> dict[str, float]:
    return _run_ours("slicefarm", [str(ROOT / ".venv/bin/slicefarm"), "slice"], model, out)


def run_slicer_module(model: Path, out: Path) -> dict[str, float]:
    return _run_ours("module", [str(ROOT / ".venv/bin/python"), "-m", "slicer"], model, out)


def run_anchor(slicer: str, model: Path, out: Path) -> dict[str, float]:
    env = dict(os.environ, SLICERS=slicer, TIMEIT="1", CURA_DEFS=CURA_DEFS)
    subprocess.run(
        [str(ANCHORS / "run_anchor.sh"), str(model), str(out)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return parse_time_v((out / f"{model.stem}.{slicer}.time").read_text())


RUNNERS = {
    "slicefarm slice": run_slicefarm,
    "python -m slicer": run_slicer_module,
    "PrusaSlicer 2.5": lambda m, o: run_anchor("prusa", m, o),
    "CuraEngine 4.13": lambda m, o: run_anchor("cura", m, o),
}


def bench(models: list[str], runs: int) -> dict[tuple[str, str], list[dict[str, float]]]:
    samples: dict[tuple[str, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for name in models:
            model = MODELS / f"{name}.stl"
            for i in range(runs + 1):
                for slicer, runner in RUNNERS.items():
                    result = runner(model, out)
                    if i > 0:  # the first round warms caches
                        samples.setdefault((name, slicer), []).append(result)
                    print(f"{name} {slicer} run {i}: {result}", file=sys.stderr)
    return samples


# PrusaSlicer 2.5 with the anchor settings (shared anchors README): filament mm, time s.
PRUSA = {
    "3dbenchy": (3968.0, 79 * 60 + 2),
    "xyz_cube_20mm": (1386.0, 24 * 60 + 7),
    "bridge_overhang": (1184.0, 22 * 60 + 6),
    "thin_walls_varying": (398.0, 9 * 60 + 33),
    "tiny_holes": (2077.0, 43 * 60 + 13),
    "broken_missing_triangle": (477.0, 8 * 60 + 16),
}


def quality() -> str:
    """Layers, filament and estimated time of every shared model against PrusaSlicer's."""
    sys.path.insert(0, str(ROOT))
    from gcode.writer import format_duration
    from printers.profiles import load_material, load_printer
    from slicer.api import slice_models

    rows = [
        "| model | layers | filament mm (vs PrusaSlicer) | estimated time (vs PrusaSlicer) |",
        "| --- | --- | --- | --- |",
    ]
    for name, (prusa_mm, prusa_s) in PRUSA.items():
        r = slice_models([MODELS / f"{name}.stl"], printer=load_printer(), material=load_material())
        filament_pct = 100 * (r.filament_mm / prusa_mm - 1)
        time_pct = 100 * (r.estimated_time_s / prusa_s - 1)
        rows.append(
            f"| {name} | {r.layers} | {r.filament_mm:.0f} ({filament_pct:+.1f} %) | "
            f"{format_duration(r.estimated_time_s)} ({time_pct:+.1f} %) |"
        )
    return "\n".join(rows)


def table(samples: dict[tuple[str, str], list[dict[str, float]]], runs: int) -> str:
    rows = [
        "| model | slicer | wall s median (min-max) | CPU s median | peak RSS MiB | "
        "wall, CPU, RSS / PrusaSlicer | wall, CPU, RSS / CuraEngine |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    med = {k: {f: statistics.median(s[f] for s in v) for f in v[0]} for k, v in samples.items()}

    def ratios(m: dict[str, float], ref: dict[str, float]) -> str:
        return ", ".join(f"{m[f] / ref[f]:.2f}" for f in ("wall_s", "cpu_s", "rss_mib"))

    for (name, slicer), values in samples.items():
        walls = [v["wall_s"] for v in values]
        m = med[(name, slicer)]
        prusa = med.get((name, "PrusaSlicer 2.5"), m)
        cura = med.get((name, "CuraEngine 4.13"), m)
        rows.append(
            f"| {name} | {slicer} | {m['wall_s']:.2f} ({min(walls):.2f}-{max(walls):.2f}) | "
            f"{m['cpu_s']:.2f} | {m['rss_mib']:.0f} | {ratios(m, prusa)} | {ratios(m, cura)} |"
        )
    return "\n".join(rows)


def write_section(body: str) -> None:
    text = RESULTS.read_text(encoding="utf-8")
    start = text.index(SECTION) + len(SECTION)
    nxt = text.find("\n## ", start)
    end = nxt if nxt >= 0 else len(text)
    RESULTS.write_text(text[:start] + "\n\n" + body.strip() + "\n" + text[end:], encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", default="3dbenchy,3dbenchy_dense_x4,xyz_cube_20mm")
    parser.add_argument("--no-write", action="store_true", help="print, don't touch RESULTS.md")
    parser.add_argument("--quality-only", action="store_true", help="only the output table")
    args = parser.parse_args()
    if args.quality_only:
        print(quality())
        return 0
    models = args.models.split(",")
    samples = bench(models, args.runs)
    command = f"`.venv/bin/python bench/slice_bench.py --runs {args.runs} --models {args.models}`"
    body = (
        f"Command: {command} (2-core machine shared with other jobs; whole processes under "
        f"`/usr/bin/time -v`, {args.runs} interleaved runs after one warm-up, medians).\n\n"
        + table(samples, args.runs)
    )
    body += (
        "\n\nOutput of the default settings against PrusaSlicer 2.5 (anchors README; the "
        "time is the G-code toolkit's estimate, `gcode.estimate`):\n\n" + quality()
    )
    print(body)
    if not args.no_write:
        write_section(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
