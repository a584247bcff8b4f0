"""Hair reconstruction from one photo: library retrieval, then refinement of the generator parameters.

The strands, rendered at the fitted camera, should match the photo's hair mask and orientation map.

Objective (higher is better): ``IoU(render mask, photo hair mask) − w · orientation error (degrees)``, evaluated on
a coarse guide grid (every ``coarse_stride``-th cell, interpolated to a few thousand strands without collision
passes) at a small copy of the camera (``fit_long_side`` pixels). Retrieval scores every authored style;
refinement is a coordinate search over lengths, volume, gravity, fringe and parting (a few rounds, a step is kept
only when the score rises). A bald photo gets no hair.
"""

import time
import warnings
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from headcast.fitting.types import FitResult
from headcast.geometry.camera import Camera, transform_points
from headcast.hair.analysis import srgb_of_lab
from headcast.hair.generator import (
    GrowSettings,
    grow_guides,
    interpolation_weights,
    make_strands,
    resample_polylines,
)
from headcast.hair.head import HairHead, with_front_height
from headcast.hair.library import HairStyle, authored_styles
from headcast.hair.silhouette import head_depth, mask_iou, orientation_error_deg, splat_strands
from headcast.hair.types import HairAnalysis, HairParams, Strands
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
        volume_from_silhouette: try per-guide layer thickness read off the photo (``silhouette_volume_map``).
        hairline_raises: front-hairline offsets tried after retrieval, brow-to-nose-base units.
        exclude_tags: library styles with these tags are not retrieved automatically (rare looks that the
            silhouette alone over-selects: shaved sides fit a frontal hair mask well); they stay available by name.
        orientation_weight: score lost per degree of orientation error.
        grow: settings of the final groom.
    """

    fit_long_side: int = 160
    coarse_stride: int = 2
    coarse_strands: int = 800
    retrieval_stride: int = 3
    retrieval_finalists: int = 4
    rounds: int = 1
    length_passes: int = 1
    volume_from_silhouette: bool = False
    hairline_raises: tuple[float, ...] = (0.3,)
    exclude_tags: tuple[str, ...] = ("mohawk", "punk", "undercut")
    orientation_weight: float = 0.002
    grow: GrowSettings = field(default_factory=GrowSettings)


@dataclass(frozen=True, eq=False)
class HairReconstruction:
    """Result of :func:`reconstruct_hair`.

    Attributes:
        strands: the groom (None for a bald head).
        style: name of the retrieved library style.
        params: refined generator parameters (None when bald).
        iou: hair IoU of the final groom at the fitted camera (``fit_long_side`` resolution).
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


