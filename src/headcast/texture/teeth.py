"""Teeth textured from the photo where it shows them; the painted teeth colour elsewhere.

When the lips are apart and the photo shows teeth, the teeth cell of the atlas gets the photo's pixels projected
through the fitted teeth, like the skin (:func:`headcast.texture.project.project_photo`: per-texel visibility
against the whole opaque head — the lips hide the teeth behind them — and the view angle), but only from photo
pixels that can be teeth:

* inside the mouth opening: the polygon of MediaPipe's inner lip contour (:data:`INNER_LIPS`), shrunk by a few
  percent of the mouth's width (the lip line itself is lip);
* tooth-like: bright relative to the brightest pixels of that opening and unsaturated — lips, gums and tongue are
  red, the gaps and the back of the mouth dark (:func:`tooth_likeness`);
* with face-parsing classes, inside (a dilation of) the parser's ``MOUTH`` class.

Texels with no such photo pixel keep the painted colour (:func:`~headcast.texture.materials.paint_mouth`); the
photo weight is feathered in texel space so the two meet without an edge. A mouth that is closed or shows no
tooth-like pixel (fewer than ``min_pixels``) leaves the painted cell as it is.

*Convention:* photo pixels as in docs/conventions.md (top-left origin); the teeth cell's rows run top-down like the
atlas image; weights in [0, 1].
"""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.geometry.camera import Camera
from headcast.headmodel.base import LinearHeadModel, MaterialRole
from headcast.render.context import Renderer
from headcast.texture.fill import feather_weight
from headcast.texture.materials import smoothstep
from headcast.texture.project import project_photo

#: MediaPipe's inner lip contour, in order round the mouth opening (left corner 78, upper lip, right corner 308,
#: lower lip).
INNER_LIPS = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
MOUTH_CORNERS = (78, 308)
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass(frozen=True)
class TeethPhotoSettings:
    """How photo pixels are chosen for the teeth.

    Attributes:
        min_opening: smallest inner-lip opening (area of :data:`INNER_LIPS` over the squared corner distance) for
            which teeth are looked for; a closed mouth is about 0.
        erosion: the opening polygon is shrunk by this fraction of the mouth's width.
        brightness: ``(lo, hi)`` ramp of a pixel's luma over the opening's bright reference (its
            ``reference_percentile`` luma) from not-a-tooth to tooth.
        saturation: ``(lo, hi)`` ramp of HSV saturation from tooth to not-a-tooth (lips and gums are red).
        reference_percentile: percentile of the opening's luma taken as the teeth's brightness.
        min_reference: a reference luma below this (a dark opening) means no teeth are shown.
        min_pixels: fewer tooth-like photo pixels (summed weight) than this: no teeth from the photo.
        depth_tolerance: visibility tolerance of the projection, metres (tighter than the skin's: a tooth right
            behind the lip must not take the lip's pixels).
        feather_texels: the texel weights are blurred over this radius (Gaussian σ, texels of a 1024² cell) and
            eroded by it first, so the photo's teeth fade into the painted ones.
        parsing_dilation: the parser's mouth class is dilated by this fraction of the mouth's width.
    """

    min_opening: float = 0.02
    erosion: float = 0.015
    brightness: tuple[float, float] = (0.45, 0.7)
    saturation: tuple[float, float] = (0.3, 0.55)
    reference_percentile: float = 95.0
    min_reference: float = 0.2
    min_pixels: float = 20.0
    depth_tolerance: float = 0.002
    feather_texels: float = 3.0
    parsing_dilation: float = 0.04


@dataclass(frozen=True, eq=False)
class TeethProjection:
    """The photo's teeth in the teeth cell (also the eyeballs' cells, :mod:`headcast.texture.eyeball`).

    Attributes:
        color: ``(n, n, 3)`` float32 sRGB in [0, 1], row 0 = top of the cell.
        weight: ``(n, n)`` float32 in [0, 1]: how much of each texel the photo gives (0: painted).
        pixels: summed tooth-likeness of the photo pixels that were usable (0 when the mouth is closed); for an
            eyeball, the summed texel weight.
    """

    color: NDArray[np.float32]
    weight: NDArray[np.float32]
    pixels: float


