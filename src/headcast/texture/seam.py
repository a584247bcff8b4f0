"""Seam score: how visible the edge of the photo's projection is, relative to the texture's own detail.

A measurement, not a step of the bake: used by the tests and by the evaluation of the completion (DESIGN.md).
"""

import cv2
import numpy as np
from numpy.typing import NDArray


def projection_band(weight: NDArray[np.floating], band_px: int, threshold: float = 0.5) -> NDArray[np.bool_]:
    """Texels within ``band_px`` of where ``weight`` crosses ``threshold`` (on either side of the contour).

    Args:
        weight: ``(H, W)`` photo weight in [0, 1].
        band_px: half-width of the band in texels (≥ 1).
        threshold: the contour level.

    Returns:
        ``(H, W)`` bool.
    """
    hi = (np.asarray(weight) > threshold).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band_px + 1, 2 * band_px + 1))
    near_hi = cv2.dilate(hi, k) > 0
    near_lo = cv2.dilate(1 - hi, k) > 0
    return near_hi & near_lo


def gradient_magnitude(image: NDArray[np.generic], sigma_px: float = 1.0) -> NDArray[np.float32]:
    """``(H, W)`` colour gradient magnitude ``sqrt(Σ_c |∇(G_σ * I_c)|²)`` per texel, image units per texel.

    Args:
        image: ``(H, W, C)`` (uint8 is scaled to [0, 1]) or ``(H, W)``.
        sigma_px: Gaussian pre-smoothing (0 = none); central differences (Scharr / 32) after it.
    """
    img = np.asarray(image, np.float32)
    if np.asarray(image).dtype == np.uint8:
        img = img / 255.0
    if img.ndim == 2:
        img = img[..., None]
    if sigma_px > 0:
        img = np.asarray(cv2.GaussianBlur(img, (0, 0), sigma_px), np.float32).reshape(img.shape)
    gx = np.asarray(cv2.Scharr(img, cv2.CV_32F, 1, 0), np.float32).reshape(img.shape) / 32.0
    gy = np.asarray(cv2.Scharr(img, cv2.CV_32F, 0, 1), np.float32).reshape(img.shape) / 32.0
    return np.sqrt(np.sum(gx * gx + gy * gy, axis=-1)).astype(np.float32)


def seam_score(
    image: NDArray[np.generic],
    weight: NDArray[np.floating],
    reference: NDArray[np.bool_],
    valid: NDArray[np.bool_] | None = None,
    region: NDArray[np.bool_] | None = None,
    band_px: int = 3,
    sigma_px: float = 1.0,
) -> float:
    """Mean colour gradient across the projection boundary over the mean gradient inside visible skin.

    ``score = mean(|∇I| over B) / mean(|∇I| over R)``, where ``B`` is the band of ``band_px`` texels either side of
    the ``weight = 0.5`` contour and ``R`` is ``reference`` where ``weight > 0.5``, outside ``B``. About 1 when
    the boundary is as busy as ordinary skin (no visible edge); a hard edge between two colours scores higher.

    Args:
        image: ``(H, W, 3)`` sRGB, uint8 or float in [0, 1] (an atlas cell or a render).
        weight: ``(H, W)`` photo weight (``UVTexture.coverage``, or a render of it).
        reference: ``(H, W)`` bool: skin where the inner gradient is measured (e.g. ``AtlasMaps.skin_sample``).
        valid: ``(H, W)`` bool: texels of the surface (gradients reaching outside it — chart borders, silhouettes —
            are left out; they are eroded by ``band_px``); all when None.
        region: ``(H, W)`` bool: where boundary texels count (e.g. plain skin, so that the weight's rings around
            the eye and mouth holes, which run along facial features, are left out); all when None.
        band_px: half-width of the boundary band, texels.
        sigma_px: Gaussian pre-smoothing of the gradient, texels.

    Returns:
        the ratio; NaN when the band or the reference is empty.
    """
    grad = gradient_magnitude(image, sigma_px)
    band = projection_band(weight, band_px)
    inner = np.asarray(reference, bool) & (np.asarray(weight) > 0.5) & ~band
    if region is not None:
        band &= np.asarray(region, bool)
    if valid is not None:
        reach = band_px + int(np.ceil(2 * sigma_px)) + 1
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
        ok = cv2.erode(np.asarray(valid, np.uint8), k) > 0
        band &= ok
        inner &= ok
    if not band.any() or not inner.any():
        return float("nan")
    return float(grad[band].mean() / max(float(grad[inner].mean()), 1e-9))