def _target(analysis: HairAnalysis, fit: FitResult, head: HairHead, settings: ReconstructSettings,
            renderer: Renderer | None) -> tuple[_Target, Camera]:
    cam = fit.camera
    scale = settings.fit_long_side / max(cam.width, cam.height)
    small = cam.scaled(scale)
    size = (small.width, small.height)
    mask = cv2.resize(analysis.hair.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.5
    angle = np.asarray(cv2.resize(analysis.orientation, size, interpolation=cv2.INTER_NEAREST), dtype=np.float32)
    conf = np.asarray(cv2.resize(analysis.confidence, size, interpolation=cv2.INTER_AREA), dtype=np.float32)
    depth = head_depth(head.model, head.posed_vertices, fit.params.pose, small, renderer)
    return _Target(scale, mask, angle, conf, depth), small


def evaluate(strands: NDArray[np.floating], fit: FitResult, camera: Camera, target: _Target) -> tuple[float, float]:
    """IoU and orientation error (degrees) of model-frame polylines ``(N, P, 3)`` against the photo target."""
    mask, angle = splat_strands(strands, fit.params.pose, camera, target.depth)
    iou = mask_iou(mask, target.mask)
    err = orientation_error_deg(angle, target.angle, target.confidence * target.mask)
    return iou, err


def _coarse(params: HairParams, head: HairHead, settings: ReconstructSettings,
            length_scale: NDArray[np.float64] | None = None, stride: int | None = None,
            volume_map: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    k = settings.coarse_stride if stride is None else stride
    cells = np.zeros(head.scalp.guide_valid.shape, dtype=bool)
    cells[::k, ::k] = True
    grow = replace(settings.grow, render_strands=settings.coarse_strands, render_points=10, guide_points=24)
    guides, valid = grow_guides(params, head.scalp, head.sdf, grow, cell_mask=cells, length_scale=length_scale,
                                volume_map=volume_map)
    g = resample_polylines(guides[valid], grow.render_points)
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
    for f in (0.3, 0.6, 1.6, 2.5):
        out.append(replace(p, volume=float(np.clip(p.volume * f, 0.001, 0.06))))
    for f in (1.8, 3.0):
        if abs(p.crown_volume * f - p.crown_volume) > 1e-9 and p.crown_volume * f <= 4.0:
            out.append(replace(p, crown_volume=p.crown_volume * f))
    for dg in (-0.25, 0.2):
        out.append(replace(p, gravity=float(np.clip(p.gravity + dg, 0.0, 1.0))))
    out.append(replace(p, fringe=0.0 if p.fringe > 0.5 else 1.0))
    for part in (-0.6, 0.6):
        if abs(part - p.parting) > 0.3:
            out.append(replace(p, parting=part))
    return out


def silhouette_length_scale(
    params: HairParams, head: HairHead, fit: FitResult, camera: Camera, target: "_Target",
    previous: NDArray[np.float64] | None = None, volume_map: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Per-guide length factors that make strands end where the photo's hair ends.

    Each guide is projected at the fitted camera; it is cut after its last point of the initial run of points
    that are inside the (3 × 3 dilated) photo hair mask or hidden behind the head; a guide whose tip is still inside
    is lengthened by 40 %. The factors are median-filtered over the grid (3 × 3) and clipped to [0.15, 2].

    Returns:
        ``(32, 32)`` factors (1 where no guide), multiplied into ``previous`` when given.
    """
    base = np.ones(head.scalp.guide_valid.shape) if previous is None else previous
    grow = replace(GrowSettings(), guide_points=24)
    guides, valid = grow_guides(params, head.scalp, head.sdf, grow, length_scale=base, volume_map=volume_map)
    g = resample_polylines(guides[valid], 24)
    n, p = g.shape[:2]
    cam = transform_points(g.reshape(-1, 3), fit.params.pose)
    z = np.maximum(-cam[:, 2], 1e-6)
    u = np.floor(camera.cx + camera.fx * cam[:, 0] / z).astype(np.int64)
    v = np.floor(camera.cy - camera.fy * cam[:, 1] / z).astype(np.int64)
    h, w = target.mask.shape
    on = (u >= 0) & (u < w) & (v >= 0) & (v < h)
    uc, vc = np.clip(u, 0, w - 1), np.clip(v, 0, h - 1)
    mask = cv2.dilate(target.mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    hidden = z > target.depth[vc, uc] + 0.004
    inside = (on & (mask[vc, uc] | hidden)).reshape(n, p)
    inside[:, 0] = True
    run = np.cumprod(inside, axis=1).astype(bool)
    last = run.sum(axis=1) - 1  # index of the last point of the initial inside run
    factor = np.where(last >= p - 1, 1.4, np.maximum(last, 1) / (p - 1))
    grid = np.full(valid.shape, np.nan)
    grid[valid] = factor
    padded = np.pad(grid, 1, constant_values=np.nan)
    stack = np.stack([padded[i : i + valid.shape[0], j : j + valid.shape[1]] for i in range(3) for j in range(3)])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows (off the scalp) give NaN, replaced below
        smooth = np.nanmedian(stack, axis=0)
    smooth = np.where(valid, np.clip(np.nan_to_num(smooth, nan=1.0), 0.15, 2.0), 1.0)
    return np.clip(base * smooth, 0.05, 3.0)


def silhouette_volume_map(
    params: HairParams, head: HairHead, fit: FitResult, camera: Camera, target: "_Target", max_px: int = 40,
) -> NDArray[np.float64]:
    """Per-guide hair-layer thickness read off the photo where the scalp is seen edge-on.

    For each guide root whose normal is within ~27° of perpendicular to the viewing ray, the root and the root
    moved 1 cm along its normal are projected; marching from the root's pixel along that image direction, the
    thickness is the run of photo-hair pixels (in metres: pixels · depth / focal). Other guides take the value of
    the nearest measured one on the grid. Clipped to [1 mm, 6 cm].

    Returns:
        ``(32, 32)`` thicknesses in metres (``params.volume`` where nothing could be measured).
    """
    scalp = head.scalp
    valid = scalp.guide_valid
    roots = scalp.guide_roots[valid]
    normals = scalp.guide_normals[valid]
    pose = fit.params.pose
    rc = transform_points(roots, pose)
    tc = transform_points(roots + 0.01 * normals, pose)
    view = rc / np.linalg.norm(rc, axis=1, keepdims=True)
    ncam = (tc - rc) / 0.01
    edge = np.abs(np.einsum("nd,nd->n", ncam, view)) < 0.45
    z0, z1 = -rc[:, 2], -tc[:, 2]
    u0 = camera.cx + camera.fx * rc[:, 0] / z0
    v0 = camera.cy - camera.fy * rc[:, 1] / z0
    u1 = camera.cx + camera.fx * tc[:, 0] / z1
    v1 = camera.cy - camera.fy * tc[:, 1] / z1
    d = np.stack([u1 - u0, v1 - v0], 1)
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    k = np.arange(max_px)[None, :]
    uu = np.floor(u0[:, None] + d[:, :1] * k).astype(np.int64)
    vv = np.floor(v0[:, None] + d[:, 1:] * k).astype(np.int64)
    h, w = target.mask.shape
    on = (uu >= 0) & (uu < w) & (vv >= 0) & (vv < h)
    hair = on & target.mask[np.clip(vv, 0, h - 1), np.clip(uu, 0, w - 1)]
    run = np.cumprod(hair[:, 1:], axis=1).sum(axis=1)  # hair pixels from just outside the root onwards
    thick = run * z0 / camera.fx
    grid = np.full(valid.shape, np.nan)
    vals = np.full(len(roots), np.nan)
    vals[edge] = np.clip(thick[edge], 0.001, 0.06)
    grid[valid] = vals
    known = ~np.isnan(grid)
    if not known.any():
        return np.full(valid.shape, params.volume)
    _, (iy, ix) = ndimage.distance_transform_edt(~known, return_indices=True)
    return np.asarray(grid[iy, ix], dtype=np.float64)


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
    pool = [
        st for st in (authored_styles() if styles is None else styles)
        if st.params is not None and not set(st.tags) & set(s.exclude_tags)
    ]
    evals = 0

    def score(p: HairParams, stride: int | None = None) -> tuple[float, float, float]:
        nonlocal evals
        evals += 1
        iou, err = evaluate(_coarse(p, head, s, stride=stride), fit, camera, target)
        e = 45.0 if np.isnan(err) else err
        return iou - s.orientation_weight * e, iou, err

    scored = []
    for st in pool:
        assert st.params is not None
        scored.append((score(st.params, s.retrieval_stride)[0], st))
    # the coarse retrieval is noisy: re-score its top few at the refinement resolution
    finalists = []
    for _, st in sorted(scored, key=lambda x: -x[0])[: s.retrieval_finalists]:
        assert st.params is not None
        finalists.append((score(st.params)[0], st))
    best_score, best_style = max(finalists, key=lambda x: x[0])
    assert best_style.params is not None
    best = best_style.params
    if analysis.fringe > 0.6 and best.fringe < 0.5 and best.updo == "none":
        best = replace(best, fringe=1.0)
        best_score = score(best)[0]
    for raise_by in s.hairline_raises:  # the fitted skull's hairline rarely matches the photo's: try it higher
        cand_head = with_front_height(head, head.front_height + raise_by)
        evals += 1
        iou, err = evaluate(_coarse(best, cand_head, s), fit, camera, target)
        sc = iou - s.orientation_weight * (45.0 if np.isnan(err) else err)
        if sc > best_score + 1e-4:
            head, best_score = cand_head, sc
    for _ in range(s.rounds):
        improved = False
        for cand in _candidates(best):
            sc = score(cand)[0]
            if sc > best_score + 1e-4:
                best, best_score, improved = cand, sc, True
        if not improved:
            break
    scale: NDArray[np.float64] | None = None
    volume_map: NDArray[np.float64] | None = None
    if best.updo == "none" and s.volume_from_silhouette:
        cand_vol = silhouette_volume_map(best, head, fit, camera, target)
        evals += 1
        iou, err = evaluate(_coarse(best, head, s, volume_map=cand_vol), fit, camera, target)
        sc = iou - s.orientation_weight * (45.0 if np.isnan(err) else err)
        if sc > best_score:
            volume_map, best_score = cand_vol, sc
    if best.updo == "none":
        for _ in range(s.length_passes):
            cand_scale = silhouette_length_scale(best, head, fit, camera, target, scale, volume_map)
            evals += 1
            iou, err = evaluate(_coarse(best, head, s, cand_scale, volume_map=volume_map), fit, camera, target)
            sc = iou - s.orientation_weight * (45.0 if np.isnan(err) else err)
            if sc <= best_score:
                break
            scale, best_score = cand_scale, sc
    root, tip = hair_colors(analysis)
    strands = make_strands(best, head.scalp, head.sdf, s.grow, name="auto", root_color=root, tip_color=tip,
                           length_scale=scale, volume_map=volume_map)
    iou, err = evaluate(strands.points, fit, camera, target)
    return HairReconstruction(strands, best_style.name, best, iou, err, evals, time.perf_counter() - start)
