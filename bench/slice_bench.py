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
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ANCHORS = Path("/work/shared/anchors")
MODELS = Path("/work/shared/models")
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Slicer (bench/slice_bench.py)"
CURA_DEFS = "/opt/cura-defs/usr/share/cura/resources/definitions"
sys.path.insert(0, str(ROOT))
from gcode.estimate import estimate  # noqa: E402
from gcode.writer import format_duration  # noqa: E402
from printers.profiles import load_printer  # noqa: E402


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


def run_anchor(slicer: str, model: Path, out: Path, anchors: Path = ANCHORS) -> dict[str, float]:
    env = dict(os.environ, SLICERS=slicer, TIMEIT="1", CURA_DEFS=CURA_DEFS)
    subprocess.run(
        [str(anchors / "run_anchor.sh"), str(model), str(out)],
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


SUPPORT_MODELS = ("bridge_overhang", "3dbenchy")
SUPPORT_PART = "### Supports on (`--support`)"
# ours with support on, and the one anchor setting we don't share by default: the anchors
# print loops up to 2π·6.5 mm at small_perimeter_speed = 50 mm/s
SUPPORT_SETTINGS = ("--set", "support=auto", "--set", "small_perimeter_speed_mm_s=50")


def _retractions(gcode: str) -> int:
    """E moves that go backwards (relative or absolute E)."""
    relative, e, count = False, 0.0, 0
    for line in gcode.splitlines():
        cmd = line.split(";", 1)[0].strip()
        if cmd.startswith(("M83", "M82")):
            relative = cmd.startswith("M83")
        elif cmd.startswith(("G92", "G0", "G1", "G2", "G3")):
            m = re.search(r"E(-?[\d.]+)", cmd)
            if not m:
                continue
            value = float(m.group(1))
            delta = value if relative else value - e
            e = e if relative else value
            count += int(delta < 0 and not cmd.startswith("G92"))
    return count


def _support_anchors(tmp: Path) -> Path:
    """A copy of the anchors folder with support switched on (PrusaSlicer: auto, 40 deg from
    the horizontal = our 50 deg from the vertical; CuraEngine: support_enable)."""
    here = tmp / "anchors"
    shutil.copytree(ANCHORS, here, ignore=shutil.ignore_patterns("*.stl"))
    ini = (here / "prusa_anchor.ini").read_text()
    ini = ini.replace("support_material = 0", "support_material = 1")
    ini = ini.replace("support_material_auto = 0", "support_material_auto = 1")
    ini = re.sub(r"^support_material_threshold = .*$", "", ini, flags=re.M)
    (here / "prusa_anchor.ini").write_text(ini + "\nsupport_material_threshold = 40\n")
    cura = (here / "cura_anchor.settings").read_text()
    (here / "cura_anchor.settings").write_text(
        cura.replace("support_enable=false", "support_enable=true")
    )
    return here


def support_table(runs: int) -> str:
    """Supports on: wall time (median of ``runs``, interleaved), filament, estimated time,
    support length and retractions of slicefarm (support=auto) against PrusaSlicer and
    CuraEngine with support on."""
    rows = [
        "| model | slicer | wall s median (min-max) | filament mm | estimated time | "
        "estimated by gcode.estimate | support mm | steep faces supported | retractions |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        anchors = _support_anchors(tmp)
        for name in SUPPORT_MODELS:
            model = MODELS / f"{name}.stl"
            walls: dict[str, list[float]] = {}
            last: dict[str, tuple[str, str]] = {}
            for i in range(runs):
                for label, run in _support_runners(anchors, model, tmp).items():
                    wall_s, gcode, log = run()
                    walls.setdefault(label, []).append(wall_s)
                    if label == "slicefarm" and label in last and last[label][0] != gcode:
                        print(f"warning: slicefarm output of {name} changed", file=sys.stderr)
                    last[label] = (gcode, log)
                    print(f"{name} {label} run {i}: {wall_s:.2f} s", file=sys.stderr)
            for label, (gcode, log) in last.items():
                rows.append(_support_row(model, label, walls[label], gcode, log))
    return "\n".join(rows)


def _support_runners(anchors: Path, model: Path, tmp: Path) -> dict[str, Callable]:
    """label -> run(): (wall s, G-code, log) of one supports-on slice of ``model``."""
    name = model.stem

    def ours() -> tuple[float, str, str]:
        out = tmp / f"{name}.slicefarm.gcode"
        cmd = [str(ROOT / ".venv/bin/python"), "-m", "slicer", str(model), "-o", str(out)]
        timing = _timed([*cmd, "--quiet", *SUPPORT_SETTINGS], tmp / "ours.time")
        return timing["wall_s"], out.read_text(), ""

    def anchor(slicer: str) -> Callable[[], tuple[float, str, str]]:
        def run() -> tuple[float, str, str]:
            timing = run_anchor(slicer, model, tmp, anchors)
            gcode = (tmp / f"{name}.{slicer}.gcode").read_text()
            log = (tmp / f"{name}.{slicer}.log").read_text(errors="replace")
            return timing["wall_s"], gcode, log

        return run

    return {
        "slicefarm": ours,
        "PrusaSlicer 2.5": anchor("prusa"),
        "CuraEngine 4.13": anchor("cura"),
    }


def parse_duration(text: str) -> float:
    """Seconds of a PrusaSlicer-style duration (``1h 19m 2s``)."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return float(sum(int(n) * units[u] for n, u in re.findall(r"(\d+)\s*([dhms])", text)))


def _timed(cmd: list[str], timing: Path) -> dict[str, float]:
    subprocess.run(["/usr/bin/time", "-v", "-o", str(timing), *cmd], check=True, cwd=ROOT)
    return parse_time_v(timing.read_text())


def _support_row(model: Path, label: str, walls: list[float], gcode: str, log: str = "") -> str:
    support, filament = _support_and_filament_mm(gcode)
    steep = steep_supported_percent(model, gcode)
    cura_time = re.search(r"Print time \(s\): (\d+)", log)
    prusa_time = re.search(r"estimated printing time \(normal mode\) = (.*)", gcode)
    if cura_time:
        time_s = float(cura_time.group(1))
    else:  # PrusaSlicer's comment, which slicefarm writes too
        time_s = parse_duration(prusa_time.group(1)) if prusa_time else float("nan")
    ours_s = estimate(gcode, load_printer().limits).total_s  # one estimator for all three
    return (
        f"| {model.stem} | {label} | {statistics.median(walls):.2f} "
        f"({min(walls):.2f}-{max(walls):.2f}) | {filament:.0f} | {format_duration(time_s)} | "
        f"{format_duration(ours_s)} | {support:.0f} | {steep:.0f} % | {_retractions(gcode)} |"
    )


SUPPORT_TYPES = ("Support material", "Support material interface", "SUPPORT", "SUPPORT-INTERFACE")


def _extrusions(gcode: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Extruding moves as (k, 5) x0, y0, x1, y1, z (mm), (k,) bool: support, and the
    filament pushed (net of retractions, mm)."""
    relative, x, y, z, e = False, 0.0, 0.0, 0.0, 0.0
    filament = 0.0
    feature = ""
    rows: list[tuple[float, float, float, float, float]] = []
    support: list[bool] = []
    for line in gcode.splitlines():
        if line.startswith(";TYPE:"):
            feature = line[6:].strip()
        cmd = line.split(";", 1)[0].strip()
        if cmd.startswith(("M83", "M82")):
            relative = cmd.startswith("M83")
            continue
        if not cmd.startswith(("G0", "G1", "G2", "G3", "G92")):
            continue
        words = dict(re.findall(r"([XYZE])(-?[\d.]+)", cmd))
        if cmd.startswith("G92"):
            e = float(words.get("E", e))
            continue
        nx, ny, z = float(words.get("X", x)), float(words.get("Y", y)), float(words.get("Z", z))
        if "E" in words:
            value = float(words["E"])
            delta = value if relative else value - e
            e = e if relative else value
            filament += delta
            if delta > 0:
                rows.append((x, y, nx, ny, z))
                support.append(feature in SUPPORT_TYPES)
        x, y = nx, ny
    return np.array(rows).reshape(-1, 5), np.array(support, dtype=bool), filament


def _support_and_filament_mm(gcode: str) -> tuple[float, float]:
    """XY length of support extrusions and filament pushed (net of retractions), mm."""
    seg, support, filament = _extrusions(gcode)
    d = seg[support, 2:4] - seg[support, 0:2]
    return float(np.hypot(d[:, 0], d[:, 1]).sum()), filament


# A steep face counts as supported with support this close sideways and this far below, mm.
SUPPORTED_REACH_MM = 1.0
SUPPORTED_DEPTH_MM = 1.5
CELL_MM = 0.5


def steep_supported_percent(model: Path, gcode: str, angle_deg: float = 50.0) -> float:
    """Share (by area) of the model's downward faces steeper than angle_deg from the vertical
    (not on the bed) that have support extrusions below them, %."""
    sys.path.insert(0, str(ROOT))
    from slicer.mesh import load_mesh

    mesh = load_mesh(model)
    tri = mesh.vertices[mesh.faces]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(cross, axis=1) / 2.0
    nz = cross[:, 2] / np.maximum(2.0 * area, 1e-12)
    centre = tri.mean(axis=1) - [0.0, 0.0, mesh.bounds_mm[0, 2]]
    steep = (nz < -math.sin(math.radians(angle_deg))) & (centre[:, 2] > 0.3)
    seg, support, _ = _extrusions(gcode)
    # The slicers centre the part on the bed: match the middles of the xy extents.
    mid = (seg[~support, :2].min(axis=0) + seg[~support, :2].max(axis=0)) / 2.0
    shift = mid - mesh.bounds_mm[:, :2].mean(axis=0)
    pts, z = _sample(seg[support])
    zs = np.unique(np.round(z, 3))
    cells = np.unique(_cell_keys(np.floor(pts / CELL_MM), np.searchsorted(zs, np.round(z, 3))))
    reach = math.ceil(SUPPORTED_REACH_MM / CELL_MM)
    near = np.arange(-reach, reach + 1)
    ij = np.floor((centre[steep, :2] + shift) / CELL_MM)
    hit = np.zeros(len(ij), dtype=bool)
    lo = np.searchsorted(zs, centre[steep, 2] - SUPPORTED_DEPTH_MM)
    hi = np.searchsorted(zs, centre[steep, 2])
    for k in range(int((hi - lo).max(initial=0))):
        layer = lo + k
        ok = layer < hi
        for dx in near:
            for dy in near:
                keys = _cell_keys(ij + np.array([dx, dy]), layer)
                hit |= ok & np.isin(keys, cells)
    total = area[steep].sum()
    return float(100.0 * area[steep][hit].sum() / total) if total > 0 else float("nan")


def _sample(seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points every CELL_MM / 2 along (k, 5) segments: ((m, 2) xy, (m,) z)."""
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    n = np.ceil(length / (CELL_MM / 2.0)).astype(np.int64) + 1
    which = np.repeat(np.arange(len(seg)), n)
    t = (np.arange(len(which)) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(n - 1, n).clip(1)
    xy = seg[which, :2] + t[:, None] * (seg[which, 2:4] - seg[which, :2])
    return xy, seg[which, 4]


def _cell_keys(ij: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """One int64 per (cell, layer)."""
    i, j = ij.astype(np.int64).T + 10_000
    return (layer.astype(np.int64) * 20_000 + i) * 20_000 + j


def write_section(body: str, part: str = "") -> None:
    """Replace this benchmark's section of RESULTS.md: the main part, or (part given) only
    the part that starts with that heading."""
    text = RESULTS.read_text(encoding="utf-8")
    start = text.index(SECTION) + len(SECTION)
    nxt = text.find("\n## ", start)
    end = nxt if nxt >= 0 else len(text)
    section = text[start:end]
    main, sep, sub = section.partition("\n" + SUPPORT_PART)
    if part:
        _, read_sep, notes = sub.partition("\nRead:")  # the hand-written reading stays
        notes = "\nRead:" + notes.rstrip() + "\n" if read_sep else ""
        section = main.rstrip() + "\n\n" + part + "\n\n" + body.strip() + "\n" + notes
    else:
        section = "\n\n" + body.strip() + "\n" + (("\n" + SUPPORT_PART + sub) if sep else "")
    RESULTS.write_text(text[:start] + section + text[end:], encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", default="3dbenchy,3dbenchy_dense_x4,xyz_cube_20mm")
    parser.add_argument("--no-write", action="store_true", help="print, don't touch RESULTS.md")
    parser.add_argument("--quality-only", action="store_true", help="only the output table")
    parser.add_argument(
        "--support", action="store_true", help="only the supports-on comparison (its own part)"
    )
    args = parser.parse_args()
    if args.quality_only:
        print(quality())
        return 0
    if args.support:
        load = os.getloadavg()[0]
        table = support_table(args.runs)
        body = (
            f"Command: `.venv/bin/python bench/slice_bench.py --support --runs {args.runs}` "
            f"({args.runs} interleaved runs, wall time median (min-max) of the whole process; "
            f"load average {load:.1f} -> {os.getloadavg()[0]:.1f} on 2 cores; slicefarm "
            "`--set support=auto --set small_perimeter_speed_mm_s=50` (the anchors' "
            "small_perimeter_speed), PrusaSlicer support auto at 40 deg from the horizontal, "
            "CuraEngine `support_enable=true`, all else the anchor settings; estimated time: "
            "ours from `gcode.estimate`, the anchors' own, and then all three G-code files "
            "through `gcode.estimate` (ender3 limits, like for like); steep faces supported: "
            "the share of "
            "the model's downward faces more than 50 deg from the vertical, off the bed, with "
            f"support within {SUPPORTED_REACH_MM:g} mm sideways and {SUPPORTED_DEPTH_MM:g} mm "
            "below them, by area).\n\n" + table
        )
        print(body)
        if not args.no_write:
            write_section(body, SUPPORT_PART)
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
