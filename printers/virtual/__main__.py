"""``python -m printers.virtual [--count N] [--speed X|instant] [--fault SPEC]``.

The same as ``slicefarm virtual-printer`` without importing the rest of slicefarm (used by
the benchmark to run printers in their own process).
"""

from __future__ import annotations

import argparse
import logging
import sys

from printers.cli import register, run_virtual


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m printers.virtual")
    subparsers = parser.add_subparsers(dest="command")
    register(subparsers)
    args = parser.parse_args(["virtual-printer", *sys.argv[1:]])
    logging.basicConfig(level=logging.WARNING)
    return run_virtual(args)


if __name__ == "__main__":
    sys.exit(main())
