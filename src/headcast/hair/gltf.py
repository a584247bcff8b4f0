"""Strands as glTF geometry: GL_LINES polylines with custom attributes, or camera-independent ribbon meshes.

glTF has no curve primitive (PLATFORM.md): strands go either as a ``LINES`` primitive (mode 1) — ``POSITION``,
``COLOR_0`` and the custom attributes ``_STRAND_ID`` (strand index as float) and ``_STRAND_T`` (0 at the root,
1 at the tip), whose leading underscore the glTF spec reserves for application data — or as ribbons for engines
that do not draw lines: each strand becomes a flat quad strip of ``ribbon_width`` in the plane spanned by the
strand direction and the scalp-outward direction's perpendicular, with normals pointing away from the head
centre. Both in the model frame (metres), so they sit on the head of the same GLB.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from headcast.hair.display import strand_colors
from headcast.hair.types import Strands

StrandMode = Literal["lines", "ribbons"]
GLB_LINE_STRANDS = 8000
"""Strands kept in ``avatar.glb``'s LINES primitive (every k-th render strand; the full set is in ``hair.data``)."""


@dataclass(frozen=True, eq=False)
class StrandGeometry:
    """Buffers of one glTF primitive.

    Attributes:
        mode: glTF primitive mode (1 = LINES, 4 = TRIANGLES).
        positions: ``(V, 3)`` float32 model-frame positions, metres.
        colors: ``(V, 3)`` float32 linear-light RGB (glTF ``COLOR_0`` is linear).
        indices: ``(I,)`` uint32 vertex indices (pairs for lines, triples for triangles).
        normals: ``(V, 3)`` float32 unit normals (ribbons) or None.
        custom: ``{name: (V,) float32}`` application attributes (names start with ``_``).
    """

    mode: int
    positions: NDArray[np.float32]
    colors: NDArray[np.float32]
    indices: NDArray[np.uint32]
    normals: NDArray[np.float32] | None
    custom: dict[str, NDArray[np.float32]]


def strand_geometry(
    strands: Strands, mode: StrandMode = "lines", max_strands: int | None = None, ribbon_width: float = 0.0012,
) -> StrandGeometry:
    """Build the glTF buffers of a groom.

    Args:
        strands: the groom (render strands are exported).
        mode: ``"lines"`` or ``"ribbons"``.
        max_strands: export every k-th strand so that at most this many remain (None = all).
        ribbon_width: ribbon width in metres.
    """
    pts = np.asarray(strands.points, dtype=np.float32)
    srgb = strand_colors(strands)
    if max_strands is not None and len(pts) > max_strands:
        keep = np.linspace(0, len(pts) - 1, max_strands).astype(np.int64)
        pts, srgb = pts[keep], srgb[keep]
    n, p = pts.shape[:2]
    lin = (np.clip(srgb, 0, 1) ** 2.2).astype(np.float32)
    sid = np.repeat(np.arange(n, dtype=np.float32), p)
    t = np.tile(np.linspace(0.0, 1.0, p, dtype=np.float32), n)
    if mode == "lines":
        base = (np.arange(n)[:, None] * p + np.arange(p - 1)[None, :]).ravel()
        idx = np.stack([base, base + 1], axis=1).ravel().astype(np.uint32)
        return StrandGeometry(1, pts.reshape(-1, 3), lin.reshape(-1, 3), idx, None, {"_STRAND_ID": sid, "_STRAND_T": t})
    tangent = np.gradient(pts.astype(np.float64), axis=1)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=-1, keepdims=True), 1e-12)
    centre = pts.reshape(-1, 3).mean(axis=0)
    out = pts - centre
    side = np.cross(tangent, out)
    side /= np.maximum(np.linalg.norm(side, axis=-1, keepdims=True), 1e-12)
    normal = np.cross(side, tangent)
    normal /= np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-12)
    half = 0.5 * ribbon_width * (1.0 - 0.7 * np.linspace(0, 1, p))[None, :, None]
    left, right = pts - half * side, pts + half * side
    verts = np.stack([left, right], axis=2).reshape(-1, 3)  # (n·p·2, 3)
    k = (np.arange(n)[:, None] * p + np.arange(p - 1)[None, :]).ravel() * 2
    tris = np.concatenate([np.stack([k, k + 1, k + 2], 1), np.stack([k + 1, k + 3, k + 2], 1)], axis=1)
    return StrandGeometry(
        4,
        verts.astype(np.float32),
        np.repeat(lin.reshape(-1, 3), 2, axis=0),
        tris.reshape(-1).astype(np.uint32),
        np.repeat(normal.reshape(-1, 3), 2, axis=0).astype(np.float32),
        {"_STRAND_ID": np.repeat(sid, 2), "_STRAND_T": np.repeat(t, 2)},
    )
