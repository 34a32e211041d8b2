"""Adaptive layer height: thinner layers where the surface is shallow.

A layer of height h over a face whose normal has vertical component n_z leaves a stair step
(cusp) of about h * |n_z|; each layer is as high as the steepest limit of the faces it spans
allows: h = max_cusp / |n_z|, between the minimum and layer_height_mm.  Flat faces
(|n_z| ~ 1: tops and bottoms, printed as skins) set no limit.  ``adaptive_quality`` (0..1)
sets the cusp: 1 gives the finest layers, 0 the coarsest.
"""

from __future__ import annotations

import numpy as np

from slicer.mesh import Mesh
from slicer.settings import SliceSettings

# Faces flatter than this (|n_z|) are tops or bottoms: no limit on the layer height.
FLAT_NZ = 0.999
# The cusp ranges between these fractions of the maximum layer height (quality 1 .. 0).
CUSP_FINEST = 0.1
CUSP_COARSEST = 0.5


def adaptive_tops_mm(mesh: Mesh, s: SliceSettings) -> np.ndarray:
    """(k,) float64: top z of each layer, mm; the first layer keeps first_layer_height_mm."""
    v = mesh.vertices[mesh.faces]  # (f, 3, 3)
    normal = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    length = np.linalg.norm(normal, axis=1)
    nz = np.abs(normal[:, 2]) / np.maximum(length, 1e-12)
    keep = (length > 1e-12) & (nz < FLAT_NZ) & (nz > 1e-6)
    zmin, zmax = v[keep, :, 2].min(axis=1), v[keep, :, 2].max(axis=1)
    fraction = CUSP_COARSEST + (CUSP_FINEST - CUSP_COARSEST) * s.adaptive_quality
    limit = np.clip(
        fraction * s.layer_height_mm / nz[keep], s.adaptive_min_layer_height_mm, s.layer_height_mm
    )
    order = np.argsort(zmin)
    zmin, zmax, limit = zmin[order], zmax[order], limit[order]
    top = float(mesh.bounds_mm[1, 2])
    tops = [s.first_layer_height_mm]
    z = tops[0]
    while z < top - 1e-6:
        # Faces that reach into the tallest layer that could come next.
        upto = np.searchsorted(zmin, z + s.layer_height_mm, side="right")
        span = zmax[:upto] > z
        h = float(limit[:upto][span].min()) if span.any() else s.layer_height_mm
        h = max(min(h, top - z), s.adaptive_min_layer_height_mm)
        z = round(z + h, 3)  # the G-code's Z resolution
        tops.append(z)
    return np.array(tops)
