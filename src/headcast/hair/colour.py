"""Strand colours from the photo: each render strand takes the photo's hair colour where it lies over visible hair.

A groom fitted to a photo (``reconstruct``) covers the photo's hair mask at the fitted camera, so the photo says
what colour each visible strand point has: streaks, highlights and roots darker than the ends, instead of one
root-to-tip gradient. ``photo_strand_colors``:

1. the photo's hair colour field: the photo averaged over the hair's core only (the mask eroded by ``core`` face
   heights, normalised convolution with a Gaussian of ``blur`` face heights: strand-level noise and the background
   at the mask's edge do not leak in); CIE L* is clipped to the core's 10th–90th percentiles (flyaways over a light
   background, glare) and its variation around the median scaled by ``light_keep`` (the photo's shading and
   specular highlights are partly lighting, which the renderer adds again);
2. each render strand point is projected at the fitted camera (a small copy, ``long_side`` pixels, for the head's
   depth map); a point counts as seen when it is in front of the head (``splat_strands``' tolerance) and falls on
   the hair's core;
3. along each strand, the photo colour reaches from its seen points to the unseen ones with a weight that decays
   with the arc length to the nearest seen point (``reach`` metres; both directions, so the part of a strand hidden
   behind the head blends back to the flat colour); strands never seen keep the flat root-to-tip gradient.

Convention: colours are sRGB in [0, 1]; blending happens in linear light (sRGB ≈ linear^(1/2.2), as
``display.strand_colors``).
"""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.fitting.types import FitResult
from headcast.geometry.camera import transform_points
from headcast.hair.analysis import lab_of_srgb, srgb_of_lab
from headcast.hair.hairline import face_height
from headcast.hair.head import HairHead
from headcast.hair.silhouette import head_depth
from headcast.render.context import Renderer


@dataclass(frozen=True)
class ColourSettings:
    """How strands take the photo's colour (``photo_strand_colors``).

    Attributes:
        blur: σ of the Gaussian that averages the photo's hair colour, face heights.
        core: erosion of the hair mask before sampling, face heights.
        light_keep: share of the photo's L* variation around the hair's median that is kept.
        reach: arc length over which a strand's photo colour fades into the flat colour away from its seen
            points, metres.
        long_side: longer side of the camera copy used for the visibility test, pixels.
        face_px: the colour field is computed on a copy of the photo scaled so that the face height is at most this
            many pixels. The defaults keep strand-level detail (σ about half a pixel at 320 px, a core eroded by
            about 3 pixels): a wider blur or a smaller copy washes out the streaks and highlights that make the
            same-view hair read as the photo's (docs/results/eval/README.md, "strand colours at the photo's
            resolution").
        tolerance: a point counts as in front of the head up to this far behind its surface, metres.
    """

    blur: float = 0.0015
    core: float = 0.01
    light_keep: float = 0.7
    reach: float = 0.03
    long_side: int = 320
    face_px: float = 320.0
    tolerance: float = 0.004


def hair_colour_field(
    pixels: NDArray[np.uint8], hair: NDArray[np.bool_], landmarks68: NDArray[np.floating],
    settings: ColourSettings | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.bool_], float]:
    """The photo's smoothed hair colour and the hair's core (step 1 of the module docstring), on a scaled copy.

    Args:
        pixels: ``(H, W, 3)`` uint8 sRGB photo.
        hair: ``(H, W)`` bool hair mask.
        landmarks68: ``(68, 2)`` iBUG-68 points, pixels (for the face height).
        settings: blur, erosion and lightness compression.

    Returns:
        ``(h, w, 3)`` float32 sRGB in [0, 1] (meaningful on the core), the ``(h, w)`` bool core, and the copy's
        scale (its pixels per photo pixel, ≤ 1; the face height is at most ``face_px`` pixels there).
    """
    s = ColourSettings() if settings is None else settings
    scale = min(1.0, s.face_px / face_height(landmarks68))
    height, width = hair.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    mask = np.asarray(cv2.resize(np.asarray(hair, np.float32), size, interpolation=cv2.INTER_AREA)) > 0.5
    rgb = np.asarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), np.float32) / 255.0
    fh = face_height(landmarks68) * scale
    k = 2 * max(1, round(s.core * fh)) + 1
    core = cv2.erode(mask.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
    if core.sum() < 0.2 * max(int(mask.sum()), 1):
        core = mask
    sigma = max(0.5, s.blur * fh)
    weight = cv2.GaussianBlur(core.astype(np.float32), (0, 0), sigma)
    field = cv2.GaussianBlur(rgb * core[..., None], (0, 0), sigma) / np.maximum(weight, 1e-6)[..., None]
    if core.any():
        lab = lab_of_srgb(np.clip(field[core], 0.0, 1.0))
        lo, median, hi = np.percentile(lab[:, 0], [10, 50, 90])
        lab[:, 0] = median + s.light_keep * (np.clip(lab[:, 0], lo, hi) - median)
        field[core] = srgb_of_lab(lab).astype(np.float32)
    return np.clip(field, 0.0, 1.0).astype(np.float32), core, scale


def seen_points(
    points: NDArray[np.floating], fit: FitResult, core: NDArray[np.bool_], core_scale: float,
    depth: NDArray[np.floating], depth_scale: float, tolerance: float = 0.004,
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.int64]]:
    """Which of ``(N, P, 3)`` model-frame points the photo shows on its hair, and their pixels in ``core``.

    Args:
        points: ``(N, P, 3)`` strand points, metres.
        fit: fitted camera (photo resolution) and pose.
        core: ``(h, w)`` bool where the photo's hair colour is sampled, at ``core_scale`` × the photo's resolution.
        core_scale: ``core``'s resolution over the photo's.
        depth: head depth map at ``fit.camera`` scaled by ``depth_scale`` (``head_depth``).
        depth_scale: the depth map's resolution over the photo's.
        tolerance: visibility tolerance behind the head's surface, metres.

    Returns:
        ``(N, P)`` bool seen, and ``(N, P)`` rows and columns in ``core`` (clipped into it).
    """
    n, p = points.shape[:2]
    cam = fit.camera
    pc = transform_points(np.asarray(points, dtype=np.float64).reshape(-1, 3), fit.params.pose)
    z = np.maximum(-pc[:, 2], 1e-6)
    u = cam.cx + cam.fx * pc[:, 0] / z
    v = cam.cy - cam.fy * pc[:, 1] / z
    h, w = core.shape
    iu, iv = np.floor(u * core_scale).astype(np.int64), np.floor(v * core_scale).astype(np.int64)
    on = (pc[:, 2] < 0) & (iu >= 0) & (iu < w) & (iv >= 0) & (iv < h)
    iu, iv = np.clip(iu, 0, w - 1), np.clip(iv, 0, h - 1)
    dh, dw = depth.shape
    du = np.clip(np.floor(u * depth_scale).astype(np.int64), 0, dw - 1)
    dv = np.clip(np.floor(v * depth_scale).astype(np.int64), 0, dh - 1)
    front = z < np.asarray(depth)[dv, du] + tolerance
    seen = on & front & core[iv, iu]
    return seen.reshape(n, p), iv.reshape(n, p), iu.reshape(n, p)


