"""The slicefarm command: every subcommand is registered where the table says, and running
one command imports only its own package's command module."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from api.cli import COMMANDS, build_parser


def _registered(module: str) -> set[str]:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(module).register(sub)
    return set(sub.choices)


def test_command_table_matches_what_modules_register():
    for module in set(COMMANDS.values()):
        expected = {name for name, owner in COMMANDS.items() if owner == module}
        assert _registered(module) == expected, module


def test_help_lists_every_command():
    choices = build_parser(["--help"])._subparsers._group_actions[0].choices
    assert list(choices) == list(COMMANDS)


def test_slice_does_not_import_scheduler_or_database():
    code = (
        "import sys; from api.cli import build_parser; "
        "build_parser(['slice', 'x.stl', '-o', 'y.gcode']); "
        "print(sorted(m for m in ('ortools', 'sqlalchemy', 'fastapi') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_command_is_exit_2(capsys):
    from api.cli import main

    try:
        main(["no-such-command"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "invalid choice" in capsys.readouterr().err
