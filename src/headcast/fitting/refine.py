"""Refine the fitted identity against the photo's visible skull and ear outlines (face parsing), after the landmark fit.

The landmarks say nothing above the brows or about the ears: on a bald or shaved head the fitted cranium is the
prior's, the template's ears sit inside the photo's, and the outline where photo and render disagree carries much
of the same-view error. Where the parsed photo shows bare skin (or an ear) up to the head's outline, that outline is
a measurement of the skull (or the ear), and the identity modes (which span the whole head) can follow it.

Geometry (image pixels; ``s`` = the fitted outer-eye-corner distance): rays leave the centre ``c`` between the
fitted outer eye corners, fanned ``±fan_deg`` about the head's image "up" (``c`` → the forehead landmark 10), plus
a fan on each side over the ears (``ear_fan_deg``). Along ray ``d_j`` the photo's boundary ``ρ_j`` is where the head
classes end (the first run of ``gap_px`` non-head pixels); the ray is *used* only when the ``skin_depth · s`` just
inside that boundary is mostly skin (an ear, for the ear rays; :attr:`RefineSettings.skin_fraction`) — hair, a hat
or a frame edge there says nothing about the skull. The model's point on that ray is its silhouette: among the skin
vertices above the mouth projecting into the ray's angular wedge, the one outermost along ``d_j`` (re-chosen every
round, as the landmark fit re-chooses its jaw contour).

Energy over the identity ``α`` only (expression, jaw and pose stay as fitted)::

    E = Σ_j ρ(ω_s ((π(P_j) − c)·d_j − ρ_j) / s)                  skull outline, used rays
      + Σ_i ω_a² ‖π(L_i(α)) − π(L_i(α̂))‖² / s²                    the fitted landmarks stay where they are
      + λ ‖α‖²                                                     the fit's identity prior

``L_i`` are the 478 table points, ``α̂`` the landmark fit's identity: the outline may move what the landmarks do not
pin (the cranium), and the face stays fitted. Minimised by :func:`headcast.fitting.solver.solve_robust_lm` with
the analytic Jacobian of :func:`headcast.fitting.fit.scalar_jacobian_rows`.
"""

import time
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from headcast.fitting.correspondence import MP_LEFT_EYE_OUTER, MP_RIGHT_EYE_OUTER, Correspondence
from headcast.fitting.fit import (
    PointBasis,
    PosedPoints,
    SkinnedJoints,
    point_basis,
    pose_points,
    projection_jacobian,
    scalar_jacobian_rows,
    skinned_joints,
    vertex_basis,
)
from headcast.fitting.metrics import nme
from headcast.fitting.settings import RobustLoss
from headcast.fitting.solver import solve_robust_lm
from headcast.fitting.types import FitResult, RefineReport
from headcast.geometry.camera import project
from headcast.geometry.rotation import axis_angle_to_matrix
from headcast.headmodel.base import LinearHeadModel, face_anchor_vertices
from headcast.parsing.face import HEAD_CLASSES, FaceClass, class_mask

FOREHEAD_LANDMARK = 10
"""MediaPipe's top-of-forehead landmark: sets the head's "up" in the image."""


