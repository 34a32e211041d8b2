"""Farm service API benchmark: status requests per second and p99 latency while printers stream.

Starts ``slicefarm serve`` with N virtual printers (real ptys, sped-up motion), queues one
print per printer, waits until they all stream, then sends GET /api/printers (and a few other
status routes) from C concurrent clients for D seconds.

    .venv/bin/python bench/api_bench.py [--printers 20] [--clients 4] [--seconds 5]
        [--mode both|external|in-process] [--write]

``--write`` replaces the "Farm service API" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SLICEFARM = Path(sys.executable).parent / "slicefarm"
CUBE = ROOT / "samples" / "models" / "xyz_cube_20mm.stl"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Farm service API (bench/api_bench.py)"
PROFILES = ("ender3", "prusa_mk3s", "voron24_300")


def farm_toml(ports: list[str], speed: float) -> str:
    """A farm of printers on ``ports`` (``virtual`` ones run inside the service)."""
    head = 'name = "bench farm"\n[operators]\nalways_present = true\noperators = 50\n'
    head += "[scheduling]\ntime_limit_s = 2\n"
    body = ""
    for index, port in enumerate(ports):
        profiles = PROFILES if port == "virtual" else PROFILES[:2]  # external ones at 115200
        body += (
            f'[[printers]]\nid = "P{index + 1}"\nprofile = "{profiles[index % len(profiles)]}"\n'
            f'port = "{port}"\nmaterial = "PLA"\ncolor = "black"\nvirtual_speed = {speed}\n'
        )
    return head + body


def external_printers(count: int, speed: float) -> tuple[subprocess.Popen, list[str]]:
    """``slicefarm virtual-printer`` in its own process: the ptys look like USB printers."""
    command = [str(SLICEFARM), "virtual-printer", "--count", str(count), "--speed", str(speed)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert process.stdout is not None
    ports = [process.stdout.readline().split()[-1] for _ in range(count)]
    return process, ports


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(test, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if test():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"api_bench: timed out waiting for {what}")


def hammer(url: str, key: str, path: str, clients: int, seconds: float) -> list[float]:
    """Latencies (s) of back-to-back GETs from ``clients`` threads for ``seconds``."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        mine = []
        with httpx.Client(base_url=url, headers={"X-Api-Key": key}, timeout=10) as client:
            while time.monotonic() < stop_at:
                start = time.perf_counter()
                response = client.get(path)
                mine.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def run(args: argparse.Namespace, external: bool) -> list[tuple[str, float, float, float]]:
    tmp = Path(tempfile.mkdtemp(prefix="api_bench_"))
    printers = None
    ports = ["virtual"] * args.printers
    if external:
        printers, ports = external_printers(args.printers, args.speed)
    (tmp / "farm.toml").write_text(farm_toml(ports, args.speed), encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(SLICEFARM), "serve", "--config", str(tmp / "farm.toml")]
    command += ["--data-dir", str(tmp / "data"), "--port", str(port)]
    log = open(tmp / "serve.log", "w")  # noqa: SIM115 - closed in finally
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: httpx.get(f"{url}/health").status_code == 200, 60, "the server")
        key = (tmp / "data" / "demo-key").read_text().strip()
        headers = {"X-Api-Key": key}

        def printing() -> int:
            body = httpx.get(f"{url}/api/printers", headers=headers).json()
            return sum(p["state"] == "printing" for p in body["printers"])

        wait_until(
            lambda: all(
                p["connection"] == "IDLE"
                for p in httpx.get(f"{url}/api/printers", headers=headers).json()["printers"]
            ),
            120,
            "the printers to connect",
        )
        files = {"file": ("cube.stl", CUBE.read_bytes())}
        data = {"copies": str(args.printers)}
        httpx.post(f"{url}/api/jobs", headers=headers, files=files, data=data, timeout=60)
        wait_until(lambda: printing() >= args.printers, 180, "every printer to stream")
        rows = []
        for path in ("/api/printers", "/api/jobs", "/api/plan", "/health"):
            runs = []
            for _ in range(args.runs):
                latencies = np.array(hammer(url, key, path, args.clients, args.seconds))
                runs.append(
                    (
                        len(latencies) / args.seconds,
                        np.percentile(latencies, 50) * 1000,
                        np.percentile(latencies, 99) * 1000,
                    )
                )
            rps, p50, p99 = (float(v) for v in np.median(np.array(runs), axis=0))
            rows.append((path, rps, p50, p99))
        still = printing()
        print(f"printers still streaming at the end: {still}/{args.printers}")
        return rows
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
        if printers is not None:
            os.killpg(printers.pid, signal.SIGTERM)
            printers.wait(timeout=30)


MODE_TEXT = {
    True: "virtual printers in their own process (`slicefarm virtual-printer`), as USB printers",
    False: 'virtual printers inside the service process (`port = "virtual"`, the demo\'s way)',
}


def markdown(results: list[tuple[bool, list]], args: argparse.Namespace) -> str:
    command = (
        f".venv/bin/python bench/api_bench.py --printers {args.printers} "
        f"--clients {args.clients} --seconds {args.seconds:g} --runs {args.runs} "
        f"--mode {args.mode} --write"
    )
    lines = [
        SECTION,
        "",
        f"`{command}` — {args.printers} printers streaming the sample cube over ptys "
        f"(motion x{args.speed:g}), {args.clients} concurrent keep-alive clients, median of "
        f"{args.runs} runs of {args.seconds:g} s per route; {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other work (load average {os.getloadavg()[0]:.0f} "
        "at the end). Target: p99 < 50 ms for GET /api/printers.",
    ]
    for external, rows in results:
        lines += [
            "",
            f"{MODE_TEXT[external]}:",
            "",
            "| route | requests/s | p50 ms | p99 ms |",
            "| --- | ---: | ---: | ---: |",
        ]
        lines += [f"| GET {p} | {rps:.0f} | {p50:.1f} | {p99:.1f} |" for p, rps, p50, p99 in rows]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    content = RESULTS.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(SECTION) + r".*?(?=\n## |\Z)", re.S)
    content = pattern.sub(lambda _m: text.rstrip("\n") + "\n", content)
    RESULTS.write_text(content, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--printers", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3, help="median of this many runs")
    parser.add_argument("--speed", type=float, default=2.0, help="virtual printers' motion factor")
    parser.add_argument(
        "--mode",
        choices=("both", "external", "in-process"),
        default="both",
        help="virtual printers in their own process (as real printers), in the service, or both",
    )
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    modes = {"both": (True, False), "external": (True,), "in-process": (False,)}[args.mode]
    results = [(external, run(args, external)) for external in modes]
    text = markdown(results, args)
    print(text)
    if args.write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
