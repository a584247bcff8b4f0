"""Hair reconstruction from one photo: library retrieval, a coarse parameter search, then a fine fit to the outline.

The strands, seen at the fitted camera, should cover the photo's hair mask (BiSeNet) and follow its orientation map.

1. **Retrieval** (coarse objective ``IoU − w · orientation error (degrees)``, on a coarse guide grid interpolated to a
   few hundred strands without collision passes, at a small copy of the camera, ``fit_long_side`` pixels): every
   authored style of the kind the photo shows (``retrieval_pool``: shaved, curly or straight, tied or loose, long,
   fringe or bare forehead — a fringe that ends and slants as the photo's, ``fringe_fit``); the best few are
   re-scored finer and ranked by the mean of both scores.
2. **Coarse search**: a higher front hairline (unless the scalp was read off the photo, ``hairline.photo_scalp``),
   then one round of coordinate search over lengths, gravity, fringe, parting and its depth, and per-guide lengths
   from the silhouette (``silhouette_length_scale``, never below ``min_length``). A step is kept only when the score
   rises.
3. **Fine stage** (``_FineStage``) on the final guide grid, grown once: the scalp the photo shows bare is dropped
   (``bare_scalp``, within 60° of the face's direction), strands retract from the bare skin the photo shows above
   the brows (``forehead_skin``, ``skin_cut``: a library fringe or hair body that falls over a bare forehead ends
   at the hairline), the hair layer is lifted to the photo's outline angle by angle (``outline_lift``), hanging
   hair is widened row by row (``width_warp``), guides are cut where they leave the photo's hair
   (``silhouette_trim``, never below ``min_length``), and the clumping is chosen. Each step is scored by the soft
   IoU of the expected coverage of the photo-resolution silhouette (``silhouette.strand_coverage``) and kept only
   when it rises.

A bald photo gets no hair.
"""

import time
import warnings
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from headcast.fitting.types import FitResult
from headcast.geometry.camera import Camera, HeadPose, transform_points
from headcast.geometry.rotation import axis_angle_to_matrix
from headcast.hair.analysis import srgb_of_lab
from headcast.hair.generator import (
    GrowSettings,
    grow_guides,
    interpolate_strands,
    interpolation_weights,
    resample_polylines,
)
from headcast.hair.head import HairHead, with_front_height
from headcast.hair.library import authored_styles
from headcast.hair.scalp import Scalp, scalp_angles
from headcast.hair.sdf import HeadSDF, sample_sdf
from headcast.hair.silhouette import (
    head_depth,
    mask_iou,
    orientation_error_deg,
    soft_iou,
    splat_strands,
    strand_coverage,
)
from headcast.hair.types import HairAnalysis, HairParams, HairStyle, Strands
from headcast.render.context import Renderer


@dataclass(frozen=True)
class ReconstructSettings:
    """Settings of :func:`reconstruct_hair`.

    Attributes:
        fit_long_side: longer side of the camera used while fitting, pixels.
        coarse_stride: guide-grid stride while fitting (2 = every other row and column).
        coarse_strands: interpolated strands per evaluation while fitting.
        retrieval_stride: guide-grid stride while scoring the library (coarser than refinement).
        retrieval_finalists: best retrieved styles re-scored at the refinement stride.
        rounds: coordinate-search rounds.
        length_passes: passes of per-guide length refinement from the silhouette (``silhouette_length_scale``).
        volume_passes: closed-loop passes of the outline lift per fine round (``outline_lift``; a pass is kept
            only if the score rises, an overshoot is retried at half the step).
        hairline_raises: front-hairline offsets tried after retrieval, brow-to-nose-base units.
        exclude_tags: library styles with these tags are not retrieved automatically (rare looks that the
            silhouette alone over-selects: shaved sides fit a frontal hair mask well); they stay available by name.
        curly_coherence: curly styles are retrieved only below this ``HairAnalysis.coherence``.
        loose_below_ear: ``HairAnalysis.loose_area`` (face heights²) from which the hair counts as worn loose.
        long_below_chin: ``HairAnalysis.lowest_below_chin`` (face heights) from which short styles are not retrieved.
        fringe_evidence: ``HairAnalysis.fringe`` from which the retrieved style has a fringe.
        bare_forehead: ``HairAnalysis.fringe`` below which it has none.
        orientation_weight: score lost per degree of orientation error.
        fine_strands: strands per evaluation of the fine stage (on the final guide grid).
        fine_rounds: rounds of lift, width and trim in the fine stage.
        min_length: the length fitting and the trim leave every guide at least this long, metres.
        grow: settings of the final groom.
    """

    fit_long_side: int = 160
    coarse_stride: int = 2
    coarse_strands: int = 800
    retrieval_stride: int = 3
    retrieval_finalists: int = 3
    rounds: int = 1
    length_passes: int = 1
    volume_passes: int = 3
    fine_strands: int = 2000
    fine_rounds: int = 2
    min_length: float = 0.015
    hairline_raises: tuple[float, ...] = (0.3,)
    exclude_tags: tuple[str, ...] = ("mohawk", "punk", "undercut")
    curly_coherence: float = 0.5
    loose_below_ear: float = 0.02
    long_below_chin: float = 0.3
    fringe_evidence: float = 0.55
    bare_forehead: float = 0.3
    orientation_weight: float = 0.002
    grow: GrowSettings = field(default_factory=GrowSettings)


@dataclass(frozen=True, eq=False)
class HairReconstruction:
    """Result of :func:`reconstruct_hair`.

    Attributes:
        strands: the groom (None for a bald head).
        style: name of the retrieved library style.
        params: refined generator parameters (None when bald).
        iou: hair IoU of the final groom at the fitted camera, as estimated by the fine stage (the expected
            coverage of the photo-resolution silhouette, ``strand_coverage``, thresholded at 0.5, against the hair
            mask at ``fit_long_side`` resolution); ``eval.hair_metrics.silhouette_iou`` measures it exactly.
        orientation_error_deg: confidence-weighted mean orientation error, degrees (NaN when bald).
        evaluations: objective evaluations used.
        seconds: wall time of the reconstruction.
    """

    strands: Strands | None
    style: str
    params: HairParams | None
    iou: float
    orientation_error_deg: float
    evaluations: int
    seconds: float


