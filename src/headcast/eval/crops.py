"""Square crop boxes and padded cropping/resizing shared by the image metrics and the identity embedders.

Convention: images are ``(H, W, C)`` or ``(H, W)`` arrays; boxes are ``(x0, y0, x1, y1)`` integer pixels of the
image, top-left origin, end exclusive, and may extend past the image (the outside reads as zeros = black).
"""

import math
from dataclasses import dataclass
from typing import Literal, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

PixelT = TypeVar("PixelT", np.uint8, np.float32, np.float64)
"""Pixel types the crop helpers keep unchanged."""

Pad = Literal["zero", "edge"]
"""How :func:`crop_padded` fills the part of a box outside the image."""


@dataclass(frozen=True)
class PixelBox:
    """An integer pixel box ``[x0, x1) × [y0, y1)``; may extend past the image it refers to."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        """``x1 − x0`` in pixels."""
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        """``y1 − y0`` in pixels."""
        return self.y1 - self.y0


def square_box(cx: float, cy: float, side: float) -> PixelBox:
    """The integer square of side ``side`` rounded (≥ 1), centred as closely as possible on ``(cx, cy)``.

    Args:
        cx: centre x in pixels (continuous; pixel i spans [i, i + 1)).
        cy: centre y in pixels.
        side: side length in pixels.
    """
    n = max(1, _round_half_up(side))
    x0, y0 = _round_half_up(cx - 0.5 * n), _round_half_up(cy - 0.5 * n)
    return PixelBox(x0, y0, x0 + n, y0 + n)


def _round_half_up(x: float) -> int:
    """Nearest integer, halves rounded up (Python's ``round`` rounds halves to even, which shifts boxes)."""
    return math.floor(x + 0.5)


def crop_padded(image: NDArray[PixelT], box: PixelBox, pad: Pad = "zero") -> NDArray[PixelT]:
    """Cut ``box`` out of ``image`` (``(H, W, ...)``), padding where the box leaves the image.

    Args:
        image: ``(H, W, ...)`` array.
        box: the pixel box; may extend past the image.
        pad: ``"zero"`` fills the outside with zeros (black); ``"edge"`` repeats the nearest border pixel, so
            that a later resampling does not blend black into pixels at the image border.

    Returns:
        ``(box.height, box.width, ...)`` array of the image's dtype.
    """
    h, w = image.shape[:2]
    if pad == "edge":
        ys = np.clip(np.arange(box.y0, box.y1), 0, h - 1)
        xs = np.clip(np.arange(box.x0, box.x1), 0, w - 1)
        return np.ascontiguousarray(image[ys[:, None], xs[None, :]])
    out = np.zeros((box.height, box.width, *image.shape[2:]), dtype=image.dtype)
    sx0, sy0, sx1, sy1 = max(box.x0, 0), max(box.y0, 0), min(box.x1, w), min(box.y1, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - box.y0 : sy1 - box.y0, sx0 - box.x0 : sx1 - box.x0] = image[sy0:sy1, sx0:sx1]
    return out


def resize_square(image: NDArray[PixelT], size: int) -> NDArray[PixelT]:
    """Resize ``(h, w, ...)`` to ``(size, size, ...)``: area averaging when shrinking, bilinear when enlarging.

    Keeps the dtype (uint8 results are rounded by OpenCV).
    """
    shrinking = image.shape[0] > size or image.shape[1] > size
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, (size, size), interpolation=interp), dtype=image.dtype)
