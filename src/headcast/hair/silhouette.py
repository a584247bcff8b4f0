"""Fast hair silhouettes and orientation images at the photo's camera, and the metrics that compare them.

A strand silhouette is splatted, not rasterised with GL: points are interpolated along each segment to ≤ 1 pixel
spacing, projected with the pinhole model (docs/conventions.md), kept where they are in front of the head's depth
map (or off the head), and the hit pixels are closed with a 3 × 3 kernel. Orientation is the projected segment
direction, averaged per pixel in the doubled-angle representation (so θ and θ + π agree).
"""

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.geometry.camera import Camera, HeadPose, transform_points
from headcast.headmodel.base import LinearHeadModel
from headcast.render.context import Renderer
from headcast.render.raster import render_triangle_ids
from headcast.texture.atlas import opaque_triangle_mask


def head_depth(
    model: LinearHeadModel, vertices: NDArray[np.floating], pose: HeadPose, camera: Camera,
    renderer: Renderer | None = None,
) -> NDArray[np.float32]:
    """``(H, W)`` float32 depth ``-Z`` (metres) of the opaque head at ``camera``; ``inf`` off the head."""
    tris = model.triangles[opaque_triangle_mask(model)]
    cam_v = transform_points(vertices, pose)
    return render_triangle_ids(cam_v, tris, camera, renderer=renderer).depth


Projection = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_],
                   NDArray[np.float64], int]


def _project_polylines(strands: NDArray[np.float64], pose: HeadPose, camera: Camera) -> Projection:
    """Pixels of ``(N, P, 3)`` model-frame polylines, and how finely to sample their segments.

    Returns ``u, v, z`` ``(N, P)`` (pixels; depth ``-Z`` in metres), ``ok`` (in front of the camera; u, v are
    finite but meaningless elsewhere), segment lengths ``(N, P − 1)`` in pixels, and the number of samples per
    segment (1..8) that keeps 90 % of the segments' samples ≤ 1 pixel apart.
    """
    n, p = strands.shape[:2]
    cam = transform_points(strands.reshape(-1, 3), pose).reshape(n, p, 3)
    z = -cam[..., 2]
    ok = z > 1e-3
    u = camera.cx + camera.fx * cam[..., 0] / np.where(ok, z, 1.0)
    v = camera.cy - camera.fy * cam[..., 1] / np.where(ok, z, 1.0)
    seg = np.hypot(np.diff(u, axis=1), np.diff(v, axis=1))
    sub = int(np.clip(np.ceil(np.nanpercentile(seg, 90)), 1, 8))
    return u, v, z, ok, seg, sub


def splat_strands(
    strands: NDArray[np.floating], pose: HeadPose, camera: Camera, depth: NDArray[np.floating] | None = None,
    tolerance: float = 0.004,
) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
    """Visible hair mask and orientation of model-frame polylines at a camera.

    Args:
        strands: ``(N, P, 3)`` polylines in the model frame, metres.
        pose: model → camera transform.
        camera: intrinsics (output size ``camera.height × camera.width``).
        depth: ``(H, W)`` head depth map at ``camera`` (``head_depth``); None draws every point.
        tolerance: a point counts as visible up to this far behind the head surface, metres.

    Returns:
        ``(H, W)`` bool mask and ``(H, W)`` float32 orientation angle in [0, π) (image axes; NaN where no hair).
    """
    h, w = camera.height, camera.width
    mask = np.zeros((h, w), dtype=bool)
    angle = np.full((h, w), np.nan, dtype=np.float32)
    x = np.asarray(strands, dtype=np.float64)
    if x.size == 0:
        return mask, angle
    u, v, z, ok, _, sub = _project_polylines(x, pose, camera)
    t = (np.arange(sub) / sub)[None, None, :]
    uu = (u[:, :-1, None] * (1 - t) + u[:, 1:, None] * t).ravel()
    vv = (v[:, :-1, None] * (1 - t) + v[:, 1:, None] * t).ravel()
    zz = (z[:, :-1, None] * (1 - t) + z[:, 1:, None] * t).ravel()
    du = np.repeat(np.diff(u, axis=1)[..., None], sub, axis=2).ravel()
    dv = np.repeat(np.diff(v, axis=1)[..., None], sub, axis=2).ravel()
    good = np.repeat((ok[:, :-1] & ok[:, 1:])[..., None], sub, axis=2).ravel()
    ix, iy = np.floor(uu).astype(np.int64), np.floor(vv).astype(np.int64)
    good &= (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
    ix, iy, zz, du, dv = ix[good], iy[good], zz[good], du[good], dv[good]
    if depth is not None:
        vis = zz < np.asarray(depth)[iy, ix] + tolerance
        ix, iy, du, dv = ix[vis], iy[vis], du[vis], dv[vis]
    mask[iy, ix] = True
    theta2 = 2.0 * np.arctan2(dv, du)
    lin = iy * w + ix
    c = np.bincount(lin, weights=np.cos(theta2), minlength=h * w).reshape(h, w)
    s = np.bincount(lin, weights=np.sin(theta2), minlength=h * w).reshape(h, w)
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)).astype(bool)
    hit = mask
    angle[hit] = np.mod(0.5 * np.arctan2(s[hit], c[hit]), np.pi).astype(np.float32)
    return closed, angle


