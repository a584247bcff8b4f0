"""Decode a portrait photo into 8-bit sRGB pixels, robustly.

Convention:
    The returned :class:`~headcast.landmarks.types.Photo` holds ``(H, W, 3)`` uint8 sRGB with the EXIF orientation
    applied (pixel rows top to bottom as the photo is meant to be viewed), downscaled so that its longer side is at
    most ``PhotoSettings.max_side``; ``Photo.scale`` is the downscale factor and ``Photo.original_size`` the
    ``(width, height)`` after EXIF rotation, before downscaling.

Modes are converted as follows (Pillow mode names):

* ``1``, ``L``, ``P``, ``YCbCr``, ``LAB``, ``HSV``, ``CMYK``: Pillow's conversion to ``RGB`` (an embedded ICC
  profile, e.g. Display P3 or a CMYK press profile, is honoured through LittleCMS when available);
* alpha modes (``RGBA``, ``LA``, ``PA``, ``P`` with transparency, ...): composited onto ``PhotoSettings.background``;
* 16-bit greyscale (``I;16*``) and 32-bit integer ``I`` holding 16-bit data: ``round(v / 257)`` — the full 16-bit
  range maps onto 0..255 (``I`` whose maximum is ≤ 255 is taken as 8-bit data);
* float ``F``: values in [0, 1] are scaled by 255, larger ranges are clipped to 0..255.

The input file is only read, never written.
"""

import io
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from headcast.errors import InputImageError
from headcast.landmarks.settings import PhotoSettings
from headcast.landmarks.types import Photo

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I;16S")


def check_rgb(image: NDArray[np.generic], name: str = "image") -> None:
    """Raise ``ValueError`` unless ``image`` is an ``(H, W, 3)`` uint8 array (the pixels of a decoded photo)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"{name}: expected an (H, W, 3) uint8 RGB image, got shape {image.shape} dtype {image.dtype}")


def load_photo(source: Path | bytes, settings: PhotoSettings) -> Photo:
    """Decode a photo file (or its bytes) into an 8-bit sRGB :class:`Photo`.

    Args:
        source: a path to an image file, or the file's bytes.
        settings: size limits and the background for transparent pixels.

    Returns:
        the decoded photo; ``notes`` lists every conversion made (mode, orientation, downscale, ...).

    Raises:
        InputImageError: the file is missing, empty, not an image, truncated or corrupt, has zero size, or has
            more than ``settings.max_pixels`` pixels.
    """
    path = Path(source) if not isinstance(source, bytes | bytearray) else None
    name = f"'{path}'" if path is not None else "the uploaded image"
    data = _read_bytes(path) if path is not None else bytes(source)
    if not data:
        raise InputImageError(f"{name} is empty (0 bytes); give a JPEG or PNG portrait photo.")
    notes: list[str] = []
    with warnings.catch_warnings():
        # The explicit max_pixels check replaces Pillow's process-wide decompression-bomb warning.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as img:
                rgb = _decode(img, name, settings, notes)
        except InputImageError:
            raise
        except UnidentifiedImageError:
            size = _png_header_size(data)
            if size is not None and 0 in size:
                raise InputImageError(f"{name} has zero size ({size[0]}×{size[1]} pixels).") from None
            raise InputImageError(
                f"{name} is not an image Pillow can read (format not recognised); give a JPEG or PNG photo."
            ) from None
        except Image.DecompressionBombError as exc:
            raise InputImageError(
                f"{name} has too many pixels ({exc}); the limit is {settings.max_pixels:,} pixels. "
                "Downscale the photo first."
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
            raise InputImageError(
                f"{name} could not be decoded: the file looks truncated or corrupt ({exc}). "
                "Re-export or re-download the photo."
            ) from None
    original = (rgb.width, rgb.height)
    rgb, scale = _downscale(rgb, settings.max_side, notes)
    pixels = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    return Photo(pixels=pixels, source=path, original_size=original, scale=scale, notes=tuple(notes))


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise InputImageError(f"The photo '{path}' does not exist; check the path.")
    if not path.is_file():
        raise InputImageError(f"'{path}' is not a file; give the path of a JPEG or PNG photo.")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputImageError(f"The photo '{path}' could not be read: {exc}.") from None


def _png_header_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a PNG's IHDR chunk (Pillow refuses zero-size PNGs without saying why)."""
    if len(data) >= 24 and data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None