@dataclass(frozen=True, eq=False)
class _Target:
    camera_scale: float
    mask: NDArray[np.bool_]
    angle: NDArray[np.float32]
    confidence: NDArray[np.float32]
    depth: NDArray[np.float32]
    soft: NDArray[np.float32]


def _target(analysis: HairAnalysis, fit: FitResult, head: HairHead, settings: ReconstructSettings,
            renderer: Renderer | None) -> tuple[_Target, Camera]:
    cam = fit.camera
    scale = settings.fit_long_side / max(cam.width, cam.height)
    small = cam.scaled(scale)
    size = (small.width, small.height)
    soft = np.asarray(cv2.resize(analysis.hair.astype(np.float32), size, interpolation=cv2.INTER_AREA), np.float32)
    mask = soft > 0.5
    angle = np.asarray(cv2.resize(analysis.orientation, size, interpolation=cv2.INTER_NEAREST), dtype=np.float32)
    conf = np.asarray(cv2.resize(analysis.confidence, size, interpolation=cv2.INTER_AREA), dtype=np.float32)
    depth = head_depth(head.model, head.posed_vertices, fit.params.pose, small, renderer)
    return _Target(scale, mask, angle, conf, depth, soft), small


def _objective(mask: NDArray[np.bool_], angle: NDArray[np.float32], target: _Target, s: ReconstructSettings) -> float:
    iou = mask_iou(mask, target.mask)
    err = orientation_error_deg(angle, target.angle, target.confidence * target.mask)
    return iou - s.orientation_weight * (45.0 if np.isnan(err) else err)


def inflate_guides(
    guides: NDArray[np.floating], lift: NDArray[np.floating], sdf: HeadSDF, ramp: float = 0.025,
    rigid_from: float | None = None,
) -> NDArray[np.float64]:
    """Lift whole hair layers off the head: each point moves ``lift`` along the head's outward SDF normal.

    The offset ramps in smoothly over the first ``ramp`` metres of arc length (roots stay on the scalp) and fades
    out where the surface faces forwards (normal z from 0.2 to 0.6: the forehead and the front hairline, so a fringe
    is not pushed off the face and hair combed back does not stand off the forehead).

    Args:
        guides: ``(G, P, 3)`` polylines, root first, metres.
        lift: ``(G,)`` offsets per guide or ``(G, P)`` per point, metres (negative: towards the head, stopping
            about 2 mm off it: one step along the gradient).
        sdf: the head's signed distance.
        ramp: arc length over which the offset ramps in, metres.
        rigid_from: for gathered styles, the share of the points after which the polyline (the tail or bun) moves
            rigidly with the gather point instead.

    Returns:
        ``(G, P, 3)`` lifted polylines.
    """
    g = np.asarray(guides, dtype=np.float64)
    seg = np.linalg.norm(np.diff(g, axis=1), axis=2)
    t = np.clip(np.concatenate([np.zeros((len(g), 1)), np.cumsum(seg, axis=1)], axis=1) / ramp, 0.0, 1.0)
    dist, grad = sample_sdf(sdf, g)
    assert grad is not None
    n = grad / np.maximum(np.linalg.norm(grad, axis=-1, keepdims=True), 1e-9)
    w = np.clip((0.6 - n[..., 2]) / 0.4, 0.0, 1.0)
    lift = np.asarray(lift, dtype=np.float64)
    lift = lift[:, None] if lift.ndim == 1 else lift
    amount = lift * t * t * (3.0 - 2.0 * t) * w
    amount = np.maximum(amount, np.minimum(0.0, 0.002 - dist))  # lowering stops about 2 mm off the head
    offset = amount[..., None] * n
    if rigid_from is not None:
        k = round(rigid_from * (g.shape[1] - 1))
        offset[:, k + 1 :] = offset[:, k : k + 1]
    return g + offset


def bare_scalp(head: HairHead, fit: FitResult, analysis: HairAnalysis, max_azimuth_deg: float = 60.0) -> HairHead:
    """The head with the scalp cut back where the photo shows bare skin (a receding or high hairline, temples).

    A scalp sample (and a guide root) is dropped when it faces the camera (normal · view < −0.05; on the upper
    head nothing else hides such a point), lies within ``max_azimuth_deg`` of the face's direction (|ψ|; the sides
    of the head are seen edge-on, where a few pixels of fitting error put the scalp on the face's skin) and projects,
    at the photo's resolution, onto facial skin that is not hair.
    """
    scalp = head.scalp
    bare_px = analysis.skin & ~analysis.hair
    h, w = bare_px.shape
    cam = fit.camera

    def bare(points: NDArray[np.float64], normals: NDArray[np.float64]) -> NDArray[np.bool_]:
        _, psi = scalp_angles(points, scalp.centre)
        pc = transform_points(points, fit.params.pose)
        nc = transform_points(points + 0.01 * normals, fit.params.pose) - pc
        facing = np.einsum("nd,nd->n", nc / 0.01, pc / np.linalg.norm(pc, axis=1, keepdims=True)) < -0.05
        z = np.maximum(-pc[:, 2], 1e-6)
        u = np.floor(cam.cx + cam.fx * pc[:, 0] / z).astype(np.int64)
        v = np.floor(cam.cy - cam.fy * pc[:, 1] / z).astype(np.int64)
        on = (u >= 0) & (u < w) & (v >= 0) & (v < h)
        front = np.abs(psi) <= np.deg2rad(max_azimuth_deg)
        return np.asarray(facing & front & on & bare_px[np.clip(v, 0, h - 1), np.clip(u, 0, w - 1)], dtype=bool)

    keep = ~bare(scalp.points, scalp.normals)
    valid = scalp.guide_valid.copy()
    valid[valid] = ~bare(scalp.guide_roots[valid], scalp.guide_normals[valid])
    if keep.all() and (valid == scalp.guide_valid).all():
        return head
    culled = replace(scalp, points=scalp.points[keep], normals=scalp.normals[keep], uv=scalp.uv[keep],
                     guide_valid=valid)
    return replace(head, scalp=culled)


