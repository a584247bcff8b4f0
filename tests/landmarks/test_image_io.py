"""load_photo: mode conversions, EXIF orientation, size limits and error messages, on files made in the test."""

import hashlib
import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from headcast.errors import InputImageError
from headcast.landmarks.image_io import check_rgb, load_photo
from headcast.landmarks.settings import PhotoSettings

SETTINGS = PhotoSettings()


def _png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _patch_png_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the IHDR width/height of a PNG (and its CRC) without touching the pixel data."""
    assert data[12:16] == b"IHDR"
    ihdr = struct.pack(">II", width, height) + data[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return data[:16] + ihdr + crc + data[33:]


def test_rgb_png_round_trip_exact() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    photo = load_photo(_png_bytes(Image.fromarray(rgb)), SETTINGS)
    np.testing.assert_array_equal(photo.pixels, rgb)
    assert photo.pixels.dtype == np.uint8 and photo.pixels.flags.c_contiguous
    assert (photo.width, photo.height) == (5, 7) and photo.original_size == (5, 7)
    assert photo.scale == 1.0 and photo.source is None and photo.notes == ()


def test_greyscale_png_becomes_equal_channels() -> None:
    grey = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    photo = load_photo(_png_bytes(Image.fromarray(grey, mode="L")), SETTINGS)
    assert photo.pixels.shape == (6, 8, 3)
    for c in range(3):
        np.testing.assert_array_equal(photo.pixels[..., c], grey)


def test_rgba_png_is_composited_on_the_background() -> None:
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (10, 20, 30, 255)  # opaque: kept
    rgba[0, 1] = (200, 0, 0, 0)  # transparent: background
    rgba[1, 0] = (0, 0, 0, 128)  # half black over white: ~127
    rgba[1, 1] = (0, 255, 0, 255)
    photo = load_photo(_png_bytes(Image.fromarray(rgba, mode="RGBA")), PhotoSettings(background=(255, 255, 255)))
    px = photo.pixels.astype(int)
    np.testing.assert_array_equal(px[0, 0], (10, 20, 30))
    np.testing.assert_array_equal(px[0, 1], (255, 255, 255))
    assert np.all(np.abs(px[1, 0] - 127) <= 1)
    np.testing.assert_array_equal(px[1, 1], (0, 255, 0))
    assert any("composited" in n for n in photo.notes)


def test_palette_with_transparency_is_composited() -> None:
    img = Image.new("P", (2, 1))
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.putpixel((0, 0), 0)
    img.putpixel((1, 0), 1)
    img.info["transparency"] = 1
    photo = load_photo(_png_bytes(img), PhotoSettings(background=(0, 255, 0)))
    np.testing.assert_array_equal(photo.pixels[0, 0], (255, 0, 0))
    np.testing.assert_array_equal(photo.pixels[0, 1], (0, 255, 0))


def test_cmyk_jpeg_converted_to_rgb() -> None:
    cmyk = Image.new("CMYK", (16, 16), (255, 0, 0, 0))  # pure cyan ink
    cmyk.paste((0, 0, 0, 255), (0, 8, 16, 16))  # black ink in the bottom half
    buf = io.BytesIO()
    cmyk.save(buf, "JPEG", quality=95)
    photo = load_photo(buf.getvalue(), SETTINGS)
    top = photo.pixels[:6].reshape(-1, 3).mean(axis=0)
    bottom = photo.pixels[10:].reshape(-1, 3).mean(axis=0)
    assert top[0] < 30 and top[1] > 220 and top[2] > 220  # cyan = (0, 255, 255)
    assert bottom.max() < 30  # black
    assert any("CMYK" in n for n in photo.notes)


def test_16bit_greyscale_png_is_scaled_not_clipped() -> None:
    values = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)  # 0, 1, 128, 255 after /257
    img = Image.fromarray(values)
    assert img.mode == "I;16"
    photo = load_photo(_png_bytes(img), SETTINGS)
    np.testing.assert_array_equal(photo.pixels[0, :, 0], [0, 1, 128, 255])
    assert any("I;16" in n for n in photo.notes)


def test_16bit_rgb_png_is_scaled(tmp_path: Path) -> None:
    bgr = np.zeros((2, 2, 3), dtype=np.uint16)
    bgr[..., 2] = 65535  # red channel, full
    bgr[..., 1] = 32896  # green, half
    path = tmp_path / "rgb16.png"
    assert cv2.imwrite(str(path), bgr)
    photo = load_photo(path, SETTINGS)
    np.testing.assert_array_equal(photo.pixels[0, 0], (255, 128, 0))


def test_exif_orientation_is_applied() -> None:
    """Orientation 6 = stored image must be turned 90° clockwise: the stored top-left mark shows at the top-right."""
    stored = np.zeros((20, 40, 3), dtype=np.uint8)
    stored[:4, :4] = (255, 0, 0)
    img = Image.fromarray(stored)
    exif = img.getexif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=100, exif=exif.tobytes())
    photo = load_photo(buf.getvalue(), SETTINGS)
    assert (photo.width, photo.height) == (20, 40)
    assert photo.original_size == (20, 40)
    red = photo.pixels[..., 0] > 128
    ys, xs = np.nonzero(red)
    assert xs.min() >= 15 and ys.max() <= 4  # top-right corner
    assert any("EXIF orientation 6" in n for n in photo.notes)


def test_large_image_is_downscaled() -> None:
    img = Image.new("RGB", (3000, 1000), (90, 100, 110))
    photo = load_photo(_png_bytes(img), PhotoSettings(max_side=1000))
    assert (photo.width, photo.height) == (1000, 333)
    assert photo.original_size == (3000, 1000)
    assert photo.scale == pytest.approx(1 / 3)
    assert any("downscaled" in n for n in photo.notes)
    assert np.all(np.abs(photo.pixels.astype(int) - (90, 100, 110)) <= 1)


def test_truncated_jpeg_is_rejected() -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG")
    data = buf.getvalue()
    with pytest.raises(InputImageError, match="truncated or corrupt"):
        load_photo(data[: len(data) // 2], SETTINGS)


def test_text_file_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a photo\n")
    with pytest.raises(InputImageError, match="not an image"):
        load_photo(path, SETTINGS)


def test_huge_dimensions_in_header_are_rejected_before_decoding() -> None:
    data = _patch_png_size(_png_bytes(Image.new("RGB", (4, 4))), 100_000, 100_000)
    with pytest.raises(InputImageError, match="too many pixels"):
        load_photo(data, SETTINGS)


def test_max_pixels_setting_is_enforced() -> None:
    data = _png_bytes(Image.new("RGB", (100, 100)))
    with pytest.raises(InputImageError, match="10,000 pixels"):
        load_photo(data, PhotoSettings(max_pixels=5_000))


def test_zero_size_header_is_rejected() -> None:
    data = _patch_png_size(_png_bytes(Image.new("RGB", (4, 4))), 0, 4)
    with pytest.raises(InputImageError, match="zero size"):
        load_photo(data, SETTINGS)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(InputImageError, match="does not exist"):
        load_photo(tmp_path / "nope.jpg", SETTINGS)
    with pytest.raises(InputImageError, match="not a file"):
        load_photo(tmp_path, SETTINGS)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(InputImageError, match="empty"):
        load_photo(empty, SETTINGS)
    with pytest.raises(InputImageError, match="empty"):
        load_photo(b"", SETTINGS)


def test_input_file_is_not_modified(tmp_path: Path) -> None:
    img = Image.new("RGB", (3000, 20), (1, 2, 3))
    exif = img.getexif()
    exif[0x0112] = 3
    path = tmp_path / "p.jpg"
    img.save(path, "JPEG", exif=exif.tobytes())
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    mtime = path.stat().st_mtime_ns
    photo = load_photo(path, PhotoSettings(max_side=500))
    assert photo.source == path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert path.stat().st_mtime_ns == mtime


def test_check_rgb_rejects_bad_input():
    check_rgb(np.zeros((2, 2, 3), np.uint8))
    for bad in (np.zeros((2, 2), np.uint8), np.zeros((2, 2, 4), np.uint8), np.zeros((2, 2, 3), np.float32)):
        with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
            check_rgb(bad)
