"""Slice settings: one frozen pydantic model, every field a ``--set`` key with its unit in its name.

Fields left ``None`` are taken from the material or printer profile when the slice starts
(``resolve``), except the per-feature overrides (``bridge_fan_percent``,
``overhang_fan_percent``, ``overhang_wall_speed_mm_s``, ``small_perimeter_speed_mm_s``), where
``None`` means no override;
the resolved settings are what the G-code footer records.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from printers.profiles import MaterialProfile, PrinterProfile
from slicer.errors import SettingsError


class InfillPattern(StrEnum):
    LINES = "lines"
    GRID = "grid"
    TRIANGLES = "triangles"
    GYROID = "gyroid"


class SupportMode(StrEnum):
    OFF = "off"
    AUTO = "auto"
    BUILDPLATE_ONLY = "buildplate_only"


class SupportPattern(StrEnum):
    LINES = "lines"
    GRID = "grid"


class SeamPosition(StrEnum):
    REAR = "rear"
    ALIGNED = "aligned"
    NEAREST = "nearest"
    RANDOM = "random"


Mm = Annotated[float, Field(gt=0, le=10)]
Speed = Annotated[float, Field(gt=0, le=1000)]
Count = Annotated[int, Field(ge=0, le=100)]
# Values that leave a profile-filled setting to the profile.
_PROFILE_WORDS = ("", "none", "auto")
OptTemp = Annotated[float, Field(ge=0, le=500)] | None


class SliceSettings(BaseModel):
    """Everything that shapes the toolpaths; defaults match the anchor slicers' settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    layer_height_mm: Annotated[float, Field(ge=0.04, le=1.0)] = 0.2
    first_layer_height_mm: Annotated[float, Field(ge=0.04, le=1.0)] = 0.2
    adaptive_layer_height: bool = False
    adaptive_quality: Annotated[float, Field(ge=0, le=1)] = 0.5
    adaptive_min_layer_height_mm: Annotated[float, Field(ge=0.04, le=1.0)] = 0.08
    line_width_mm: Annotated[float, Field(ge=0.1, le=2.0)] = 0.45
    perimeters: Annotated[int, Field(ge=0, le=20)] = 2
    top_layers: Count = 3
    bottom_layers: Count = 3
    infill_density: Annotated[float, Field(ge=0, le=1)] = 0.2
    infill_pattern: InfillPattern = InfillPattern.LINES
    infill_overlap_percent: Annotated[float, Field(ge=0, le=50)] = 15
    skirt_loops: Annotated[int, Field(ge=0, le=20)] = 1
    skirt_distance_mm: Annotated[float, Field(ge=0, le=50)] = 6
    brim_width_mm: Annotated[float, Field(ge=0, le=50)] = 0
    retract_length_mm: Annotated[float, Field(ge=0, le=20)] | None = None
    retract_speed_mm_s: Annotated[float, Field(gt=0, le=200)] | None = None
    retract_min_travel_mm: Annotated[float, Field(ge=0, le=100)] = 2
    combing: bool = False
    z_hop_mm: Annotated[float, Field(ge=0, le=10)] = 0
    outer_wall_speed_mm_s: Speed = 25
    wall_speed_mm_s: Speed = 50
    infill_speed_mm_s: Speed = 50
    solid_infill_speed_mm_s: Speed = 50
    top_infill_speed_mm_s: Speed = 50
    bridge_speed_mm_s: Speed = 50
    overhang_wall_speed_mm_s: Speed | None = None
    small_perimeter_speed_mm_s: Speed | None = None  # loops up to 2π·6.5 mm, as PrusaSlicer
    first_layer_speed_mm_s: Speed = 20
    travel_speed_mm_s: Speed = 150
    travel_speed_z_mm_s: Speed = 5
    nozzle_temp_c: OptTemp = None
    first_layer_nozzle_temp_c: OptTemp = None
    bed_temp_c: OptTemp = None
    first_layer_bed_temp_c: OptTemp = None
    fan_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    fan_off_layers: Annotated[int, Field(ge=0, le=1000)] | None = None
    bridge_fan_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    overhang_fan_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    min_layer_time_s: Annotated[float, Field(ge=0, le=600)] = 5
    min_print_speed_mm_s: Speed = 10
    max_volumetric_speed_mm3_s: Annotated[float, Field(gt=0, le=100)] | None = None
    seam: SeamPosition = SeamPosition.REAR
    ironing: bool = False
    ironing_spacing_mm: Annotated[float, Field(ge=0.05, le=1)] = 0.1
    ironing_flow_percent: Annotated[float, Field(gt=0, le=50)] = 15
    ironing_speed_mm_s: Speed = 15
    raft_layers: Annotated[int, Field(ge=0, le=10)] = 0
    raft_margin_mm: Annotated[float, Field(ge=0, le=20)] = 3
    raft_z_gap_mm: Annotated[float, Field(ge=0, le=1)] = 0.1
    support: SupportMode = SupportMode.OFF
    support_angle_deg: Annotated[float, Field(ge=0, le=90)] = 50
    support_z_gap_mm: Annotated[float, Field(ge=0, le=2)] = 0.2
    support_xy_gap_mm: Annotated[float, Field(ge=0, le=10)] = 0.6
    support_pattern: SupportPattern = SupportPattern.LINES
    support_spacing_mm: Annotated[float, Field(ge=0.5, le=20)] = 2.5
    support_interface_layers: Annotated[int, Field(ge=0, le=20)] = 3
    support_bottom_interface_layers: Annotated[int, Field(ge=0, le=20)] = 2
    support_offset_mm: Annotated[float, Field(ge=0, le=5)] = 1.0
    support_closing_radius_mm: Annotated[float, Field(ge=0, le=10)] = 2.0
    support_walls: Annotated[int, Field(ge=0, le=5)] = 1
    support_interface_spacing_mm: Annotated[float, Field(ge=0.2, le=10)] = 0.65
    support_speed_mm_s: Speed = 50
    support_bridges: bool = False
    relative_e: bool = True
    arc_fitting: bool = False
    arrange_gap_mm: Annotated[float, Field(ge=0, le=100)] = 5

    @model_validator(mode="after")
    def _heights_fit_width(self) -> SliceSettings:
        for key in ("layer_height_mm", "first_layer_height_mm"):
            if getattr(self, key) > self.line_width_mm:
                raise ValueError(f"{key} must not exceed line_width_mm")
        return self

    @classmethod
    def from_overrides(
        cls, overrides: Iterable[str], base: SliceSettings | None = None
    ) -> SliceSettings:
        """Apply ``["key=value", ...]`` to ``base`` (defaults); errors name the key."""
        values = dict(base.model_dump()) if base else {}
        for item in overrides:
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise SettingsError(item, "expected KEY=VALUE")
            if key not in cls.model_fields:
                raise SettingsError(key, "unknown setting")
            value = value.strip()
            from_profile = cls.model_fields[key].default is None
            values[key] = None if from_profile and value.lower() in _PROFILE_WORDS else value
        return cls.validated(values)

    @classmethod
    def validated(cls, values: dict[str, object]) -> SliceSettings:
        """Validate a mapping, turning pydantic's first error into a SettingsError."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            if first["type"] == "extra_forbidden":
                raise SettingsError(key, "unknown setting") from None
            if not key:  # a rule across settings: its message starts with the key
                message = str(first["msg"]).removeprefix("Value error, ")
                key, _, rest = message.partition(" ")
                raise SettingsError(key, rest) from None
            raise SettingsError(key, f"{first['msg']} (got {first.get('input')!r})") from None

    def resolve(self, printer: PrinterProfile, material: MaterialProfile) -> SliceSettings:
        """Fill every ``None`` field from the material/printer profiles; returns a new model."""
        fill = {
            "retract_length_mm": material.retract_length_mm(printer.extruder),
            "retract_speed_mm_s": material.retract_speed_mm_s,
            "nozzle_temp_c": material.nozzle_temp_c,
            "first_layer_nozzle_temp_c": material.first_layer_nozzle_temp_c,
            "bed_temp_c": material.bed_temp_c if printer.heated_bed else 0,
            "first_layer_bed_temp_c": (
                material.first_layer_bed_temp_c if printer.heated_bed else 0
            ),
            "fan_percent": material.fan_max_percent,
            "fan_off_layers": material.disable_fan_first_layers,
            "max_volumetric_speed_mm3_s": material.max_volumetric_speed_mm3_s,
        }
        values = self.model_dump()
        for key, value in fill.items():
            if values[key] is None:
                values[key] = value
        limits = {
            "nozzle_temp_c": ("max_hotend_temp_c", printer.max_hotend_temp_c),
            "first_layer_nozzle_temp_c": ("max_hotend_temp_c", printer.max_hotend_temp_c),
            "bed_temp_c": ("max_bed_temp_c", printer.max_bed_temp_c),
            "first_layer_bed_temp_c": ("max_bed_temp_c", printer.max_bed_temp_c),
        }
        for key, (limit_name, limit) in limits.items():
            if values[key] > limit:
                raise SettingsError(
                    key, f"{values[key]:g} is above the printer's {limit_name} ({limit:g})"
                )
        return self.validated(values)

    def as_comment_lines(self) -> list[str]:
        """``; key = value`` lines, sorted by key, for the G-code footer."""
        out = []
        for key, value in sorted(self.model_dump(mode="json").items()):
            out.append(f"; {key} = {value}")
        return out
