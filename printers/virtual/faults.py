"""Faults the virtual printer injects on demand, seeded so a run is reproducible.

Rates are probabilities per received numbered line; ``*_after_lines`` trigger once, after the
printer has executed that many numbered lines.  ``FaultConfig.parse`` reads the CLI form
``corrupt=0.02,drop=0.003,lost_ok=0.001,thermal_runaway=500,disconnect=800,hang=700,
action_pause=300``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["FaultConfig", "FaultSpecError"]


class FaultSpecError(ValueError):
    """A ``--fault`` specification that names an unknown fault or a bad value."""


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """What goes wrong, and how often.

    corrupt_rate: a received numbered line has one character changed (checksum mismatch).
    drop_rate: a received numbered line is lost entirely (no answer at all).
    lost_ok_rate: a command runs but its ``ok`` is never sent.
    thermal_runaway_after_lines: kill with ``Error:Thermal Runaway`` after that many lines.
    disconnect_after_lines: the port vanishes (USB unplugged) after that many lines.
    hang_after_lines: the firmware freezes (answers nothing, port stays open).
    action_pause_after_lines: send ``//action:pause`` once after that many lines.
    garbage_on_boot: send bytes like ``\\x80`` before ``start`` (P27).
    """

    corrupt_rate: float = 0.0
    drop_rate: float = 0.0
    lost_ok_rate: float = 0.0
    thermal_runaway_after_lines: int | None = None
    disconnect_after_lines: int | None = None
    hang_after_lines: int | None = None
    action_pause_after_lines: int | None = None
    garbage_on_boot: bool = False

    def __post_init__(self) -> None:
        for name in ("corrupt_rate", "drop_rate", "lost_ok_rate"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise FaultSpecError(f"fault {name}={value} must lie in 0..1")
        for name in (
            "thermal_runaway_after_lines",
            "disconnect_after_lines",
            "hang_after_lines",
            "action_pause_after_lines",
        ):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise FaultSpecError(f"fault {name}={value} must be >= 0")

    @classmethod
    def parse(cls, spec: str) -> FaultConfig:
        """Read ``name=value,...`` where name is a field without ``_rate``/``_after_lines``."""
        known = {_short(f.name): f.name for f in fields(cls)}
        values: dict[str, object] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key, _, raw = item.partition("=")
            name = known.get(key.strip())
            if name is None:
                raise FaultSpecError(
                    f"unknown fault '{key.strip()}' (known: {', '.join(sorted(known))})"
                )
            values[name] = _convert(name, raw.strip())
        return cls(**values)  # type: ignore[arg-type]


def _short(name: str) -> str:
    return name.removesuffix("_rate").removesuffix("_after_lines")


def _convert(name: str, raw: str) -> object:
    try:
        if name == "garbage_on_boot":
            return raw.lower() in ("", "1", "true", "yes")
        if name.endswith("_rate"):
            return float(raw)
        return int(raw)
    except ValueError:
        raise FaultSpecError(f"fault {_short(name)}: '{raw}' is not a number") from None
