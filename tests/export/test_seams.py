"""UV-seam split and material filter (export.mesh), on hand-checked cases."""

import numpy as np
import pytest

from headcast.export.mesh import material_mask, safe_normals, split_uv_seams
from headcast.headmodel.base import LinearHeadModel


def test_split_two_triangles_with_one_seam_vertex() -> None:
    # Square 0-1-2-3 split along 0-2; vertex 2 has uv 2 in the first triangle and uv 4 in the second.
    tris = np.array([[0, 1, 2], [0, 2, 3]])
    tuvs = np.array([[0, 1, 2], [0, 4, 3]])
    split = split_uv_seams(tris, tuvs)
    assert list(zip(split.vertex_ids.tolist(), split.uv_ids.tolist(), strict=True)) == [
        (0, 0), (1, 1), (2, 2), (2, 4), (3, 3)
    ]  # fmt: skip
    assert split.triangles.tolist() == [[0, 1, 2], [0, 3, 4]]
    # every output corner maps back to the input corner
    np.testing.assert_array_equal(split.vertex_ids[split.triangles], tris)
    np.testing.assert_array_equal(split.uv_ids[split.triangles], tuvs)


def test_split_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="must both be"):
        split_uv_seams(np.zeros((2, 3), int), np.zeros((3, 3), int))


def test_material_mask_selects_overlay_triangles(tiny: LinearHeadModel) -> None:
    mask = material_mask(tiny, ("overlay", "teeth"))  # the tiny model has no teeth: they match nothing
    assert mask.tolist() == [False] * 12 + [True, False]


def test_safe_normals_replaces_zero_rows() -> None:
    n = safe_normals(np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
    assert n.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
