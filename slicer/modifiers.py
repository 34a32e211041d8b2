"""Support blockers and enforcers: extra meshes that say where the part's overhangs must not,
or must, be supported (PrusaSlicer's modifiers of those names).

They are given in the first model's own coordinates and move with it onto the bed.  An
overhang inside a blocker gets no support, whatever its angle; every overhang inside an
enforcer is supported, however shallow, even with support=off.  Both act on the overhangs
that support columns start from, so a blocked overhang's column disappears all the way down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from slicer.mesh import Mesh
from slicer.settings import SliceSettings, SupportMode
from slicer.slicing import EMPTY, slice_mesh
from slicer.support import overhangs


@dataclass(frozen=True)
class SupportModifiers:
    """Blocker and enforcer volumes, each merged into one mesh (None: none given)."""

    blockers: Mesh | None = None
    enforcers: Mesh | None = None

    @property
    def is_empty(self) -> bool:
        return self.blockers is None and self.enforcers is None

    def translated(self, offset_mm: np.ndarray) -> SupportModifiers:
        """Both volumes moved by ``offset_mm`` ((3,) float64, mm), as their model was."""
        return SupportModifiers(
            *(m.translated(offset_mm) if m is not None else None for m in self.volumes)
        )

    @property
    def volumes(self) -> tuple[Mesh | None, Mesh | None]:
        return self.blockers, self.enforcers


NO_MODIFIERS = SupportModifiers()


def merged(meshes: list[Mesh]) -> Mesh | None:
    """One mesh holding all of ``meshes`` (None if there are none)."""
    if not meshes:
        return None
    offsets = np.cumsum([0] + [len(m.vertices) for m in meshes])
    faces = np.vstack([m.faces + off for m, off in zip(meshes, offsets, strict=False)])
    return Mesh("+".join(m.name for m in meshes), np.vstack([m.vertices for m in meshes]), faces)


def modified_overhangs(
    modifiers: SupportModifiers,
    outlines: list[shapely.Geometry],
    heights_mm: np.ndarray,
    planes_mm: np.ndarray,
    s: SliceSettings,
) -> list[shapely.Geometry]:
    """Each layer's overhang to support ((Multi)Polygons, bottom first): the overhangs found
    by support_angle_deg (none with support=off) outside the blockers, plus every overhang
    inside an enforcer.  ``planes_mm`` ((n,) float64) are the heights the layers were
    sliced at."""
    n = len(outlines)
    if s.support is SupportMode.OFF:
        over = [EMPTY] * n
    else:
        over = overhangs(outlines, heights_mm, s.support_angle_deg, s.support_bridges)
    if modifiers.blockers is not None:
        blocked = slice_mesh(modifiers.blockers, planes_mm)
        over = [
            shapely.difference(a, b) if not a.is_empty else a
            for a, b in zip(over, blocked, strict=True)
        ]
    if modifiers.enforcers is not None:
        enforced = slice_mesh(modifiers.enforcers, planes_mm)
        every = overhangs(outlines, heights_mm, 0.0, support_bridges=True)
        over = [
            shapely.union(a, shapely.intersection(e, f)) if not (e.is_empty or f.is_empty) else a
            for a, e, f in zip(over, every, enforced, strict=True)
        ]
    return over
