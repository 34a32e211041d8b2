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

# Packages whose cli module contributes subcommands, in help order.
COMMAND_MODULES: tuple[str, ...] = (
    "printers.cli",
    "api.serve_cli",
    "slicer.cli",
    "gcode.cli",
    "farm.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every package's subcommands."""
    parser = argparse.ArgumentParser(
        prog="slicefarm",
        description="A 3D-print farm in one program: slice, schedule, print.",
    )
    parser.add_argument("--version", action="version", version=f"slicefarm {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
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
