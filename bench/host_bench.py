"""Printer host benchmark: lines/s to one virtual printer, CPU per printer, and a farm of 50.

    .venv/bin/python bench/host_bench.py                 # all parts, prints a report
    .venv/bin/python bench/host_bench.py --write-results # also rewrites our RESULTS.md section

Virtual printers run in their own process (``python -m printers.virtual``), so the CPU figures
are the host's alone.  Part 1 streams ``--lines`` one-line moves at window 1 to an ``instant``
printer, with slicefarm's host and with Printrun's printcore (``pip install printrun``; the
``bench`` extra) on the same kind of printer.  Part 2 streams a realistic job (2 mm moves at
50 mm/s, real time) to ``--printers`` printers from one asyncio loop for ``--farm-seconds`` and
reports lines per printer (min/median/max) and host CPU in cores.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from printers.connection import HostSettings, PrinterConnection  # noqa: E402
from printers.profiles import load_printer  # noqa: E402
from printers.state import EventKind  # noqa: E402
from printers.streamer import StreamerSettings  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Printer host (bench/host_bench.py)"


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def virtual_printers(count: int, speed: str) -> Iterator[list[str]]:
    """Start ``count`` virtual printers in a child process; yields their pty paths."""
    child = subprocess.Popen(
        [sys.executable, "-m", "printers.virtual", "--count", str(count), "--speed", speed],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ports = [child.stdout.readline().split()[1] for _ in range(count)]
        yield ports
    finally:
        child.terminate()
        child.wait(timeout=10)


def moves(count: int) -> list[str]:
    lines = ["G91", "M83"]
    lines += [f"G1 X{0.1 if i % 2 else -0.1} E0.01 F6000" for i in range(count)]
    return lines


async def slicefarm_stream(port: str, lines: list[str], window: int = 1) -> tuple[float, float]:
    """Seconds and host CPU seconds to stream ``lines`` with slicefarm's host."""
    settings = HostSettings(streamer=StreamerSettings(window_lines=window))
    connection = PrinterConnection(port, profile=load_printer("ender3"), settings=settings)
    await connection.connect()
    done = asyncio.Event()
    connection.subscribe(lambda e: done.set() if e.kind is EventKind.JOB_FINISHED else None)
    cpu0, t0 = cpu_s(), time.perf_counter()
    await connection.start_print(lines, job_name="bench")
    await done.wait()
    wall, cpu = time.perf_counter() - t0, cpu_s() - cpu0
    await connection.disconnect()
    return wall, cpu


def printcore_stream(port: str, lines: list[str]) -> tuple[float, float]:
    """Seconds and CPU seconds for Printrun's printcore on the same kind of printer."""
    from printrun import gcoder
    from printrun.printcore import printcore

    core = printcore(port, 115200)
    deadline = time.monotonic() + 15
    while not core.online and time.monotonic() < deadline:
        time.sleep(0.05)
    if not core.online:
        raise RuntimeError("printcore did not come online")
    cpu0, t0 = cpu_s(), time.perf_counter()
    core.startprint(gcoder.LightGCode(lines))
    time.sleep(0.05)
    while core.printing:
        time.sleep(0.005)
    wall, cpu = time.perf_counter() - t0, cpu_s() - cpu0
    core.disconnect()
    return wall, cpu


def realistic_job(count: int, move_mm: float) -> list[str]:
    lines = ["G91", "M83"]
    lines += [f"G1 X{move_mm if i % 2 else -move_mm:g} E0.05 F3000" for i in range(count)]
    return lines


async def farm(ports: list[str], seconds: float, move_mm: float) -> tuple[list[int], float, float]:
    """Stream to every port at once; lines done per printer in ``seconds``, CPU, wall."""
    profile = load_printer("ender3")
    connections = [PrinterConnection(p, profile=profile, name=p) for p in ports]
    await asyncio.gather(*(c.connect() for c in connections))
    job = realistic_job(100_000, move_mm)
    for connection in connections:
        await connection.start_print(job, job_name="farm", total_lines=len(job))
    await asyncio.sleep(2.0)  # planners fill up
    start_lines = [c.status.line for c in connections]
    cpu0, t0 = cpu_s(), time.perf_counter()
    await asyncio.sleep(seconds)
    wall, cpu = time.perf_counter() - t0, cpu_s() - cpu0
    done = [c.status.line - s for c, s in zip(connections, start_lines, strict=True)]
    states = {c.status.state.value for c in connections}
    await asyncio.gather(*(c.disconnect() for c in connections))
    if states != {"printing"}:
        raise RuntimeError(f"printers left printing: {states}")
    return done, cpu, wall


