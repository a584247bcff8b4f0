"""Bringing a groom made for another head onto ours: the anchor-point baseline, the default method, metrics.

The thesis' anchor-point method is the baseline; the default is a similarity fit of the roots to the scalp,
re-rooting by scalp UV and a collision push-out.

Anchor-point method (implemented exactly as published, as a baseline; "up" = +y, front-view width = x extent):

* head anchor ``A_head``: of the head points, the 5 % with the highest y; ``A_head = (mean x, max y, mean z)``;
* hair anchor ``A_hair``: of the hair points, the 5 % nearest the strand roots (distance to the nearest root);
  ``A_hair = (mean x, max y, mean z)`` of them;
* ``T = A_hair − A_head + C_T``, ``S = W_hair / W_head + C_S`` with ``W`` the x extents;
* ``p_new = (p_old + T) / S``.

As written, ``T`` moves the hair *away* from the head anchor (a point at ``A_hair`` lands at
``(2·A_hair − A_head) / S``); the constants ``C_T``, ``C_S`` are the method's hand-tuned offsets (0 here). We keep the
formula verbatim — the report shows what it gives — and offer ``sign="corrected"`` (``T = A_head·S − A_hair``,
which lands ``A_hair`` on ``A_head``) for comparison.

Default method: (1) similarity (uniform scale + translation, then a few Umeyama ICP iterations with rotation) that
maps the roots onto the scalp samples; (2) re-rooting: each strand is translated so its root lands on the scalp
sample with the nearest scalp UV (``scalp.scalp_uv``) of its aligned root; (3) collision push-out of every point
to a clearance that grows from 1 mm at the root to 4 mm after 3 cm.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from headcast.hair.scalp import Scalp, scalp_tree, scalp_uv
from headcast.hair.sdf import HeadSDF, push_out, sample_sdf


@dataclass(frozen=True)
class AnchorTransform:
    """Result of the anchor-point method: ``p_new = (p_old + translation) / scale``.

    Attributes:
        head_anchor: ``(3,)`` A_head.
        hair_anchor: ``(3,)`` A_hair.
        translation: ``(3,)`` T.
        scale: S.
    """

    head_anchor: NDArray[np.float64]
    hair_anchor: NDArray[np.float64]
    translation: NDArray[np.float64]
    scale: float

    def apply(self, points: NDArray[np.floating]) -> NDArray[np.float64]:
        """``(..., 3)`` → ``(p + T) / S``."""
        return (np.asarray(points, dtype=np.float64) + self.translation) / self.scale


def top_anchor(points: NDArray[np.floating], fraction: float = 0.05) -> NDArray[np.float64]:
    """``(mean x, max y, mean z)`` of the ``fraction`` of points with the highest y (the thesis' head anchor)."""
    p = np.asarray(points, dtype=np.float64)
    k = max(1, int(np.ceil(fraction * len(p))))
    top = p[np.argsort(p[:, 1])[-k:]]
    return np.array([top[:, 0].mean(), top[:, 1].max(), top[:, 2].mean()])


def root_anchor(points: NDArray[np.floating], roots: NDArray[np.floating], fraction: float = 0.05) -> NDArray:
    """``(mean x, max y, mean z)`` of the ``fraction`` of hair points nearest the strand roots (the hair anchor)."""
    p = np.asarray(points, dtype=np.float64)
    d, _ = cKDTree(np.asarray(roots, dtype=np.float64)).query(p, k=1)
    k = max(1, int(np.ceil(fraction * len(p))))
    near = p[np.argsort(d, kind="stable")[:k]]
    return np.array([near[:, 0].mean(), near[:, 1].max(), near[:, 2].mean()])


def anchor_transform(
    hair_points: NDArray[np.floating], roots: NDArray[np.floating], head_points: NDArray[np.floating],
    c_translation: NDArray[np.floating] | float = 0.0, c_scale: float = 0.0,
    sign: Literal["as_published", "corrected"] = "as_published",
) -> AnchorTransform:
    """The anchor-point alignment (see the module docstring).

    Args:
        hair_points: ``(N, 3)`` all strand points of the groom, in its own frame.
        roots: ``(R, 3)`` the strand roots.
        head_points: ``(V, 3)`` the target head's points.
        c_translation: the constant ``C`` added to ``T`` (scalar or ``(3,)``).
        c_scale: the constant ``C`` added to ``S``.
        sign: ``"as_published"`` keeps ``T = A_hair − A_head``; ``"corrected"`` uses ``T = A_head·S − A_hair``.
    """
    hp = np.asarray(hair_points, dtype=np.float64)
    head = np.asarray(head_points, dtype=np.float64)
    a_head = top_anchor(head)
    a_hair = root_anchor(hp, roots)
    w_hair = float(np.ptp(hp[:, 0]))
    w_head = float(np.ptp(head[:, 0]))
    s = w_hair / w_head + c_scale
    if sign == "as_published":
        t = a_hair - a_head + np.asarray(c_translation, dtype=np.float64)
    else:
        t = a_head * s - a_hair + np.asarray(c_translation, dtype=np.float64)
    return AnchorTransform(a_head, a_hair, np.broadcast_to(t, (3,)).astype(np.float64), float(s))


def umeyama(src: NDArray[np.floating], dst: NDArray[np.floating], with_scale: bool = True) -> tuple:
    """Least-squares similarity ``dst ≈ s · R · src + t`` (Umeyama 1991).

    Returns:
        ``(s, R (3, 3), t (3,))``.
    """
    a = np.asarray(src, dtype=np.float64)
    b = np.asarray(dst, dtype=np.float64)
    ma, mb = a.mean(0), b.mean(0)
    ac, bc = a - ma, b - mb
    cov = bc.T @ ac / len(a)
    u, d, vt = np.linalg.svd(cov)
    e = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        e[2, 2] = -1
    r = u @ e @ vt
    s = float(np.trace(np.diag(d) @ e) / (ac**2).sum() * len(a)) if with_scale else 1.0
    return s, r, mb - s * r @ ma


def fit_roots_to_scalp(roots: NDArray[np.floating], scalp: Scalp, iterations: int = 10) -> tuple:
    """Similarity mapping groom roots onto the scalp: bounding-box initialisation, then ICP (Umeyama).

    The initial guess matches x widths (scale), the top (max y) and the x/z centres of the bounding boxes.

    Returns:
        ``(s, R, t)`` with ``aligned = s · R · p + t``.
    """
    r = np.asarray(roots, dtype=np.float64)
    target = scalp.points
    s = float(np.ptp(target[:, 0]) / max(np.ptp(r[:, 0]), 1e-9))
    rot = np.eye(3)
    t = np.array([
        0.5 * (target[:, 0].min() + target[:, 0].max()) - s * 0.5 * (r[:, 0].min() + r[:, 0].max()),
        target[:, 1].max() - s * r[:, 1].max(),
        0.5 * (target[:, 2].min() + target[:, 2].max()) - s * 0.5 * (r[:, 2].min() + r[:, 2].max()),
    ])
    tree = scalp_tree(scalp, "points")
    sub = r[:: max(1, len(r) // 1500)]
    for _ in range(iterations):
        moved = s * sub @ rot.T + t
        _, idx = tree.query(moved, k=1)
        s, rot, t = umeyama(sub, target[idx])
    return s, rot, t


def reroot(
    strands: Sequence[NDArray[np.floating]] | NDArray[np.floating], scalp: Scalp, sdf: HeadSDF,
) -> list[NDArray[np.float64]]:
    """Re-root strands on the scalp by scalp UV and push them out of the head (default method, steps 2–3).

    Args:
        strands: polylines already roughly in the head's frame, root first.
        scalp: target scalp.
        sdf: target head SDF.

    Returns:
        The moved polylines.
    """
    if isinstance(strands, np.ndarray) and strands.ndim == 3:  # (N, P, 3): one vectorised group
        stacked = np.asarray(strands, dtype=np.float64)
        return list(_reroot_group(stacked, scalp, sdf))
    polys = [np.asarray(s, dtype=np.float64) for s in strands]
    lengths = np.array([len(p) for p in polys])
    if len(polys) and (lengths == lengths[0]).all():
        return list(_reroot_group(np.stack(polys), scalp, sdf))
    out: list[NDArray[np.float64]] = [np.empty((0, 3))] * len(polys)
    for n in np.unique(lengths):  # vectorised over strands of equal point count
        sel = np.flatnonzero(lengths == n)
        q = _reroot_group(np.stack([polys[i] for i in sel]), scalp, sdf)
        for k, i in enumerate(sel):
            out[i] = q[k]
    return out


def _reroot_group(polys: NDArray[np.float64], scalp: Scalp, sdf: HeadSDF) -> NDArray[np.float64]:
    """``reroot`` of ``(N, P, 3)`` strands with the same point count."""
    roots = polys[:, 0]
    _, idx = scalp_tree(scalp, "uv").query(scalp_uv(roots, scalp.centre), k=1)
    q = polys + (scalp.points[idx] - roots)[:, None]
    arc = np.concatenate([np.zeros((len(q), 1)), np.cumsum(np.linalg.norm(np.diff(q, axis=1), axis=2), 1)], 1)
    clearance = 0.001 + 0.003 * np.clip(arc / 0.03, 0.0, 1.0)
    q = push_out(sdf, q, clearance, iterations=3)
    q[:, 0] = scalp.points[idx]
    return q


@dataclass(frozen=True)
class AlignmentReport:
    """Penetration and root gap of a groom on a head (EVALUATION.md, Hair).

    Attributes:
        penetration: share of strand points inside the head (SDF < 0), in [0, 1].
        root_gap_mm: mean distance of the roots to the scalp surface (|SDF|), millimetres.
    """

    penetration: float
    root_gap_mm: float


def alignment_report(strands: Sequence[NDArray[np.floating]] | NDArray[np.floating], sdf: HeadSDF,
                     tolerance: float = 0.0) -> AlignmentReport:
    """Measure penetration (points with SDF < −tolerance) and the mean root-to-scalp distance."""
    polys = [np.asarray(s, dtype=np.float64) for s in strands]
    pts = np.concatenate(polys)
    d, _ = sample_sdf(sdf, pts, with_gradient=False)
    roots = np.array([p[0] for p in polys])
    dr, _ = sample_sdf(sdf, roots, with_gradient=False)
    return AlignmentReport(float((d < -tolerance).mean()), float(np.abs(dr).mean() * 1000.0))
