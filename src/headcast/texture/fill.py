"""Completion of texels the photo does not show: skin-tone estimate, hair gating, push-pull extrapolation.

All images are float32 sRGB in [0, 1], ``(H, W, 3)``, with ``(H, W)`` float32 weights in [0, 1].
Lab values are OpenCV's float Lab (L in [0, 100], a and b roughly in [-128, 127]).
"""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class SkinTone:
    """A robust skin colour measured from the photo.

    Attributes:
        rgb: ``(3,)`` float32 sRGB in [0, 1].
        lab: ``(3,)`` float32 Lab of ``rgb``.
        spread: ``(3,)`` float32 robust standard deviation (1.4826 · MAD) of the samples in Lab.
        samples: number of texels measured (0 when the fallback colour was used).
    """

    rgb: NDArray[np.float32]
    lab: NDArray[np.float32]
    spread: NDArray[np.float32]
    samples: int


def to_lab(rgb: NDArray[np.floating]) -> NDArray[np.float32]:
    """Convert sRGB in [0, 1], ``(..., 3)``, to OpenCV float Lab ``(..., 3)``."""
    arr = np.asarray(rgb, dtype=np.float32)
    flat = arr.reshape(-1, 1, 3)
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(flat), cv2.COLOR_RGB2Lab), np.float32).reshape(arr.shape)


def from_lab(lab: NDArray[np.floating]) -> NDArray[np.float32]:
    """Convert OpenCV float Lab ``(..., 3)`` to sRGB in [0, 1] ``(..., 3)`` (clipped)."""
    arr = np.asarray(lab, dtype=np.float32)
    flat = arr.reshape(-1, 1, 3)
    return np.clip(cv2.cvtColor(np.ascontiguousarray(flat), cv2.COLOR_Lab2RGB).reshape(arr.shape), 0.0, 1.0)


def estimate_skin_tone(
    color: NDArray[np.float32],
    weight: NDArray[np.float32],
    sample_mask: NDArray[np.bool_],
    fallback: tuple[float, float, float],
    min_samples: int = 200,
) -> SkinTone:
    """Median skin colour of well-seen, well-lit sample texels.

    Texels with ``weight > 0.7`` inside ``sample_mask`` are taken; of those, the ones between the 30th and 90th
    luminance percentiles (dropping shadows and highlights) give the per-channel Lab median.

    Args:
        color: ``(H, W, 3)`` baked colours.
        weight: ``(H, W)`` photo weights.
        sample_mask: ``(H, W)`` texels allowed as skin samples (cheeks, lower forehead).
        fallback: sRGB used when fewer than ``min_samples`` texels qualify.
        min_samples: minimum sample count.
    """
    sel = sample_mask & (weight > 0.7)
    if int(sel.sum()) < min_samples:
        rgb = np.asarray(fallback, dtype=np.float32)
        return SkinTone(rgb, to_lab(rgb), np.array([8.0, 4.0, 4.0], np.float32), 0)
    lab = to_lab(color[sel])
    lo, hi = np.percentile(lab[:, 0], [30.0, 90.0])
    lab = lab[(lab[:, 0] >= lo) & (lab[:, 0] <= hi)]
    med = np.median(lab, axis=0).astype(np.float32)
    spread = (1.4826 * np.median(np.abs(lab - med), axis=0)).astype(np.float32)
    return SkinTone(from_lab(med), med, spread, len(lab))


def skin_likelihood(
    lab: NDArray[np.float32], skin: SkinTone, chroma_only: bool = False, smooth_px: float = 2.0
) -> NDArray[np.float32]:
    """How skin-like each texel's colour is, in [0, 1].

    The distance is ``d = sqrt(Σ ((lab − skin.lab) / σ)²)`` with σ = max(1.5 · spread, floor) per channel
    (floors: L 10, a 3, b 3 — lightness varies with shading much more than chroma does), counting only
    *darker* lightness (highlights on skin are brighter; hair is darker). The likelihood is 1 for d ≤ 2 and 0
    for d ≥ 3.5. With ``chroma_only`` only a and b count (floors 4) and the ramp is 3..5: this keeps beards,
    stubble and shadows, which are darker but of skin hue, and rejects dyed hair or clothing.

    Args:
        lab: ``(H, W, 3)`` colours in OpenCV float Lab (:func:`to_lab`).
        skin: the measured skin tone.
        chroma_only: ignore lightness (see above).
        smooth_px: Gaussian sigma applied to the result (removes speckle).

    Returns:
        ``(H, W)`` float32.
    """
    if chroma_only:
        sigma = np.maximum(1.5 * skin.spread[1:], np.float32(4.0))
        d = np.sqrt(np.sum(((lab[..., 1:] - skin.lab[1:]) / sigma) ** 2, axis=-1))
        like = np.clip(1.0 - (d - 3.0) / 2.0, 0.0, 1.0).astype(np.float32)
    else:
        sigma = np.maximum(1.5 * skin.spread, np.array([10.0, 3.0, 3.0], np.float32))
        delta = lab - skin.lab
        delta[..., 0] = np.minimum(delta[..., 0], 0.0)
        d = np.sqrt(np.sum((delta / sigma) ** 2, axis=-1))
        like = np.clip(1.0 - (d - 2.0) / 1.5, 0.0, 1.0).astype(np.float32)
    return cv2.GaussianBlur(like, (0, 0), smooth_px) if smooth_px > 0 else like


