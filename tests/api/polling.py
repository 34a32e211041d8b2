"""Polling a route until its answer passes a test (TestClient and httpx.Client alike)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx


def wait_for(
    client: httpx.Client, path: str, test: Callable[[dict], object], timeout_s: float = 90.0
) -> dict:
    """GET ``path`` until ``test(body)`` is true; AssertionError with the last body after
    ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.get(path).json()
        if test(body):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{path} never got there; last: {body}")
