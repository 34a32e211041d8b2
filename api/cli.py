"""The ``slicefarm`` command: a thin dispatcher over the packages' own subcommands.

Each package that offers commands has a ``cli`` module with
``register(subparsers)``; that function adds its subparsers and sets
``func=`` on each to a callable ``(args) -> int`` returning the exit code.
Exit codes: 0 success, 1 a runtime failure (printer fault, ...), 2 bad input,
130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from api import __version__

# Each subcommand and the package cli module that registers it, in help order. Only the
# module of the command being run is imported, so `slicefarm slice` does not pay for the
# scheduler's or the service's imports; `--help` and unknown commands import them all.
COMMANDS: dict[str, str] = {
    "profiles": "printers.cli",
    "ports": "printers.cli",
    "send": "printers.cli",
    "virtual-printer": "printers.cli",
    "serve": "api.serve_cli",
    "keys": "api.serve_cli",
    "slice": "slicer.cli",
    "analyze": "gcode.cli",
    "schedule": "farm.cli",
}


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line, if any (the first non-option word)."""
    for word in argv:
        if not word.startswith("-"):
            return word
        if word in ("-h", "--help", "--version"):
            return None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``argv``, only the chosen command's module is imported."""
    parser = argparse.ArgumentParser(
        prog="slicefarm",
        description="A 3D-print farm in one program: slice, schedule, print.",
    )
    parser.add_argument("--version", action="version", version=f"slicefarm {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _chosen_command(argv if argv is not None else [])
    every_module = list(dict.fromkeys(COMMANDS.values()))
    modules = [COMMANDS[chosen]] if chosen in COMMANDS else every_module
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("slicefarm: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
