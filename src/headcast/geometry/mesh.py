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


def normal_sums(vertices: NDArray[np.floating], triangles: NDArray[np.integer]) -> NDArray[np.float64]:
    """Per-vertex sums of the adjacent triangles' area-weighted normals (not normalised).

    Args:
        vertices: ``(V, 3)`` positions.
        triangles: ``(T, 3)`` counter-clockwise triangles.

    Returns:
        ``(V, 3)`` float64: Σ over adjacent triangles of (e1 × e2), i.e. 2 · area · unit normal.
    """
    v = np.asarray(vertices, dtype=np.float64)
    t = np.asarray(triangles)
    return _scatter_corners(np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]]), t, len(v))


def _scatter_corners(face_values: NDArray[np.float64], triangles: NDArray[np.integer], n: int) -> NDArray[np.float64]:
    idx = np.asarray(triangles).reshape(-1)
    rep = np.repeat(face_values, 3, axis=0)
    return np.stack([np.bincount(idx, weights=rep[:, c], minlength=n) for c in range(3)], axis=1)


def _unit(sums: NDArray[np.float64]) -> NDArray[np.float32]:
    norm = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norm == 0, 1.0, norm)).astype(np.float32)


def vertex_normals(vertices: NDArray[np.floating], triangles: NDArray[np.integer]) -> NDArray[np.float32]:
    """Area-weighted unit vertex normals.

    Args:
        vertices: ``(V, 3)`` positions.
        triangles: ``(T, 3)`` counter-clockwise triangles.

    Returns:
        ``(V, 3)`` float32 unit normals (zero for unused vertices).
    """
    return _unit(normal_sums(vertices, triangles))


def morphed_normals(
    vertices: NDArray[np.floating],
    triangles: NDArray[np.integer],
    delta: NDArray[np.floating],
    base_sums: NDArray[np.float64] | None = None,
) -> NDArray[np.float32]:
    """``vertex_normals(vertices + delta, triangles)``, recomputing only the triangles that ``delta`` moves.

    Args:
        vertices: ``(V, 3)`` base positions.
        triangles: ``(T, 3)``.
        delta: ``(V, 3)`` displacement (a morph target); most rows are usually zero.
        base_sums: ``normal_sums(vertices, triangles)`` when already known (reused across many targets).

    Returns:
        ``(V, 3)`` float32 unit normals of the displaced mesh.
    """
    v = np.asarray(vertices, dtype=np.float64)
    d = np.asarray(delta, dtype=np.float64)
    t = np.asarray(triangles)
    sums = normal_sums(v, t) if base_sums is None else base_sums
    moving = np.any(d != 0.0, axis=1)
    touched = t[moving[t].any(axis=1)]
    if len(touched) == 0:
        return _unit(sums)
    old = np.cross(v[touched[:, 1]] - v[touched[:, 0]], v[touched[:, 2]] - v[touched[:, 0]])
    w = v + d
    new = np.cross(w[touched[:, 1]] - w[touched[:, 0]], w[touched[:, 2]] - w[touched[:, 0]])
    return _unit(sums + _scatter_corners(new - old, touched, len(v)))


def barycentric_interpolate(
    vertices: NDArray[np.floating],
    triangles: NDArray[np.integer],
    face_ids: NDArray[np.integer],
    bary: NDArray[np.floating],
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