def forehead_skin(analysis: HairAnalysis, landmarks68: NDArray[np.floating]) -> NDArray[np.bool_]:
    """``(H, W)`` the facial skin the photo shows bare above the brow line: forehead and temples, no hair.

    The brow line runs through landmarks 17–26 (linear in the column, held level beyond the outer brow ends); a
    pixel above it that BiSeNet parses as facial skin and not as hair is bare forehead.

    Args:
        analysis: the photo's hair analysis (``skin``, ``hair`` masks at the photo's resolution).
        landmarks68: ``(68, 2)`` image landmarks, pixels.
    """
    h, w = analysis.skin.shape
    brows = np.asarray(landmarks68, dtype=np.float64)[17:27]
    order = np.argsort(brows[:, 0])
    brow_row = np.interp(np.arange(w) + 0.5, brows[order, 0], brows[order, 1])
    above = (np.arange(h)[:, None] + 0.5) < brow_row[None, :]
    return np.asarray(analysis.skin & ~analysis.hair & above, dtype=bool)


def skin_cut(
    points: NDArray[np.floating], pose: HeadPose, camera: Camera, bare: NDArray[np.bool_], depth: NDArray[np.floating],
    tolerance: float = 0.004, floor: float = 0.002,
) -> NDArray[np.float64]:
    """``(N,)`` kept share of each strand: it ends before its first visible point over skin the photo shows bare.

    A point (the root excepted) counts when it projects onto ``bare`` (``forehead_skin``) and is visible, i.e. not
    more than ``tolerance`` behind the head's depth at its pixel (as ``silhouette.splat_strands`` draws it): such a
    strand lies in front of skin that the photo shows, so the photo says it is not there. The strand keeps its
    points before that one (a library fringe or hair body that falls over a bare forehead retracts to the
    hairline); at least ``floor`` metres stay (no zero-length strands). Apply with
    ``generator.resample_polylines(points, P, share)``.

    Args:
        points: ``(N, P, 3)`` model-frame polylines, root first, metres.
        pose: model → camera transform.
        camera: the photo's camera (``bare``'s resolution).
        bare: ``(H, W)`` bool bare-skin mask at ``camera``.
        depth: ``(h, w)`` head depth ``-Z`` (metres, ``silhouette.head_depth``) at a camera of the same field of
            view and aspect as ``camera`` (any resolution: the fitting camera's is enough).
        tolerance: visibility tolerance behind the head surface, metres.
        floor: the least arc length kept, metres.

    Returns:
        ``(N,)`` float64 shares in (0, 1].
    """
    x = np.asarray(points, dtype=np.float64)
    n, p = x.shape[:2]
    if n == 0:
        return np.ones(0)
    h, w = bare.shape
    dh, dw = depth.shape
    pc = transform_points(x.reshape(-1, 3), pose)
    z = np.maximum(-pc[:, 2], 1e-6)
    u = camera.cx + camera.fx * pc[:, 0] / z
    v = camera.cy - camera.fy * pc[:, 1] / z
    ui, vi = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)
    on = (ui >= 0) & (ui < w) & (vi >= 0) & (vi < h)
    du = np.clip(np.floor(u * dw / w).astype(np.int64), 0, dw - 1)
    dv = np.clip(np.floor(v * dh / h).astype(np.int64), 0, dh - 1)
    seen = z <= depth[dv, du] + tolerance
    hit = (on & seen & bare[np.clip(vi, 0, h - 1), np.clip(ui, 0, w - 1)]).reshape(n, p)
    hit[:, 0] = False
    first = np.where(hit.any(axis=1), np.argmax(hit, axis=1), p)  # index of the first bad point (p: none)
    share = np.maximum(first - 1, 0) / (p - 1)
    arc = np.linalg.norm(np.diff(x, axis=1), axis=2).sum(axis=1)
    return np.asarray(np.clip(np.maximum(share, floor / np.maximum(arc, 1e-9)), 0.0, 1.0), dtype=np.float64)


def _rigid_from(params: HairParams) -> float | None:
    """Share of a gathered style's guide points that lie over the scalp (``generator._grow_updo``); None if loose."""
    return None if params.updo == "none" else 0.44


