import numpy as np
import pytest

from headcast.headmodel.ict import ICT_ATLAS, ICT_MATERIAL_ROLES
from headcast.texture.atlas import (
    GUTTER_TEXELS,
    atlas_uv,
    cell_pixels,
    opaque_triangle_mask,
    tile_to_cell,
)
from headcast.texture.materials import cell_tile_uv


def test_cells_are_disjoint_and_inside_the_atlas() -> None:
    size = 2048
    taken = np.zeros((size, size), int)
    for cell in ICT_ATLAS.values():
        r0, r1, c0, c1 = cell_pixels(cell, size)
        assert 0 <= r0 < r1 <= size and 0 <= c0 < c1 <= size
        taken[r0:r1, c0:c1] += 1
    assert taken.max() == 1


def test_every_model_uv_lands_in_its_material_cell(ict_model) -> None:
    size = 1024
    uv = atlas_uv(ict_model, size)
    assert uv.shape == ict_model.uv.shape and uv.dtype == np.float32
    inset = GUTTER_TEXELS / size
    for m, name in enumerate(ict_model.material_names):
        u0, v0, u1, v1 = ICT_ATLAS[name].rect
        pts = uv[np.unique(ict_model.triangle_uvs[ict_model.triangle_material == m])]
        assert np.all(pts[:, 0] >= u0 + inset - 1e-6) and np.all(pts[:, 0] <= u1 - inset + 1e-6), name
        assert np.all(pts[:, 1] >= v0 + inset - 1e-6) and np.all(pts[:, 1] <= v1 - inset + 1e-6), name


def test_cell_tile_uv_inverts_tile_to_cell() -> None:
    size, cell = 512, ICT_ATLAS["M_ScleraLeft"]
    r0, r1, c0, c1 = cell_pixels(cell, size)
    local = cell_tile_uv(r1 - r0)  # tile UV at each texel centre of the cell
    atlas = tile_to_cell(local, cell, size)
    rows, cols = np.mgrid[r0:r1, c0:c1]
    assert np.allclose(atlas[..., 0], (cols + 0.5) / size, atol=1e-6)
    assert np.allclose(atlas[..., 1], 1.0 - (rows + 0.5) / size, atol=1e-6)


def test_opaque_mask_drops_transparent_shells_and_lashes(ict_model) -> None:
    mask = opaque_triangle_mask(ict_model)
    names = np.array(ict_model.material_names)[ict_model.triangle_material]
    assert not np.any(mask & np.isin(names, (*ICT_MATERIAL_ROLES["overlay"], "M_EyeLashes")))
    assert np.all(mask[np.isin(names, ["M_Face", "M_BackHead", "M_ScleraLeft", "M_Teeth"])])
    assert np.all(opaque_triangle_mask(ict_model, include_lashes=True)[names == "M_EyeLashes"])


def test_unknown_material_is_refused(ict_model) -> None:
    with pytest.raises(ValueError, match="no atlas cell"):
        atlas_uv(ict_model, 256, {k: v for k, v in ICT_ATLAS.items() if k != "M_Teeth"})


def test_the_model_s_atlas_is_the_default_layout(ict_model) -> None:
    np.testing.assert_array_equal(atlas_uv(ict_model, 256), atlas_uv(ict_model, 256, ICT_ATLAS))
    assert ict_model.atlas_cell("teeth") == ICT_ATLAS["M_Teeth"]
    assert ict_model.atlas_cells("overlay") == tuple(ICT_ATLAS[n] for n in ICT_MATERIAL_ROLES["overlay"])
