"""M73 insertion."""

from __future__ import annotations

import re

from gcode.parse import parse
from gcode.progress import add_m73, m73_line
from printers.profiles import load_printer

LIMITS = load_printer("ender3").limits
M73 = re.compile(r"^M73 P(\d+) R(\d+)$", re.MULTILINE)


def test_m73_line_format():
    assert m73_line(0, 600) == "M73 P0 R10"
    assert m73_line(300, 600) == "M73 P50 R5"
    assert m73_line(600, 600) == "M73 P100 R0"
    assert m73_line(0.1 + 0.2, 0.1 + 0.2) == "M73 P100 R0"


def test_cura_file_gets_progress_at_every_layer(cura_text):
    out, est = add_m73(cura_text, LIMITS)
    found = [(int(p), int(r)) for p, r in M73.findall(out)]
    layers = len(re.findall(r"^;LAYER:\d+", cura_text, re.MULTILINE))
    assert len(found) >= layers
    assert found[0] == (0, round(est.total_s / 60))
    assert found[-1] == (100, 0)
    percents = [p for p, _ in found]
    assert percents == sorted(percents)
    # nothing but the M73 lines was added
    stripped = "\n".join(line for line in out.splitlines() if not line.startswith("M73"))
    assert stripped == "\n".join(cura_text.splitlines())
    assert parse(out).issues == ()


def test_file_with_m73_is_left_alone_unless_asked(prusa_text):
    out, _ = add_m73(prusa_text, LIMITS)
    assert out == prusa_text
    replaced, _ = add_m73(prusa_text, LIMITS, replace_existing=True)
    layers = prusa_text.count(";LAYER_CHANGE")
    assert layers <= len(M73.findall(replaced)) <= layers + 2


def test_text_without_commands_is_unchanged():
    out, est = add_m73("; nothing here\n", LIMITS)
    assert out == "; nothing here\n"
    assert est.total_s == 0


def test_file_without_markers_gets_progress_at_each_new_height():
    layers = "".join(
        f"G1 Z{z / 10:.1f} F600\nG1 X20 Y0 E1 F1200\nG1 X20 Y20 E2\nG1 X0 Y0\n" for z in (2, 4, 6)
    )
    text = "G28\nG92 E0\nM83\n" + layers
    out, _ = add_m73(text, LIMITS)
    lines = out.splitlines()
    m73 = [i for i, line in enumerate(lines) if line.startswith("M73")]
    assert len(m73) == 4  # start, layers 2 and 3, end (layer 1 starts at 0 %)
    assert lines[m73[0] + 1] == "G28" and lines[-1] == "M73 P100 R0"
    for i in m73[1:-1]:
        assert lines[i + 1].startswith("G1 X20 Y0 E1")


def test_simplify3d_markers():
    text = "G28\n; layer 1, Z = 0.2\nG1 Z0.2 X5 E1 F600\n; layer 2, Z = 0.4\nG1 Z0.4 X0 E2\n"
    lines = add_m73(text, LIMITS)[0].splitlines()
    assert lines[lines.index("; layer 2, Z = 0.4") + 1] == "M73 P50 R0"


def test_line_ends_are_kept():
    crlf = "G28\r\n;LAYER_CHANGE\r\nG1 X10 E1 F600\r\n;LAYER_CHANGE\r\nG1 Z0.4 X0 E2\r\n"
    out, _ = add_m73(crlf, LIMITS)
    assert "\n" not in out.replace("\r\n", "")
    assert out.startswith("M73 P0 R0\r\nG28\r\n")
    assert out.endswith("G1 Z0.4 X0 E2\r\nM73 P100 R0\r\n")
    bare = "G28\nG1 X10 E1 F600"  # no line end after the last command
    out, _ = add_m73(bare, LIMITS)
    assert out == "M73 P0 R0\nG28\nG1 X10 E1 F600\nM73 P100 R0\n"
    # a form feed inside a comment is not a line end for the parser
    odd = "G28\n; a \x0c b\nG1 X10 E1 F600\n"
    assert add_m73(odd, LIMITS)[0] == "M73 P0 R0\nG28\n; a \x0c b\nG1 X10 E1 F600\nM73 P100 R0\n"
