"""farm.toml: the demo loads, bad files name the field, shifts become UTC windows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from farm.config import OperatorsConfig, ShiftConfig, load_config, operators_at, shift_windows
from printers.profiles import ProfileError


def test_demo_farm_loads():
    config = load_config()
    assert 5 <= len(config.printers) <= 8
    assert {p.profile for p in config.printers} == {"ender3", "prusa_mk3s", "voron24_300"}
    assert len({p.material for p in config.printers}) >= 2
    assert all(p.is_virtual and p.self_clearing for p in config.printers)
    assert config.operators.always_present


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('[[printers]]\nid = "P1"\nprofile = "nope"\nport = "virtual"', "printers.0.profile"),
        ('[[printers]]\nid = "P1"\nprofile = "ender3"\nport = "virtual"\ncolour = "x"', "colour"),
        (
            '[[printers]]\nid = "P1"\nprofile = "ender3"\nport = "virtual"\nmaterial = "ABS"',
            "printers.0.material",
        ),
        (
            'upload_limit_mb = -1\n[[printers]]\nid = "P1"\nprofile = "ender3"\nport = "virtual"',
            "upload_limit_mb",
        ),
        (
            '[operators]\ntimezone = "Mars/Base"\n[[printers]]\nid = "P1"\nprofile = "ender3"\n'
            'port = "virtual"',
            "operators.timezone",
        ),
        (
            '[[printers]]\nid = "P1"\nprofile = "ender3"\nport = "virtual"\n'
            'virtual_faults = "meteor=1"',
            "printers.0.virtual_faults",
        ),
        (
            '[scheduling]\nlate_after_min = -5\n[[printers]]\nid = "P1"\nprofile = "ender3"\n'
            'port = "virtual"',
            "scheduling.late_after_min",
        ),
        (
            '[scheduling]\nstart_min = 0\n[[printers]]\nid = "P1"\nprofile = "ender3"\n'
            'port = "virtual"',
            "scheduling.start_min",
        ),
    ],
)
def test_bad_config_names_the_field(tmp_path: Path, text: str, field: str):
    path = tmp_path / "farm.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_config(path)
    assert field in str(info.value) and "farm.toml" in str(info.value)


def test_weekly_shifts_in_a_time_zone_become_utc_windows():
    operators = OperatorsConfig(
        timezone="Europe/Berlin",
        shifts=(
            ShiftConfig(days=("mon", "tue"), start="08:00", end="16:00", operators=2),
            ShiftConfig(days=("mon",), start="12:00", end="02:00", operators=1),  # past midnight
        ),
    )
    sunday = dt.datetime(2026, 11, 22, 20, tzinfo=dt.UTC)
    windows = shift_windows(operators, sunday, sunday + dt.timedelta(days=3))
    hour = lambda d, h: dt.datetime(2026, 11, d, h, tzinfo=dt.UTC)  # noqa: E731
    assert windows == [
        (hour(23, 7), hour(23, 11), 2),
        (hour(23, 11), hour(23, 15), 3),
        (hour(23, 15), hour(24, 1), 1),
        (hour(24, 7), hour(24, 15), 2),
    ]
    assert operators_at(operators, hour(23, 12)) == 3
    assert operators_at(operators, sunday) == 0
