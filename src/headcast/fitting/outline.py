"""Bring the fitted head's outline to the photo's where the photo shows bare skin there (after the refine).

The identity modes cannot reach every skull outline (the refinement, :mod:`headcast.fitting.refine`, moves the
identity only as far as the face allows), and the pixels the render misses inside the photo's head mask carry about
half of the same-view error. This step measures, along a fan of image rays round the head, how far the
photo's head ends beyond (or short of) the fitted mesh's silhouette, and stores the difference as a smooth radial
**outline warp** of the rest mesh: a displacement in the plane facing the camera that is zero on the face (its
landmarks stay fitted), grows towards the silhouette and there equals the measured offset.

The warp's numbers and its evaluation live in :mod:`headcast.headmodel.warp` (every stage that builds vertices
applies it); this module measures them.

Measurement (image pixels): the fan of :func:`headcast.fitting.refine.photo_outline` from the centre between the
fitted outer eye corners, rays every ``step_deg`` over ``±fan_deg`` about the head's up; a ray is used where the
just-inside of the photo's boundary is bare skin; the model's point on it is the outermost projected skin vertex
in the ray's wedge. Offsets (px) become metres at that vertex's depth (``Δ · z / f``), unused rays between used
ones are interpolated, the profile is smoothed over neighbouring rays and capped at ``max_shift`` eye distances.
Two rounds: the second measures what the first left.
"""

import time
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d

from headcast.fitting.correspondence import MP_LEFT_EYE_OUTER, MP_RIGHT_EYE_OUTER
from headcast.fitting.refine import (
    FOREHEAD_LANDMARK,
    RefineSettings,
    fan_directions,
    outline_vertices,
    photo_outline,
)
from headcast.fitting.types import FitResult, OutlineReport
from headcast.geometry.camera import Camera, project, transform_points
from headcast.geometry.rotation import axis_angle_to_matrix
from headcast.headmodel.base import (
    HeadParams,
    LinearHeadModel,
    blend_vertices,
    ear_vertices,
    ear_weights,
    head_vertices,
    skin_vertices,
)
from headcast.headmodel.warp import OutlineWarp, plane_coords

__all__ = ["OutlineSettings", "fit_outline_warp", "warp_frame"]

EAR_SET_WEIGHT = 0.3
"""Vertices whose ear weight is at least this are the ear whose silhouette the ear rays measure."""


@dataclass(frozen=True)
class OutlineSettings:
    """The outline warp (module docstring).

    Attributes:
        enabled: run it (it needs face parsing).
        fan_deg: rays span ± this about the head's up, degrees (75: the cranium and temples, above the ears: with
            the ears' rays (to ±115°) the whole cross-section widened with them, a bulge behind the ears in 45°
            views).
        step_deg: angle between rays, degrees.
        min_rays: fewer used rays: no warp.
        max_shift: the largest shift, eye distances (a larger measured offset is a parsing error or not the
            head's outline: that ray is dropped).
        smooth_rays: Gaussian smoothing of the shift profile, σ in rays.
        inner: ``w_r`` is 0 below this fraction of the silhouette radius.
        anchor_near: ``w_f`` is 0 within this distance of a face anchor, metres.
        anchor_far: ``w_f`` is 1 beyond this distance, metres.
        rounds: measure-and-warp rounds.
        end_rays: beyond the outermost used rays the shift falls to 0 over this many rays.
        ear_rays: rays in each ear's fan (0: the ears are not moved).
        ear_fan_deg: ``(from, to)``: each ear's fan spans these angles from the head's up, degrees.
        min_ear_rays: fewer rays ending in an ear: that ear is not moved.
        max_ear_shift: the largest ear shift, eye distances (a ray further off is dropped).
        ear_sigma: σ of the ears' Gaussian weights (:class:`headcast.headmodel.warp.OutlineWarp`), metres.
        skin_fraction: the least fraction of skin just inside the photo's boundary for a ray to be used.
        ray_rules: the ray-marching rules shared with the refinement (gap, skin depth).
    """

    enabled: bool = True
    fan_deg: float = 75.0
    step_deg: float = 5.0
    min_rays: int = 5
    max_shift: float = 0.3
    smooth_rays: float = 1.5
    inner: float = 0.55
    anchor_near: float = 0.01
    anchor_far: float = 0.035
    rounds: int = 2
    end_rays: int = 3
    ear_rays: int = 8
    ear_fan_deg: tuple[float, float] = (80.0, 115.0)
    min_ear_rays: int = 2
    max_ear_shift: float = 0.25
    ear_sigma: float = 0.012
    skin_fraction: float = 0.6
    ray_rules: RefineSettings = field(default_factory=RefineSettings)