@dataclass(frozen=True)
class RefineSettings:
    """The skull-outline refinement (module docstring).

    Attributes:
        enabled: run it (it needs face parsing; without classes nothing changes).
        rays: rays in the fan.
        fan_deg: the fan spans ± this about the head's up direction, degrees (ears lie outside ±70°).
        ear_rays: rays in each ear's fan (0, the default: the ears are not measured). With 8 rays, 11 of the 17
            fixture portraits refined (ear offsets down by 20-50 %) and ``headcast eval``'s median PSNR was 20.36
            dB (19.58 without any refinement, same code), but ICT's identity modes move the face with the ears:
            one photo's DIFD rose 0.61 → 0.76 and the median landmark NME 0.0119 → 0.0123 — likeness first.
        ear_fan_deg: ``(from, to)``: each ear's fan spans these angles from the head's up direction, degrees; its
            rays are used where the photo's outline is an ear.
        skin_depth: how far inside the photo's boundary the skin is checked, in eye distances.
        skin_fraction: the least fraction of skin pixels there for a ray to be used.
        gap_px: non-head pixels in a row that end the head along a ray (thin gaps are ignored).
        min_rays: fewer used rays than this: no refinement.
        max_offset: a used ray whose photo boundary lies further than this from the model's silhouette (eye
            distances) is dropped (a parsing error or an outline the model cannot reach).
        weight: ``ω_s``, weight of an outline row.
        anchor_weight: ``ω_a``, weight of a face-anchor row (3D offset over the model's eye distance).
        anchor_stride: every this-many face vertices is an anchor.
        identity_prior: ``λ``, as :attr:`FitSettings.identity_prior`.
        loss: robust loss of the outline rows.
        loss_scale: where it turns linear, eye distances.
        rounds: silhouette re-selections.
        iterations: solver steps per round.
    """

    enabled: bool = True
    rays: int = 31
    fan_deg: float = 65.0
    ear_rays: int = 0
    ear_fan_deg: tuple[float, float] = (80.0, 115.0)
    skin_depth: float = 0.08
    skin_fraction: float = 0.6
    gap_px: int = 3
    min_rays: int = 5
    max_offset: float = 0.35
    weight: float = 3.0
    anchor_weight: float = 1.0
    anchor_stride: int = 8
    identity_prior: float = 2e-3
    loss: RobustLoss = "soft_l1"
    loss_scale: float = 0.02
    rounds: int = 3
    iterations: int = 10


@dataclass(frozen=True, eq=False)
class Outline:
    """The photo's head outline along the fan (pixels).

    Attributes:
        centre: ``(2,)`` the fan's centre.
        directions: ``(R, 2)`` unit ray directions.
        radius: ``(R,)`` distance from the centre to the photo's boundary (NaN where the head does not end).
        usable: ``(R,)`` the boundary is what the ray measures (bare skin for the skull, an ear for the ears).
        half_width: ``(R,)`` half the angle between neighbouring rays, radians (the ray's wedge).
    """

    centre: NDArray[np.float64]
    directions: NDArray[np.float64]
    radius: NDArray[np.float64]
    usable: NDArray[np.bool_]
    half_width: NDArray[np.float64]


def fan_directions(
    centre: NDArray[np.floating], top: NDArray[np.floating], rays: int, fan_deg: float, start_deg: float | None = None
) -> NDArray[np.float64]:
    """``(rays, 2)`` unit image directions from ``start_deg`` (default ``−fan_deg``) to ``fan_deg`` degrees.

    Angles are measured from ``top − centre`` and grow clockwise on screen (image y points down).
    """
    up = np.asarray(top, dtype=np.float64) - np.asarray(centre, dtype=np.float64)
    base = np.arctan2(up[1], up[0])
    lo = -fan_deg if start_deg is None else start_deg
    angles = base + np.deg2rad(np.linspace(lo, fan_deg, rays))
    return np.column_stack([np.cos(angles), np.sin(angles)])


EAR_CLASSES = (FaceClass.L_EAR, FaceClass.R_EAR)


def outline_rays(
    centre: NDArray[np.floating], top: NDArray[np.floating], settings: "RefineSettings"
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64]]:
    """The skull fan and both ear fans.

    Returns:
        directions ``(R, 2)``, which rays measure an ear ``(R,)``, their wedge half-widths ``(R,)`` radians.
    """
    skull = fan_directions(centre, top, settings.rays, settings.fan_deg)
    step = np.deg2rad(settings.fan_deg / max(settings.rays - 1, 1))
    parts, ears, widths = [skull], [np.zeros(len(skull), bool)], [np.full(len(skull), step)]
    if settings.ear_rays > 0:
        lo, hi = settings.ear_fan_deg
        ear_step = np.deg2rad((hi - lo) / max(2 * (settings.ear_rays - 1), 1))
        for sign in (-1.0, 1.0):
            parts.append(fan_directions(centre, top, settings.ear_rays, sign * hi, start_deg=sign * lo))
            ears.append(np.ones(settings.ear_rays, bool))
            widths.append(np.full(settings.ear_rays, ear_step))
    return np.concatenate(parts), np.concatenate(ears), np.concatenate(widths)