@dataclass(frozen=True, eq=False)
class _Groom:
    """What the coarse fit varies: generator parameters, the head (front hairline), per-guide length factors."""

    params: HairParams
    head: HairHead
    length_scale: NDArray[np.float64] | None = None

    def guides(self, grow: GrowSettings, cells: NDArray[np.bool_] | None = None, points: int | None = None
               ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """``(G, points, 3)`` valid guides and the ``(32, 32)`` validity mask."""
        guides, valid = grow_guides(self.params, self.head.scalp, self.head.sdf, grow, cell_mask=cells,
                                    length_scale=self.length_scale)
        g = np.asarray(guides[valid], dtype=np.float64)
        if points is not None:
            g = resample_polylines(g, points)
        return g, valid


def _coarse(groom: _Groom, settings: ReconstructSettings, stride: int | None = None) -> NDArray[np.float64]:
    k = settings.coarse_stride if stride is None else stride
    head = groom.head
    cells = np.zeros(head.scalp.guide_valid.shape, dtype=bool)
    cells[::k, ::k] = True
    grow = replace(settings.grow, render_strands=settings.coarse_strands, render_points=10, guide_points=24)
    g, valid = groom.guides(grow, cells, grow.render_points)
    pick, idx, w = interpolation_weights(head.scalp, valid, grow.render_strands, grow.seed)
    rel = g - g[:, :1]
    return head.scalp.points[pick][:, None] + np.einsum("nk,nkpd->npd", w, rel[idx])


def _candidates(p: HairParams) -> list[HairParams]:
    out: list[HairParams] = []
    for f in (0.8, 1.25):
        out.append(replace(p, length_top=p.length_top * f, length_front=p.length_front * f,
                           length_sides=p.length_sides * f, length_back=p.length_back * f))
    for name in ("length_sides", "length_back", "length_top", "length_front"):
        for f in (0.7, 1.4):
            out.append(replace(p, **{name: getattr(p, name) * f}))
    floor = min(p.gravity, 0.3)  # low gravity makes long strands stand out as spikes: only for styles built so
    for dg in (-0.25, 0.2):
        g = float(np.clip(p.gravity + dg, floor, 1.0))
        if abs(g - p.gravity) > 1e-6:
            out.append(replace(p, gravity=g))
    out.append(replace(p, fringe=0.0 if p.fringe > 0.5 else 1.0))
    out.append(replace(p, part_depth=0.0 if p.part_depth > 0.5 else 1.0))
    for part in (-0.6, 0.6):
        if abs(part - p.parting) > 0.3:
            out.append(replace(p, parting=part))
    return out


def _points_in_hair(
    points: NDArray[np.floating], fit: FitResult, camera: Camera, target: "_Target"
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Which of ``(N, P, 3)`` model-frame points fall in the photo's hair, with their pixel ``u``, ``v`` and depth.

    A point is in the hair when it projects into the (3 × 3 dilated) hair mask or lies hidden behind the head
    (more than 4 mm behind the head's depth at its pixel). Returns four ``(N, P)`` arrays: inside, u, v (pixels),
    depth (metres, ≥ 1e-6).
    """
    n, p = points.shape[:2]
    cam = transform_points(points.reshape(-1, 3), fit.params.pose)
    z = np.maximum(-cam[:, 2], 1e-6)
    uf = camera.cx + camera.fx * cam[:, 0] / z
    vf = camera.cy - camera.fy * cam[:, 1] / z
    u, v = np.floor(uf).astype(np.int64), np.floor(vf).astype(np.int64)
    h, w = target.mask.shape
    on = (u >= 0) & (u < w) & (v >= 0) & (v < h)
    uc, vc = np.clip(u, 0, w - 1), np.clip(v, 0, h - 1)
    mask = cv2.dilate(target.mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    hidden = z > target.depth[vc, uc] + 0.004
    inside = (on & (mask[vc, uc] | hidden)).reshape(n, p)
    return inside, uf.reshape(n, p), vf.reshape(n, p), z.reshape(n, p)


def silhouette_length_scale(
    groom: _Groom, fit: FitResult, camera: Camera, target: "_Target", min_length: float = 0.0
) -> NDArray[np.float64]:
    """Per-guide length factors that make strands end where the photo's hair ends.

    Each guide is projected at the fitted camera; it is cut after its last point of the initial run of points
    that are inside the (3 × 3 dilated) photo hair mask or hidden behind the head; a guide whose tip is still inside
    is lengthened by the photo's hair beyond its tip (the run of hair pixels continuing along the tip's image
    direction, in metres at the tip's depth, +10 %). The factors are median-filtered over the grid (3 × 3) and
    clipped to [0.15, 2.5], and never leave a guide shorter than ``min_length`` metres (hair cut to a few
    millimetres looks like bare skin from the side).

    Returns:
        ``(32, 32)`` factors (1 where no guide), multiplied into ``groom.length_scale`` when it has one.
    """
    head = groom.head
    base = np.ones(head.scalp.guide_valid.shape) if groom.length_scale is None else groom.length_scale
    g, valid = groom.guides(replace(GrowSettings(), guide_points=24), points=24)
    p = g.shape[1]
    h, w = target.mask.shape
    inside, tip_u, tip_v, z = _points_in_hair(g, fit, camera, target)
    inside[:, 0] = True
    run = np.cumprod(inside, axis=1).astype(bool)
    last = run.sum(axis=1) - 1  # index of the last point of the initial inside run
    # a tip still inside: lengthen by the photo's hair left beyond it, marching on along the tip's direction
    du, dv = tip_u[:, -1] - tip_u[:, -3], tip_v[:, -1] - tip_v[:, -3]
    norm = np.hypot(du, dv)
    du, dv = np.where(norm > 1e-6, du / np.maximum(norm, 1e-6), 0.0), np.where(norm > 1e-6, dv / np.maximum(norm, 1e-6),
                                                                                1.0)
    k = np.arange(1, 81)[None, :]
    mu = np.floor(tip_u[:, -1:] + du[:, None] * k).astype(np.int64)
    mv = np.floor(tip_v[:, -1:] + dv[:, None] * k).astype(np.int64)
    m_on = (mu >= 0) & (mu < w) & (mv >= 0) & (mv < h)
    more = np.cumprod(m_on & target.mask[np.clip(mv, 0, h - 1), np.clip(mu, 0, w - 1)], axis=1).sum(axis=1)
    arc = np.linalg.norm(np.diff(g, axis=1), axis=2).sum(axis=1)
    grow_by = 1.0 + 1.1 * more * z[:, -1] / camera.fx / np.maximum(arc, 1e-3)
    factor = np.where(last >= p - 1, np.clip(grow_by, 1.0, 2.5), np.maximum(last, 1) / (p - 1))
    grid = np.full(valid.shape, np.nan)
    grid[valid] = factor
    padded = np.pad(grid, 1, constant_values=np.nan)
    stack = np.stack([padded[i : i + valid.shape[0], j : j + valid.shape[1]] for i in range(3) for j in range(3)])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows (off the scalp) give NaN, replaced below
        smooth = np.nanmedian(stack, axis=0)
    smooth = np.where(valid, np.clip(np.nan_to_num(smooth, nan=1.0), 0.15, 2.5), 1.0)
    floor = np.ones(valid.shape)
    floor[valid] = min_length / np.maximum(arc, 1e-6)
    return np.clip(np.maximum(base * smooth, np.minimum(floor, 1.0) * base), 0.05, 3.0)


def outline_radii(mask: NDArray[np.bool_], centre: tuple[float, float], bins: int) -> NDArray[np.float64]:
    """``(bins,)`` outermost radius of ``mask`` pixels around ``centre`` per angle bin (0 where none), pixels.

    Bin 0 starts at image up (−v) and angles grow clockwise (towards +u).
    """
    vv, uu = np.nonzero(mask)
    if len(uu) == 0:
        return np.zeros(bins)
    du, dv = uu + 0.5 - centre[0], vv + 0.5 - centre[1]
    k = (np.floor(np.mod(np.arctan2(du, -dv), 2 * np.pi) / (2 * np.pi) * bins).astype(np.int64)) % bins
    out = np.zeros(bins)
    np.maximum.at(out, k, np.hypot(du, dv))
    return out


def outline_lift(
    guides: NDArray[np.float64], head: HairHead, fit: FitResult, camera: Camera, photo: NDArray[np.bool_],
    render: NDArray[np.bool_], gain: float = 0.9, bins: int = 120, half_angle_deg: float = 115.0,
    rigid_from: float | None = None,
) -> NDArray[np.float64] | None:
    """Guides lifted off (or lowered onto) the head so that the outline matches the photo's, angle by angle.

    Around the skull centre's image, the outermost photo and render hair radii are compared per 3° (within
    ``half_angle_deg`` of straight up: the top and the sides; lower down ``width_warp`` fits hanging hair); the
    differences, smoothed over the angles, become metres at the skull centre's depth. Every guide point moves by
    ``gain`` × the difference at its own image angle along the head's outward SDF normal (``inflate_guides``'
    ramp and forehead fade; never closer to the head than 2 mm), so the points on the outline move it and those
    seen face-on hardly change the picture. None when no angle has hair in both.

    Returns:
        ``(G, P, 3)`` moved guides, or None.
    """
    pose = fit.params.pose
    cc = transform_points(head.scalp.centre[None], pose)[0]
    zc = -cc[2]
    centre = (camera.cx + camera.fx * cc[0] / zc, camera.cy - camera.fy * cc[1] / zc)
    rp, rr = outline_radii(photo, centre, bins), outline_radii(render, centre, bins)
    ang = (np.arange(bins) + 0.5) / bins * 360.0
    ok = (rp > 0) & (rr > 0) & ((ang <= half_angle_deg) | (ang >= 360.0 - half_angle_deg))
    if not ok.any():
        return None
    num = ndimage.gaussian_filter1d(np.where(ok, rp - rr, 0.0), 1.5, mode="wrap")
    den = ndimage.gaussian_filter1d(ok.astype(np.float64), 1.5, mode="wrap")
    delta = np.where(den > 0.2, num / np.maximum(den, 1e-9), 0.0) * gain * zc / camera.fx
    n, p = guides.shape[:2]
    pc = transform_points(guides.reshape(-1, 3), pose)
    z = np.maximum(-pc[:, 2], 1e-6)
    du = camera.cx + camera.fx * pc[:, 0] / z - centre[0]
    dv = camera.cy - camera.fy * pc[:, 1] / z - centre[1]
    k = (np.floor(np.mod(np.arctan2(du, -dv), 2 * np.pi) / (2 * np.pi) * bins).astype(np.int64)) % bins
    return inflate_guides(guides, delta[k].reshape(n, p), head.sdf, rigid_from=rigid_from)


def fringe_fit(analysis: HairAnalysis, fit: FitResult, head: HairHead) -> tuple[float, float]:
    """``(fringe_stop, fringe_sweep)`` of :class:`HairParams` read off the photo's fringe.

    The stop is the photo's fringe end (``HairAnalysis.fringe_y``) above the brow line (mean row of landmarks
    17–26), in metres at the depth of the fitted head's brows, clipped to [−1 cm, 5 cm] (6 mm when the photo shows
    no fringe end); the sweep is ``HairAnalysis.fringe_slant``.
    """
    lm = np.asarray(fit.landmarks68_2d, dtype=np.float64)
    brow_row = float(lm[17:27, 1].mean())
    if np.isnan(analysis.fringe_y):
        return 0.006, analysis.fringe_slant
    brows = transform_points(head.posed_vertices[head.model.landmarks68[17:27]], fit.params.pose)
    metres_per_px = float(np.mean(-brows[:, 2])) / fit.camera.fy
    stop = float(np.clip((brow_row - analysis.fringe_y) * metres_per_px, -0.01, 0.05))
    return stop, analysis.fringe_slant


def retrieval_pool(
    analysis: HairAnalysis, styles: tuple[HairStyle, ...], s: ReconstructSettings,
    fringe: tuple[float, float] = (0.006, 0.0),
) -> list[HairStyle]:
    """The library styles that retrieval scores for this photo: those of the kind the photo shows.

    Generator styles only, without the ``exclude_tags``, and without a parting unless tagged ``side part`` (a
    frontal photo seldom shows one, and a parted groom shows the scalp along the line; the search may still add
    one). Then the kind, from the photo's evidence (``HairAnalysis``), each rule applied only when it leaves a
    style:

    * **shaved** (a thin layer of hair over the skull): only styles tagged ``shaved`` or ``buzz`` (a thin band of
      hair otherwise matches the scalp part of a bun or a ponytail best);
    * **curls**: curly styles (tags ``curly``, ``afro``) when the strand direction is locally incoherent
      (``coherence`` below ``curly_coherence``: a silhouette alone does not tell curls from a short straight cut),
      the others otherwise;
    * **tied or loose**: a tail over one shoulder (``tail_side``) → only the ponytail and braid styles, worn over
      that shoulder; hair hanging below the ear line beside the face (``loose_below_ear``) → no gathered styles;
      hair reaching below the chin (``long_below_chin`` face heights) → no short styles (tag ``short``);
    * **fringe**: a forehead covered by hair (``fringe`` ≥ ``fringe_evidence``) → every loose style is scored with
      a fringe that ends and slants as the photo's (``fringe``: ``(fringe_stop, fringe_sweep)``, ``fringe_fit``);
      a bare forehead (``fringe`` < ``bare_forehead``) → without one.
    """
    pool = [st for st in styles if st.params is not None and not set(st.tags) & set(s.exclude_tags)]
    pool = [
        st if "side part" in st.tags or st.params is None else replace(st, params=replace(st.params, part_depth=0.0))
        for st in pool
    ]

    def narrowed(keep: list[HairStyle]) -> list[HairStyle]:
        return keep or pool

    if analysis.shaved:
        pool = narrowed([st for st in pool if {"shaved", "buzz"} & set(st.tags)])
    if not np.isnan(analysis.coherence):
        curly = analysis.coherence < s.curly_coherence
        pool = narrowed([st for st in pool if bool({"curly", "afro"} & set(st.tags)) == curly])
    if analysis.tail_side != 0.0:
        pool = narrowed([
            replace(st, params=replace(st.params, tail_side=analysis.tail_side))
            for st in pool
            if st.params is not None and st.params.updo in ("ponytail", "braid")
        ])
    else:
        if analysis.loose_area >= s.loose_below_ear:
            pool = narrowed([st for st in pool if st.params is not None and st.params.updo == "none"])
        if analysis.lowest_below_chin >= s.long_below_chin:
            pool = narrowed([st for st in pool if "short" not in st.tags])
    if analysis.fringe >= s.fringe_evidence:
        stop, sweep, share = fringe[0], fringe[1], 1.0
    elif analysis.fringe < s.bare_forehead:
        stop, sweep, share = 0.006, 0.0, 0.0
    else:
        return pool
    return [
        replace(st, params=replace(st.params, fringe=share, fringe_stop=stop, fringe_sweep=sweep))
        if st.params is not None and st.params.updo == "none" else st
        for st in pool
    ]


def hair_colors(analysis: HairAnalysis) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Root and tip sRGB colours in [0, 1] from the analysis' Lab medians.

    The tip's lightness is kept within ±12 L* of the root's: the lower third of a hair mask often catches
    background and flyaways, which made dark hair render with grey tips.
    """
    root = srgb_of_lab(analysis.root_lab)
    tip_lab = np.asarray(analysis.tip_lab, dtype=np.float64).copy()
    tip_lab[0] = np.clip(tip_lab[0], analysis.root_lab[0] - 12.0, analysis.root_lab[0] + 12.0)
    tip = srgb_of_lab(tip_lab)
    return (float(root[0]), float(root[1]), float(root[2])), (float(tip[0]), float(tip[1]), float(tip[2]))