def fit_outline_warp(
    fit: FitResult, model: LinearHeadModel, classes: NDArray[np.uint8] | None, settings: OutlineSettings
) -> tuple[FitResult, OutlineReport]:
    """Measure the photo's outline against the fitted mesh's; store the warp in ``fit.params`` (module docstring).

    Args:
        fit: the (refined) landmark fit.
        model: its head model.
        classes: ``(H, W)`` face-parsing classes of the photo, or None.
        settings: the warp's rules.

    Returns:
        ``fit`` with ``params.warp`` set (landmarks unchanged: the face does not move) and a report; ``fit`` itself
        when neither the skull's rays see bare skin nor the ears' rays an ear.
    """
    start = time.perf_counter()
    rays = 2 * round(settings.fan_deg / settings.step_deg) + 1

    def report(reason: str = "", skull: "_Skull | None" = None, ears: "_Ears | None" = None) -> OutlineReport:
        nan = float("nan")
        return OutlineReport(
            rays_used=0 if skull is None else skull.used, rays=rays,
            offset_before=nan if skull is None else skull.before, offset_after=nan if skull is None else skull.after,
            max_shift_mm=0.0 if skull is None else float(np.max(np.abs(skull.shifts))) * 1e3,
            seconds=time.perf_counter() - start, reason=reason,
            ear_rays_used=(0, 0) if ears is None else ears.used,
            ear_shift_mm=(0.0, 0.0) if ears is None else (float(ears.shifts[0]) * 1e3, float(ears.shifts[1]) * 1e3),
        )

    if not settings.enabled:
        return fit, report("disabled")
    if classes is None:
        return fit, report("no face parsing")
    lm = fit.landmarks_2d
    scene = _Scene(
        model=model, camera=fit.camera, classes=classes,
        eye=float(np.linalg.norm(lm[MP_RIGHT_EYE_OUTER] - lm[MP_LEFT_EYE_OUTER])) or 1.0,
        centre=0.5 * (lm[MP_RIGHT_EYE_OUTER] + lm[MP_LEFT_EYE_OUTER]), top=lm[FOREHEAD_LANDMARK],
        rules=replace(settings.ray_rules, skin_fraction=settings.skin_fraction),
    )
    base = warp_frame(model, fit.params, settings)
    skull, why = _skull_shifts(scene, fit.params, base, settings)
    warp = base if skull is None else replace(base, angles=skull.angles, shifts=skull.shifts)
    ears = _ear_shifts(scene, replace(fit.params, warp=warp), settings)
    if skull is None and not any(ears.used):
        return fit, report(f"{why}; no ray sees an ear at the head's outline", None, ears)
    warp = replace(warp, ear_shifts=ears.shifts)
    return replace(fit, params=replace(fit.params, warp=warp)), report("", skull, ears)


@dataclass(frozen=True, eq=False)
class _Scene:
    """What every ray measurement shares: the model, the photo's camera and classes, the fan's frame."""

    model: LinearHeadModel
    camera: Camera
    classes: NDArray[np.uint8]
    eye: float
    centre: NDArray[np.float64]
    top: NDArray[np.float64]
    rules: RefineSettings


@dataclass(frozen=True, eq=False)
class _Skull:
    """The skull fan's result: the warp's angles and shifts, rays used, median offsets before/after (eye dist.)."""

    angles: NDArray[np.float64]
    shifts: NDArray[np.float64]
    used: int
    before: float
    after: float


@dataclass(frozen=True, eq=False)
class _Ears:
    """The ears' result: shift of the model's +x and −x ear (metres) and the rays used on each."""

    shifts: NDArray[np.float64]
    used: tuple[int, int]


