"""Skin detail for completed texels, synthesised from the person's own visible skin (random-phase noise).

A square patch of well-seen skin (cheek or forehead) is high-passed, made periodic and re-synthesised with a random
phase (Galerne, Gousseau & Morel 2011, "Random phase textures: theory and synthesis"; periodic component by
Moisan 2011, "Periodic plus smooth image decomposition"): the result has the patch's power spectrum and colour
correlation, but no recognisable feature of it, and it tiles without a seam. It is used as a relative modulation
``1 + d`` of the completed colour, so the fill has the same fine texture as the photo around it.
"""

import cv2
import numpy as np
from numpy.typing import NDArray


def periodic_component(image: NDArray[np.floating]) -> NDArray[np.float64]:
    """Moisan's periodic component of ``(H, W, C)`` ``image``: the image minus the smooth part its borders imply.

    The smooth part ``s`` solves ``Δs = v`` (discrete, periodic), where ``v`` is the jump across the image's
    opposite borders; ``image − s`` has no jump when tiled.
    """
    u = np.asarray(image, np.float64)
    h, w = u.shape[:2]
    v = np.zeros_like(u)
    v[0] += u[-1] - u[0]
    v[-1] += u[0] - u[-1]
    v[:, 0] += u[:, -1] - u[:, 0]
    v[:, -1] += u[:, 0] - u[:, -1]
    q = np.cos(2.0 * np.pi * np.arange(h) / h)[:, None]
    r = np.cos(2.0 * np.pi * np.arange(w) / w)[None, :]
    denom = 2.0 * q + 2.0 * r - 4.0
    denom[0, 0] = 1.0
    vf = np.fft.fft2(v, axes=(0, 1))
    sf = vf / denom[..., None]
    sf[0, 0] = 0.0
    return u - np.real(np.fft.ifft2(sf, axes=(0, 1)))


def random_phase_texture(patch: NDArray[np.floating], seed: int = 0) -> NDArray[np.float32]:
    """A periodic texture with the power spectrum of ``patch`` and a random phase (same phase for every channel).

    Args:
        patch: ``(N, N, C)`` zero-mean sample (made periodic here).
        seed: random seed.

    Returns:
        ``(N, N, C)`` float32, zero mean, same per-channel variance as the periodic component of the patch.
    """
    p = periodic_component(patch)
    p -= p.mean(axis=(0, 1))
    noise = np.random.default_rng(seed).standard_normal(p.shape[:2])
    phase = np.fft.fft2(noise)
    phase /= np.maximum(np.abs(phase), 1e-12)
    out = np.real(np.fft.ifft2(np.fft.fft2(p, axes=(0, 1)) * phase[..., None], axes=(0, 1)))
    return out.astype(np.float32)


def skin_detail_patch(
    color: NDArray[np.float32],
    weight: NDArray[np.float32],
    sample_mask: NDArray[np.bool_],
    size: int,
    sigma_px: float,
    min_fill: float = 0.97,
) -> NDArray[np.float32] | None:
    """The relative high-pass ``c / G_σ(c) − 1`` of the best-seen ``size``² square of skin, or None.

    Args:
        color: ``(F, F, 3)`` projected colours, sRGB [0, 1].
        weight: ``(F, F)`` photo weights.
        sample_mask: ``(F, F)`` skin sample texels (:attr:`~headcast.texture.maps.AtlasMaps.skin_sample`).
        size: side of the square, texels.
        sigma_px: Gaussian sigma of the low-pass, texels.
        min_fill: fraction of the square that must be well-seen skin (``weight > 0.9``).

    Returns:
        ``(size, size, 3)`` float32 relative detail, or None when no square qualifies.
    """
    good = (sample_mask & (weight > 0.9)).astype(np.float32)
    if size > min(good.shape):
        return None
    frac = cv2.boxFilter(good, -1, (size, size), normalize=True, borderType=cv2.BORDER_CONSTANT)
    best = np.unravel_index(int(np.argmax(frac)), frac.shape)
    if frac[best] < min_fill:
        return None
    r0 = int(best[0]) - size // 2
    c0 = int(best[1]) - size // 2
    if r0 < 0 or c0 < 0 or r0 + size > good.shape[0] or c0 + size > good.shape[1]:
        return None
    m = int(np.ceil(3 * sigma_px))
    lo_r, lo_c = max(0, r0 - m), max(0, c0 - m)
    crop = color[lo_r : r0 + size + m, lo_c : c0 + size + m]
    low = np.asarray(cv2.GaussianBlur(crop, (0, 0), sigma_px), np.float32)
    rel = crop / np.maximum(low, 1e-3) - 1.0
    return np.ascontiguousarray(rel[r0 - lo_r : r0 - lo_r + size, c0 - lo_c : c0 - lo_c + size], np.float32)


def photo_skin_detail(
    color: NDArray[np.float32],
    weight: NDArray[np.float32],
    sample_mask: NDArray[np.bool_],
    size: int,
    sigma_px: float,
    seed: int = 0,
) -> NDArray[np.float32] | None:
    """A seamlessly tiling relative skin detail from the photo (None: no square of skin qualifies).

    :func:`skin_detail_patch` of side ``size``, or ¾ or ½ of it when no square that large is well seen (a small
    face or a turned head), → :func:`random_phase_texture`; the same seed gives the same texture for the same
    patch.

    Returns:
        ``(N, N, 3)`` float32, ``N`` the side of the patch used.
    """
    for side in (size, (3 * size) // 4, size // 2):
        patch = skin_detail_patch(color, weight, sample_mask, max(side, 8), sigma_px)
        if patch is not None:
            return random_phase_texture(patch, seed)
    return None


def tile(texture: NDArray[np.float32], shape: tuple[int, int]) -> NDArray[np.float32]:
    """Repeat a periodic ``(N, N, C)`` texture to cover ``shape`` = ``(H, W)``: ``(H, W, C)``."""
    n, m = texture.shape[:2]
    reps = (-(-shape[0] // n), -(-shape[1] // m), 1)
    return np.ascontiguousarray(np.tile(texture, reps)[: shape[0], : shape[1]])