def reconstruct_hair(
    analysis: HairAnalysis,
    fit: FitResult,
    head: HairHead,
    settings: ReconstructSettings | None = None,
    styles: tuple[HairStyle, ...] | None = None,
    renderer: Renderer | None = None,
) -> HairReconstruction:
    """Fit a groom to the photo (see the module docstring).

    Args:
        analysis: the photo's hair analysis.
        fit: the fitted head (camera and pose).
        head: scalp and SDF of the fitted head (``hair.head.prepare_head``).
        settings: fitting settings.
        styles: candidate library styles (the authored generator styles by default).
        renderer: GL owner for the head depth map.
    """
    start = time.perf_counter()
    s = ReconstructSettings() if settings is None else settings
    target, camera = _target(analysis, fit, head, s, renderer)
    if analysis.bald:
        iou = mask_iou(np.zeros_like(target.mask), target.mask)
        return HairReconstruction(None, "bald", None, iou, float("nan"), 0, time.perf_counter() - start)
    pool = retrieval_pool(analysis, authored_styles() if styles is None else styles, s, fringe_fit(analysis, fit, head))
    evals = 0
    pose = fit.params.pose

    def render(groom: _Groom, stride: int | None = None) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
        nonlocal evals
        evals += 1
        return splat_strands(_coarse(groom, s, stride), pose, camera, target.depth)

    def score(groom: _Groom, stride: int | None = None) -> float:
        return _objective(*render(groom, stride), target, s)

    scored = []
    for st in pool:
        assert st.params is not None
        scored.append((score(_Groom(st.params, head), s.retrieval_stride), st))
    # the coarse retrieval is noisy: re-score its top few at the refinement resolution and rank them by the mean of
    # the two scores (two estimates of one silhouette; either alone flips between close styles)
    finalists = []
    for coarse, st in sorted(scored, key=lambda x: -x[0])[: s.retrieval_finalists]:
        assert st.params is not None
        fine_score = score(_Groom(st.params, head))
        finalists.append((0.5 * (coarse + fine_score), fine_score, st))
    _, best_score, best_style = max(finalists, key=lambda x: x[0])
    assert best_style.params is not None
    best = _Groom(best_style.params, head)
    raises = s.hairline_raises if head.photo_keep is None else ()  # a hairline read off the photo stays
    for raise_by in raises:  # the fitted skull's hairline rarely matches the photo's: try it higher
        cand = replace(best, head=with_front_height(head, head.front_height + raise_by))
        sc = score(cand)
        if sc > best_score + 1e-4:
            best, best_score = cand, sc
    for _ in range(s.rounds):
        improved = False
        for p in _candidates(best.params):
            cand = replace(best, params=p)
            sc = score(cand)
            if sc > best_score + 1e-4:
                best, best_score, improved = cand, sc, True
        if not improved:
            break
    if best.params.updo == "none":
        for _ in range(s.length_passes):
            cand = replace(best, length_scale=silhouette_length_scale(best, fit, camera, target, s.min_length))
            sc = score(cand)
            if sc <= best_score:
                break
            best, best_score = cand, sc
    root, tip = hair_colors(analysis)
    fine = _FineStage(best, s, fit, camera, target)
    fine.fit_bare_scalp(analysis)  # also after a scalp read off the photo: it drops the roots seen edge-on on skin
    fine.fit_skin_cut(analysis)
    for _ in range(s.fine_rounds):
        fine.fit_lift(s.volume_passes)
        if best.params.updo == "none":
            fine.fit_width()
            fine.fit_trim()
    fine.fit_clumping()
    strands = fine.strands(root, tip)
    evals += fine.evaluations
    # the report: the fine stage's silhouette estimate and the orientation of a strand subsample
    iou = mask_iou(fine.coverage > 0.5, target.mask)
    step = max(1, strands.num_strands // s.fine_strands)
    _, angle = splat_strands(strands.points[::step], pose, camera, target.depth)
    err = orientation_error_deg(angle, target.angle, target.confidence * target.mask)
    return HairReconstruction(strands, best_style.name, fine.state.params, iou, err, evals,
                              time.perf_counter() - start)


@dataclass(frozen=True, eq=False)
class _FineState:
    scalp: Scalp
    valid: NDArray[np.bool_]
    guides: NDArray[np.float64]  # (G, P, 3) the guides of the valid cells
    params: HairParams
    bare: NDArray[np.bool_] | None = None  # (H, W) photo skin that strands retract from (skin_cut); None: no cut


class _FineStage:
    """Refinement on the final guide grid: bare scalp and forehead, outline lift, hanging width, trimming, clumping.

    The guides are grown once at full resolution; the refinements act on them directly (dropping guides and
    scalp samples, moving or cutting guides, changing the densification), and each evaluation interpolates
    ``fine_strands`` strands (no collision pass) whose expected coverage at the photo's resolution
    (``strand_coverage``) is compared with the photo's hair mask (soft IoU at the fitting camera). A change is
    kept only when the score rises.
    """

    def __init__(self, groom: _Groom, s: ReconstructSettings, fit: FitResult, camera: Camera, target: _Target):
        self.groom, self.s, self.fit, self.camera, self.target = groom, s, fit, camera, target
        head = groom.head
        guides, valid = grow_guides(groom.params, head.scalp, head.sdf, s.grow, length_scale=groom.length_scale)
        g = np.asarray(guides[valid], dtype=np.float64)
        self.state = _FineState(head.scalp, valid, g, groom.params)
        self.evaluations = 0
        self._grow = replace(s.grow, render_strands=s.fine_strands, render_points=12)
        self._scale = 1.0 / target.camera_scale
        self.coverage = self._coverage(self.state)
        self.score = soft_iou(self.coverage, target.soft)

    @staticmethod
    def _grid(valid: NDArray[np.bool_], g: NDArray[np.float64]) -> NDArray[np.float32]:
        grid = np.zeros((*valid.shape, g.shape[1], 3), dtype=np.float32)
        grid[valid] = g
        return grid

    def _coverage(self, st: _FineState) -> NDArray[np.float32]:
        self.evaluations += 1
        pts, _ = interpolate_strands(self._grid(st.valid, st.guides), st.valid, st.scalp, None, st.params, self._grow)
        pts = self._cut(st, pts)
        return strand_coverage(pts, self.fit.params.pose, self.camera, self.target.depth,
                               density=self.s.grow.render_strands / self.s.fine_strands, scale=self._scale)

    def _cut(self, st: _FineState, pts: NDArray[np.floating]) -> NDArray[np.float32]:
        """``pts`` retracted from the bare skin of ``st.bare`` (``skin_cut``), unchanged when it is None."""
        if st.bare is None:
            return np.asarray(pts, dtype=np.float32)
        share = skin_cut(pts, self.fit.params.pose, self.fit.camera, st.bare, self.target.depth)
        return resample_polylines(pts, pts.shape[1], share).astype(np.float32)

    def _try(self, st: _FineState, label: str = "") -> bool:
        cov = self._coverage(st)
        sc = soft_iou(cov, self.target.soft)
        if sc <= self.score:
            return False
        self.state, self.coverage, self.score = st, cov, sc
        return True

    def fit_bare_scalp(self, analysis: HairAnalysis) -> None:
        """Drop the scalp (guides and dense roots) that the photo shows bare (``bare_scalp``)."""
        st = self.state
        head = bare_scalp(replace(self.groom.head, scalp=st.scalp), self.fit, analysis)
        if head.scalp is st.scalp:
            return
        # the render roots go; the guides stay (they still shape the strands rooted next to them)
        if not self._try(replace(st, scalp=replace(head.scalp, guide_valid=st.scalp.guide_valid)), "bare roots"):
            valid = head.scalp.guide_valid & st.valid
            keep = valid[st.valid]
            if keep.any():
                self._try(replace(st, scalp=replace(head.scalp, guide_valid=valid), valid=valid,
                                  guides=st.guides[keep]), "bare")

    def fit_skin_cut(self, analysis: HairAnalysis) -> None:
        """Retract the strands that lie over the photo's bare forehead and temples (``forehead_skin``, ``skin_cut``).

        A library style's fringe or hair body can fall over skin that the photo shows bare; the bare scalp and the
        trim do not remove it (its roots are on the photo's hair, its run starts inside the dilated mask). The cut
        applies to every render strand after interpolation (and to the guides of the final groom).
        """
        bare = forehead_skin(analysis, self.fit.landmarks68_2d)
        if bare.any():
            self._try(replace(self.state, bare=bare), "skin cut")

    def fit_lift(self, passes: int) -> None:
        """Closed-loop lift of the hair layer to the photo's outline (``outline_lift``)."""
        gain = 0.9
        for _ in range(passes):
            st = self.state
            g = outline_lift(st.guides, self.groom.head, self.fit, self.camera, self.target.mask, self.coverage > 0.5,
                             gain=gain, rigid_from=_rigid_from(st.params))
            if g is None:
                return
            if not self._try(replace(st, guides=g), "lift"):
                if gain <= 0.5:
                    return
                gain *= 0.5  # overshot: a smaller step

    def fit_width(self) -> None:
        """Widen or narrow the hair below the skull centre row by row to the photo's outline (``width_warp``)."""
        st = self.state
        g = width_warp(st.guides, self.groom.head, self.fit, self.camera, self.target.mask, self.coverage > 0.5)
        if g is not None:
            self._try(replace(st, guides=g), "width")

    def fit_trim(self) -> None:
        """Cut guides where they leave the photo's hair (``silhouette_trim``)."""
        st = self.state
        frac = silhouette_trim(st.guides, st.valid, self.fit, self.camera, self.target)
        arc = np.linalg.norm(np.diff(st.guides, axis=1), axis=2).sum(axis=1)
        floor = np.clip(self.s.min_length / np.maximum(arc, 1e-6), 0.0, 1.0)  # never shorter than min_length
        for shortest in (0.15, 0.5):  # all cuts, or only the milder ones (a cut can remove hair the photo has)
            keep = np.maximum(np.maximum(frac, shortest), floor)
            if self._try(replace(st, guides=resample_polylines(st.guides, st.guides.shape[1], keep)), "trim"):
                break

    def fit_clumping(self, values: tuple[float, ...] = (0.0, 0.6)) -> None:
        """Try other clumping (loose strands cover more of the photo's hair, clumped ones less)."""
        st = self.state
        for c in values:
            if abs(c - st.params.clumping) > 0.1:
                self._try(replace(st, params=replace(st.params, clumping=c)), f"clump {c}")

    def strands(self, root: tuple[float, float, float], tip: tuple[float, float, float]) -> Strands:
        """The render groom: the refined guides densified with a collision pass."""
        st, head = self.state, self.groom.head
        grid = self._grid(st.valid, st.guides)
        points, uv = interpolate_strands(grid, st.valid, st.scalp, head.sdf, st.params, self.s.grow)
        points = self._cut(st, points)
        if st.bare is not None:
            g = grid[st.valid]
            share = skin_cut(g, self.fit.params.pose, self.fit.camera, st.bare, self.target.depth)
            grid[st.valid] = resample_polylines(g, g.shape[1], share)
        return Strands(grid, st.valid, points, uv, root, tip, "auto", st.params)


def width_warp(
    guides: NDArray[np.float64], head: HairHead, fit: FitResult, camera: Camera, photo: NDArray[np.bool_],
    render: NDArray[np.bool_], limits: tuple[float, float] = (0.6, 1.8),
) -> NDArray[np.float64] | None:
    """Guides moved sideways so that, row by row below the skull centre, the hair reaches as far out as the photo's.

    On each side of the head's centre line and in each image row below the skull centre, the outermost photo
    and render hair pixels give a width ratio; ratios are smoothed along the rows (Gaussian, 3 pixels) and
    clipped to ``limits``. Each guide point then moves along the camera's x axis by (ratio − 1) × its offset from
    the centre line, faded in over the 8 rows below the skull centre. None when no row has both.

    Returns:
        ``(G, P, 3)`` warped guides, or None.
    """
    pose = fit.params.pose
    h, w = photo.shape
    cc = transform_points(head.scalp.centre[None], pose)[0]
    uc = camera.cx + camera.fx * cc[0] / -cc[2]
    v0 = int(np.clip(np.ceil(camera.cy - camera.fy * cc[1] / -cc[2]), 0, h - 1))
    cols = np.arange(w, dtype=np.float64)[None, :]
    ratio = np.full((2, h), np.nan)
    for i, side in enumerate((-1.0, 1.0)):
        half = (cols - uc) * side > 0
        reach_p = np.where(photo & half, (cols - uc) * side, 0.0).max(axis=1)
        reach_r = np.where(render & half, (cols - uc) * side, 0.0).max(axis=1)
        ok = (reach_p > 2) & (reach_r > 2)
        ok[:v0] = False
        ratio[i, ok] = reach_p[ok] / reach_r[ok]
    if not np.isfinite(ratio).any():
        return None
    known = np.isfinite(ratio)
    num = ndimage.gaussian_filter1d(np.where(known, np.log(np.where(known, ratio, 1.0)), 0.0), 3.0, axis=1)
    den = ndimage.gaussian_filter1d(known.astype(np.float64), 3.0, axis=1)
    smooth = np.where(den > 0.05, np.exp(num / np.maximum(den, 1e-9)), 1.0)
    smooth = np.clip(smooth, *limits)
    n, p = guides.shape[:2]
    pc = transform_points(guides.reshape(-1, 3), pose)
    z = np.maximum(-pc[:, 2], 1e-6)
    u = camera.cx + camera.fx * pc[:, 0] / z
    v = np.clip(np.floor(camera.cy - camera.fy * pc[:, 1] / z).astype(np.int64), 0, h - 1)
    f = smooth[(u > uc).astype(np.int64), v]
    fade = np.clip((v - v0) / 8.0, 0.0, 1.0)
    dx = (f - 1.0) * fade * (u - uc) * z / camera.fx  # metres along the camera's x axis
    x_axis = axis_angle_to_matrix(pose.rotation)[0]  # the camera x axis in the model frame (row 0 of R)
    return guides + (dx[:, None] * x_axis[None, :]).reshape(n, p, 3)


def silhouette_trim(guides: NDArray[np.float64], valid: NDArray[np.bool_], fit: FitResult, camera: Camera,
                    target: "_Target") -> NDArray[np.float64]:
    """``(G,)`` kept share of each guide: it ends after the initial run of points inside the photo's hair.

    A point counts as inside when it projects into the (3 × 3 dilated) hair mask or is hidden behind the head,
    and not below the photo's lowest hair row (so hair hidden behind the head is not longer than the hair seen).
    The shares are median-filtered over the grid (3 × 3) and kept in [0.15, 1].
    """
    p = guides.shape[1]
    inside, _, v, _ = _points_in_hair(guides, fit, camera, target)
    rows = np.flatnonzero(target.mask.any(axis=1))
    inside &= np.floor(v) <= (rows.max() + 1 if len(rows) else target.mask.shape[0])  # none below the lowest hair
    inside[:, 0] = True
    last = np.cumprod(inside, axis=1).sum(axis=1) - 1
    grid = np.full(valid.shape, np.nan)
    grid[valid] = np.maximum(last, 1) / (p - 1)
    padded = np.pad(grid, 1, constant_values=np.nan)
    stack = np.stack([padded[i : i + valid.shape[0], j : j + valid.shape[1]] for i in range(3) for j in range(3)])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        smooth = np.nanmedian(stack, axis=0)
    return np.asarray(np.clip(np.nan_to_num(smooth[valid], nan=1.0), 0.15, 1.0), dtype=np.float64)
