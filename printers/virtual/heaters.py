"""Heater physics of the virtual printer: a linear ramp toward the target, sped up by a factor."""

from __future__ import annotations

from dataclasses import dataclass

AMBIENT_C = 21.0


@dataclass(slots=True)
class Heater:
    """One heater.  Rates are °C per simulated second; ``instant`` jumps straight to target."""

    heat_rate_c_s: float
    cool_rate_c_s: float
    actual_c: float = AMBIENT_C
    target_c: float = 0.0

    def advance(self, sim_dt_s: float, *, instant: bool = False) -> None:
        """Move ``actual_c`` toward the target (or ambient when off) by ``sim_dt_s`` seconds."""
        goal = self.target_c if self.target_c > AMBIENT_C else AMBIENT_C
        if instant:
            self.actual_c = goal
        elif self.actual_c < goal:
            self.actual_c = min(goal, self.actual_c + self.heat_rate_c_s * sim_dt_s)
        elif self.actual_c > goal:
            self.actual_c = max(goal, self.actual_c - self.cool_rate_c_s * sim_dt_s)

    def reached(self, tolerance_c: float = 1.0) -> bool:
        """True when the heater is within ``tolerance_c`` of its target (M109/M190 done)."""
        return abs(self.actual_c - self.target_c) <= tolerance_c or self.target_c <= AMBIENT_C

    def report(self) -> str:
        return f"{self.actual_c:.2f} /{self.target_c:.2f}"


def hotend() -> Heater:
    return Heater(heat_rate_c_s=3.0, cool_rate_c_s=1.5)


def bed() -> Heater:
    return Heater(heat_rate_c_s=1.0, cool_rate_c_s=0.3)
