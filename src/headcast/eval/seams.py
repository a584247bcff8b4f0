"""Seam score: how visible the edge of the photo projection is in a turned render (EVALUATION.md, novel views).

The texture bake (:mod:`headcast.texture`) copies the photo onto the texels the camera saw and completes the rest;
``UVTexture.coverage`` says how much of each texel is the photo's own. Where a view turns that boundary towards the
camera, a colour step along it reads as a seam. This module measures it **in render space**, on the picture a viewer
sees; it is an evaluation metric, independent of the bake's own atlas-space diagnostics.

Definition (:func:`seam_score`), for one render ``I`` (sRGB, 0–255) with per-pixel rendered coverage ``c`` and a
visible-skin mask ``K`` (pixels of the head's skin materials, not hidden by strands; not eyes, teeth or mouth):

1. gradient magnitude ``g = sqrt(Σ_rgb (Sx ∗ I)² + (Sy ∗ I)²)`` with the 3 × 3 Sobel kernels divided by 8, so that
   ``g`` is in sRGB levels per pixel;
2. ``K_in`` = ``K`` eroded by ``margin_px`` (square element), so that neither the Sobel window nor the render's
   2 × 2 supersampling reaches a silhouette, hair or eye edge;
3. boundary line ``L``: skin pixels with ``c ≥ 0.5`` that touch (8-neighbourhood) a skin pixel with ``c < 0.5``,
   and vice versa — the rendered 0.5 level set of the coverage;
4. band ``B = dilate(L, band_px) ∩ K_in`` (``2·band_px + 1`` pixels across the line);
   reference ring ``R = K_in ∩ dilate(L, reach_px) ∖ dilate(L, gap_px)``, split by side into ``R⁺`` (``c ≥ 0.5``,
   photo) and ``R⁻`` (``c < 0.5``, completed);
5. **seam score** ``= mean_B g / ½ (mean_R⁺ g + mean_R⁻ g)``. The two sides weigh equally, so a boundary between
   detailed photo skin and smoother completed skin scores ≈ 1 when the colours blend (the band is half one, half
   the other), and well above 1 when they meet in a colour step.

The score is None when ``B``, ``R⁺`` or ``R⁻`` has fewer than ``min_pixels`` pixels (the view shows no boundary,
e.g. a bundle whose coverage was not stored) or the reference is 0.

Two boundaries are scored (:class:`SeamView` in the runner): **outer** — the outline of the photo projection, with
the completed texels that the photo region encloses in the atlas (the eyes, nostrils and mouth, which the bake does
not take from the photo) counted as photo (:func:`enclosed_holes`); and **all** — every 0.5 crossing, those holes'
rims included. The holes' rims lie on eyelids, nostrils and lips, whose own edges raise the "all" score whatever
the blend.

Render-space labels (:func:`label_texture`, :func:`decode_labels`): coverage and skin are rendered with the colour
render's exact poses, unlit and one sample per pixel, from an atlas whose red channel is ``coverage · 255``, green
255 on the skin materials' cells and blue the coverage with enclosed holes filled; strands are drawn black
(:data:`HAIR_LABEL`) and the background is magenta (:data:`BACKGROUND_LABEL`): neither is skin (green < 128).

Convention: images ``(H, W, 3)`` uint8 sRGB, row 0 at the top; masks ``(H, W)`` bool; coverage ``(H, W)`` float in
[0, 1]; atlases as :class:`~headcast.texture.types.UVTexture` (row 0 = top).
"""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from headcast.headmodel.base import LinearHeadModel, MaterialRole
from headcast.texture.atlas import cell_pixels
from headcast.texture.types import UVTexture

SKIN_ROLES: tuple[MaterialRole, ...] = ("face", "head")
"""Materials counted as skin: the photo-textured face and the rest of the outer skin."""

HAIR_LABEL: tuple[float, float, float] = (0.0, 0.0, 0.0)
"""Colour of the strands in the label render (hides the skin behind them)."""

BACKGROUND_LABEL: tuple[float, float, float] = (1.0, 0.0, 1.0)
"""Background colour of the label render."""


