import math

import numpy as np
import pytest

from headcast.eval.crops import PixelBox
from headcast.eval.image_metrics import head_crop, head_crop_box, mask_bounds, psnr, ssim
from testhelp import load_rgb

RNG_SEED = 0


def _portrait(portraits_dir, size=256):
    return load_rgb(portraits_dir / "london_003_neutral.jpg", (size, size))


def _noisy(img, sigma, seed=RNG_SEED):
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0.0, sigma, img.shape), 0, 255).astype(np.uint8)


def _smooth_image(h=64, w=64):
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([128 + 100 * np.sin(x / 6.0), 128 + 100 * np.cos(y / 5.0), (x + y) % 256], axis=-1)
    return np.clip(img, 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------------ crop rule


def test_mask_bounds_and_empty_mask():
    m = np.zeros((10, 12), bool)
    m[2:5, 3:9] = True
    assert mask_bounds(m) == PixelBox(3, 2, 9, 5)
    with pytest.raises(ValueError, match="empty"):
        mask_bounds(np.zeros((4, 4), bool))


def test_head_crop_box_synthetic_mask():
    # tight box x ∈ [30, 50), y ∈ [20, 100): 20 × 80, centre (40, 60)
    m = np.zeros((200, 150), bool)
    m[20:100, 30:50] = True
    assert head_crop_box(m, dilate=0.0) == PixelBox(0, 20, 80, 100)  # square side 80 on the longer side
    assert head_crop_box(m, dilate=0.05) == PixelBox(-2, 18, 82, 102)  # side 84: 2 px more each way
    assert head_crop_box(m, dilate=0.5) == PixelBox(-20, 0, 100, 120)


def test_head_crop_exact_without_resampling():
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    render = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    mask = np.zeros((120, 160), bool)
    mask[10:110, 40:140] = True  # 100 × 100 square: with dilate 0 and out_size 100 nothing is resampled
    mask[60:70, 80:90] = False  # a hole inside the head (e.g. glasses)
    crops = head_crop(photo, render, mask, out_size=100, dilate=0.0)
    assert crops.box == PixelBox(40, 10, 140, 110)
    np.testing.assert_array_equal(crops.mask, mask[10:110, 40:140])
    expected_photo = np.where(crops.mask[..., None], photo[10:110, 40:140], 0)
    expected_render = np.where(crops.mask[..., None], render[10:110, 40:140], 0)
    np.testing.assert_array_equal(crops.photo, expected_photo)
    np.testing.assert_array_equal(crops.render, expected_render)


def test_head_crop_blacks_out_background_in_both_and_pads_at_edges():
    photo = np.full((100, 80, 3), 200, np.uint8)
    render = np.full((100, 80, 3), 90, np.uint8)
    mask = np.zeros((100, 80), bool)
    mask[0:60, 0:30] = True  # touches the top-left corner: the square leaves the image
    crops = head_crop(photo, render, mask, out_size=256)
    assert crops.box.x0 < 0 and crops.box.y0 < 0
    assert crops.photo.shape == crops.render.shape == (256, 256, 3)
    assert crops.mask.shape == (256, 256)
    assert not crops.photo[~crops.mask].any() and not crops.render[~crops.mask].any()
    assert (crops.photo[crops.mask] == 200).all() and (crops.render[crops.mask] == 90).all()
    # the mask covers 60 × 30 of a 63 × 63 square: ~45 % of the crop
    assert crops.mask.mean() == pytest.approx(60 * 30 / 63**2, abs=0.02)


def test_head_crop_rejects_mismatched_sizes():
    a = np.zeros((10, 10, 3), np.uint8)
    with pytest.raises(ValueError, match="share"):
        head_crop(a, np.zeros((10, 11, 3), np.uint8), np.ones((10, 10), bool))


# ----------------------------------------------------------------------------------------------- PSNR, SSIM


def test_psnr_identical_is_inf():
    img = _smooth_image()
    assert psnr(img, img) == math.inf


@pytest.mark.parametrize("offset", [1, 5, 40])
def test_psnr_constant_offset_matches_formula(offset):
    a = np.full((16, 16, 3), 100, np.uint8)
    b = a + np.uint8(offset)
    assert psnr(a, b) == pytest.approx(20 * math.log10(255 / offset), abs=1e-9)


def test_psnr_and_ssim_fall_with_noise_and_shift():
    img = _smooth_image(96, 96)
    p = [psnr(img, _noisy(img, s)) for s in (2, 10, 30)]
    s = [ssim(img, _noisy(img, sd)) for sd in (2, 10, 30)]
    assert p[0] > p[1] > p[2]
    assert 1.0 > s[0] > s[1] > s[2]
    shifted = np.roll(img, 3, axis=1)
    assert psnr(img, shifted) < math.inf and ssim(img, shifted) < 1.0


def test_ssim_identical_is_one():
    img = _smooth_image()
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-12)


def test_metrics_reject_mismatched_images():
    with pytest.raises(ValueError, match="differ in size"):
        ssim(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8))


# ------------------------------------------------------------------------------------------------- ST-LPIPS


def test_stlpips_identical_is_zero(stlpips_metric, portraits_dir):
    img = _portrait(portraits_dir)
    assert stlpips_metric.distance(img, img) == pytest.approx(0.0, abs=1e-7)


def test_stlpips_matches_reference_package(stlpips_metric, portraits_dir):
    # Reference: stlpips_pytorch 0.0.2's own LPIPS(net="alex", variant="shift_tolerant") on the same 256² inputs
    # (run once with torchvision/IPython/torchsummary stubbed out); float32 CPU arithmetic, tolerance 1e-5.
    a = _portrait(portraits_dir)
    b = load_rgb(portraits_dir / "london_037_neutral.jpg", (256, 256))
    assert stlpips_metric.distance(a, b) == pytest.approx(0.20774275, abs=1e-5)
    assert stlpips_metric.distance(a, np.roll(a, 3, axis=1)) == pytest.approx(0.01403639, abs=1e-5)


def test_stlpips_rises_with_noise_and_tolerates_shifts(stlpips_metric, portraits_dir):
    img = _portrait(portraits_dir)
    d = [stlpips_metric.distance(img, _noisy(img, s)) for s in (5, 15, 40)]
    assert 0.0 < d[0] < d[1] < d[2]
    shifted = np.roll(img, 1, axis=1)
    noisy = _noisy(img, 5)
    # a 1-pixel shift costs more PSNR than mild noise, but less ST-LPIPS: the metric is shift-tolerant
    assert psnr(img, shifted) < psnr(img, noisy)
    assert 0.0 < stlpips_metric.distance(img, shifted) < stlpips_metric.distance(img, noisy)


def test_stlpips_rejects_tiny_images(stlpips_metric):
    tiny = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="32"):
        stlpips_metric.distance(tiny, tiny)
