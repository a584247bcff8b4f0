"""NoW-style geometry error: landmark similarity alignment, then point-to-surface distances.

Protocol (Sanyal et al., CVPR 2019, "NoW" benchmark), as EVALUATION.md adapts it to synthetic heads:

1. Align the reconstruction to the ground truth with the similarity transform (scale, rotation, translation)
   that best maps 7 reconstructed landmarks onto the ground-truth ones in the least-squares sense
   (Umeyama, PAMI 1991): eye corners, nose bottom, mouth corners = iBUG-68 points 36, 39, 42, 45, 33, 48, 54.
2. For every ground-truth face-region vertex, the distance to the nearest point on the aligned reconstructed
   surface (triangles, not just vertices).
3. Report median / mean / std in millimetres.

Convention: points are ``(N, 3)`` in metres (model frame); distances are returned in metres, the caller converts.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from headcast.headmodel.base import LinearHeadModel

NOW_LANDMARKS68: tuple[int, ...] = (36, 39, 42, 45, 33, 48, 54)
"""iBUG-68 ids of the 7 alignment landmarks: outer/inner eye corners, nose bottom, mouth corners."""


@dataclass(frozen=True)
class Similarity:
    """``x ↦ scale · R · x + t``.

    Attributes:
        scale: isotropic scale (> 0).
        rotation: ``(3, 3)`` proper rotation matrix (det = +1), acting on column vectors.
        translation: ``(3,)`` metres.
    """

    scale: float
    rotation: NDArray[np.float64]
    translation: NDArray[np.float64]

    def apply(self, points: NDArray[np.floating]) -> NDArray[np.float64]:
        """Transform ``(..., 3)`` points."""
        return self.scale * np.asarray(points, np.float64) @ self.rotation.T + self.translation


def similarity_transform(source: NDArray[np.floating], target: NDArray[np.floating]) -> Similarity:
    """Least-squares similarity mapping ``source`` onto ``target`` (Umeyama 1991, with the reflection fix).

    Args:
        source: ``(N, 3)`` points, N ≥ 3 not collinear.
        target: ``(N, 3)`` corresponding points.

    Returns:
        The :class:`Similarity` minimising ``Σ ‖s · R · source_i + t − target_i‖²``.

    Example:
        >>> a = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
        >>> round(similarity_transform(a, 2 * a + 1).scale, 6)
        2.0
    """
    src = np.asarray(source, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 3 or src.shape[0] < 3:
        raise ValueError(f"expected two (N >= 3, 3) arrays, got {src.shape} and {dst.shape}")
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    xs, xd = src - mu_s, dst - mu_d
    cov = xd.T @ xs / len(src)
    u, d, vt = np.linalg.svd(cov)
    sign = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[2, 2] = -1.0
    rot = u @ sign @ vt
    var_s = float((xs**2).sum() / len(src))
    scale = float(np.trace(np.diag(d) @ sign) / var_s)
    return Similarity(scale, rot, mu_d - scale * rot @ mu_s)


def closest_points_on_triangles(
    points: NDArray[np.floating], a: NDArray[np.floating], b: NDArray[np.floating], c: NDArray[np.floating]
) -> NDArray[np.float64]:
    """Closest point on triangle ``(a, b, c)`` to each point (Ericson, *Real-Time Collision Detection*, 5.1.5).

    Args:
        points: ``(N, 3)``.
        a: ``(N, 3)`` first corners, one triangle per point.
        b: ``(N, 3)`` second corners.
        c: ``(N, 3)`` third corners.

    Returns:
        ``(N, 3)`` closest points (on the triangle, its edges or corners).
    """
    p = np.asarray(points, np.float64)
    a, b, c = (np.asarray(x, np.float64) for x in (a, b, c))
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = _dot(ab, ap), _dot(ac, ap)
    bp = p - b
    d3, d4 = _dot(ab, bp), _dot(ac, bp)
    cp = p - c
    d5, d6 = _dot(ab, cp), _dot(ac, cp)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    denom = va + vb + vc
    denom = np.where(np.abs(denom) < 1e-30, 1e-30, denom)
    v = vb / denom
    w = vc / denom
    out = a + ab * v[:, None] + ac * w[:, None]  # interior (overwritten below where a feature region applies)
    # edge regions
    e_ab = (vc <= 0) & (d1 >= 0) & (d3 <= 0)
    t_ab = d1 / np.where(d1 - d3 == 0, 1e-30, d1 - d3)
    out = np.where(e_ab[:, None], a + ab * t_ab[:, None], out)
    e_ac = (vb <= 0) & (d2 >= 0) & (d6 <= 0)
    t_ac = d2 / np.where(d2 - d6 == 0, 1e-30, d2 - d6)
    out = np.where(e_ac[:, None], a + ac * t_ac[:, None], out)
    e_bc = (va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0)
    den_bc = (d4 - d3) + (d5 - d6)
    t_bc = (d4 - d3) / np.where(den_bc == 0, 1e-30, den_bc)
    out = np.where(e_bc[:, None], b + (c - b) * t_bc[:, None], out)
    # vertex regions
    out = np.where(((d1 <= 0) & (d2 <= 0))[:, None], a, out)
    out = np.where(((d3 >= 0) & (d4 <= d3))[:, None], b, out)
    out = np.where(((d6 >= 0) & (d5 <= d6))[:, None], c, out)
    return out


def _dot(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.einsum("ij,ij->i", x, y)


def point_to_surface_distances(
    points: NDArray[np.floating],
    vertices: NDArray[np.floating],
    triangles: NDArray[np.integer],
    candidates: int = 24,
) -> NDArray[np.float64]:
    """Distance from each point to the nearest point of a triangle mesh.

    Candidate triangles per point are the ``candidates`` triangles whose corners are nearest to it (a KD-tree on
    the vertices; each vertex votes for the triangles around it); the exact point–triangle distance is then taken
    over those. On a mesh of small, well-shaped triangles (the ICT head) this equals the brute-force minimum.

    Args:
        points: ``(N, 3)`` query points, metres.
        vertices: ``(V, 3)`` mesh vertices, metres.
        triangles: ``(T, 3)`` vertex ids.
        candidates: nearest vertices examined per point (all triangles around each are tested).

    Returns:
        ``(N,)`` distances, metres.
    """
    p = np.asarray(points, np.float64)
    v = np.asarray(vertices, np.float64)
    t = np.asarray(triangles, np.int64)
    used = np.unique(t)
    k = min(candidates, len(used))
    _, nearest = cKDTree(v[used]).query(p, k=k)
    nearest = used[np.asarray(nearest).reshape(len(p), k)]
    # vertex → triangles incidence in CSR form
    order = np.argsort(t.ravel(), kind="stable")
    tri_of = order // 3
    starts = np.searchsorted(t.ravel()[order], np.arange(len(v) + 1))
    best = np.full(len(p), np.inf)
    for j in range(k):
        vid = nearest[:, j]
        lo, hi = starts[vid], starts[vid + 1]
        for slot in range(int((hi - lo).max(initial=0))):
            has = lo + slot < hi
            if not has.any():
                break
            rows = np.flatnonzero(has)
            tri = t[tri_of[lo[rows] + slot]]
            q = closest_points_on_triangles(p[rows], v[tri[:, 0]], v[tri[:, 1]], v[tri[:, 2]])
            d = np.linalg.norm(q - p[rows], axis=1)
            best[rows] = np.minimum(best[rows], d)
    return best


def region_triangles(model: LinearHeadModel, *parts: str) -> NDArray[np.int32]:
    """``(T', 3)`` the model triangles whose three corners all lie in the named parts."""
    mask = model.part_mask(*parts)
    keep = mask[model.triangles].all(axis=1)
    return np.asarray(model.triangles[keep], dtype=np.int32)


@dataclass(frozen=True, eq=False)
class GeometryError:
    """Per-vertex error of one reconstruction.

    Attributes:
        distances_mm: ``(N,)`` distance of each ground-truth face vertex to the aligned reconstruction, mm.
        alignment: the similarity applied to the reconstruction.
    """

    distances_mm: NDArray[np.float64]
    alignment: Similarity


def face_geometry_error(
    model: LinearHeadModel,
    ground_truth: NDArray[np.floating],
    reconstruction: NDArray[np.floating],
    surface_parts: tuple[str, ...] = ("face", "head_neck"),
) -> GeometryError:
    """NoW-style error of a reconstruction (module docstring), both meshes in the model's topology.

    Args:
        model: topology, iBUG-68 landmark vertex ids and the evaluated face region (``model.face_vertices``).
        ground_truth: ``(V, 3)`` ground-truth vertices, metres.
        reconstruction: ``(V, 3)`` reconstructed vertices, metres (any frame: the alignment removes it).
        surface_parts: model parts whose triangles form the reconstructed surface.

    Returns:
        Distances in millimetres for ``model.face_vertices`` and the alignment used.
    """
    gt = np.asarray(ground_truth, np.float64)
    rec = np.asarray(reconstruction, np.float64)
    ids = np.asarray(model.landmarks68)[list(NOW_LANDMARKS68)]
    sim = similarity_transform(rec[ids], gt[ids])
    aligned = sim.apply(rec)
    dist = point_to_surface_distances(gt[model.face_vertices], aligned, region_triangles(model, *surface_parts))
    return GeometryError(dist * 1000.0, sim)