@dataclass(frozen=True)
class SeamSettings:
    """Geometry of the seam score (module docstring).

    Attributes:
        threshold: coverage level of the projection boundary.
        band_px: half-width of the boundary band, pixels.
        gap_px: inner radius of the reference ring around the boundary line, pixels (> ``band_px``).
        reach_px: outer radius of the reference ring, pixels (> ``gap_px``).
        margin_px: erosion of the skin mask, pixels.
        min_pixels: fewest pixels in the band and on each side of the reference for a score.
    """

    threshold: float = 0.5
    band_px: int = 2
    gap_px: int = 6
    reach_px: int = 24
    margin_px: int = 2
    min_pixels: int = 25


@dataclass(frozen=True)
class SeamScore:
    """The seam score of one view and one boundary.

    Attributes:
        score: ``boundary_gradient / reference_gradient``.
        boundary_gradient: mean gradient magnitude in the band, sRGB levels per pixel.
        reference_gradient: mean of the photo-side and completed-side ring means, sRGB levels per pixel.
        boundary_pixels: pixels in the band.
        reference_pixels: pixels in the reference ring (both sides).
    """

    score: float
    boundary_gradient: float
    reference_gradient: float
    boundary_pixels: int
    reference_pixels: int


def gradient_magnitude(image: NDArray[np.uint8]) -> NDArray[np.float32]:
    """``(H, W)`` colour-gradient magnitude: Sobel (÷ 8) per channel, root of the summed squares, levels/pixel.

    Borders are reflected (``cv2.BORDER_REFLECT_101``).

    Example:
        >>> img = np.zeros((5, 8, 3), np.uint8); img[:, 4:] = 80
        >>> [round(float(v), 2) for v in gradient_magnitude(img)[2]]
        [0.0, 0.0, 0.0, 69.28, 69.28, 0.0, 0.0, 0.0]
    """
    img = np.asarray(image, dtype=np.float32)
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    sq = gx * gx + gy * gy
    return np.sqrt(sq.sum(axis=2) if sq.ndim == 3 else sq).astype(np.float32)


def _dilate(mask: NDArray[np.bool_], px: int) -> NDArray[np.bool_]:
    if px <= 0:
        return np.asarray(mask, dtype=bool).copy()
    k = np.ones((2 * px + 1, 2 * px + 1), np.uint8)
    return np.asarray(cv2.dilate(mask.astype(np.uint8), k) > 0)


