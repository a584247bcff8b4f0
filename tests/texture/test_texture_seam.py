"""The seam score: analytic gradients, the boundary band, and the ranking of a hard edge above a smooth blend."""

import numpy as np

from headcast.texture.seam import gradient_magnitude, projection_band, seam_score


def _skin_noise(shape: tuple[int, int], amplitude: float = 0.01, seed: int = 0) -> np.ndarray:
    """Fine texture standing in for skin detail (the reference gradient)."""
    return amplitude * np.random.default_rng(seed).standard_normal((*shape, 3))


def _step_weight(n: int = 200, edge: int = 100) -> np.ndarray:
    w = np.zeros((n, n), np.float32)
    w[:, :edge] = 1.0
    return w


def test_gradient_of_a_ramp_is_its_slope() -> None:
    cols = np.arange(64, dtype=np.float32)
    img = np.zeros((64, 64, 3), np.float32)
    img[..., 0] = 0.01 * cols[None, :]  # 0.01 per texel along x, one channel
    g = gradient_magnitude(img, sigma_px=0.0)
    assert np.allclose(g[5:-5, 5:-5], 0.01, atol=1e-6)


def test_uint8_images_are_scaled_to_unit_range() -> None:
    img = np.zeros((32, 32, 3), np.uint8)
    img[:, 16:] = 255
    g = gradient_magnitude(img, sigma_px=0.0)
    # Scharr/32 on a unit step: (3 + 10 + 3) / 32 = 0.5 per channel on both columns beside the step; one channel
    # here times sqrt(3) for three equal channels
    assert np.isclose(g[16, 15], 0.5 * np.sqrt(3.0), atol=1e-5) and g[16, 5] == 0.0


def test_band_straddles_the_half_weight_contour() -> None:
    band = projection_band(_step_weight(), band_px=3)
    cols = np.flatnonzero(band[100])
    assert cols.min() == 97 and cols.max() == 102  # 3 texels seen (97..99) and 3 unseen (100..102)
    assert not projection_band(np.ones((50, 50)), 3).any()


def test_hard_edge_scores_above_a_smooth_blend() -> None:
    n = 200
    weight = _step_weight(n)
    x = np.arange(n, dtype=np.float64)[None, :, None]
    photo, fill = np.array([0.55, 0.40, 0.35]), np.array([0.80, 0.62, 0.52])
    hard = np.where(x < 100, photo, fill) + _skin_noise((n, n))
    ramp = np.clip((x - 40.0) / 120.0, 0.0, 1.0)  # the same colours, blended over 120 texels
    smooth = photo + ramp * (fill - photo) + _skin_noise((n, n))
    reference = np.ones((n, n), bool)
    s_hard = seam_score(hard, weight, reference)
    s_smooth = seam_score(smooth, weight, reference)
    s_none = seam_score(photo + _skin_noise((n, n)), weight, reference)
    assert s_hard > 3.0 * s_smooth
    assert 0.8 < s_none < 1.2  # the same texture on both sides: no seam
    assert s_smooth < 1.3


def test_region_and_valid_limit_the_band() -> None:
    n = 200
    weight = _step_weight(n)
    x = np.arange(n)[None, :, None]
    img = np.where(x < 100, 0.3, 0.8) + _skin_noise((n, n))
    reference = np.ones((n, n), bool)
    nowhere = np.zeros((n, n), bool)
    assert np.isnan(seam_score(img, weight, reference, region=nowhere))
    assert np.isnan(seam_score(img, weight, nowhere))
    valid = np.ones((n, n), bool)
    valid[:, 95:106] = False  # the boundary lies on a chart border: not counted
    assert np.isnan(seam_score(img, weight, reference, valid=valid))
