"""Mesh helpers: quad splitting, normals, barycentric interpolation."""

import numpy as np
from numpy.typing import NDArray


def split_quads(faces: NDArray[np.integer]) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """Split a mixed quad/triangle face list into triangles.

    Args:
        faces: ``(F, 4)`` vertex indices; a 4th index of -1 marks a triangle.

    Returns:
        ``(T, 3)`` triangles (quads become (0,1,2) and (0,2,3), keeping orientation) and ``(T,)`` the index of
        the source face of each triangle.
    """
    f = np.asarray(faces)
    is_quad = f[:, 3] >= 0
    first = f[:, [0, 1, 2]]
    second = f[is_quad][:, [0, 2, 3]]
    tris = np.concatenate([first, second], axis=0).astype(np.int32)
    source = np.concatenate([np.arange(len(f)), np.nonzero(is_quad)[0]])
    order = np.argsort(source, kind="stable")
    return tris[order], source[order]


def vertex_normals(vertices: NDArray[np.floating], triangles: NDArray[np.integer]) -> NDArray[np.float32]:
    """Area-weighted unit vertex normals.

    Args:
        vertices: ``(V, 3)`` positions.
        triangles: ``(T, 3)`` counter-clockwise triangles.

    Returns:
        ``(V, 3)`` float32 unit normals (zero for unused vertices).
    """
    v = np.asarray(vertices, dtype=np.float64)
    t = np.asarray(triangles)
    fn = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])
    idx = t.reshape(-1)
    rep = np.repeat(fn, 3, axis=0)
    n = np.stack([np.bincount(idx, weights=rep[:, c], minlength=len(v)) for c in range(3)], axis=1)
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    return (n / np.where(norm == 0, 1.0, norm)).astype(np.float32)


def barycentric_interpolate(
    vertices: NDArray[np.floating], triangles: NDArray[np.integer], face_ids: NDArray[np.integer], bary: NDArray[np.floating]
) -> NDArray[np.float64]:
    """Points on a mesh from (triangle id, barycentric weights).

    Args:
        vertices: ``(..., V, 3)`` positions (a leading batch is allowed).
        triangles: ``(T, 3)``.
        face_ids: ``(N,)`` triangle per point.
        bary: ``(N, 3)`` barycentric weights (rows sum to 1).

    Returns:
        ``(..., N, 3)`` points.
    """
    corners = np.asarray(vertices)[..., np.asarray(triangles)[face_ids], :]  # (..., N, 3, 3)
    return np.einsum("...nkc,nk->...nc", corners, np.asarray(bary, dtype=np.float64))
