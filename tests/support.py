"""Helpers shared by the service's tests (tests/api, tests/e2e, tests/dashboard)."""

from __future__ import annotations

import socket
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _toml_value(value: str | bool | float) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f'"{value}"' if isinstance(value, str) else str(value)


def printer_toml(printer_id: str, profile: str, **options: str | bool | float) -> str:
    """A virtual printer's ``[[printers]]`` table in farm.toml (``options``: its keys)."""
    lines = [f'id = "{printer_id}"', f'profile = "{profile}"', 'port = "virtual"']
    lines += [f"{key} = {_toml_value(value)}" for key, value in options.items()]
    return "\n[[printers]]\n" + "\n".join(lines) + "\n"


def write_farm_toml(
    folder: Path,
    *,
    name: str,
    instant: bool,
    speed: float,
    p2_instant: bool,
    p2_speed: float = 1.0,
    head: str = "",
) -> Path:
    """``folder/farm.toml``: two virtual printers, operators always present (two of them),
    re-planning in a second.  P1 is an ender3 with PLA black that clears its own bed, P2 a
    prusa_mk3s with PETG red; ``instant`` prints at once, else at ``speed`` times the
    slicer's estimate.  ``head``: more top-level settings (``upload_limit_mb = 5``)."""
    path = folder / "farm.toml"
    p1 = printer_toml("P1", "ender3", material="PLA", color="black", self_clearing=True,
                      virtual_instant=instant, virtual_speed=speed)  # fmt: skip
    p2 = printer_toml("P2", "prusa_mk3s", material="PETG", color="red",
                      virtual_instant=p2_instant, virtual_speed=p2_speed)  # fmt: skip
    head = f'name = "{name}"\n{head}\n[operators]\nalways_present = true\noperators = 2\n'
    path.write_text(head + "[scheduling]\ntime_limit_s = 1\n" + p1 + p2, encoding="utf-8")
    return path