def photo_outline(
    classes: NDArray[np.uint8],
    centre: NDArray[np.floating],
    directions: NDArray[np.floating],
    eye_distance: float,
    settings: RefineSettings,
    ears: NDArray[np.bool_] | None = None,
    half_width: NDArray[np.floating] | None = None,
) -> Outline:
    """March each ray out of the parsed head and read where it ends and what lies just inside (module docstring).

    Args:
        classes: ``(H, W)`` face-parsing classes (:class:`headcast.parsing.face.FaceClass`).
        centre: ``(2,)`` the fan's centre, pixels (inside the head).
        directions: ``(R, 2)`` unit ray directions.
        eye_distance: the outer-eye-corner distance, pixels.
        settings: the ray rules.
        ears: ``(R,)`` rays that measure an ear (their boundary must be ear, not skin); default none.
        half_width: ``(R,)`` the rays' wedge half-widths, radians (carried into the :class:`Outline`).
    """
    h, w = classes.shape
    head = class_mask(classes, HEAD_CLASSES)
    skin = classes == int(FaceClass.SKIN)
    ear = class_mask(classes, EAR_CLASSES)
    is_ear = np.zeros(len(directions), bool) if ears is None else np.asarray(ears, bool)
    c = np.asarray(centre, dtype=np.float64)
    steps = np.arange(0.0, float(np.hypot(h, w)))
    radius = np.full(len(directions), np.nan)
    usable = np.zeros(len(directions), dtype=bool)
    depth = max(2, round(settings.skin_depth * eye_distance))
    for j, d in enumerate(np.asarray(directions, dtype=np.float64)):
        pts = c + steps[:, None] * d
        inside = (pts[:, 0] >= 0) & (pts[:, 0] <= w - 1) & (pts[:, 1] >= 0) & (pts[:, 1] <= h - 1)
        n = int(np.argmin(inside)) if not inside.all() else len(steps)
        xi = np.round(pts[:n, 0]).astype(int)
        yi = np.round(pts[:n, 1]).astype(int)
        on = head[yi, xi]
        off = ~on
        # the first run of gap_px non-head samples ends the head
        run = np.convolve(off.astype(int), np.ones(settings.gap_px, dtype=int), mode="valid") == settings.gap_px
        if not run.any():
            continue  # the head runs into the frame edge: a crop, not an outline
        end = int(np.argmax(run))
        if end < depth:
            continue
        radius[j] = end - 0.5
        measured = ear if is_ear[j] else skin
        usable[j] = measured[yi[end - depth : end], xi[end - depth : end]].mean() >= settings.skin_fraction
    widths = np.zeros(len(directions)) if half_width is None else np.asarray(half_width, dtype=np.float64)
    return Outline(c, np.asarray(directions, dtype=np.float64), radius, usable, widths)


def skull_vertices(model: LinearHeadModel) -> NDArray[np.int64]:
    """Skin vertices of the head above the mouth corners' height in the model frame (cranium and ears)."""
    skin = model.part_mask(*(n for n in ("face", "head_neck") if model.has_part(n)))
    mouth = model.template[[model.landmarks68[48], model.landmarks68[54]]]
    above = model.template[:, 1] > float(mouth[:, 1].mean())
    return np.nonzero(skin & above)[0].astype(np.int64)


