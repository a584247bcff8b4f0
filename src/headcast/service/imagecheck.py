"""Check an uploaded photo by its content, with Pillow only (the gateway must not import the numeric stack).

Order: magic bytes (415 for anything that is not JPEG, PNG, WebP, BMP or TIFF), the header's pixel count
(413 above the limit, before any decoding), then a full decode at reduced scale where the format allows it
(422 for truncated or corrupt files). The worker decodes the photo again with the pipeline's own loader.
"""

import io
import warnings
from dataclasses import dataclass
from typing import Literal

from PIL import Image, UnidentifiedImageError

ImageFormat = Literal["jpeg", "png", "webp", "bmp", "tiff"]

_PIL_FORMATS: dict[str, ImageFormat] = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "BMP": "bmp", "TIFF": "tiff"}
SUFFIXES: dict[ImageFormat, str] = {"jpeg": ".jpg", "png": ".png", "webp": ".webp", "bmp": ".bmp", "tiff": ".tif"}


@dataclass(frozen=True)
class CheckedImage:
    """A photo that passed the checks: its format and size in pixels."""

    format: ImageFormat
    width: int
    height: int


class ImageRejected(ValueError):
    """The upload is not an acceptable photo; ``status`` is the HTTP status, ``code`` the machine reason."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def sniff_format(head: bytes) -> ImageFormat | None:
    """The image format from the first bytes of a file (at least 12), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"BM"):
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def check_image(data: bytes, max_pixels: int) -> CheckedImage:
    """Accept or reject an uploaded photo.

    Raises:
        ImageRejected: 415 ``unsupported_type``, 413 ``too_many_pixels``, 422 ``corrupt_image``.
    """
    fmt = sniff_format(data[:16])
    if fmt is None:
        raise ImageRejected(415, "unsupported_type", "not a photo: send a JPEG, PNG, WebP, BMP or TIFF image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                pil_format = img.format
    except (
        UnidentifiedImageError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ) as err:
        if isinstance(err, Image.DecompressionBombWarning | Image.DecompressionBombError):
            raise ImageRejected(413, "too_many_pixels", f"the image has too many pixels: {err}") from None
        raise ImageRejected(422, "corrupt_image", f"the {fmt.upper()} file cannot be read: {err}") from None
    if _PIL_FORMATS.get(pil_format or "") != fmt:
        raise ImageRejected(422, "corrupt_image", f"the file starts like a {fmt.upper()} but is not one")
    if width * height > max_pixels:
        raise ImageRejected(
            413,
            "too_many_pixels",
            f"the image is {width}×{height} = {width * height / 1e6:.1f} MP; the limit is {max_pixels / 1e6:.0f} MP",
        )
    if width < 1 or height < 1:
        raise ImageRejected(422, "corrupt_image", "the image has no pixels")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if fmt == "jpeg":
                img.draft("RGB", (max(1, width // 8), max(1, height // 8)))  # DCT scaling: the whole stream, 1/64 work
            img.load()
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageRejected(422, "corrupt_image", f"the {fmt.upper()} file is truncated or corrupt: {err}") from None
    return CheckedImage(fmt, width, height)
