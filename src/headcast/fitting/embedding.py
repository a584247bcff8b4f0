"""Pure geometry used to embed one mesh's points on another: similarity alignment and closest points.

These functions build the MediaPipe → head-model landmark embedding (``scripts/make_correspondences.py``) and
are small enough to test against brute force.
"""

from collections import defaultdict

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree


def umeyama(
    src: NDArray[np.floating], dst: NDArray[np.floating], weights: NDArray[np.floating] | None = None
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """Weighted least-squares similarity ``dst ≈ s · R · src + t`` (Umeyama 1991, IEEE TPAMI 13(4)).

    Args:
        src: ``(N, 3)`` source points.
        dst: ``(N, 3)`` target points (same order).
        weights: ``(N,)`` non-negative weights (default all 1).

    Returns:
        ``(s, R, t)``: scale, ``(3, 3)`` proper rotation (det +1) and ``(3,)`` translation.
    """
    x = np.asarray(src, dtype=np.float64)
    y = np.asarray(dst, dtype=np.float64)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    mx, my = w @ x, w @ y
    xc, yc = x - mx, y - my
    cov = (yc * w[:, None]).T @ xc
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(3)
    d[2] = np.sign(np.linalg.det(u @ vt)) or 1.0
    r = u @ np.diag(d) @ vt
    var = float(w @ np.sum(xc**2, axis=1))
    s = float(np.sum(sig * d) / var)
    return s, r, my - s * r @ mx


def closest_point_on_triangles(
    points: NDArray[np.floating], a: NDArray[np.floating], b: NDArray[np.floating], c: NDArray[np.floating]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Closest point of each triangle ``(a, b, c)`` to each point (Ericson, *Real-Time Collision Detection*, 5.1.5).

    Args:
        points: ``(N, 3)`` query points.
        a: ``(N, 3)`` first corners, one triangle per point.
        b: ``(N, 3)`` second corners.
        c: ``(N, 3)`` third corners.

    Returns:
        ``(N, 3)`` closest points and ``(N, 3)`` their barycentric weights on ``(a, b, c)`` (rows sum to 1, ≥ 0).
    """
    p, a, b, c = (np.asarray(v, dtype=np.float64) for v in (points, a, b, c))
    ab, ac, ap = b - a, c - a, p - a
    d1 = np.einsum("ij,ij->i", ab, ap)
    d2 = np.einsum("ij,ij->i", ac, ap)
    bp = p - b
    d3 = np.einsum("ij,ij->i", ab, bp)
    d4 = np.einsum("ij,ij->i", ac, bp)
    cp = p - c
    d5 = np.einsum("ij,ij->i", ab, cp)
    d6 = np.einsum("ij,ij->i", ac, cp)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2

    bary = np.zeros((len(p), 3))
    done = np.zeros(len(p), dtype=bool)

    def assign(mask: NDArray[np.bool_], w: NDArray[np.float64]) -> None:
        m = mask & ~done
        bary[m] = w[m]
        done[m] = True

    def safe(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.clip(num / np.where(np.abs(den) < 1e-300, 1.0, den), 0.0, 1.0)

    one, zero = np.ones(len(p)), np.zeros(len(p))
    assign((d1 <= 0) & (d2 <= 0), np.stack([one, zero, zero], 1))  # vertex a
    assign((d3 >= 0) & (d4 <= d3), np.stack([zero, one, zero], 1))  # vertex b
    v = safe(d1, d1 - d3)
    assign((vc <= 0) & (d1 >= 0) & (d3 <= 0), np.stack([1 - v, v, zero], 1))  # edge ab
    assign((d6 >= 0) & (d5 <= d6), np.stack([zero, zero, one], 1))  # vertex c
    w = safe(d2, d2 - d6)
    assign((vb <= 0) & (d2 >= 0) & (d6 <= 0), np.stack([1 - w, zero, w], 1))  # edge ac
    w = safe(d4 - d3, (d4 - d3) + (d5 - d6))
    assign((va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0), np.stack([zero, 1 - w, w], 1))  # edge bc
    den = va + vb + vc
    den = np.where(np.abs(den) < 1e-300, 1.0, den)
    assign(~done, np.stack([va / den, vb / den, vc / den], 1))  # interior
    closest = bary[:, :1] * a + bary[:, 1:2] * b + bary[:, 2:] * c
    return closest, bary


def closest_point_on_mesh(
    points: NDArray[np.floating],
    vertices: NDArray[np.floating],
    triangles: NDArray[np.integer],
    candidates: int = 32,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Closest surface point of a triangle mesh to each query point.

    The exact point-triangle test runs on the ``candidates`` triangles with the nearest centroids, which is exact
    unless triangles are much larger than their spacing (fine for the dense face meshes used here).

    Args:
        points: ``(N, 3)`` query points.
        vertices: ``(V, 3)`` mesh vertices.
        triangles: ``(T, 3)`` the triangles to search.
        candidates: triangles tested per point.

    Returns:
        ``(N,)`` row index into ``triangles``, ``(N, 3)`` barycentric weights, ``(N,)`` distances.
    """
    p = np.asarray(points, dtype=np.float64)
    v = np.asarray(vertices, dtype=np.float64)
    t = np.asarray(triangles)
    k = int(min(candidates, len(t)))
    corners = v[t]  # (T, 3, 3)
    _, near = cKDTree(corners.mean(axis=1)).query(p, k=k)
    near = np.asarray(near).reshape(len(p), k)
    flat = near.reshape(-1)
    q, bary = closest_point_on_triangles(np.repeat(p, k, axis=0), corners[flat, 0], corners[flat, 1], corners[flat, 2])
    dist = np.linalg.norm(q - np.repeat(p, k, axis=0), axis=1).reshape(len(p), k)
    best = np.argmin(dist, axis=1)  # first minimum: deterministic on ties
    rows = np.arange(len(p))
    chosen = near[rows, best]
    return chosen.astype(np.int64), bary.reshape(len(p), k, 3)[rows, best], dist[rows, best]


def boundary_loops(triangles: NDArray[np.integer]) -> list[NDArray[np.int64]]:
    """Ordered vertex loops of a triangle mesh's boundary (edges used by exactly one triangle).

    Each loop follows the boundary edges in the triangles' winding direction and starts at its smallest vertex
    id; loops are sorted by that id.

    Args:
        triangles: ``(T, 3)`` vertex indices of a manifold mesh.

    Returns:
        a list of ``(L,)`` vertex-id loops.
    """
    count: dict[tuple[int, int], int] = defaultdict(int)
    directed: list[tuple[int, int]] = []
    for tri in np.asarray(triangles).tolist():
        for i in range(3):
            e = (int(tri[i]), int(tri[(i + 1) % 3]))
            count[(min(e), max(e))] += 1
            directed.append(e)
    succ = {a: b for a, b in directed if count[(min(a, b), max(a, b))] == 1}
    loops: list[NDArray[np.int64]] = []
    seen: set[int] = set()
    for start in sorted(succ):
        if start in seen:
            continue
        loop = [start]
        seen.add(start)
        nxt = succ[start]
        while nxt != start:
            loop.append(nxt)
            seen.add(nxt)
            nxt = succ[nxt]
        loops.append(np.array(loop, dtype=np.int64))
    return loops
