"""Pure helpers shared by the mesh writers: which triangles are exported and splitting vertices at UV seams.

Convention:
    A model's triangles index vertices and UVs separately (``triangles`` / ``triangle_uvs``, both ``(T, 3)``).
    Formats with one index per corner (glTF) need one vertex per distinct (vertex, uv) pair: the seam split.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headcast.headmodel.base import LinearHeadModel, MaterialRole


@dataclass(frozen=True, eq=False)
class SeamSplit:
    """A triangle list re-indexed so that each output vertex has exactly one UV.

    Attributes:
        vertex_ids: ``(N,)`` int64 model vertex of each output vertex.
        uv_ids: ``(N,)`` int64 model UV of each output vertex.
        triangles: ``(T, 3)`` int64 output-vertex indices, same order and winding as the input triangles.
    """

    vertex_ids: NDArray[np.int64]
    uv_ids: NDArray[np.int64]
    triangles: NDArray[np.int64]


def material_mask(model: LinearHeadModel, roles: tuple[MaterialRole, ...]) -> NDArray[np.bool_]:
    """``(T,)`` bool: triangles whose material has one of ``roles`` (roles the model lacks match nothing)."""
    return model.material_mask(*roles)


def split_uv_seams(triangles: NDArray[np.integer], triangle_uvs: NDArray[np.integer]) -> SeamSplit:
    """One output vertex per distinct (vertex, uv) corner pair.

    Args:
        triangles: ``(T, 3)`` vertex indices.
        triangle_uvs: ``(T, 3)`` UV indices of the same corners.

    Returns:
        The split; output vertices are sorted by (vertex id, uv id), so unseamed vertices keep model order.
    """
    tri = np.asarray(triangles, dtype=np.int64)
    tuv = np.asarray(triangle_uvs, dtype=np.int64)
    if tri.shape != tuv.shape or tri.ndim != 2 or tri.shape[1] != 3:
        raise ValueError(f"triangles {tri.shape} and triangle_uvs {tuv.shape} must both be (T, 3)")
    stride = int(tuv.max(initial=0)) + 1
    keys, inverse = np.unique(tri.ravel() * stride + tuv.ravel(), return_inverse=True)
    return SeamSplit(keys // stride, keys % stride, inverse.reshape(tri.shape).astype(np.int64))


def safe_normals(normals: NDArray[np.floating]) -> NDArray[np.float32]:
    """``(N, 3)`` unit normals with zero rows (vertices of degenerate triangles only) replaced by +z."""
    n = np.asarray(normals, dtype=np.float32).copy()
    zero = np.linalg.norm(n, axis=1) < 0.5
    n[zero] = (0.0, 0.0, 1.0)
    return n