def warp_frame(model: LinearHeadModel, params: HeadParams, settings: OutlineSettings) -> OutlineWarp:
    """A warp without shifts whose plane faces the camera, centred between the fitted outer eye corners."""
    rot = axis_angle_to_matrix(params.pose.rotation)
    rest = blend_vertices(model, params.identity, np.zeros(model.num_expressions))
    eyes68 = rest[[model.landmarks68[36], model.landmarks68[45]]]
    # the plane's normal is the direction from the head to the camera, in the model frame
    head_cam = transform_points(eyes68.mean(axis=0, keepdims=True), params.pose)[0]
    axis = rot.T @ (-head_cam / np.linalg.norm(head_cam))
    up = rot.T @ np.array([0.0, 1.0, 0.0])
    up = up - (up @ axis) * axis
    up /= np.linalg.norm(up)
    return OutlineWarp(
        centre=eyes68.mean(axis=0), axis=axis, up=up, angles=np.zeros(0), shifts=np.zeros(0),
        inner=settings.inner, anchor_near=settings.anchor_near, anchor_far=settings.anchor_far,
        ear_sigma=settings.ear_sigma,
    )


def _skull_shifts(
    scene: _Scene, params: HeadParams, base: OutlineWarp, settings: OutlineSettings
) -> tuple[_Skull | None, str]:
    """The skull fan (module docstring); None and why when too few rays see bare skin within reach."""
    model, camera, eye = scene.model, scene.camera, scene.eye
    rays = 2 * round(settings.fan_deg / settings.step_deg) + 1
    directions = fan_directions(scene.centre, scene.top, rays, settings.fan_deg)
    half = np.full(rays, 0.5 * np.deg2rad(settings.step_deg))
    outline = photo_outline(scene.classes, scene.centre, directions, eye, scene.rules, None, half)
    used = np.nonzero(outline.usable)[0]
    if len(used) < settings.min_rays:
        return None, f"{len(used)} rays see bare skin at the head's outline (< {settings.min_rays})"
    skin = skin_vertices(model)

    def measure(p: HeadParams) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64],
                                        NDArray[np.bool_]]:
        """Per used ray: offset photo − model (px), the silhouette vertex's depth and index in ``skin``, found."""
        verts = transform_points(head_vertices(model, p)[skin], p.pose)
        uv = project(verts, camera)
        ids, found = outline_vertices(uv, outline, used)
        radial = np.einsum("nc,nc->n", uv[ids] - outline.centre, outline.directions[used])
        return outline.radius[used] - radial, -verts[ids, 2], ids, found

    offset, depth, ids, found = measure(params)
    keep = found & (np.abs(offset) <= settings.max_shift * eye)
    if keep.sum() < settings.min_rays:
        return None, f"{int(keep.sum())} outline rays within reach of the model (< {settings.min_rays})"
    # the silhouette vertices' plane angles (the warp moves vertices radially in the plane: their angles stay)
    rest = blend_vertices(model, params.identity, np.zeros(model.num_expressions))
    phi, _, _ = plane_coords(rest[skin[ids]], base)
    before = float(np.median(np.abs(offset[keep]))) / eye
    focal = 0.5 * (camera.fx + camera.fy)
    # ray order is angle order on screen; the plane angles of the silhouette vertices follow it
    ray_phi = _ray_angles(phi, keep)
    order = np.argsort(ray_phi)
    total = np.zeros(len(used))
    for _ in range(max(1, settings.rounds)):
        metres = np.where(keep, offset * depth / focal, np.nan)
        total = total + _fill_and_smooth(metres, settings.smooth_rays, settings.end_rays)
        cap = settings.max_shift * eye * float(np.median(depth)) / focal
        total = np.clip(total, -cap, cap)
        offset, depth_new, _, found_new = measure(
            replace(params, warp=replace(base, angles=ray_phi[order], shifts=total[order]))
        )
        keep = keep & found_new
        depth = np.where(found_new, depth_new, depth)
    after = float(np.median(np.abs(offset[keep]))) / eye if keep.any() else float("nan")
    return _Skull(ray_phi[order], total[order], int(keep.sum()), before, after), ""


