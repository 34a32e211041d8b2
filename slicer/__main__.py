"""``python -m slicer MODEL... -o OUT.gcode [options]``: the slice command without the rest
of the ``slicefarm`` CLI (whose other subcommands import the scheduler and the database)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from slicer.cli import register


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m slicer")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["slice", *(sys.argv[1:] if argv is None else argv)])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        sys.stderr.write("slicefarm slice: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
