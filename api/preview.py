"""An SVG picture of a part from its mesh: the top view outline (when there is no thumbnail)."""

from __future__ import annotations

import functools
import logging
from html import escape
from pathlib import Path

log = logging.getLogger(__name__)
SIZE_PX = 200


@functools.lru_cache(maxsize=256)
def svg_preview(path: Path | None, name: str, source: str = "stl") -> str:
    """An SVG of the mesh's top-view silhouette (a labelled box when it cannot be drawn)."""
    body = ""
    if path is not None:
        try:
            body = _silhouette(path, source)
        except Exception:
            log.warning("no preview for %s", name, exc_info=True)
    if not body:
        body = '<rect x="20" y="20" width="160" height="160" fill="#ddd" stroke="#888"/>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE_PX} {SIZE_PX}" '
        f'width="{SIZE_PX}" height="{SIZE_PX}"><title>{escape(name)}</title>{body}</svg>'
    )


def _silhouette(path: Path, source: str) -> str:
    import numpy as np
    import shapely
    import trimesh

    mesh = trimesh.load(path, file_type=source, force="mesh")
    triangles = mesh.vertices[mesh.faces][:, :, :2]
    polygons = shapely.polygons(triangles)
    outline = shapely.union_all(polygons[shapely.area(polygons) > 1e-9], grid_size=0.01)
    minx, miny, maxx, maxy = outline.bounds
    scale = (SIZE_PX - 20) / max(maxx - minx, maxy - miny, 1e-6)
    paths = []
    geoms = getattr(outline, "geoms", [outline])
    for poly in geoms:
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            px = 10 + (xy[:, 0] - minx) * scale
            py = SIZE_PX - 10 - (xy[:, 1] - miny) * scale
            d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py, strict=True)) + "Z"
            paths.append(d)
    return f'<path d="{" ".join(paths)}" fill="#4a90d9" fill-rule="evenodd" stroke="#234"/>'