def strand_coverage(
    strands: NDArray[np.floating], pose: HeadPose, camera: Camera, depth: NDArray[np.floating] | None,
    density: float = 1.0, scale: float = 1.0, width: float = 3.0, tolerance: float = 0.004,
) -> NDArray[np.float32]:
    """Expected share of each pixel that a splatted silhouette at ``scale`` × the camera's resolution would cover.

    Fitting works on a small copy of the photo's camera and on a subsample of the strands; the metric
    (``splat_strands`` at the photo's resolution with every render strand) sees many more, thinner strands. Each
    pixel collects the projected strand length through it (in pixels of the small camera); the full-resolution
    silhouette covers about ``width`` pixels across each strand, so the expected number of hits is
    ``λ = density · length · width / scale`` and the covered share ``1 − exp(−λ)`` (strands independent).

    Args:
        strands: ``(N, P, 3)`` model-frame polylines, metres.
        pose: model → camera transform.
        camera: the (small) camera.
        depth: ``(H, W)`` head depth map at ``camera``; None draws every point.
        density: strands the metric sees per strand given here.
        scale: the metric's resolution over ``camera``'s (e.g. photo long side / 160).
        width: the metric's silhouette width of one strand, pixels at its resolution.
        tolerance: visibility tolerance behind the head surface, metres.

    Returns:
        ``(H, W)`` float32 coverage in [0, 1].
    """
    h, w = camera.height, camera.width
    x = np.asarray(strands, dtype=np.float64)
    if x.size == 0:
        return np.zeros((h, w), np.float32)
    u, v, z, ok, seg, sub = _project_polylines(x, pose, camera)
    t = ((np.arange(sub) + 0.5) / sub)[None, None, :]
    uu = (u[:, :-1, None] * (1 - t) + u[:, 1:, None] * t).ravel()
    vv = (v[:, :-1, None] * (1 - t) + v[:, 1:, None] * t).ravel()
    zz = (z[:, :-1, None] * (1 - t) + z[:, 1:, None] * t).ravel()
    length = np.repeat(seg[..., None] / sub, sub, axis=2).ravel()
    good = np.repeat((ok[:, :-1] & ok[:, 1:])[..., None], sub, axis=2).ravel()
    ix, iy = np.floor(uu).astype(np.int64), np.floor(vv).astype(np.int64)
    good &= (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
    if depth is not None:
        good[good] = zz[good] < np.asarray(depth)[iy[good], ix[good]] + tolerance
    total = np.bincount(iy[good] * w + ix[good], weights=length[good], minlength=h * w).reshape(h, w)
    return (1.0 - np.exp(-density * total * width / scale)).astype(np.float32)


def soft_iou(a: NDArray[np.floating], b: NDArray[np.floating]) -> float:
    """IoU of two ``(H, W)`` coverage maps in [0, 1] (Σ min / Σ max); 1.0 when both are empty."""
    union = np.maximum(a, b).sum()
    return 1.0 if union == 0 else float(np.minimum(a, b).sum() / union)


def mask_iou(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    """Intersection over union of two ``(H, W)`` masks; 1.0 when both are empty."""
    inter = np.logical_and(a, b).sum()
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(inter / union)


def orientation_error_deg(
    a: NDArray[np.floating], b: NDArray[np.floating], weight: NDArray[np.floating] | None = None
) -> float:
    """Weighted mean undirected angle difference in degrees (θ ≡ θ + π), over pixels where both are finite.

    Args:
        a: ``(H, W)`` angles in radians (NaN = none).
        b: ``(H, W)`` angles in radians (NaN = none).
        weight: ``(H, W)`` non-negative weights (e.g. the photo's orientation confidence); uniform when None.

    Returns:
        Mean error in [0, 90] degrees; NaN when no pixel has both.
    """
    diff = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)) % np.pi
    diff = np.minimum(diff, np.pi - diff)
    wt = np.ones_like(diff) if weight is None else np.asarray(weight, np.float64)
    ok = np.isfinite(diff) & (wt > 0)
    if not ok.any():
        return float("nan")
    return float(np.degrees((diff[ok] * wt[ok]).sum() / wt[ok].sum()))
