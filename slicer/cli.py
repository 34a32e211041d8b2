"""``slicefarm slice``: models -> G-code file, with a progress bar on a terminal."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "slice",
        help="slice STL/OBJ/3MF models into G-code",
        description="Slice one or more models onto one plate and write G-code. Every setting "
        "is a --set KEY=VALUE (units in the key names, e.g. layer_height_mm=0.2).",
    )
    parser.add_argument("models", nargs="+", metavar="MODEL", help="STL, OBJ or 3MF files")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.gcode")
    parser.add_argument("--printer", default="ender3", metavar="NAME|FILE")
    parser.add_argument("--material", default="PLA", metavar="NAME|FILE")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--copies", type=int, default=1, metavar="N")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    for kind, what in (("blocker", "no support"), ("enforcer", "support, even with support=off")):
        parser.add_argument(
            f"--support-{kind}",
            dest=f"support_{kind}s",
            action="append",
            default=[],
            metavar="FILE",
            help=f"a mesh (in the first model's coordinates): overhangs inside it get {what}",
        )
    parser.set_defaults(func=run_slice)


class ProgressBar:
    """``layers done/total`` on stderr; appears only once a slice has run for a second."""

    def __init__(self, enabled: bool, delay_s: float = 1.0):
        self.enabled = enabled
        self.start = time.monotonic()
        self.delay_s = delay_s
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.start < self.delay_s:
            return
        width = 30
        filled = width * done // max(total, 1)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\rslicing [{bar}] {done}/{total} layers")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def run_slice(args: argparse.Namespace) -> int:
    from gcode.writer import format_duration
    from printers.profiles import ProfileError, load_material, load_printer
    from slicer.api import slice_models
    from slicer.errors import SliceError
    from slicer.settings import SliceSettings

    bar = ProgressBar(enabled=not args.quiet and sys.stderr.isatty())
    try:
        printer = load_printer(args.printer)
        material = load_material(args.material)
        settings = SliceSettings.from_overrides(args.overrides)
        result = slice_models(
            args.models,
            printer=printer,
            material=material,
            settings=settings,
            copies=args.copies,
            progress=bar,
            support_blockers=args.support_blockers,
            support_enforcers=args.support_enforcers,
        )
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(result.gcode, encoding="utf-8")
    except (SliceError, ProfileError) as exc:
        bar.close()
        print(f"slicefarm slice: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        bar.close()
        print(f"slicefarm slice: {args.output}: cannot write ({exc.strerror})", file=sys.stderr)
        return 2
    bar.close()
    if not args.quiet:
        print(
            f"wrote {out}: {result.layers} layers, "
            f"{format_duration(result.estimated_time_s)}, "
            f"{result.filament_mm / 1000:.2f} m / {result.filament_g:.1f} g filament"
        )
    return 0