def _decode(img: Image.Image, name: str, settings: PhotoSettings, notes: list[str]) -> Image.Image:
    """Checks sizes, forces a full decode, applies EXIF orientation and converts to 8-bit RGB."""
    width, height = img.size
    if width <= 0 or height <= 0:
        raise InputImageError(f"{name} has zero size ({width}×{height} pixels).")
    if width * height > settings.max_pixels:
        raise InputImageError(
            f"{name} is {width}×{height} = {width * height:,} pixels, more than the limit of "
            f"{settings.max_pixels:,}; downscale the photo first."
        )
    frames = int(getattr(img, "n_frames", 1))
    if frames > 1:
        notes.append(f"used the first of {frames} frames")
    img.load()  # full decode: truncated or corrupt data raises here, not later
    oriented = ImageOps.exif_transpose(img)
    if oriented is not None and oriented is not img:
        orientation = img.getexif().get(0x0112, 1)
        if orientation not in (0, 1):
            notes.append(f"applied EXIF orientation {orientation}")
        img = oriented
    return _to_rgb(img, settings.background, notes)


def _to_rgb(img: Image.Image, background: tuple[int, int, int], notes: list[str]) -> Image.Image:
    """8-bit sRGB RGB image from any Pillow mode (see the module docstring for the rules)."""
    mode = img.mode
    if mode in _SIXTEEN_BIT_MODES or mode in ("I", "F"):
        grey = _high_depth_to_uint8(img)
        notes.append(f"converted {mode} greyscale to 8-bit")
        return Image.fromarray(grey, mode="L").convert("RGB")
    icc = img.info.get("icc_profile")
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    elif mode in ("LA", "La", "PA", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        alpha = np.asarray(img.getchannel("A"))
        if alpha.min() < 255:
            notes.append(f"composited transparent pixels onto {background}")
        base = Image.new("RGBA", img.size, (*background, 255))
        img = Image.alpha_composite(base, img).convert("RGB")
    if icc and img.mode in ("RGB", "CMYK"):
        converted = _icc_to_srgb(img, icc)
        if converted is not None:
            if converted is not img:
                notes.append(f"converted {mode} to sRGB with the embedded ICC profile")
            return converted
    if img.mode != "RGB":
        notes.append(f"converted {mode} to RGB")
        img = img.convert("RGB")
    return img


def _icc_to_srgb(img: Image.Image, icc: bytes) -> Image.Image | None:
    """Colour-manage ``img`` from its embedded profile to sRGB; None when the profile is unusable."""
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if img.mode == "RGB" and "srgb" in ImageCms.getProfileDescription(src).lower():
            return img  # already sRGB: nothing to do
        dst = ImageCms.createProfile("sRGB")
        out = ImageCms.profileToProfile(img, src, dst, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    return out if isinstance(out, Image.Image) else None


def _high_depth_to_uint8(img: Image.Image) -> NDArray[np.uint8]:
    """``(H, W)`` uint8 from a 16-bit, 32-bit integer or float greyscale image (scaled, not clipped)."""
    values = np.asarray(img).astype(np.float64)
    if img.mode == "F":
        scaled = values * 255.0 if values.size and np.nanmax(values) <= 1.0 else values
    elif img.mode == "I" and values.size and values.max() <= 255:
        scaled = values
    else:
        scaled = values / 257.0
    return np.clip(np.rint(np.nan_to_num(scaled)), 0, 255).astype(np.uint8)


def _downscale(img: Image.Image, max_side: int, notes: list[str]) -> tuple[Image.Image, float]:
    """Resize so the longer side is ≤ ``max_side``; returns the image and the applied scale."""
    longer = max(img.size)
    if longer <= max_side:
        return img, 1.0
    scale = max_side / longer
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    notes.append(f"downscaled from {img.width}×{img.height} to {size[0]}×{size[1]}")
    resized = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return resized, size[0] / img.width
