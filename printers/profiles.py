"""Printer and material profiles: TOML files validated by pydantic.

A profile is what a user writes, so every model forbids unknown keys and every
number carries its unit in its name.  Errors name the file and the field.

Profiles are looked up by name in ``samples/printers`` and ``samples/materials``
(shipped with the package) or read from an explicit path.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from samples import sample_path

PRINTERS_DIR = sample_path("printers")
MATERIALS_DIR = sample_path("materials")
DEFAULT_PRINTER = "ender3"
DEFAULT_MATERIAL = "PLA"

PositiveMm = Annotated[float, Field(gt=0)]
PositiveRate = Annotated[float, Field(gt=0)]
TempC = Annotated[float, Field(ge=0, le=500)]
Percent = Annotated[float, Field(ge=0, le=100)]


class ProfileError(Exception):
    """A profile file that cannot be read or does not validate.

    The message names the file and, where known, the field.
    """

    def __init__(self, path: Path | str, message: str, field: str | None = None):
        self.path = Path(path)
        self.field = field
        where = f"{path}: field '{field}'" if field else str(path)
        super().__init__(f"{where}: {message}")


class Firmware(StrEnum):
    MARLIN = "marlin"
    KLIPPER = "klipper"
    REPRAPFIRMWARE = "reprapfirmware"


class Kinematics(StrEnum):
    CARTESIAN = "cartesian"
    COREXY = "corexy"


class ExtruderKind(StrEnum):
    BOWDEN = "bowden"
    DIRECT = "direct"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MachineLimits(_Strict):
    """Firmware motion limits, as Marlin's M201/M203/M204/M205 set them."""

    max_feedrate_x_mm_s: PositiveRate = 500
    max_feedrate_y_mm_s: PositiveRate = 500
    max_feedrate_z_mm_s: PositiveRate = 5
    max_feedrate_e_mm_s: PositiveRate = 25
    max_accel_x_mm_s2: PositiveRate = 500
    max_accel_y_mm_s2: PositiveRate = 500
    max_accel_z_mm_s2: PositiveRate = 100
    max_accel_e_mm_s2: PositiveRate = 5000
    accel_print_mm_s2: PositiveRate = 500
    accel_retract_mm_s2: PositiveRate = 500
    accel_travel_mm_s2: PositiveRate = 500
    jerk_x_mm_s: Annotated[float, Field(ge=0)] = 10
    jerk_y_mm_s: Annotated[float, Field(ge=0)] = 10
    jerk_z_mm_s: Annotated[float, Field(ge=0)] = 0.3
    jerk_e_mm_s: Annotated[float, Field(ge=0)] = 5
    junction_deviation_mm: Annotated[float, Field(gt=0, le=1)] | None = None
    minimum_feedrate_mm_s: Annotated[float, Field(ge=0)] = 0


class GcodeTemplates(_Strict):
    """Start, end, pause and cancel scripts.

    Placeholders in braces are filled by the G-code writer, e.g. ``{nozzle_temp_c}``,
    ``{bed_temp_c}``, ``{first_layer_nozzle_temp_c}``, ``{first_layer_bed_temp_c}``,
    ``{bed_x_mm}``, ``{bed_y_mm}``, ``{max_z_mm}``.
    """

    start: str
    end: str
    pause: str = "G91\nG1 Z5 F600\nG90\nG1 X0 Y{bed_y_mm} F6000"
    cancel: str = "M104 S0\nM140 S0\nM107\nG91\nG1 Z10 F600\nG90\nM84"


class PrinterProfile(_Strict):
    """One printer model: geometry, hardware, limits and scripts."""

    name: str = Field(min_length=1)
    model: str = Field(min_length=1, description="human-readable model name")
    firmware: Firmware = Firmware.MARLIN
    kinematics: Kinematics = Kinematics.CARTESIAN
    extruder: ExtruderKind = ExtruderKind.BOWDEN
    enclosed: bool = False
    heated_bed: bool = True
    bed_x_mm: PositiveMm
    bed_y_mm: PositiveMm
    max_z_mm: PositiveMm
    nozzle_diameter_mm: Annotated[float, Field(gt=0, le=2)] = 0.4
    filament_diameter_mm: Annotated[float, Field(gt=0, le=3.5)] = 1.75
    max_hotend_temp_c: TempC = 260
    max_bed_temp_c: TempC = 100
    baud_rate: Annotated[int, Field(gt=0)] = 115200
    materials: tuple[str, ...] = Field(min_length=1, description="materials it may print")
    limits: MachineLimits = MachineLimits()
    gcode: GcodeTemplates

    @model_validator(mode="after")
    def _bed_temperature_needs_bed(self) -> PrinterProfile:
        if not self.heated_bed and self.max_bed_temp_c > 0:
            raise ValueError("max_bed_temp_c must be 0 when heated_bed is false")
        return self