def mouth_opening(points: NDArray[np.floating]) -> float:
    """Area of the inner-lip polygon over the squared distance of the inner mouth corners (0 = closed).

    Args:
        points: ``(478, ≥2)`` MediaPipe landmark pixels.
    """
    p = np.asarray(points, np.float64)[list(INNER_LIPS), :2]
    area = 0.5 * abs(float(np.dot(p[:, 0], np.roll(p[:, 1], -1)) - np.dot(p[:, 1], np.roll(p[:, 0], -1))))
    q = np.asarray(points, np.float64)
    width = float(np.linalg.norm(q[MOUTH_CORNERS[0], :2] - q[MOUTH_CORNERS[1], :2]))
    return area / max(width * width, 1e-9)


def tooth_likeness(
    rgb: NDArray[np.floating], inside: NDArray[np.bool_], settings: TeethPhotoSettings
) -> NDArray[np.float32]:
    """``(H, W)`` in [0, 1]: how tooth-like each pixel is (bright for this opening, unsaturated).

    ``smoothstep(b_lo, b_hi, L / L_ref) · (1 − smoothstep(s_lo, s_hi, S))`` with ``L`` the luma, ``L_ref`` its
    ``reference_percentile`` inside the opening and ``S = (max − min) / max`` of the RGB channels; 0 outside the
    opening and everywhere when ``L_ref < min_reference``.

    Args:
        rgb: ``(H, W, 3)`` sRGB in [0, 1].
        inside: ``(H, W)`` pixels of the mouth opening.
        settings: the ramps.
    """
    img = np.asarray(rgb, np.float32)
    luma = img @ LUMA
    if not inside.any():
        return np.zeros(luma.shape, np.float32)
    ref = float(np.percentile(luma[inside], settings.reference_percentile))
    if ref < settings.min_reference:
        return np.zeros(luma.shape, np.float32)
    hi = img.max(axis=-1)
    sat = (hi - img.min(axis=-1)) / np.maximum(hi, 1e-6)
    bright = smoothstep(settings.brightness[0], settings.brightness[1], luma / ref)
    pale = 1.0 - smoothstep(settings.saturation[0], settings.saturation[1], sat)
    return np.where(inside, bright * pale, 0.0).astype(np.float32)