def _ear_shifts(scene: _Scene, params: HeadParams, settings: OutlineSettings) -> _Ears:
    """Each ear's shift: the median offset of its fan's rays that end in an ear (module docstring)."""
    model, camera, eye = scene.model, scene.camera, scene.eye
    shifts = np.zeros(2)
    used = [0, 0]
    if settings.ear_rays <= 0:
        return _Ears(shifts, (0, 0))
    weight = ear_weights(model, settings.ear_sigma)
    ear_ids = ear_vertices(model)
    focal = 0.5 * (camera.fx + camera.fy)
    lo, hi = settings.ear_fan_deg
    step = np.deg2rad((hi - lo) / max(settings.ear_rays - 1, 1))
    half = np.full(settings.ear_rays, 0.5 * step)
    cap = settings.max_ear_shift * eye
    # where the model's ears are in the image (which one is on which side)
    ears_px = project(transform_points(head_vertices(model, params)[ear_ids], params.pose), camera)
    for sign in (-1.0, 1.0):
        directions = fan_directions(scene.centre, scene.top, settings.ear_rays, sign * hi, start_deg=sign * lo)
        outline = photo_outline(scene.classes, scene.centre, directions, eye, scene.rules,
                                np.ones(settings.ear_rays, dtype=bool), half)
        rays = np.nonzero(outline.usable)[0]
        k = int(np.argmax((ears_px - scene.centre) @ directions.mean(axis=0)))  # the model's ear on this side
        ids = np.nonzero(weight[k] >= EAR_SET_WEIGHT)[0]
        if len(rays) < settings.min_ear_rays:
            continue
        for _ in range(max(1, settings.rounds)):
            warp = replace(params.warp, ear_shifts=shifts) if params.warp is not None else None
            verts = transform_points(head_vertices(model, replace(params, warp=warp))[ids], params.pose)
            uv = project(verts, camera)
            sil, found = outline_vertices(uv, outline, rays)
            radial = np.einsum("nc,nc->n", uv[sil] - outline.centre, outline.directions[rays])
            offset = outline.radius[rays] - radial
            ok = found & (np.abs(offset) <= cap)
            if ok.sum() < settings.min_ear_rays:
                break
            used[k] = int(ok.sum())
            limit = cap * float(np.median(-verts[:, 2])) / focal  # metres
            shifts[k] = float(np.clip(shifts[k] + np.median(offset[ok] * -verts[sil[ok], 2]) / focal, -limit, limit))
    return _Ears(shifts, (used[0], used[1]))


def _ray_angles(phi: NDArray[np.float64], keep: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Strictly monotone plane angles for the rays: the measured ones (unwrapped), gaps interpolated.

    The rays run in screen order, so their silhouette vertices' plane angles do too (increasing or decreasing with
    the plane's handedness); a measured angle out of that order is replaced by the interpolation.
    """
    idx = np.arange(len(phi), dtype=np.float64)
    good = keep & np.isfinite(phi)
    values = np.interp(idx, idx[good], np.unwrap(phi[good]))
    sign = 1.0 if values[-1] >= values[0] else -1.0
    step = abs(values[-1] - values[0]) / max(len(values) - 1, 1)
    # evenly spaced angles between the measured ends are monotone by construction; the measured ones are kept
    # where they keep the order
    even = values[0] + sign * step * idx
    ordered = sign * values
    ok = np.concatenate([[True], np.diff(ordered) > 0.1 * step])
    out = np.where(ok, values, even)
    return out if np.all(sign * np.diff(out) > 0) else even


def _fill_and_smooth(values: NDArray[np.float64], sigma: float, end_rays: int) -> NDArray[np.float64]:
    """NaN gaps between finite values interpolated, beyond the ends decaying to 0 over ``end_rays``, then smoothed.

    Args:
        values: ``(R,)`` per-ray values, NaN where the ray measured nothing.
        sigma: Gaussian σ in rays (0: no smoothing).
        end_rays: rays over which the values fall to 0 beyond the first and last measured ray.
    """
    idx = np.arange(len(values), dtype=np.float64)
    good = np.isfinite(values)
    filled = np.interp(idx, idx[good], values[good])
    first, last = idx[good][0], idx[good][-1]
    beyond = np.maximum(first - idx, idx - last)
    filled = filled * np.clip(1.0 - beyond / max(end_rays, 1), 0.0, 1.0)
    if sigma <= 0:
        return filled
    return np.asarray(gaussian_filter1d(filled, sigma, mode="nearest"), dtype=np.float64)
