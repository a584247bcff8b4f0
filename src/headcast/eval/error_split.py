"""The same-view error split into skin, hair and outline-band pixels (EVALUATION.md, "Error split").

Inputs are the masked head crops of :func:`headcast.eval.image_metrics.head_crop` (photo and render black outside
the photo's head mask) with three masks cut and resized the same way: the photo's head mask ``M`` and hair mask
(face parsing) and the render's own mask ``A`` (head and strands drawn, render alpha ≥ 0.5).

Regions (:func:`error_split`):

* **outline band** ``O = M xor A``: where the photo's head mask and the render's mask disagree. Its part outside
  ``M`` (render only) is black in both crops and adds no error (the crop rule), so only ``O ∩ M`` (head pixels the
  render misses) carries error; ``O ∖ M`` is counted in ``outside_pixels``.
* **hair**: ``M ∩ hair ∖ O``;
* **skin**: ``M ∖ hair ∖ O`` — the face: skin and what lies on it (brows, eyes, nose, lips, ears).

Skin, hair and ``O ∩ M`` partition ``M``, the only pixels with error. Per region: its share of ``M``'s pixels, its
share of the summed squared error ``Σ_px Σ_rgb (photo − render)²`` (the shares add up to 1), and its PSNR
``10 · log10(255² / mean squared error over its pixels and channels)`` (None for an empty region, ``inf`` for an
error-free one).
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

REGIONS: tuple[str, ...] = ("skin", "hair", "outline")
"""Region names, in report order."""


@dataclass(frozen=True)
class RegionError:
    """The same-view error of one region.

    Attributes:
        pixels: pixels of the region (inside the photo's head mask).
        pixel_share: ``pixels`` / head-mask pixels, [0, 1].
        error_share: share of the summed squared error, [0, 1] (None when the total error is 0).
        psnr: dB over the region's pixels (None when the region is empty).
    """

    pixels: int
    pixel_share: float
    error_share: float | None
    psnr: float | None


@dataclass(frozen=True)
class ErrorSplit:
    """The same-view error by region (module docstring).

    Attributes:
        skin: face pixels the render covers.
        hair: photographed hair the render covers.
        outline: head pixels the render misses (``O ∩ M``).
        outside_pixels: render-only pixels of the band (``O ∖ M``, no error by the crop rule).
    """

    skin: RegionError
    hair: RegionError
    outline: RegionError
    outside_pixels: int

    def region(self, name: str) -> RegionError:
        """The region called ``name`` (one of :data:`REGIONS`)."""
        if name not in REGIONS:
            raise KeyError(f"unknown region '{name}'; regions: {', '.join(REGIONS)}")
        out: RegionError = getattr(self, name)
        return out


def region_masks(
    head: NDArray[np.bool_], hair: NDArray[np.bool_], render_mask: NDArray[np.bool_]
) -> dict[str, NDArray[np.bool_]]:
    """``{"skin", "hair", "outline", "outside"}`` masks of the module docstring, each ``(S, S)`` bool."""
    head = np.asarray(head, dtype=bool)
    band = head ^ np.asarray(render_mask, dtype=bool)
    hair_in = head & np.asarray(hair, dtype=bool) & ~band
    return {"skin": head & ~hair_in & ~band, "hair": hair_in, "outline": band & head, "outside": band & ~head}


def error_split(
    photo: NDArray[np.uint8],
    render: NDArray[np.uint8],
    head: NDArray[np.bool_],
    hair: NDArray[np.bool_],
    render_mask: NDArray[np.bool_],
) -> ErrorSplit:
    """Split the squared error of two head crops into skin, hair and outline band.

    Args:
        photo: ``(S, S, 3)`` uint8 masked photo crop.
        render: ``(S, S, 3)`` uint8 masked render crop.
        head: ``(S, S)`` bool, the photo's head mask in the crop.
        hair: ``(S, S)`` bool, the photo's hair mask in the crop.
        render_mask: ``(S, S)`` bool, where the render drew the head or its strands.

    Returns:
        The per-region pixel shares, error shares and PSNR.

    Example:
        >>> p = np.zeros((4, 4, 3), np.uint8); r = p.copy(); r[0, 0] = 10
        >>> m = np.ones((4, 4), bool); s = error_split(p, r, m, np.zeros_like(m), m)
        >>> s.skin.error_share, s.skin.pixels, s.hair.psnr
        (1.0, 16, None)
    """
    if photo.shape != render.shape or photo.shape[:2] != np.shape(head):
        raise ValueError(f"photo {photo.shape}, render {render.shape} and masks {np.shape(head)} must match")
    for name, m in (("hair", hair), ("render_mask", render_mask)):
        if np.shape(m) != np.shape(head):
            raise ValueError(f"{name} {np.shape(m)} and head {np.shape(head)} differ")
    sq = ((photo.astype(np.float64) - render.astype(np.float64)) ** 2).sum(axis=2)
    masks = region_masks(head, hair, render_mask)
    n_head = int(np.count_nonzero(head))
    total = float(sq[np.asarray(head, dtype=bool)].sum())

    def region(mask: NDArray[np.bool_]) -> RegionError:
        n = int(mask.sum())
        sse = float(sq[mask].sum())
        if n == 0:
            psnr = None
        elif sse == 0.0:
            psnr = float("inf")
        else:
            psnr = float(10.0 * np.log10(255.0**2 / (sse / (3 * n))))
        return RegionError(n, n / n_head if n_head else 0.0, sse / total if total > 0 else None, psnr)

    return ErrorSplit(region(masks["skin"]), region(masks["hair"]), region(masks["outline"]),
                      int(masks["outside"].sum()))
