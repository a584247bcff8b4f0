"""PNG encoding of sRGB images for the bundle (texture, previews)."""

from io import BytesIO

import numpy as np
from numpy.typing import NDArray
from PIL import Image


def png_bytes(image: NDArray[np.uint8], compress_level: int = 6) -> bytes:
    """Encode an ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` uint8 sRGB image (row 0 = top) as PNG.

    Raises:
        ValueError: the array is not uint8 or has another shape.
    """
    a = np.asarray(image)
    if a.dtype != np.uint8 or not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise ValueError(f"expected a uint8 (H, W), (H, W, 3) or (H, W, 4) image, got {a.dtype} {a.shape}")
    buffer = BytesIO()
    Image.fromarray(np.ascontiguousarray(a)).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()
