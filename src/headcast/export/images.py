"""PNG and JPEG encoding of sRGB images for the bundle (texture, previews)."""

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


def jpeg_bytes(image: NDArray[np.uint8], size: int | None = None, quality: int = 90) -> bytes:
    """Encode an ``(H, W, 3)`` uint8 sRGB image (row 0 = top) as a baseline JPEG.

    The image is first resized to ``size``² (Lanczos) when ``size`` is given and differs; chroma is subsampled
    4:2:0 (the size that matters on the web; the skin has little colour detail at that scale).

    Raises:
        ValueError: the array is not ``(H, W, 3)`` uint8, or ``size``/``quality`` is out of range.
    """
    a = np.asarray(image)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) image, got {a.dtype} {a.shape}")
    if size is not None and size < 1:
        raise ValueError(f"size must be positive, got {size}")
    if not 1 <= quality <= 95:
        raise ValueError(f"JPEG quality must be 1-95, got {quality}")
    picture = Image.fromarray(np.ascontiguousarray(a))
    if size is not None and picture.size != (size, size):
        picture = picture.resize((size, size), Image.Resampling.LANCZOS)
    buffer = BytesIO()
    picture.save(buffer, format="JPEG", quality=quality, subsampling="4:2:0", optimize=True)
    return buffer.getvalue()
