"""Printer and material profiles: the shipped ones load, bad ones name file and field."""

from __future__ import annotations

import pytest

from api.cli import main
from printers.profiles import (
    MATERIALS_DIR,
    PRINTERS_DIR,
    ExtruderKind,
    MaterialProfile,
    PrinterProfile,
    ProfileError,
    load_material,
    load_printer,
    load_toml_model,
    material_names,
    printer_names,
)


def test_shipped_printers_load():
    names = printer_names()
    assert {"ender3", "prusa_mk3s"} <= set(names)
    assert len(names) >= 3
    for name in names:
        profile = load_printer(name)
        assert profile.name == name
        assert profile.bed_x_mm > 0 and profile.max_z_mm > 0


def test_default_printer_is_ender3():
    ender = load_printer()
    assert (ender.bed_x_mm, ender.bed_y_mm, ender.max_z_mm) == (220, 220, 250)
    assert ender.extruder is ExtruderKind.BOWDEN
    assert ender.nozzle_diameter_mm == 0.4 and ender.filament_diameter_mm == 1.75


def test_a_large_corexy_is_shipped():
    big = [load_printer(n) for n in printer_names()]
    assert any(p.kinematics == "corexy" and p.bed_x_mm >= 300 for p in big)


def test_shipped_materials_load():
    assert {"PLA", "PETG", "ABS", "TPU"} <= set(material_names())
    pla = load_material("pla")
    assert pla.nozzle_temp_c == 210 and pla.density_g_cm3 == pytest.approx(1.24)
    assert pla.retract_length_mm(ExtruderKind.BOWDEN) == 5


def _write(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


ENDER3_TEXT = (PRINTERS_DIR / "ender3.toml").read_text()

BAD_PRINTERS = [
    ("bed_x_mm = 220", "bed_x_mm = -5", "bed_x_mm", "greater than 0"),
    ("bed_x_mm = 220", "bed_x_mm = 220\nbed_speed = 3", "bed_speed", "unknown key"),
    ("bed_x_mm = 220", "bed_x_mm = 'wide'", "bed_x_mm", "valid number"),
    ("jerk_x_mm_s = 10", "jerk_x_mm_s = -1", "limits.jerk_x_mm_s", "greater than or equal"),
    ('model = "Creality Ender-3"\n', "", "model", "Field required"),
]


@pytest.mark.parametrize(("old", "new", "field", "words"), BAD_PRINTERS)
def test_bad_printer_names_file_and_field(tmp_path, old, new, field, words):
    assert old in ENDER3_TEXT
    path = _write(tmp_path, ENDER3_TEXT.replace(old, new, 1))
    with pytest.raises(ProfileError) as err:
        load_toml_model(path, PrinterProfile)
    message = str(err.value)
    assert str(path) in message
    assert f"'{field}'" in message
    assert words in message


def test_material_temperature_outside_its_range(tmp_path):
    text = (MATERIALS_DIR / "PLA.toml").read_text()
    path = _write(tmp_path, text.replace("nozzle_temp_c = 210", "nozzle_temp_c = 300", 1))
    with pytest.raises(ProfileError, match="nozzle_temp_c=300"):
        load_toml_model(path, MaterialProfile)


def test_not_toml(tmp_path):
    path = _write(tmp_path, "this is = = not toml")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_toml_model(path, MaterialProfile)


def test_unknown_profile_name_lists_known():
    with pytest.raises(ProfileError, match=r"known: .*ender3"):
        load_printer("no_such_printer")


def test_cli_check_exit_code_2_names_field(tmp_path, capsys):
    path = _write(tmp_path, ENDER3_TEXT.replace("bed_x_mm = 220", "bed_x_mm = 0"))
    assert main(["profiles", "--check", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "bed_x_mm" in err


def test_cli_lists_profiles(capsys):
    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    assert "ender3" in out and "PETG" in out