class MaterialProfile(_Strict):
    """One filament material: temperatures, cooling, retraction, density, cost."""

    name: str = Field(min_length=1)
    nozzle_temp_c: TempC
    first_layer_nozzle_temp_c: TempC
    min_nozzle_temp_c: TempC
    max_nozzle_temp_c: TempC
    bed_temp_c: TempC
    first_layer_bed_temp_c: TempC
    fan_min_percent: Percent
    fan_max_percent: Percent
    bridge_fan_percent: Percent
    disable_fan_first_layers: Annotated[int, Field(ge=0)] = 1
    retract_length_bowden_mm: Annotated[float, Field(ge=0, le=20)]
    retract_length_direct_mm: Annotated[float, Field(ge=0, le=20)]
    retract_speed_mm_s: PositiveRate
    max_volumetric_speed_mm3_s: PositiveRate
    density_g_cm3: Annotated[float, Field(gt=0, le=5)]
    cost_per_kg: Annotated[float, Field(ge=0)]
    needs_enclosure: bool = False

    @model_validator(mode="after")
    def _temperatures_ordered(self) -> MaterialProfile:
        for field in ("nozzle_temp_c", "first_layer_nozzle_temp_c"):
            value = getattr(self, field)
            if not self.min_nozzle_temp_c <= value <= self.max_nozzle_temp_c:
                raise ValueError(
                    f"{field}={value} lies outside min_nozzle_temp_c..max_nozzle_temp_c "
                    f"({self.min_nozzle_temp_c}..{self.max_nozzle_temp_c})"
                )
        if self.fan_min_percent > self.fan_max_percent:
            raise ValueError("fan_min_percent is above fan_max_percent")
        return self

    def retract_length_mm(self, extruder: ExtruderKind) -> float:
        """Retraction length for this material on the given extruder kind."""
        if extruder is ExtruderKind.DIRECT:
            return self.retract_length_direct_mm
        return self.retract_length_bowden_mm


M = TypeVar("M", bound=BaseModel)


def format_validation_error(path: Path | str, exc: ValidationError) -> ProfileError:
    """Turn pydantic's first error into a ProfileError naming file and dotted field."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key (not a setting of this file)"
    return ProfileError(path, message, field)


def load_toml_model(path: Path | str, model: type[M]) -> M:
    """Read a TOML file and validate it as ``model``; errors name file and field."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(path, f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(path, f"not valid TOML: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(path, exc) from None


def _resolve(name_or_path: str | Path, folder: Path, kind: str) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return candidate
    for path in sorted(folder.glob("*.toml")):
        if path.stem.lower() == str(name_or_path).lower():
            return path
    known = ", ".join(sorted(p.stem for p in folder.glob("*.toml")))
    raise ProfileError(str(name_or_path), f"no such {kind} profile (known: {known})")


def load_printer(name_or_path: str | Path = DEFAULT_PRINTER) -> PrinterProfile:
    """Load a printer profile by sample name (``ender3``) or TOML path."""
    return load_toml_model(_resolve(name_or_path, PRINTERS_DIR, "printer"), PrinterProfile)


def load_material(name_or_path: str | Path = DEFAULT_MATERIAL) -> MaterialProfile:
    """Load a material profile by sample name (``PLA``) or TOML path."""
    return load_toml_model(_resolve(name_or_path, MATERIALS_DIR, "material"), MaterialProfile)


def printer_names() -> list[str]:
    """Names of the printer profiles shipped in samples/printers."""
    return sorted(p.stem for p in PRINTERS_DIR.glob("*.toml"))


def material_names() -> list[str]:
    """Names of the material profiles shipped in samples/materials."""
    return sorted(p.stem for p in MATERIALS_DIR.glob("*.toml"))