def part_one(count: int, repeat: int, skip_printcore: bool) -> list[str]:
    """Median of ``repeat`` runs each, slicefarm and printcore alternating (same load)."""
    lines = moves(count)
    runs: dict[str, list[tuple[float, float]]] = {
        "slicefarm host": [],
        "printcore": [],
        "slicefarm host, window 4 (for reference)": [],
    }
    for _ in range(repeat):
        with virtual_printers(1, "instant") as ports:
            runs["slicefarm host"].append(asyncio.run(slicefarm_stream(ports[0], lines)))
        if not skip_printcore:
            with virtual_printers(1, "instant") as ports:
                runs["printcore"].append(printcore_stream(ports[0], lines))
        with virtual_printers(1, "instant") as ports:
            window4 = asyncio.run(slicefarm_stream(ports[0], lines, window=4))
            runs["slicefarm host, window 4 (for reference)"].append(window4)
    report, rates = [], {}
    for name, results in runs.items():
        if not results:
            continue
        rate = statistics.median(len(lines) / wall for wall, _ in results)
        cores = statistics.median(cpu / wall for wall, cpu in results)
        cpu_us = statistics.median(cpu / len(lines) * 1e6 for _, cpu in results)
        each = ", ".join(f"{len(lines) / wall:,.0f}" for wall, _ in results)
        rates[name] = rate
        report.append(f"| {name} | {rate:,.0f} ({each}) | {cores:.2f} | {cpu_us:.0f} |")
    if "printcore" in rates:
        report.append(
            f"| ratio | {rates['slicefarm host'] / rates['printcore']:.1f}x printcore | | |"
        )
    return report


def part_two(printers: int, seconds: float, move_mm: float) -> list[str]:
    with virtual_printers(printers, "1") as ports:
        done, cpu, wall = asyncio.run(farm(ports, seconds, move_mm))
    rates = [n / wall for n in done]
    return [
        f"| {printers} | {move_mm:g} mm | {wall:.1f} | {min(rates):.1f} | "
        f"{statistics.median(rates):.1f} | "
        f"{max(rates):.1f} | {sum(rates):,.0f} | {cpu / wall:.2f} |"
    ]


def write_section(body: str) -> None:
    text = RESULTS.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(SECTION) + r"\n.*?(?=\n## |\Z)", re.DOTALL)
    RESULTS.write_text(pattern.sub(lambda _: f"{SECTION}\n\n{body.strip()}\n", text), "utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--printers", type=int, default=50)
    parser.add_argument("--farm-seconds", type=float, default=20.0)
    parser.add_argument("--move-mm", type=float, nargs="+", default=[2.0, 0.5])
    parser.add_argument("--skip-printcore", action="store_true")
    parser.add_argument("--skip-farm", action="store_true")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    out = [
        "Command: `" + " ".join([".venv/bin/python bench/host_bench.py", *sys.argv[1:]]) + "`",
        "",
        f"One printer, window 1, {args.lines} one-line moves to an instant virtual printer in "
        f"its own process; median of {args.repeat} runs (each run in brackets), slicefarm "
        "and Printrun's printcore 2.2 alternating:",
        "",
        "| host | lines/s | host CPU (cores) | CPU µs/line |",
        "| --- | --- | --- | --- |",
        *part_one(args.lines, args.repeat, args.skip_printcore),
    ]
    print("\n".join(out), flush=True)
    shown = len(out)
    if not args.skip_farm:
        out += [
            "",
            "A farm from one process: moves of 2 mm (25 lines/s) and 0.5 mm (100 lines/s) at "
            "50 mm/s in real time, virtual printers in one child process; lines/s per printer "
            "over the window, host CPU in cores:",
            "",
            "| printers | move | window s | min | median | max | total lines/s | host CPU |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *(row for mm in args.move_mm for row in part_two(args.printers, args.farm_seconds, mm)),
        ]
    out += [
        "",
        "Targets (issue 5): >= 3,000 lines/s at window 1 where printcore does ~800 (3.75x), and "
        "50 printers at realistic speed from one process with none starved and host CPU under "
        "one core. The machine has 2 cores shared with five other engineers' work; absolute "
        "rates swing up to 4x between runs (each run is in brackets); the ratio and the "
        "per-line CPU are the steadier figures.",
    ]
    report = "\n".join(out)
    print("\n".join(out[shown:]), flush=True)
    if args.write_results:
        write_section(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
