"""Strands as drawable line sets (per-vertex colours with a root-to-tip gradient and fake self-shadowing)."""

import weakref

import numpy as np
from numpy.typing import NDArray

from headcast.hair.sdf import HeadSDF, sample_sdf
from headcast.hair.types import Strands
from headcast.render.raster import LineSet, polyline_segments

_COLORS: "weakref.WeakKeyDictionary[Strands, dict[int, NDArray[np.float32]]]" = weakref.WeakKeyDictionary()


def strand_colors(strands: Strands, sdf: HeadSDF | None = None, seed: int = 0) -> NDArray[np.float32]:
    """``(N, P, 3)`` sRGB colours in [0, 1] of the render strands' points (read-only).

    The photo's colours when the strands carry them (``Strands.colors``), else the root → tip gradient (interpolated
    in linear light, ``gradient_colors``); ±8 % brightness per strand, and — when ``sdf`` is given — a darkening of
    points close to the scalp (inner layers receive less light): factor ``0.6 + 0.4 · clip(d / 1.5 cm)``.

    Without ``sdf`` the colours depend only on the strand count, colours and seed, and are cached per strands
    object: the preview, the turntable, ``hair.hair`` and the ribbon GLB of a bundle colour the same groom
    (``Strands.recoloured`` makes a new object).
    """
    if sdf is not None:
        colors = _strand_colors(strands, sdf, seed)
    else:
        cache = _COLORS.setdefault(strands, {})
        hit = cache.get(seed)
        colors = cache[seed] = _strand_colors(strands, None, seed) if hit is None else hit
    colors.flags.writeable = False
    return colors


def gradient_colors(strands: Strands) -> NDArray[np.float64]:
    """``(N, P, 3)`` sRGB root → tip gradient of ``root_color`` and ``tip_color`` (linear-light interpolation)."""
    n, p = strands.points.shape[:2]
    t = np.linspace(0.0, 1.0, p)[None, :, None]
    root = np.asarray(strands.root_color, dtype=np.float64) ** 2.2
    tip = np.asarray(strands.tip_color, dtype=np.float64) ** 2.2
    lin = np.broadcast_to(root * (1 - t) + tip * t, (n, p, 3))
    return np.asarray(lin ** (1 / 2.2))


def _strand_colors(strands: Strands, sdf: HeadSDF | None, seed: int) -> NDArray[np.float32]:
    n = strands.points.shape[0]
    own = strands.colors
    srgb = own if own is not None and own.shape == strands.points.shape else gradient_colors(strands)
    lin = np.asarray(srgb, dtype=np.float64) ** 2.2
    rng = np.random.default_rng(seed)
    lin = lin * rng.uniform(0.84, 1.16, (n, 1, 1))
    if sdf is not None and n:
        d, _ = sample_sdf(sdf, strands.points, with_gradient=False)
        lin = lin * (0.6 + 0.4 * np.clip(d / 0.015, 0.0, 1.0))[..., None]
    return (np.clip(lin, 0.0, 1.0) ** (1 / 2.2)).astype(np.float32)


def strands_line_set(strands: Strands, sdf: HeadSDF | None = None, max_strands: int | None = None) -> LineSet:
    """The render strands as one model-frame :class:`LineSet` (pass it to ``render_head(strands=[...])``).

    ``max_strands`` keeps every k-th strand (small pictures need fewer lines; llvmpipe time grows with them).
    """
    colors = strand_colors(strands, sdf)
    pts = strands.points
    if max_strands is not None and len(pts) > max_strands:
        keep = np.linspace(0, len(pts) - 1, max_strands).astype(np.int64)
        pts, colors = pts[keep], colors[keep]
    n, p = pts.shape[:2]
    verts = pts.reshape(-1, 3)
    colors = colors.reshape(-1, 3)
    return LineSet(verts, polyline_segments(np.full(n, p)), colors)
