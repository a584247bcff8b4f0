"""The texture atlas: where each material's UV tile goes in one square image.

The layout is the head model's (``model.uv_atlas``: material → :class:`AtlasCell`, filled by its adapter); this
module maps model UVs into it. A model's UVs may be multi-tile (UDIM-like): each material owns a tile
``u ∈ [k, k + w]``, which the atlas places in its cell (the ICT layout is in ``headmodel/ict.py`` and
``DESIGN.md``).

Each tile is scaled into its cell inset by ``GUTTER_TEXELS`` on every side so that bilinear and mip-mapped
lookups do not reach a neighbouring cell.
"""

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from headcast.headmodel.base import AtlasCell, LinearHeadModel, MaterialRole

__all__ = [
    "ALPHA_ROLES", "GUTTER_TEXELS", "TRANSPARENT_ROLES", "AtlasCell", "atlas_uv", "cell_pixels",
    "opaque_triangle_mask", "tile_to_cell",
]

#: Shells a model renders with transparency (tear film, eye-corner blend, ambient-occlusion shell).
#: Drawn opaque they hide the eyeballs, so renderers and exporters leave them out.
TRANSPARENT_ROLES: tuple[MaterialRole, ...] = ("overlay",)

#: Eyelash cards: they need an alpha-tested texture (strands painted on transparency); drawn opaque they look
#: like thick black eyeliner, so opaque renderers leave them out unless asked.
ALPHA_ROLES: tuple[MaterialRole, ...] = ("lashes",)

#: Texels left between a tile's content and its cell border, at every atlas size.
GUTTER_TEXELS = 4


def cell_pixels(cell: AtlasCell, size: int) -> tuple[int, int, int, int]:
    """Pixel box ``(row0, row1, col0, col1)`` (end-exclusive) of a cell in an atlas image of ``size``², row 0 top."""
    u0, v0, u1, v1 = cell.rect
    return round((1.0 - v1) * size), round((1.0 - v0) * size), round(u0 * size), round(u1 * size)


def tile_to_cell(uv: NDArray[np.floating], cell: AtlasCell, size: int) -> NDArray[np.float32]:
    """Map model UVs of a material's tile into its atlas cell (inset by ``GUTTER_TEXELS``).

    Args:
        uv: ``(..., 2)`` model UVs inside the material's tile.
        cell: the placement.
        size: atlas side in texels (sets the inset in UV units).

    Returns:
        ``(..., 2)`` float32 atlas UVs in [0, 1]², bottom-left origin.
    """
    u0, v0, u1, v1 = cell.rect
    gutter = GUTTER_TEXELS / float(size)
    local_u = (np.asarray(uv[..., 0], dtype=np.float64) - cell.tile_u0) / cell.tile_width
    local_v = np.asarray(uv[..., 1], dtype=np.float64)
    au = u0 + gutter + local_u * (u1 - u0 - 2 * gutter)
    av = v0 + gutter + local_v * (v1 - v0 - 2 * gutter)
    return np.stack([au, av], axis=-1).astype(np.float32)


def atlas_uv(model: LinearHeadModel, size: int, layout: Mapping[str, AtlasCell] | None = None) -> NDArray[np.float32]:
    """Atlas coordinates for every model UV (the ``UVTexture.uv`` of a baked texture).

    Args:
        model: the head model; each UV index must belong to triangles of one material.
        size: atlas side in texels.
        layout: material name → cell; the model's own ``uv_atlas`` when None.

    Returns:
        ``(U, 2)`` float32 atlas UVs, same indexing as ``model.uv``.

    Raises:
        ValueError: a material has no cell, or its UVs leave the declared tile.
    """
    layout = model.uv_atlas if layout is None else layout
    out = np.zeros((len(model.uv), 2), dtype=np.float32)
    for m, name in enumerate(model.material_names):
        if name not in layout:
            raise ValueError(f"material '{name}' has no atlas cell; known: {', '.join(layout)}")
        cell = layout[name]
        idx = np.unique(model.triangle_uvs[model.triangle_material == m])
        uv = model.uv[idx]
        lo, hi = cell.tile_u0, cell.tile_u0 + cell.tile_width
        if len(idx) and (uv[:, 0].min() < lo - 1e-4 or uv[:, 0].max() > hi + 1e-4):
            raise ValueError(f"UVs of '{name}' leave its tile u ∈ [{lo}, {hi}]")
        out[idx] = tile_to_cell(uv, cell, size)
    return out


def opaque_triangle_mask(model: LinearHeadModel, include_lashes: bool = False) -> NDArray[np.bool_]:
    """``(T,)`` True for triangles drawn opaque.

    Everything except :data:`TRANSPARENT_ROLES` and, unless ``include_lashes``, :data:`ALPHA_ROLES`.
    """
    roles = TRANSPARENT_ROLES if include_lashes else TRANSPARENT_ROLES + ALPHA_ROLES
    return ~model.material_mask(*roles)
