"""Fixtures for the dashboard's browser tests: one real ``slicefarm serve`` (the embedded demo
farm of virtual printers, in a temporary data dir) and one Debian Chromium for the session.

Without /usr/bin/chromium, or before the service has its ``serve`` command, the tests skip with
a reason that says which.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SERVE_START_TIMEOUT_S = 40.0
KEY_LINE = re.compile(r"API key:\s*(\S+)")


@dataclass(frozen=True)
class Farm:
    """A running ``slicefarm serve``: its base URL (no trailing slash) and the demo API key."""

    url: str
    key: str
    log_path: Path

    def get(self, path: str) -> dict:
        response = httpx.get(self.url + path, headers={"X-Api-Key": self.key}, timeout=10)
        response.raise_for_status()
        return response.json()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "api.cli", "serve", *args]


def serve_available() -> bool:
    result = subprocess.run(serve_command("--help"), capture_output=True, timeout=60)
    return result.returncode == 0


def wait_for_key(log_path: Path, data_dir: Path, process: subprocess.Popen) -> str:
    """The demo key, from the line ``slicefarm serve`` prints (or the demo-key file)."""
    deadline = time.monotonic() + SERVE_START_TIMEOUT_S
    while time.monotonic() < deadline:
        match = KEY_LINE.search(log_path.read_text(encoding="utf-8", errors="replace"))
        if match:
            return match.group(1)
        key_file = data_dir / "demo-key"
        if key_file.is_file() and key_file.read_text().strip():
            return key_file.read_text().strip()
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"slicefarm serve printed no API key:\n{log_path.read_text()}")


def wait_for_health(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVE_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slicefarm serve exited:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"slicefarm serve did not answer /health:\n{log_path.read_text()}")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium to run browser tests")
    if not serve_available():
        pytest.skip("slicefarm serve not available yet")
    folder = tmp_path_factory.mktemp("dashboard-farm")
    data_dir = folder / "data"
    log_path = folder / "serve.log"
    port = free_port()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            serve_command("--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        key = wait_for_key(log_path, data_dir, process)
        wait_for_health(url, process, log_path)
        yield Farm(url=url, key=key, log_path=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def browser(farm: Farm) -> Iterator[object]:
    """Chromium for one test module.

    Module scope, not session: Playwright's sync API keeps an asyncio loop running in the
    main thread while it is open, and later tests that call ``asyncio.run`` would fail.
    """
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    sync_playwright = sync_api.sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser, farm: Farm) -> Iterator[object]:
    """One dashboard tab for a module's tests, opened through the kiosk link."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, color_scheme="dark")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(f"{farm.url}/#key={farm.key}")
    tab.errors = errors
    yield tab
    context.close()