def teeth_trust(
    pixels: NDArray[np.uint8],
    points: NDArray[np.floating],
    settings: TeethPhotoSettings,
    mouth_class: NDArray[np.bool_] | None = None,
) -> NDArray[np.float32]:
    """``(H, W)`` float32 in [0, 1]: photo pixels that show teeth (module docstring); zeros for a closed mouth.

    Args:
        pixels: ``(H, W, 3)`` uint8 photo.
        points: ``(478, ≥2)`` MediaPipe landmark pixels.
        settings: thresholds.
        mouth_class: ``(H, W)`` the face parser's inner-mouth pixels, or None.
    """
    h, w = pixels.shape[:2]
    out = np.zeros((h, w), np.float32)
    if mouth_opening(points) < settings.min_opening:
        return out
    q = np.asarray(points, np.float64)
    poly = q[list(INNER_LIPS), :2]
    width = float(np.linalg.norm(q[MOUTH_CORNERS[0], :2] - q[MOUTH_CORNERS[1], :2]))
    pad = int(np.ceil(0.1 * width)) + 2
    x0, y0 = np.maximum(np.floor(poly.min(axis=0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(poly.max(axis=0)).astype(int) + pad, [w, h])
    if x1 <= x0 or y1 <= y0:
        return out
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(inside, [np.round((poly - [x0, y0]) * 4).astype(np.int32)], 1, shift=2)
    radius = round(settings.erosion * width)
    if radius > 0:
        inside = cv2.erode(inside, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
    mask = inside > 0
    if mouth_class is not None:
        grow = max(1, round(settings.parsing_dilation * width))
        parsed = cv2.dilate(np.asarray(mouth_class[y0:y1, x0:x1], np.uint8),
                            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
        mask &= parsed > 0
    crop = pixels[y0:y1, x0:x1].astype(np.float32) / 255.0
    out[y0:y1, x0:x1] = tooth_likeness(crop, mask, settings)
    return out


def role_cell_uv(
    model: LinearHeadModel, atlas_uv: NDArray[np.floating], role: MaterialRole
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """The triangles ``(T, 3)`` of a one-cell material role and their corners' cell coordinates ``(T, 3, 2)``.

    Cell coordinates are in [0, 1]² (bottom-left origin).

    Args:
        model: a model with one ``role`` cell.
        atlas_uv: ``(U, 2)`` atlas coordinates of the model's UVs (``AtlasMaps.uv``).
        role: the material role (``"teeth"``, ``"sclera_left"``, ...).
    """
    sel = model.material_mask(role)
    u0, v0, u1, v1 = model.atlas_cell(role).rect
    uv = np.asarray(atlas_uv, np.float32)[model.triangle_uvs[sel]]
    cell = (uv - np.array([u0, v0], np.float32)) / np.array([u1 - u0, v1 - v0], np.float32)
    return np.asarray(model.triangles[sel], np.int64), cell.astype(np.float32)


def teeth_cell_uv(
    model: LinearHeadModel, atlas_uv: NDArray[np.floating]
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """The teeth triangles ``(T, 3)`` and their corners' coordinates in the teeth cell (:func:`role_cell_uv`)."""
    return role_cell_uv(model, atlas_uv, "teeth")


def project_teeth(
    pixels: NDArray[np.uint8],
    trust: NDArray[np.float32],
    camera: Camera,
    vertices_cam: NDArray[np.floating],
    normals_cam: NDArray[np.floating],
    occluders: NDArray[np.integer],
    model: LinearHeadModel,
    atlas_uv: NDArray[np.floating],
    cell_size: int,
    grazing_cos: tuple[float, float],
    settings: TeethPhotoSettings,
    renderer: Renderer,
) -> TeethProjection:
    """Project the photo's teeth into the teeth cell (see the module docstring).

    Args:
        pixels: ``(H, W, 3)`` uint8 photo.
        trust: ``(H, W)`` :func:`teeth_trust`.
        camera: the photo's intrinsics.
        vertices_cam: ``(V, 3)`` fitted head in the camera frame, metres.
        normals_cam: ``(V, 3)`` its unit vertex normals.
        occluders: ``(T_o, 3)`` opaque triangles (lips included).
        model: the head model (its ``teeth`` material and cell).
        atlas_uv: ``(U, 2)`` atlas coordinates of the model's UVs.
        cell_size: side of the teeth cell, texels.
        grazing_cos: view-angle ramp (as for the skin).
        settings: thresholds, tolerance and feathering.
        renderer: GL owner.
    """
    seen = float(trust.sum())
    empty = TeethProjection(np.zeros((cell_size, cell_size, 3), np.float32),
                            np.zeros((cell_size, cell_size), np.float32), seen)
    if seen < settings.min_pixels:
        return empty
    tris, cell_uv = teeth_cell_uv(model, atlas_uv)
    alpha = np.clip(np.rint(trust * 255.0), 0, 255).astype(np.uint8)
    proj = project_photo(pixels, alpha, camera, vertices_cam, normals_cam, occluders, tris, cell_uv, cell_size,
                         settings.depth_tolerance, grazing_cos, renderer)
    sigma = settings.feather_texels * cell_size / 1024.0
    weight = feather_texels(proj.weight, sigma)
    return TeethProjection(spread_colour(proj.color, proj.weight, 2.0 * sigma + 1.0), weight, seen)


def spread_colour(color: NDArray[np.floating], weight: NDArray[np.floating], sigma: float) -> NDArray[np.float32]:
    """``color`` where ``weight`` > 0.5, else its ``weight``-normalised Gaussian blur (σ texels).

    The projection leaves unseen texels black; the feathered weight reaches a little past the seen ones, and there
    the blend must see the neighbouring teeth's colour, not black.
    """
    c = np.asarray(color, np.float32)
    w = np.asarray(weight, np.float32)
    num = np.asarray(cv2.GaussianBlur(c * w[..., None], (0, 0), sigma), np.float32)
    den = np.asarray(cv2.GaussianBlur(w, (0, 0), sigma), np.float32)
    spread = num / np.maximum(den, 1e-6)[..., None]
    return np.where((w > 0.5)[..., None], c, spread).astype(np.float32)


def feather_texels(weight: NDArray[np.floating], sigma: float) -> NDArray[np.float32]:
    """Erode ``weight`` by ``round(sigma)`` texels, then blur it (Gaussian σ = ``sigma``), never above the input.

    :func:`headcast.texture.fill.feather_weight` with the erosion tied to σ: the photo's colour does not spread
    past where it was seen.
    """
    w = np.asarray(weight, np.float32)
    if sigma <= 0:
        return w
    return np.clip(feather_weight(w, max(1, round(sigma)), sigma), 0.0, 1.0)


def blend_teeth(painted: NDArray[np.floating], teeth: TeethProjection) -> NDArray[np.float32]:
    """``(n, n, 3)`` a teeth or eyeball cell: the photo's colour where seen, ``painted`` elsewhere (linear in w)."""
    w = teeth.weight[..., None]
    return np.clip(w * teeth.color + (1.0 - w) * np.asarray(painted, np.float32), 0.0, 1.0).astype(np.float32)
