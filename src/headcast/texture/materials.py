"""Procedural materials for what a portrait cannot texture well: eyes, teeth, mouth, lashes.

Mouth: gums, tongue and teeth are painted from the rest-pose geometry under each texel (:func:`mouth_texels`):
gum next to the teeth, a deeper red tongue/palate elsewhere, and both darker towards the back of the mouth.

Eye geometry of ICT FaceKit (measured on the template, see DESIGN.md): the sclera mesh is a closed sphere
(radius ≈ 15.8 mm) whose tile maps the view angle θ from the eye's axis almost linearly to the UV radius
(r ≈ 0.0045 · θ°); the iris (limbus radius ≈ 5.8 mm, θ ≈ 21.5°) sits at r ≈ 0.118 and a ~2 mm pupil at
r ≈ 0.042. The iris mesh is a flat disc 0.8 mm behind the front of the sclera whose tile maps the pupil edge to
r ≈ 0.09 and the limbus to r ≈ 0.377. The sclera is drawn opaque, so the iris is painted on it as well.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.texture.atlas import GUTTER_TEXELS

if TYPE_CHECKING:
    from headcast.headmodel.base import LinearHeadModel, MaterialRole
    from headcast.render.context import Renderer

SCLERA_LIMBUS_R = 0.118
SCLERA_PUPIL_R = 0.042
IRIS_PUPIL_R = 0.09
IRIS_LIMBUS_R = 0.377

#: MediaPipe eye contours (subject's right eye = image left in a frontal photo, then the left eye).
RIGHT_EYE = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
LEFT_EYE = (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249)
#: MediaPipe iris landmarks: centre, then four points on the iris boundary.
IRIS_A = (468, 469, 470, 471, 472)
IRIS_B = (473, 474, 475, 476, 477)


def cell_tile_uv(n: int) -> NDArray[np.float32]:
    """``(n, n, 2)`` tile UV (bottom-left origin) at each texel centre of an ``n``-texel cell (row 0 = top).

    Inverts the cell placement of :func:`headcast.texture.atlas.tile_to_cell` (gutter inset included).
    """
    inner = n - 2 * GUTTER_TEXELS
    t = ((np.arange(n, dtype=np.float32) + 0.5) - GUTTER_TEXELS) / inner
    u, v = np.meshgrid(t, 1.0 - t)
    return np.stack([u, v], axis=-1)


def smoothstep(lo: float, hi: float, x: NDArray[np.floating]) -> NDArray[np.float32]:
    """Hermite step: 0 below ``lo``, 1 above ``hi``."""
    t = np.clip((np.asarray(x, dtype=np.float32) - lo) / (hi - lo), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def iris_pattern(s: NDArray[np.float32], theta: NDArray[np.float32], seed: int = 3) -> NDArray[np.float32]:
    """Relative brightness of an iris at normalised radius ``s`` (0 pupil edge, 1 limbus) and angle ``theta``.

    Radial fibres (sums of sines in θ, wavering with s), a lighter collarette ring at s ≈ 0.35, a dark limbal
    ring and a darker pupil margin. Mean ≈ 1.
    """
    rng = np.random.default_rng(seed)
    fibres = np.zeros_like(s)
    for k, amp in ((23, 0.5), (41, 0.4), (67, 0.35), (109, 0.3)):
        phase = rng.uniform(0, 2 * np.pi)
        fibres += amp * np.sin(k * theta + phase + 3.0 * s * rng.uniform(-1, 1))
    fibres /= 1.55
    collarette = np.exp(-(((s - 0.35) / 0.09) ** 2))
    limbal = smoothstep(0.72, 1.0, s)
    margin = 1.0 - smoothstep(0.0, 0.12, s)
    return (1.0 + 0.16 * fibres + 0.18 * collarette - 0.45 * limbal - 0.3 * margin).astype(np.float32)


def paint_eye(
    n: int,
    kind: Literal["sclera", "iris"],
    iris_rgb: NDArray[np.floating],
    sclera_rgb: tuple[float, float, float],
    pupil_rgb: tuple[float, float, float],
    catchlight_uv: tuple[float, float] | None = None,
) -> NDArray[np.float32]:
    """Paint one eye cell.

    The result is affine in the iris colour, ``A + B · iris_rgb``; ``A`` and ``B`` depend only on the other
    arguments and are cached, so painting a new iris colour costs a multiply-add.

    Args:
        n: cell side in texels.
        kind: ``"sclera"`` (the outer eyeball: white with the iris and pupil painted on the cornea) or ``"iris"``
            (the inner iris disc).
        iris_rgb: ``(3,)`` mean iris colour, sRGB [0, 1].
        sclera_rgb: white of the eye.
        pupil_rgb: pupil colour.
        catchlight_uv: tile UV of a small soft highlight (sclera only), or None.

    Returns:
        ``(n, n, 3)`` float32 sRGB.
    """
    const, gain = _eye_affine(n, kind, tuple(sclera_rgb), tuple(pupil_rgb), catchlight_uv)
    out = const + gain[..., None] * np.asarray(iris_rgb, np.float32)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def paint_eye_from_profile(
    n: int,
    kind: Literal["sclera", "iris"],
    profile: NDArray[np.floating],
    sclera_rgb: tuple[float, float, float],
    catchlight_uv: tuple[float, float] | None = None,
) -> NDArray[np.float32]:
    """Paint one eye cell with the photo's iris: its ring colours from the centre out, pupil included.

    The iris disc (inside the limbus of the cell's layout) takes the colour of ``profile``'s ring at the texel's
    radius (linear in the limbus radius: the sclera tile maps the view angle almost linearly), modulated by
    :data:`IRIS_TEXTURE` of the painted fibre pattern's relative contrast; outside it the painted sclera of
    :func:`paint_eye`. So the pupil size, the iris colour from the pupil to the dark limbal ring and the limbus are
    the photo's.

    Args:
        n: cell side in texels.
        kind: ``"sclera"`` or ``"iris"`` (as :func:`paint_eye`).
        profile: ``(B, 3)`` ring colours from the centre to the limbus, sRGB [0, 1]
            (:attr:`EyeMeasurement.iris_profile`).
        sclera_rgb: white of the eye.
        catchlight_uv: tile UV of a small soft highlight (sclera only), or None.

    Returns:
        ``(n, n, 3)`` float32 sRGB.
    """
    prof = np.asarray(profile, np.float32)
    bins = len(prof)
    pattern, in_iris, _, _, _ = _eye_layers(n, kind)
    # with a black pupil and no iris colour, the painted cell is the whites outside the iris (zero inside it)
    const, _ = _eye_affine(n, kind, tuple(sclera_rgb), (0.0, 0.0, 0.0), None)
    uv = cell_tile_uv(n) - 0.5
    limbus = SCLERA_LIMBUS_R if kind == "sclera" else IRIS_LIMBUS_R
    s = np.clip(np.sqrt(np.sum(uv**2, axis=-1)) / limbus, 0.0, 1.0)
    centres = (np.arange(bins, dtype=np.float32) + 0.5) / bins
    colour = np.stack([np.interp(s, centres, prof[:, c]) for c in range(3)], axis=-1)
    inside = in_iris > 0.5
    relative = pattern / max(float(pattern[inside].mean()) if inside.any() else 1.0, 1e-6)
    colour = colour * (1.0 + IRIS_TEXTURE * (relative - 1.0))[..., None]
    out = const + colour * in_iris[..., None]
    if kind == "sclera" and catchlight_uv is not None:
        c = np.asarray(catchlight_uv, np.float32) - 0.5
        glint = 0.9 * np.exp(-np.sum((uv - c) ** 2, axis=-1) / (2.0 * 0.008**2))
        out = out * (1.0 - glint[..., None]) + glint[..., None]
    return np.clip(out, 0.0, 1.0).astype(np.float32)


@lru_cache(maxsize=8)
def _eye_affine(
    n: int,
    kind: Literal["sclera", "iris"],
    sclera_rgb: tuple[float, ...],
    pupil_rgb: tuple[float, ...],
    catchlight_uv: tuple[float, float] | None,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """``A (n, n, 3)`` and ``B (n, n)`` of :func:`paint_eye` (painted = A + B · iris colour)."""
    pattern, in_iris, in_pupil, shade, pink = _eye_layers(n, kind)
    if kind == "sclera":
        # soft shading and a faint pink towards the (hidden) sides of the eyeball
        base = np.asarray(sclera_rgb, np.float32) * shade[..., None]
        base = base * (1.0 - pink[..., None]) + np.array([0.85, 0.62, 0.60], np.float32) * pink[..., None]
        base_gain = np.zeros_like(pattern)
    else:
        base = np.zeros((*pattern.shape, 3), np.float32)
        base_gain = np.full_like(pattern, 0.35)
    keep = (1.0 - in_pupil)[..., None]
    const = base * (1.0 - in_iris[..., None]) * keep + np.asarray(pupil_rgb, np.float32) * in_pupil[..., None]
    gain = (base_gain * (1.0 - in_iris) + pattern * in_iris) * (1.0 - in_pupil)
    if kind == "sclera" and catchlight_uv is not None:
        uv = cell_tile_uv(n) - 0.5
        c = np.asarray(catchlight_uv, np.float32) - 0.5
        glint = 0.9 * np.exp(-np.sum((uv - c) ** 2, axis=-1) / (2.0 * 0.008**2))
        const = const * (1.0 - glint[..., None]) + glint[..., None]
        gain = gain * (1.0 - glint)
    const.setflags(write=False)
    gain.setflags(write=False)
    return const.astype(np.float32), gain.astype(np.float32)


@lru_cache(maxsize=4)
def _eye_layers(n: int, kind: Literal["sclera", "iris"]) -> tuple[NDArray[np.float32], ...]:
    """Colour-independent layers of an eye cell: iris pattern, iris and pupil coverage, sclera shade and pink."""
    uv = cell_tile_uv(n) - 0.5
    r = np.sqrt(np.sum(uv**2, axis=-1))
    theta = np.arctan2(uv[..., 1], uv[..., 0])
    pupil_r, limbus_r = (SCLERA_PUPIL_R, SCLERA_LIMBUS_R) if kind == "sclera" else (IRIS_PUPIL_R, IRIS_LIMBUS_R)
    s = np.clip((r - pupil_r) / (limbus_r - pupil_r), 0.0, 1.0)
    edge = 0.006 if kind == "sclera" else 0.02
    layers = (
        iris_pattern(s, theta),
        1.0 - smoothstep(limbus_r - edge, limbus_r + edge, r),
        1.0 - smoothstep(pupil_r - 0.6 * edge, pupil_r + 0.6 * edge, r),
        1.0 - 0.10 * smoothstep(0.12, 0.40, r),
        0.25 * smoothstep(0.18, 0.42, r),
    )
    out = tuple(np.asarray(layer, np.float32) for layer in layers)
    for layer in out:
        layer.setflags(write=False)  # shared by the cache
    return out


@dataclass(frozen=True)
class EyeMeasurement:
    """Eye colours measured in a photo.

    Attributes:
        iris: ``(3,)`` float32 median iris colour, sRGB [0, 1], or None when too little iris is visible.
        sclera_luminance: 75th-percentile luminance (Rec. 601 luma of sRGB, [0, 1]) of the visible whites of
            the eyes, or None.
        iris_profile: ``(IRIS_BINS, 3)`` float32 median colour of the visible iris (pupil included) in rings of
            equal width from its centre (bin 0) to the limbus (the last), sRGB [0, 1]; None when a ring has too
            few pixels.
        sclera_rgb: ``(3,)`` float32 median colour of the lit part of the visible whites (luma between their 50th
            and 90th percentiles), sRGB [0, 1], or None.
    """

    iris: NDArray[np.float32] | None
    sclera_luminance: float | None
    iris_profile: NDArray[np.float32] | None = None
    sclera_rgb: NDArray[np.float32] | None = None


IRIS_BINS = 12
"""Rings of :attr:`EyeMeasurement.iris_profile`, centre to limbus."""

IRIS_TEXTURE = 0.5
"""How much of the painted iris fibre pattern's relative contrast modulates the photo's ring colours."""


def measure_eyes(pixels: NDArray[np.uint8], points: NDArray[np.floating], min_pixels: int = 12) -> EyeMeasurement:
    """Measure iris colour and the brightness of the eye whites (both eyes pooled).

    Iris: pixels inside each iris circle (centre = landmark 468 / 473, radius = mean distance to the four
    boundary landmarks) between 0.45 and 0.95 of the radius (skipping pupil and limbus), inside the eye opening
    (eyelids excluded), without the brightest 15 % (catchlights); the median colour.
    Sclera: pixels of the eye opening farther than 1.2 radii from the iris centre.

    Args:
        pixels: ``(H, W, 3)`` uint8 photo.
        points: ``(478, 2+)`` MediaPipe landmarks in photo pixels.
        min_pixels: fewer usable pixels than this gives None for that measurement.
    """
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    if len(pts) < 478:
        return EyeMeasurement(None, None)
    h, w = pixels.shape[:2]
    iris_px, white_px, ring_px, ring_r = [], [], [], []
    for iris_ids in (IRIS_A, IRIS_B):
        centre = pts[iris_ids[0]]
        radius = float(np.mean(np.linalg.norm(pts[list(iris_ids[1:])] - centre, axis=1)))
        if not np.isfinite(radius) or radius < 1.0:
            continue
        contour = min((RIGHT_EYE, LEFT_EYE), key=lambda c: float(np.linalg.norm(pts[list(c)].mean(0) - centre)))
        poly = pts[list(contour)]
        x0, y0 = np.floor(np.minimum(poly.min(axis=0), centre - radius) - 1).astype(int)
        x1, y1 = np.ceil(np.maximum(poly.max(axis=0), centre + radius) + 2).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        d = np.hypot(xx + 0.5 - centre[0], yy + 0.5 - centre[1])
        opening = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(opening, [np.round((poly - [x0, y0]) * 4).astype(np.int32)], 1, shift=2)
        inside = opening > 0
        crop = pixels[y0:y1, x0:x1]
        iris_px.append(crop[inside & (d > 0.45 * radius) & (d < 0.95 * radius)])
        white_px.append(crop[inside & (d > 1.2 * radius)])
        ring = inside & (d < radius)
        ring_px.append(crop[ring])
        ring_r.append(d[ring] / radius)
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    iris = None
    if iris_px and sum(len(p) for p in iris_px) >= min_pixels:
        px = np.concatenate(iris_px).astype(np.float32) / 255.0
        px = px[px @ luma <= np.percentile(px @ luma, 85.0)]
        iris = np.median(px, axis=0).astype(np.float32)
    white = None
    white_rgb = None
    if white_px and sum(len(p) for p in white_px) >= min_pixels:
        px = np.concatenate(white_px).astype(np.float32) / 255.0
        y = px @ luma
        white = float(np.percentile(y, 75.0))
        lit = (y >= np.percentile(y, 50.0)) & (y <= np.percentile(y, 90.0))
        white_rgb = np.median(px[lit], axis=0).astype(np.float32) if lit.any() else None
    return EyeMeasurement(iris, white, _iris_profile(ring_px, ring_r, min_pixels), white_rgb)


def _iris_profile(
    pixels: list[NDArray[np.uint8]], radius: list[NDArray[np.float64]], min_pixels: int
) -> NDArray[np.float32] | None:
    """Median colour per ring of the pooled iris pixels (their normalised radius given), catchlights left out.

    Each ring drops its brightest 15 % (catchlights); an empty ring (a small iris has few pixels near its centre)
    takes its neighbours' colours. None when fewer than ``min_pixels`` pixels are pooled or half the rings are
    empty (a closed or hidden eye says nothing about the pupil).
    """
    if not pixels:
        return None
    px = np.concatenate(pixels).astype(np.float32) / 255.0
    r = np.concatenate(radius)
    if len(px) < min_pixels:
        return None
    ring = np.minimum((r * IRIS_BINS).astype(np.int64), IRIS_BINS - 1)
    luma = px @ np.array([0.299, 0.587, 0.114], np.float32)
    out = np.zeros((IRIS_BINS, 3), np.float32)
    filled = np.zeros(IRIS_BINS, dtype=bool)
    for b in range(IRIS_BINS):
        sel = ring == b
        if not sel.any():
            continue
        keep = sel & (luma <= np.percentile(luma[sel], 85.0))
        out[b] = np.median(px[keep], axis=0)
        filled[b] = True
    if filled.sum() < IRIS_BINS / 2:
        return None
    idx = np.arange(IRIS_BINS, dtype=np.float64)
    for c in range(3):
        out[:, c] = np.interp(idx, idx[filled], out[filled, c])
    return out


def exposure_factor(sclera_luminance: float | None, sclera_rgb: tuple[float, float, float]) -> float:
    """Brightness factor for painted whites (sclera, teeth) so that they match the photo's exposure.

    ``clip(1.15 · measured / luma(sclera_rgb), 0.55, 1)``: a dim photo gets dimmer eye whites and teeth; a
    well-exposed one keeps the configured colours. 1 when nothing was measured.
    """
    if sclera_luminance is None:
        return 1.0
    target = float(np.dot(np.asarray(sclera_rgb), [0.299, 0.587, 0.114]))
    return float(np.clip(1.15 * sclera_luminance / max(target, 1e-3), 0.55, 1.0))


# --- mouth interior -------------------------------------------------------------------------------------------

TONGUE_FACTOR = (0.72, 0.58, 0.58)
"""Tongue, palate and floor of the mouth = the gums colour times this: a deeper, less pink red than the gums
(oral mucosa over muscle vs keratinised gingiva)."""
GUM_DISTANCE_M = (0.002, 0.005)
"""A gums/tongue texel within the first distance (metres, rest pose) of a tooth is gum, beyond the second tongue."""
MOUTH_DEPTH_SHADE = 0.45
"""Albedo lost towards the back of the mouth (static depth cue that survives in exported models, which have no
cavity shading; the renderer adds the opening-dependent part, headcast.render.mouth)."""
MOUTH_DEPTH_M = (0.008, 0.05)
"""Depth behind the front of the incisors (metres) over which that loss ramps in (smoothstep)."""


@dataclass(frozen=True, eq=False)
class MouthTexels:
    """Rest-pose geometry under each texel of the gums/tongue and teeth cells (side ``n``).

    Attributes:
        gum: ``(n, n)`` float32 in [0, 1]: 1 on gums (next to a tooth), 0 on tongue, palate and floor.
        depth_gums: ``(n, n)`` float32 metres behind the front of the incisors, gums/tongue cell.
        depth_teeth: ``(n, n)`` float32 metres behind the front of the incisors, teeth cell.
    """

    gum: NDArray[np.float32]
    depth_gums: NDArray[np.float32]
    depth_teeth: NDArray[np.float32]


def mouth_texels(model: "LinearHeadModel", size: int, renderer: "Renderer") -> MouthTexels | None:
    """Per-texel rest-pose data of the mouth cells; None for a model without gums, teeth and a teeth part.

    Kept in ``model.memo`` per atlas size (``renderer`` only rasterises: any renderer gives the same texels).
    """
    size = int(size)
    return model.memo.get(("texture.mouth_texels", size), lambda: _mouth_texels(model, size, renderer))


def _mouth_texels(model: "LinearHeadModel", size: int, renderer: "Renderer") -> MouthTexels | None:
    from scipy.spatial import cKDTree

    from headcast.render.raster import rasterize_uv
    from headcast.texture.atlas import cell_pixels

    roles: tuple[MaterialRole, ...] = ("gums_tongue", "teeth")
    if not all(len(model.material_ids(r)) == 1 for r in roles) or not model.has_part("teeth"):
        return None
    teeth = np.asarray(model.template[model.part_mask("teeth")], np.float64)
    front = float(teeth[:, 2].max())
    tree = cKDTree(teeth)
    out = []
    for role in roles:
        cell = model.atlas_cell(role)
        r0, r1, _, _ = cell_pixels(cell, size)
        n = r1 - r0
        sel = model.material_mask(role)
        uv = np.asarray(model.uv[model.triangle_uvs[sel]], np.float64)  # (T, 3, 2) tile UVs
        local = np.stack([(uv[..., 0] - cell.tile_u0) / cell.tile_width, uv[..., 1]], axis=-1)
        inner = n - 2 * GUTTER_TEXELS
        target = (GUTTER_TEXELS + local * inner) / n  # cell coordinates in [0, 1]² (bottom-left origin)
        pos = np.asarray(model.template[model.triangles[sel]], np.float32)  # (T, 3, 3)
        raster = rasterize_uv(target, pos, (n, n), renderer)
        xyz = raster.values.astype(np.float64)
        depth = np.where(raster.mask, front - xyz[..., 2], 0.0).astype(np.float32)
        dist = np.where(raster.mask, tree.query(xyz.reshape(-1, 3))[0].reshape(n, n), 1.0)
        out.append((depth, (1.0 - smoothstep(GUM_DISTANCE_M[0], GUM_DISTANCE_M[1], dist)).astype(np.float32)))
    return MouthTexels(gum=out[0][1], depth_gums=out[0][0], depth_teeth=out[1][0])


def paint_mouth(
    texels: MouthTexels, gums_rgb: tuple[float, float, float], teeth_rgb: tuple[float, float, float],
    grain_gums: NDArray[np.floating], grain_teeth: NDArray[np.floating],
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Paint the gums/tongue and teeth cells.

    Gums keep ``gums_rgb``; tongue, palate and floor are :data:`TONGUE_FACTOR` darker and redder; both cells lose
    up to :data:`MOUTH_DEPTH_SHADE` of their albedo with depth behind the incisors (molars, back of the tongue).

    Args:
        texels: :func:`mouth_texels`.
        gums_rgb: gum colour, sRGB [0, 1].
        teeth_rgb: tooth colour (already exposure-matched).
        grain_gums: ``(n, n)`` zero-mean noise for the gums/tongue cell.
        grain_teeth: ``(n, n)`` zero-mean noise for the teeth cell.

    Returns:
        ``(n, n, 3)`` float32 sRGB cells: gums/tongue, teeth.
    """
    gums = np.asarray(gums_rgb, np.float32)
    tongue = gums * np.asarray(TONGUE_FACTOR, np.float32)
    g = texels.gum[..., None]
    colour = g * gums + (1.0 - g) * tongue
    lo, hi = MOUTH_DEPTH_M
    shade_g = 1.0 - MOUTH_DEPTH_SHADE * smoothstep(lo, hi, texels.depth_gums)
    gum_cell = colour * (shade_g * (1.0 + 0.06 * np.asarray(grain_gums, np.float32)))[..., None]
    shade_t = 1.0 - MOUTH_DEPTH_SHADE * smoothstep(lo, hi, texels.depth_teeth)
    teeth_cell = np.asarray(teeth_rgb, np.float32) * (shade_t * (1.0 + 0.03 * np.asarray(grain_teeth)))[..., None]
    return np.clip(gum_cell, 0.0, 1.0).astype(np.float32), np.clip(teeth_cell, 0.0, 1.0).astype(np.float32)
