"""Slicing and G-code analysis for the farm service, in a process pool.

The functions here run in worker processes (never on the event loop): they read the upload
from the content store, slice it (or analyse an uploaded G-code) for one printer model, and
write the G-code back to the store.  They return plain dicts so they cross process borders.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import tempfile
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from farm.service_printers import color_name
from farm.store import Store
from printers.profiles import load_material, load_printer, material_names

log = logging.getLogger(__name__)

MESH_SUFFIXES = {".stl": "stl", ".3mf": "3mf", ".obj": "obj"}
GCODE_SUFFIXES = {".gcode": "gcode", ".gco": "gcode", ".g": "gcode"}
PARENT_POLL_S = 1.0


class UploadError(Exception):
    """An upload that cannot become a job; carries its HTTP status (415 or 422)."""

    def __init__(self, message: str, http_status: int = 422):
        self.http_status = http_status
        super().__init__(message)


def source_of(filename: str) -> str:
    """The job source (stl, 3mf, obj, gcode) from a file name; UploadError 415 otherwise."""
    suffix = Path(filename).suffix.lower()
    source = MESH_SUFFIXES.get(suffix) or GCODE_SUFFIXES.get(suffix)
    if source is None:
        known = ", ".join(sorted({*MESH_SUFFIXES, *GCODE_SUFFIXES}))
        raise UploadError(
            f"file '{filename}': unknown file type '{suffix or '(none)'}' (send {known})", 415
        )
    return source


def make_pool(workers: int) -> Executor:
    """A process pool that does not fork the service's threads (spawn); its workers exit
    when the service dies, even by ``kill -9``."""
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    )


def _exit_with_parent(parent_pid: int) -> None:
    """In a worker: a thread that ends the process once its parent is gone."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_S)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _linked(store_root: str, sha: str, source: str, tmp: str) -> Path:
    """The blob under a name with the right suffix, for loaders that go by suffix."""
    link = Path(tmp) / f"model.{source}"
    link.symlink_to(Store(store_root).path(sha))
    return link


def check_mesh(store_root: str, sha: str, source: str, name: str) -> None:
    """Load the mesh once; UploadError 422 naming the file when it is broken."""
    from slicer.errors import MeshError
    from slicer.mesh import load_mesh

    with tempfile.TemporaryDirectory() as tmp:
        try:
            load_mesh(_linked(store_root, sha, source, tmp))
        except MeshError as exc:
            raise UploadError(f"file '{name}': {exc.problem}", 422) from None
        except Exception as exc:  # a loader's own error on garbage bytes
            raise UploadError(f"file '{name}': not a readable {source} mesh ({exc})", 422) from None


def slice_for_model(
    store_root: str,
    sha: str,
    source: str,
    printer_name: str,
    material: str,
    settings_lines: list[str],
) -> dict[str, Any]:
    """Slice an upload for one printer model; the G-code goes to the store.

    Returns ``{"gcode_sha", "duration_s", "filament_g", "layers", "bbox_mm"}`` or
    ``{"error": "..."}`` when this model cannot print it.
    """
    from slicer.api import slice_models
    from slicer.errors import MeshError, SettingsError, SliceError
    from slicer.settings import SliceSettings

    settings = SliceSettings.from_overrides(settings_lines) if settings_lines else None
    with tempfile.TemporaryDirectory() as tmp:
        path = _linked(store_root, sha, source, tmp)
        try:
            result = slice_models(
                [path],
                printer=load_printer(printer_name),
                material=load_material(material),
                settings=settings,
            )
        except (SliceError, MeshError, SettingsError) as exc:
            return {"error": f"{printer_name}: {exc}"}
    gcode_sha = Store(store_root).put_text(result.gcode)
    return {
        "gcode_sha": gcode_sha,
        "duration_s": float(result.estimated_time_s),
        "filament_g": float(result.filament_g),
        "layers": int(result.layers),
        "bbox_mm": _size_mm(result.bbox_mm),
    }


def _size_mm(bbox: object) -> list[float]:
    """Size x, y, z of a ((min x, y, z), (max x, y, z)) box (zeros when unknown)."""
    if not bbox:
        return [0.0, 0.0, 0.0]
    low, high = bbox  # type: ignore[misc]
    return [float(b) - float(a) for a, b in zip(low, high, strict=True)]


def analyse_gcode(store_root: str, sha: str, printer_name: str, material: str) -> dict[str, Any]:
    """Check an uploaded G-code against one printer model; same result shape as slicing."""
    from gcode.analyze import analyze
    from gcode.check import check_compatibility
    from gcode.errors import GcodeError

    printer, filament = load_printer(printer_name), load_material(material)
    try:
        analysis = analyze(Store(store_root).path(sha), printer=printer, material=filament)
    except GcodeError as exc:
        return {"error": f"{printer_name}: {exc}"}
    problems = check_compatibility(analysis, printer, filament)
    if problems:
        return {"error": f"{printer_name}: {'; '.join(problems)}"}
    return {
        "gcode_sha": sha,
        "duration_s": float(analysis.estimated_time_s),
        "filament_g": float(analysis.filament_g),
        "layers": int(analysis.layers),
        "bbox_mm": _size_mm(analysis.bbox_mm),
    }


# PrusaSlicer, SuperSlicer and OrcaSlicer state the filament in their config comments;
# several extruders give "PETG;PLA" (the first is the one a single-tool farm prints).
_STATED = {
    key: re.compile(rf"^;\s*{key}\s*=\s*([^;\r\n]*)", re.MULTILINE)
    for key in ("filament_type", "filament_colour")
}
HEAD_CHARS, TAIL_CHARS = 64_000, 256_000  # as gcode.metadata reads header and footer


def stated_filament(path: Path) -> tuple[str | None, str | None]:
    """The material and colour a G-code file states (``; filament_type = PETG``,
    ``; filament_colour = #FF0000``), each None when it does not or the value is unknown."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_CHARS)
        handle.seek(max(len(head), path.stat().st_size - TAIL_CHARS))
        text = (head + b"\n" + handle.read()).decode("utf-8", "replace")
    found = {key: pattern.search(text) for key, pattern in _STATED.items()}
    material = color = None
    if found["filament_type"]:
        stated = found["filament_type"].group(1).strip().upper()
        material = stated if stated in material_names() else None
    if found["filament_colour"]:
        color = color_name(found["filament_colour"].group(1))
    return material, color


def largest_thumbnail(store_root: str, sha: str) -> bytes | None:
    """The largest PNG thumbnail embedded in a G-code, if it has one."""
    from gcode.thumbnail import extract_thumbnails, largest_png

    best = largest_png(extract_thumbnails(Store(store_root).read_text(sha)))
    return best.data if best is not None else None