def _erode(mask: NDArray[np.bool_], px: int) -> NDArray[np.bool_]:
    if px <= 0:
        return np.asarray(mask, dtype=bool).copy()
    k = np.ones((2 * px + 1, 2 * px + 1), np.uint8)
    return np.asarray(cv2.erode(mask.astype(np.uint8), k, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0)


def boundary_line(coverage: NDArray[np.floating], skin: NDArray[np.bool_], threshold: float = 0.5) -> NDArray[np.bool_]:
    """``(H, W)`` skin pixels on either side of the ``threshold`` level of ``coverage`` (8-neighbourhood)."""
    cov = np.asarray(coverage, dtype=np.float32)
    hi = skin & (cov >= threshold)
    lo = skin & (cov < threshold)
    return (hi & _dilate(lo, 1)) | (lo & _dilate(hi, 1))


@dataclass(frozen=True, eq=False)
class SeamRegions:
    """The pixel sets of the seam score, ``(H, W)`` bool each (module docstring).

    Attributes:
        band: ``B``, the band along the boundary line.
        photo_side: ``R⁺``, the reference ring where ``c ≥ 0.5``.
        completed_side: ``R⁻``, the reference ring where ``c < 0.5``.
    """

    band: NDArray[np.bool_]
    photo_side: NDArray[np.bool_]
    completed_side: NDArray[np.bool_]


def seam_regions(
    coverage: NDArray[np.floating], skin: NDArray[np.bool_], settings: SeamSettings | None = None
) -> SeamRegions:
    """The band and the two sides of the reference ring (module docstring, steps 2–4)."""
    s = SeamSettings() if settings is None else settings
    skin = np.asarray(skin, dtype=bool)
    inner = _erode(skin, s.margin_px)
    line = boundary_line(coverage, skin, s.threshold)
    band = _dilate(line, s.band_px) & inner
    ring = inner & _dilate(line, s.reach_px) & ~_dilate(line, s.gap_px)
    hi = np.asarray(coverage, dtype=np.float32) >= s.threshold
    return SeamRegions(band, ring & hi, ring & ~hi)


def seam_score(
    image: NDArray[np.uint8],
    coverage: NDArray[np.floating],
    skin: NDArray[np.bool_],
    settings: SeamSettings | None = None,
) -> SeamScore | None:
    """Mean gradient magnitude on the projection boundary over that of the skin on both sides of it.

    Args:
        image: ``(H, W, 3)`` uint8 render as seen (shaded, with hair).
        coverage: ``(H, W)`` the bake's photo coverage rendered at the same view, in [0, 1].
        skin: ``(H, W)`` bool visible skin at that view.
        settings: band, ring and margins.

    Returns:
        The score with its parts (module docstring), or None (too few band or ring pixels, or a gradient-free
        reference).
    """
    s = SeamSettings() if settings is None else settings
    if image.shape[:2] != np.shape(coverage) or np.shape(skin) != np.shape(coverage):
        raise ValueError(f"image {image.shape}, coverage {np.shape(coverage)} and skin {np.shape(skin)} differ")
    r = seam_regions(coverage, skin, s)
    counts = [int(m.sum()) for m in (r.band, r.photo_side, r.completed_side)]
    if min(counts) < s.min_pixels:
        return None
    g = gradient_magnitude(image)
    gb = float(g[r.band].mean())
    gr = 0.5 * (float(g[r.photo_side].mean()) + float(g[r.completed_side].mean()))
    if gr <= 0.0:
        return None
    return SeamScore(gb / gr, gb, gr, counts[0], counts[1] + counts[2])


def enclosed_holes(coverage: NDArray[np.floating], threshold: float = 0.5) -> NDArray[np.bool_]:
    """``(S, S)`` texels below ``threshold`` that the region at or above it encloses (4-connected holes).

    Example:
        >>> c = np.zeros((7, 7)); c[1:6, 1:6] = 1.0; c[3, 3] = 0.0
        >>> np.argwhere(enclosed_holes(c)).tolist()
        [[3, 3]]
    """
    hi = np.asarray(coverage) >= threshold
    return np.asarray(ndimage.binary_fill_holes(hi) & ~hi)


def label_texture(texture: UVTexture, model: LinearHeadModel, threshold: float = 0.5) -> UVTexture:
    """The label atlas (module docstring): red = coverage, green = skin cells, blue = coverage with holes filled.

    Same UVs as ``texture``; render it unlit.
    """
    size = texture.image.shape[0]
    cov = np.clip(np.asarray(texture.coverage, np.float32), 0.0, 1.0)
    img = np.zeros((*texture.image.shape[:2], 3), np.uint8)
    img[..., 0] = np.rint(cov * 255.0).astype(np.uint8)
    img[..., 2] = np.rint(np.where(enclosed_holes(cov, threshold), 1.0, cov) * 255.0).astype(np.uint8)
    for role in SKIN_ROLES:
        for name in model.material_roles.get(role, ()):
            cell = model.uv_atlas.get(name)
            if cell is not None:
                r0, r1, c0, c1 = cell_pixels(cell, size)
                img[r0:r1, c0:c1, 1] = 255
    return UVTexture(img, texture.uv, texture.coverage)


def decode_labels(labels: NDArray[np.uint8]) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.bool_]]:
    """Coverage, coverage with enclosed holes filled and the visible-skin mask from an unlit label render.

    The coverages are ``(H, W)`` float32 in [0, 1] (0 off skin); skin is ``(H, W)`` bool, green ≥ 128.
    """
    lab = np.asarray(labels)
    skin = lab[..., 1] >= 128
    cov = np.where(skin, lab[..., 0].astype(np.float32) / 255.0, 0.0).astype(np.float32)
    outer = np.where(skin, lab[..., 2].astype(np.float32) / 255.0, 0.0).astype(np.float32)
    return cov, outer, skin
