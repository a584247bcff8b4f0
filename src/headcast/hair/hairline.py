"""The photo's hairline: roots seeded where the head meets the photo's hair at the forehead and temples; measured.

**Scalp from the photo** (``photo_scalp``, ``with_photo_scalp``): the head's surface samples (the scalp's
candidates, ``scalp.candidate_samples``) are projected at the fitted camera; a sample counts as *seen* when its
normal faces the camera (cosine ≥ ``min_facing``: the forehead, temples and crown front, not the sides seen edge-on,
where a few pixels of fitting error decide between skin and background). A seen sample that falls on the photo's
facial skin is not scalp (a high or receding hairline, bare temples); a seen sample that falls on the photo's hair is
scalp even below the default hairline curve (``scalp.hairline_phi``), down to a *lowest hairline*
(``HairlineSettings``: the brows, cheeks and ears never grow roots — hair falling over them is hair hanging, not
hair growing; with a fringe that hides the forehead, ``HairAnalysis.fringe`` > ``fringe_hidden``, the front stays
at the default). Unseen samples keep the default curve. So the roots reach the photo's hairline (no bare band
between the forehead and the hair) and stop at it (no hair rooted on the forehead).

**Measure** (``hairline_fit``): the photo's hairline pixels (hair next to facial skin above the eyes) and their
distance to a render's hair silhouette at the photo's camera.

Convention: masks are ``(H, W)`` bool in ``Photo.pixels`` coordinates (row 0 at the top, rows grow downwards);
landmarks are iBUG-68 points in pixels. The *face height* is the brow line (mean row of landmarks 17–26) to the
chin (landmark 8); distances are reported in pixels and in face heights. Angles φ (from +y) and ψ (0 = +z, +π/2 =
+x) are the scalp's (``hair.scalp``), about the skull centre, in the model frame.
"""

from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.fitting.types import FitResult
from headcast.geometry.camera import transform_points
from headcast.hair.head import HairHead
from headcast.hair.scalp import build_scalp, candidate_samples, front_phi, hairline_knots, hairline_phi
from headcast.hair.types import HairAnalysis


@dataclass(frozen=True)
class HairlineSettings:
    """How the scalp is read off the photo (``photo_scalp``).

    Attributes:
        min_facing: a sample is seen when its normal points towards the camera by at least this cosine.
        lowest_front: the lowest front hairline, brow-to-nose-base distances above the brows.
        lowest_temple_deg: the lowest hairline at the temples (|ψ| = 45°), degrees of φ below the lowest front.
        lowest_sideburn_deg: how much lower than the default the sideburn may reach, degrees of φ.
        fringe_hidden: ``HairAnalysis.fringe`` above which the forehead's hairline counts as hidden (the front and
            temples are not lowered).
    """

    min_facing: float = 0.2
    lowest_front: float = 0.45
    lowest_temple_deg: float = 14.0
    lowest_sideburn_deg: float = 6.0
    fringe_hidden: float = 0.6


def photo_scalp(
    head: HairHead, fit: FitResult, analysis: HairAnalysis, settings: HairlineSettings | None = None
) -> NDArray[np.bool_]:
    """``(S,)`` which candidate surface samples are scalp according to the photo (see the module docstring).

    Args:
        head: the prepared head (skull centre and default hairline of its scalp).
        fit: the fitted camera and pose (the hair rides on the neutral head; its projection is used as is).
        analysis: the photo's hair and facial-skin masks.
        settings: visibility and the lowest hairline.
    """
    s = HairlineSettings() if settings is None else settings
    scalp = head.scalp
    pts, nrm, phi, psi, outward = candidate_samples(head.model, head.vertices, scalp.centre)
    pose, cam = fit.params.pose, fit.camera
    pc = transform_points(pts, pose)
    nc = transform_points(pts + 0.01 * nrm, pose) - pc
    view = pc / np.maximum(np.linalg.norm(pc, axis=1, keepdims=True), 1e-12)
    seen = outward & (np.einsum("nd,nd->n", nc / 0.01, view) <= -s.min_facing)
    z = np.maximum(-pc[:, 2], 1e-6)
    u = np.floor(cam.cx + cam.fx * pc[:, 0] / z).astype(np.int64)
    v = np.floor(cam.cy - cam.fy * pc[:, 1] / z).astype(np.int64)
    h, w = analysis.hair.shape
    seen &= (u >= 0) & (u < w) & (v >= 0) & (v < h)
    uc, vc = np.clip(u, 0, w - 1), np.clip(v, 0, h - 1)
    on_hair = seen & analysis.hair[vc, uc]
    on_skin = seen & analysis.skin[vc, uc] & ~on_hair
    default = hairline_phi(psi, scalp.hairline_phi)
    knots = scalp.hairline_phi
    if analysis.fringe > s.fringe_hidden:
        low_front, low_temple = knots[1, 0], knots[1, 1]
    else:
        low_front = front_phi(head.model, head.vertices, scalp.centre, s.lowest_front)
        low_temple = low_front + np.deg2rad(s.lowest_temple_deg)
    low = hairline_knots(head.model, head.vertices, scalp.centre, low_front, phi_temple=low_temple,
                         phi_sideburn=knots[1, 2] + np.deg2rad(s.lowest_sideburn_deg))
    lowest = np.maximum(hairline_phi(psi, low), default)
    keep = (phi < default) | (on_hair & (phi < lowest))
    return np.asarray(keep & ~on_skin & outward, dtype=bool)


