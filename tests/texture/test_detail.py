"""Skin detail from the photo: periodic component, random-phase synthesis, patch choice, tiling."""

import numpy as np

from headcast.texture.detail import (
    periodic_component,
    photo_skin_detail,
    random_phase_texture,
    skin_detail_patch,
    tile,
)


def test_periodic_component_removes_border_jumps_with_a_smooth_correction() -> None:
    yy, xx = np.mgrid[0:32, 0:48] / np.array([32.0, 48.0])[:, None, None]
    ramp = (xx * 10.0 + np.sin(6 * np.pi * yy))[..., None]  # a jump of ~10 between the right and left borders
    p = periodic_component(ramp)
    assert np.abs(p[:, -1] - p[:, 0]).max() < 0.5 < 9.0 < np.abs(ramp[:, -1] - ramp[:, 0]).min()
    # the removed part s = u − p is harmonic (periodic 5-point Laplacian 0) away from the border (Moisan 2011)
    s = ramp[..., 0] - p[..., 0]
    lap = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1) - 4 * s
    assert np.abs(lap[1:-1, 1:-1]).max() < 1e-9
    flat = np.full((8, 8, 3), 0.25)
    assert np.allclose(periodic_component(flat), flat)


def test_random_phase_texture_keeps_the_spectrum_and_the_colour_correlation() -> None:
    rng = np.random.default_rng(3)
    grey = rng.standard_normal((64, 64))
    patch = np.stack([grey, 0.5 * grey, -grey], axis=-1) * 0.02  # three fully correlated channels
    out = random_phase_texture(patch, seed=5)
    p = periodic_component(patch)
    p -= p.mean(axis=(0, 1))
    amp_in = np.abs(np.fft.fft2(p, axes=(0, 1)))
    amp_out = np.abs(np.fft.fft2(out.astype(np.float64), axes=(0, 1)))
    assert np.allclose(amp_out, amp_in, atol=1e-5)  # same power spectrum (float32 output)
    assert np.allclose(out[..., 1], 0.5 * out[..., 0], atol=1e-6)  # one phase for all channels
    assert np.allclose(out[..., 2], -out[..., 0], atol=1e-6)
    assert abs(np.corrcoef(out[..., 0].ravel(), patch[..., 0].ravel())[0, 1]) < 0.1  # not the patch itself
    assert np.array_equal(out, random_phase_texture(patch, seed=5))


def test_patch_is_taken_from_well_seen_skin_only() -> None:
    f = 256
    rng = np.random.default_rng(0)
    color = np.full((f, f, 3), 0.6, np.float32) * (1 + 0.03 * rng.standard_normal((f, f, 1))).astype(np.float32)
    weight = np.zeros((f, f), np.float32)
    weight[100:200, 20:120] = 1.0  # 100 × 100 of seen skin
    samples = np.ones((f, f), bool)
    patch = skin_detail_patch(color, weight, samples, 64, 3.0)
    assert patch is not None and patch.shape == (64, 64, 3)
    assert 0.01 < patch.std() < 0.05 and abs(patch.mean()) < 0.01  # relative detail around 0
    assert skin_detail_patch(color, weight, samples, 128, 3.0) is None  # no 128² square is seen
    detail = photo_skin_detail(color, weight, samples, 128, 3.0)  # falls back to 96, then 64
    assert detail is not None and detail.shape == (96, 96, 3)
    assert photo_skin_detail(color, np.zeros((f, f), np.float32), samples, 64, 3.0) is None


def test_tile_repeats_and_crops() -> None:
    t = np.arange(2 * 3 * 1, dtype=np.float32).reshape(2, 3, 1)
    out = tile(t, (5, 7))
    assert out.shape == (5, 7, 1)
    assert np.array_equal(out[:2, :3], t) and np.array_equal(out[2:4, 3:6], t) and out[4, 6, 0] == t[0, 0, 0]