def hair_gate(
    color: NDArray[np.float32],
    skin: SkinTone,
    full_half: NDArray[np.float32],
    hue_half: NDArray[np.float32],
    smooth_px: float,
) -> NDArray[np.float32]:
    """Per-texel weight that drops hair-coloured texels: ``(1 − full · (1 − like)) · (1 − hue · (1 − hue_like))``.

    Where ``full_half`` is 1 (forehead, temples, cheeks) anything far from the skin tone goes (hair of any
    colour, :func:`skin_likelihood`); where ``hue_half`` is 1 (around mouth and chin) only other hues do, so
    beards and stubble stay. Computed at half resolution (the likelihoods are smoothed anyway) and resized.

    Args:
        color: ``(F, F, 3)`` sRGB colours.
        skin: the measured skin tone.
        full_half: ``(F/2, F/2)`` where lightness and hue count (``AtlasMaps.gate_full_half``).
        hue_half: ``(F/2, F/2)`` where only hue counts (``AtlasMaps.gate_hue_half``).
        smooth_px: Gaussian sigma of the likelihoods at half resolution.

    Returns:
        ``(F, F)`` float32 in [0, 1].
    """
    fsize = color.shape[0]
    half = (fsize // 2, fsize // 2)
    lab = to_lab(np.asarray(cv2.resize(color, half, interpolation=cv2.INTER_AREA), np.float32))
    like = skin_likelihood(lab, skin, smooth_px=smooth_px)
    hue_like = skin_likelihood(lab, skin, chroma_only=True, smooth_px=smooth_px)
    gate = (1.0 - full_half * (1.0 - like)) * (1.0 - hue_half * (1.0 - hue_like))
    return np.asarray(cv2.resize(gate, (fsize, fsize), interpolation=cv2.INTER_LINEAR), np.float32)


def feather_weight(weight: NDArray[np.float32], erosion_px: int, sigma_px: float) -> NDArray[np.float32]:
    """Erode then blur a weight map, never raising it above the input (soft edges that stay inside)."""
    w = weight
    if erosion_px > 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erosion_px + 1, 2 * erosion_px + 1))
        w = np.asarray(cv2.erode(w, k), np.float32)
    if sigma_px > 0:
        w = np.asarray(cv2.GaussianBlur(w, (0, 0), sigma_px), np.float32)
    return np.minimum(w, weight).astype(np.float32)


def push_pull(values: NDArray[np.float32], weights: NDArray[np.float32], decay: float = 1.0) -> NDArray[np.float32]:
    """Fill low-weight texels with a smooth extrapolation of the weighted values (push-pull pyramid).

    Gortler et al. 1996 ("The Lumigraph", §3.4): weighted averages are pushed down a pyramid by area
    averaging; on the way up, each level keeps its own average where its weight is high and takes the upsampled
    coarser estimate (times ``decay``, so far from any data the result tends to 0) where it is low.

    Args:
        values: ``(H, W, C)`` values (e.g. colour minus skin tone).
        weights: ``(H, W)`` in [0, 1].
        decay: factor applied to the coarser estimate at each level on the way up.

    Returns:
        ``(H, W, C)`` float32: approximately ``values`` where weights are 1, smooth elsewhere.
    """
    eps = 1e-6
    vs = [values * weights[..., None]]
    ws = [weights.astype(np.float32)]
    while max(ws[-1].shape) > 1:  # down to 1 × 1: the global weighted mean seeds every hole
        h, w = ws[-1].shape
        size = (max(1, w // 2), max(1, h // 2))
        vs.append(
            np.asarray(cv2.resize(vs[-1], size, interpolation=cv2.INTER_AREA), np.float32).reshape(size[1], size[0], -1)
        )
        ws.append(np.asarray(cv2.resize(ws[-1], size, interpolation=cv2.INTER_AREA), np.float32))
    est = vs[-1] / np.maximum(ws[-1], eps)[..., None]
    est[ws[-1] < eps] = 0.0
    for v, w in zip(reversed(vs[:-1]), reversed(ws[:-1]), strict=True):
        h, wd = w.shape
        up = cv2.resize(est, (wd, h), interpolation=cv2.INTER_LINEAR).reshape(h, wd, -1) * np.float32(decay)
        alpha = np.clip(2.0 * w, 0.0, 1.0)[..., None]
        est = alpha * (v / np.maximum(w, eps)[..., None]) + (1.0 - alpha) * up
    return est.astype(np.float32)