def with_photo_scalp(head: HairHead, keep: NDArray[np.bool_] | None) -> HairHead:
    """The same head with the scalp read off the photo (``photo_scalp``); unchanged for None.

    The SDF and the surface samples are reused.
    """
    if keep is None:
        return head
    scalp = build_scalp(head.model, head.vertices, None, head.front_height, keep)
    return replace(head, scalp=scalp, photo_keep=keep)


def face_height(landmarks68: NDArray[np.floating]) -> float:
    """Brow line (mean row of landmarks 17–26) to chin (landmark 8), pixels (at least 1)."""
    lm = np.asarray(landmarks68, dtype=np.float64)
    return max(float(lm[8, 1]) - float(lm[17:27, 1].mean()), 1.0)


def hairline_pixels(
    hair: NDArray[np.bool_], skin: NDArray[np.bool_], landmarks68: NDArray[np.floating], band: float = 0.0
) -> NDArray[np.bool_]:
    """``(H, W)`` the photo's hairline: hair pixels next to facial skin, above the eyes.

    A hair pixel belongs to the hairline when it lies within ``band`` face heights (at least one pixel: the
    8-neighbours) of a skin pixel and above the mean row of the eye landmarks (36–47), so the forehead and temples
    count and the hair beside the cheeks does not.

    Args:
        hair: ``(H, W)`` bool hair mask.
        skin: ``(H, W)`` bool facial-skin mask (no hair).
        landmarks68: ``(68, 2)`` iBUG-68 points, pixels.
        band: width of the band, face heights.
    """
    lm = np.asarray(landmarks68, dtype=np.float64)
    r = max(1, round(band * face_height(lm)))
    near = cv2.dilate(np.asarray(skin, np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0
    out = near & np.asarray(hair, dtype=bool)
    out[int(np.clip(np.ceil(lm[36:48, 1].mean()), 0, out.shape[0])) :] = False
    return out


@dataclass(frozen=True)
class HairlineFit:
    """How well a render's hair reaches the photo's hairline (``hairline_fit``).

    Attributes:
        gap_px: median distance from the photo's hairline pixels to the nearest rendered hair pixel, pixels
            (0 where the render covers the hairline pixel itself).
        gap: the same in face heights.
        gap_p90: 90th percentile of the distance, face heights (the worst stretches, e.g. bare temples).
        cover: share of the photo's hair within 0.05 face heights of the facial skin (above the eyes) that the
            render covers.
    """

    gap_px: float
    gap: float
    gap_p90: float
    cover: float


def hairline_fit(
    render: NDArray[np.bool_], photo_hair: NDArray[np.bool_], skin: NDArray[np.bool_],
    landmarks68: NDArray[np.floating], band: float = 0.05,
) -> HairlineFit | None:
    """Measure the bald band between the photo's hairline and a render's hair (None: the photo shows no hairline).

    Args:
        render: ``(H, W)`` bool rendered hair silhouette at the photo's camera.
        photo_hair: ``(H, W)`` bool photo hair mask.
        skin: ``(H, W)`` bool photo facial-skin mask.
        landmarks68: ``(68, 2)`` iBUG-68 points, pixels.
        band: depth of the hairline band whose coverage is reported, face heights.
    """
    line = hairline_pixels(photo_hair, skin, landmarks68)
    if not line.any():
        return None
    fh = face_height(landmarks68)
    rend = np.asarray(render, dtype=bool)
    dist = cv2.distanceTransform((~rend).astype(np.uint8), cv2.DIST_L2, 5) if rend.any() else None
    d = np.full(int(line.sum()), 0.5 * fh) if dist is None else dist[line].astype(np.float64)
    strip = hairline_pixels(photo_hair, skin, landmarks68, band)
    return HairlineFit(
        gap_px=float(np.median(d)), gap=float(np.median(d) / fh), gap_p90=float(np.percentile(d, 90) / fh),
        cover=float((strip & rend).sum() / max(int(strip.sum()), 1)),
    )
