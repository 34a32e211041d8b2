"""SliceSettings: defaults, --set parsing, validation errors naming the key, resolution."""

from __future__ import annotations

import pytest

from printers.profiles import load_material, load_printer
from slicer.errors import SettingsError
from slicer.settings import InfillPattern, SliceSettings


def test_defaults_are_the_anchor_settings() -> None:
    s = SliceSettings()
    assert (s.layer_height_mm, s.first_layer_height_mm, s.line_width_mm) == (0.2, 0.2, 0.45)
    assert (s.perimeters, s.top_layers, s.bottom_layers) == (2, 3, 3)
    assert (s.infill_density, s.infill_pattern) == (0.2, InfillPattern.LINES)
    assert (s.skirt_loops, s.skirt_distance_mm, s.brim_width_mm) == (1, 6, 0)
    assert (s.outer_wall_speed_mm_s, s.wall_speed_mm_s, s.infill_speed_mm_s) == (25, 50, 50)
    assert (s.first_layer_speed_mm_s, s.travel_speed_mm_s, s.min_layer_time_s) == (20, 150, 5)
    assert s.relative_e and s.z_hop_mm == 0 and s.retract_min_travel_mm == 2


def test_overrides_parse_typed_values() -> None:
    s = SliceSettings.from_overrides(
        ["layer_height_mm=0.3", "infill_pattern=gyroid", "relative_e=false", "perimeters=3"]
    )
    assert s.layer_height_mm == 0.3 and s.infill_pattern is InfillPattern.GYROID
    assert s.relative_e is False and s.perimeters == 3


@pytest.mark.parametrize(
    ("item", "key"),
    [
        ("no_such_key=1", "no_such_key"),
        ("layer_height_mm=5", "layer_height_mm"),
        ("infill_density=1.5", "infill_density"),
        ("infill_pattern=honeycomb", "infill_pattern"),
        ("perimeters=two", "perimeters"),
        ("layer_height_mm", "layer_height_mm"),
        ("layer_height_mm=0.5", "layer_height_mm"),  # a rule across settings (> line width)
    ],
)
def test_bad_override_names_the_key(item: str, key: str) -> None:
    with pytest.raises(SettingsError) as err:
        SliceSettings.from_overrides([item])
    assert key in str(err.value)
    assert "\n" not in str(err.value)


def test_settings_are_frozen_and_forbid_unknown_fields() -> None:
    s = SliceSettings()
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error type
        s.layer_height_mm = 0.3  # type: ignore[misc]
    with pytest.raises(SettingsError):
        SliceSettings.validated({"speed": 3})


def test_resolve_fills_from_profiles() -> None:
    printer, material = load_printer("ender3"), load_material("PLA")
    s = SliceSettings().resolve(printer, material)
    assert s.retract_length_mm == 5 and s.retract_speed_mm_s == 40
    assert s.nozzle_temp_c == 210 and s.bed_temp_c == 60 and s.fan_off_layers == 1
    direct = SliceSettings().resolve(load_printer("prusa_mk3s"), material)
    assert direct.retract_length_mm == material.retract_length_direct_mm
    kept = SliceSettings.from_overrides(["nozzle_temp_c=215"]).resolve(printer, material)
    assert kept.nozzle_temp_c == 215


def test_comment_lines_cover_every_field() -> None:
    lines = SliceSettings().as_comment_lines()
    assert len(lines) == len(SliceSettings.model_fields)
    assert "; layer_height_mm = 0.2" in lines


def test_errors_survive_pickling() -> None:
    import pickle

    from slicer.errors import MeshError, PlateError

    for err in (SettingsError("k", "bad"), MeshError("a.stl", "empty file"), PlateError("full")):
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is type(err) and str(again) == str(err)


def test_temperatures_must_suit_the_printer() -> None:
    s = SliceSettings.from_overrides(["nozzle_temp_c=300"])
    with pytest.raises(SettingsError, match=r"nozzle_temp_c.*max_hotend_temp_c"):
        s.resolve(load_printer("ender3"), load_material("PLA"))
