"""The texture atlas layout for ICT FaceKit: where each material's UV tile goes in one square image.

ICT FaceKit's UVs are multi-tile (UDIM-like): each material owns a unit tile ``u ∈ [k, k + w]`` (the eyes'
materials all overlap in ``[0, 1]``). The atlas packs the tiles into one square image (see ``DESIGN.md``):

==================  ==============  =====================================  =======================
material            model tile u     atlas cell (u0, v0, u1, v1)            texels at 2048²
==================  ==============  =====================================  =======================
M_Face              [0, 1]           (0,     0.5,   0.5,   1)               1024²
M_BackHead          [1, 2]           (0.5,   0.5,   1,     1)               1024²
M_GumsTongue        [2, 3]           (0,     0.25,  0.25,  0.5)             512²
M_Teeth             [3, 4]           (0.25,  0.25,  0.5,   0.5)             512²
M_ScleraLeft/Right  [0, 1]           (0.5 | 0.75, 0.25, +0.25, 0.5)         512² each
M_IrisLeft/Right    [0, 1]           (0 | 0.25, 0, +0.25, 0.25)             512² each
M_EyeLashes         [6, 7]           (0.5,   0,     0.75,  0.25)            512²
M_LacrimalFluid     [4, 6]           (0.75,  0,     1,     0.125)           512 × 256
M_EyeBlend          [0, 1]           (0.75,  0.125, 0.875, 0.25)            256²
M_EyeOcclusion      [0, 1]           (0.875, 0.125, 1,     0.25)            256²
==================  ==============  =====================================  =======================

Each tile is scaled into its cell inset by ``GUTTER_TEXELS`` on every side so that bilinear and mip-mapped
lookups do not reach a neighbouring cell.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headcast.headmodel.base import LinearHeadModel

#: Shells that ICT FaceKit renders with transparency (tear film, eye-corner blend, ambient-occlusion shell).
#: Drawn opaque they hide the eyeballs, so renderers and exporters leave them out.
TRANSPARENT_MATERIALS: tuple[str, ...] = ("M_EyeOcclusion", "M_EyeBlend", "M_LacrimalFluid")

#: Eyelash cards: they need an alpha-tested texture (strands painted on transparency); drawn opaque they look
#: like thick black eyeliner, so opaque renderers leave them out unless asked.
ALPHA_MATERIALS: tuple[str, ...] = ("M_EyeLashes",)

#: Texels left between a tile's content and its cell border, at every atlas size.
GUTTER_TEXELS = 4


@dataclass(frozen=True)
class AtlasCell:
    """One material's placement.

    Attributes:
        tile_u0: left edge of the material's UV tile in model UVs (the tile spans ``[tile_u0, tile_u0 +
            tile_width] × [0, 1]``).
        tile_width: width of the model tile in UV units (1, or 2 for the tear-film tile).
        rect: ``(u0, v0, u1, v1)`` cell in atlas coordinates, bottom-left origin.
    """

    tile_u0: float
    tile_width: float
    rect: tuple[float, float, float, float]


ICT_ATLAS: dict[str, AtlasCell] = {
    "M_Face": AtlasCell(0.0, 1.0, (0.0, 0.5, 0.5, 1.0)),
    "M_BackHead": AtlasCell(1.0, 1.0, (0.5, 0.5, 1.0, 1.0)),
    "M_GumsTongue": AtlasCell(2.0, 1.0, (0.0, 0.25, 0.25, 0.5)),
    "M_Teeth": AtlasCell(3.0, 1.0, (0.25, 0.25, 0.5, 0.5)),
    "M_ScleraLeft": AtlasCell(0.0, 1.0, (0.5, 0.25, 0.75, 0.5)),
    "M_ScleraRight": AtlasCell(0.0, 1.0, (0.75, 0.25, 1.0, 0.5)),
    "M_IrisLeft": AtlasCell(0.0, 1.0, (0.0, 0.0, 0.25, 0.25)),
    "M_IrisRight": AtlasCell(0.0, 1.0, (0.25, 0.0, 0.5, 0.25)),
    "M_EyeLashes": AtlasCell(6.0, 1.0, (0.5, 0.0, 0.75, 0.25)),
    "M_LacrimalFluid": AtlasCell(4.0, 2.0, (0.75, 0.0, 1.0, 0.125)),
    "M_EyeBlend": AtlasCell(0.0, 1.0, (0.75, 0.125, 0.875, 0.25)),
    "M_EyeOcclusion": AtlasCell(0.0, 1.0, (0.875, 0.125, 1.0, 0.25)),
}


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


def atlas_uv(model: LinearHeadModel, size: int, layout: dict[str, AtlasCell] = ICT_ATLAS) -> NDArray[np.float32]:
    """Atlas coordinates for every model UV (the ``UVTexture.uv`` of a baked texture).

    Args:
        model: the head model; each UV index must belong to triangles of one material.
        size: atlas side in texels.
        layout: material → cell.

    Returns:
        ``(U, 2)`` float32 atlas UVs, same indexing as ``model.uv``.

    Raises:
        ValueError: a material has no cell, or its UVs leave the declared tile.
    """
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


def material_index(model: LinearHeadModel, name: str) -> int:
    """Index of a material name in ``model.material_names`` (-1 when the model has no such material)."""
    return model.material_names.index(name) if name in model.material_names else -1


def opaque_triangle_mask(model: LinearHeadModel, include_lashes: bool = False) -> NDArray[np.bool_]:
    """``(T,)`` True for triangles drawn opaque.

    Everything except :data:`TRANSPARENT_MATERIALS` and, unless ``include_lashes``, :data:`ALPHA_MATERIALS`.
    """
    names = TRANSPARENT_MATERIALS if include_lashes else TRANSPARENT_MATERIALS + ALPHA_MATERIALS
    hidden = [material_index(model, n) for n in names]
    return ~np.isin(model.triangle_material, [h for h in hidden if h >= 0])