def reach_weights(seen: NDArray[np.bool_], arc: NDArray[np.floating], reach: float) -> NDArray[np.float64]:
    """``(N, P)`` weight of the photo colour along each strand (0 on strands never seen).

    1 at seen points, ``exp(−s / reach)`` at an arc length ``s`` from the nearest seen point on the same strand.

    Args:
        seen: ``(N, P)`` bool.
        arc: ``(N, P)`` arc length from the root, metres (non-decreasing along each row).
        reach: decay length, metres.
    """
    big = 1e9
    last = np.where(seen, arc, -big)
    last = np.maximum.accumulate(last, axis=1)  # arc of the nearest seen point at or before each point
    nxt = np.where(seen, arc, big)
    nxt = np.minimum.accumulate(nxt[:, ::-1], axis=1)[:, ::-1]  # ... at or after
    dist = np.minimum(arc - last, nxt - arc)
    return np.where(dist < big / 2, np.exp(-np.maximum(dist, 0.0) / max(reach, 1e-9)), 0.0)


def photo_strand_colors(
    points: NDArray[np.floating], flat: NDArray[np.floating], pixels: NDArray[np.uint8], hair: NDArray[np.bool_],
    fit: FitResult, head: HairHead, settings: ColourSettings | None = None, renderer: Renderer | None = None,
) -> NDArray[np.float32]:
    """``(N, P, 3)`` sRGB colours of render strands: the photo's where seen, the flat gradient elsewhere.

    Args:
        points: ``(N, P, 3)`` render strands, model frame, metres.
        flat: ``(N, P, 3)`` the flat colours (``display.strand_colors`` of the groom without photo colours).
        pixels: ``(H, W, 3)`` uint8 sRGB photo.
        hair: ``(H, W)`` bool the photo's (subject's) hair mask.
        fit: fitted camera and pose.
        head: the prepared head (posed vertices for the depth map).
        settings: see :class:`ColourSettings`.
        renderer: GL owner for the depth map.
    """
    s = ColourSettings() if settings is None else settings
    pts = np.asarray(points, dtype=np.float64)
    field, core, core_scale = hair_colour_field(pixels, hair, fit.landmarks68_2d, s)
    scale = min(1.0, s.long_side / max(fit.camera.width, fit.camera.height))
    depth = head_depth(head.model, head.posed_vertices, fit.params.pose, fit.camera.scaled(scale), renderer)
    seen, iv, iu = seen_points(pts, fit, core, core_scale, depth, scale, s.tolerance)
    seg = np.linalg.norm(np.diff(pts, axis=1), axis=2)
    arc = np.concatenate([np.zeros((len(pts), 1)), np.cumsum(seg, axis=1)], axis=1)
    weight = reach_weights(seen, arc, s.reach)
    # the photo colour at the nearest seen point of the strand (forward fill, then backward fill, by index)
    n, p = seen.shape
    idx = np.where(seen, np.arange(p)[None, :], -1)
    fwd = np.maximum.accumulate(idx, axis=1)
    bwd = np.where(seen, np.arange(p)[None, :], p)
    bwd = np.minimum.accumulate(bwd[:, ::-1], axis=1)[:, ::-1]
    nearest = np.where(fwd >= 0, fwd, np.minimum(bwd, p - 1))
    use_bwd = (fwd < 0) | ((bwd < p) & (arc[np.arange(n)[:, None], np.minimum(bwd, p - 1)] - arc
                                           < arc - arc[np.arange(n)[:, None], np.maximum(fwd, 0)]))
    nearest = np.where(use_bwd & (bwd < p), bwd, nearest)
    rows = np.arange(n)[:, None]
    photo = field[iv[rows, nearest], iu[rows, nearest]].astype(np.float64)
    lin = (1.0 - weight[..., None]) * np.asarray(flat, np.float64) ** 2.2 + weight[..., None] * photo**2.2
    return np.asarray(np.clip(lin, 0.0, 1.0) ** (1 / 2.2), dtype=np.float32)