def outline_vertices(
    projected: NDArray[np.floating], outline: Outline, rays: NDArray[np.integer]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Per ray, the candidate outermost along it among those in its angular wedge (``Outline.half_width``).

    Returns:
        ``(len(rays),)`` indices into ``projected`` and whether the wedge held any candidate.
    """
    rel = np.asarray(projected, dtype=np.float64) - outline.centre
    ang = np.arctan2(rel[:, 1], rel[:, 0])
    out = np.zeros(len(rays), dtype=np.int64)
    found = np.zeros(len(rays), dtype=bool)
    for n, j in enumerate(np.asarray(rays)):
        d = outline.directions[j]
        diff = np.angle(np.exp(1j * (ang - np.arctan2(d[1], d[0]))))
        wedge = np.nonzero(np.abs(diff) <= outline.half_width[j])[0]
        if len(wedge):
            out[n] = wedge[np.argmax(rel[wedge] @ d)]
            found[n] = True
    return out, found


def _fold_expression(basis: PointBasis, weights: NDArray[np.floating]) -> PointBasis:
    """The basis with the expression held at ``weights`` (folded into the mean; no expression columns)."""
    mean = basis.evaluate(np.zeros(basis.identity.shape[2]), weights)
    empty = np.zeros((len(mean), 3, 0))
    return PointBasis(mean, basis.identity, empty, basis.lbs_weights, basis.posedirs)


def refine_identity(
    fit: FitResult,
    model: LinearHeadModel,
    correspondence: Correspondence,
    classes: NDArray[np.uint8] | None,
    detected: NDArray[np.floating],
    settings: RefineSettings,
) -> tuple[FitResult, RefineReport]:
    """Refine ``fit``'s identity against the parsed skull outline (module docstring).

    Args:
        fit: the landmark fit.
        model: the fitted head model.
        correspondence: its landmark table.
        classes: ``(H, W)`` face-parsing classes of the photo, or None (nothing to refine against).
        detected: ``(478, ≥2)`` the detector's landmarks (for the reported NME).
        settings: the refinement's rules.

    Returns:
        the refined fit (identity, landmark projections and NME updated) and a report; ``fit`` itself when fewer
        than ``settings.min_rays`` rays see bare skin at the outline.
    """
    start = time.perf_counter()
    cast = settings.rays + 2 * settings.ear_rays

    def unchanged(reason: str, used: int = 0) -> tuple[FitResult, RefineReport]:
        nan = float("nan")
        return fit, RefineReport(used, cast, nan, nan, 0.0, time.perf_counter() - start, reason)

    if not settings.enabled:
        return unchanged("disabled")
    if classes is None:
        return unchanged("no face parsing")
    params = fit.params
    camera = fit.camera
    k = len(params.identity)
    lm = fit.landmarks_2d
    eye = float(np.linalg.norm(lm[MP_RIGHT_EYE_OUTER] - lm[MP_LEFT_EYE_OUTER])) or 1.0
    centre = 0.5 * (lm[MP_RIGHT_EYE_OUTER] + lm[MP_LEFT_EYE_OUTER])
    directions, ears, half_width = outline_rays(centre, lm[FOREHEAD_LANDMARK], settings)
    outline = photo_outline(classes, centre, directions, eye, settings, ears, half_width)
    used = np.nonzero(outline.usable)[0]
    if len(used) < settings.min_rays:
        return unchanged(
            f"{len(used)} rays see bare skin{' or ears' if settings.ear_rays else ''} at the head's outline "
            f"(< {settings.min_rays})",
            len(used),
        )

    no_expr = np.zeros(0, dtype=np.int64)
    skin: SkinnedJoints | None = None
    theta = np.zeros(0)
    if model.skeleton is not None:
        skin = skinned_joints(model, k, no_expr, params.expression)
        theta = np.asarray(params.joint_rotations, dtype=np.float64)[skin.fitted].reshape(-1)
    all_expr = np.arange(model.num_expressions)
    anchors = _fold_expression(
        point_basis(model, correspondence.face_ids, correspondence.barycentric, k, all_expr), params.expression
    )
    face_ids = face_anchor_vertices(model, settings.anchor_stride)
    face_basis = _fold_expression(vertex_basis(model, face_ids, k, all_expr), params.expression)
    skull = skull_vertices(model)
    skull_basis = _fold_expression(vertex_basis(model, skull, k, all_expr), params.expression)
    rot = axis_angle_to_matrix(params.pose.rotation)
    t = np.asarray(params.pose.translation, dtype=np.float64)
    none = np.zeros(0)
    jl = np.eye(3)

    def posed(basis: PointBasis, alpha: NDArray[np.float64], jac: bool) -> PosedPoints:
        return pose_points(basis, alpha, none, theta, skin, with_jacobian=jac)

    alpha0 = np.asarray(params.identity, dtype=np.float64)
    anchor_target = project(posed(anchors, alpha0, False).points @ rot.T + t, camera)
    face_target = posed(face_basis, alpha0, False).points
    eye_m = float(np.linalg.norm(np.subtract(*model.template[[model.landmarks68[36], model.landmarks68[45]]])))

    def offsets(
        alpha: NDArray[np.float64], rays: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
        pts = posed(skull_basis, alpha, False).points @ rot.T + t
        uv = project(pts, camera)
        ids, found = outline_vertices(uv, outline, rays)
        radial = np.einsum("nc,nc->n", uv[ids] - outline.centre, outline.directions[rays])
        return radial - outline.radius[rays], ids, found

    before, _, found = offsets(alpha0, used)
    keep = found & (np.abs(before) <= settings.max_offset * eye)
    used = used[keep]
    if len(used) < settings.min_rays:
        return unchanged(
            f"{len(used)} usable outline rays within reach of the model (< {settings.min_rays})", len(used)
        )
    before_median = float(np.median(np.abs(before[keep]))) / eye
    inv = 1.0 / eye
    sa = np.sqrt(settings.identity_prior)
    alpha = alpha0.copy()
    for _ in range(max(1, settings.rounds)):
        _, ids, _ = offsets(alpha, used)
        sub = skull_basis.take(ids)
        dirs = outline.directions[used]
        target_r = outline.radius[used]

        def residuals_and_jacobian(
            x: NDArray[np.float64],
            jac: bool,
            sub: PointBasis = sub,
            dirs: NDArray[np.float64] = dirs,
            target_r: NDArray[np.float64] = target_r,
        ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
            out = posed(sub, x, jac)
            rx = out.points @ rot.T
            pc = rx + t
            uv = project(pc, camera)
            r_out = settings.weight * inv * (np.einsum("nc,nc->n", uv - outline.centre, dirs) - target_r)
            an = posed(face_basis, x, jac)
            d3 = an.points - face_target
            wa = settings.anchor_weight / eye_m
            res = np.concatenate([r_out, wa * d3.reshape(-1), sa * x])
            if not jac:
                return res, None
            jp = projection_jacobian(pc, camera)
            c_out = np.einsum("nc,ncj->nj", dirs, jp)
            cols = slice(6, 6 + k)
            j_out = scalar_jacobian_rows(out.basis, rot, rx, jl, c_out, out.rotations)[:, cols]
            j_face = wa * an.basis.identity.reshape(-1, k)  # ∂X/∂α, model frame
            return res, np.concatenate([settings.weight * inv * j_out, j_face, sa * np.eye(k)])

        result = solve_robust_lm(
            lambda x: residuals_and_jacobian(x, False)[0],
            lambda x: residuals_and_jacobian(x, True)[1],  # type: ignore[arg-type,return-value]
            alpha,
            np.full(k, -np.inf),
            np.full(k, np.inf),
            robust_rows=len(used),
            loss=settings.loss,
            scale=settings.loss_scale,
            max_iterations=settings.iterations,
        )
        alpha = result.x
    after, _, _ = offsets(alpha, used)

    # the fitted landmark projections move with the identity
    shift = project(posed(anchors, alpha, False).points @ rot.T + t, camera) - anchor_target
    lm_new = fit.landmarks_2d + shift
    ids68 = np.asarray(model.landmarks68)
    b68 = _fold_expression(vertex_basis(model, ids68, k, all_expr), params.expression)
    p68_old = project(posed(b68, alpha0, False).points @ rot.T + t, camera)
    p68_new = project(posed(b68, alpha, False).points @ rot.T + t, camera)
    refined = replace(
        fit,
        params=replace(params, identity=alpha),
        landmarks_2d=lm_new,
        landmarks68_2d=fit.landmarks68_2d + (p68_new - p68_old),
        nme=nme(lm_new, np.asarray(detected, dtype=np.float64)[:, :2], MP_LEFT_EYE_OUTER, MP_RIGHT_EYE_OUTER),
        iterations={**fit.iterations, "refine": settings.rounds},
    )
    report = RefineReport(
        rays_used=len(used),
        rays=cast,
        outline_before=before_median,
        outline_after=float(np.median(np.abs(after))) / eye,
        identity_change=float(np.linalg.norm(alpha - alpha0)),
        seconds=time.perf_counter() - start,
    )
    return refined, report
