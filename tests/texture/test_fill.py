import numpy as np
import pytest

from headcast.texture.fill import (
    estimate_skin_tone,
    feather_weight,
    from_lab,
    push_pull,
    skin_likelihood,
    to_lab,
)


def test_push_pull_fills_holes_with_a_constant() -> None:
    values = np.full((64, 64, 3), 0.4, np.float32)
    weights = np.zeros((64, 64), np.float32)
    weights[:, :20] = 1.0
    out = push_pull(values, weights, decay=1.0)
    assert np.allclose(out, 0.4, atol=1e-5)  # a constant extrapolates to itself
    decayed = push_pull(values, weights, decay=0.5)
    assert np.allclose(decayed[:, :16], 0.4, atol=1e-5)  # known texels keep their value
    assert abs(decayed[32, 63, 0]) < 0.2  # far from the data the estimate decays towards 0


def test_push_pull_is_smooth_between_two_values() -> None:
    values = np.zeros((64, 64, 1), np.float32)
    values[:, 48:] = 1.0
    weights = np.zeros((64, 64), np.float32)
    weights[:, :16] = 1.0
    weights[:, 48:] = 1.0
    out = push_pull(values, weights)[32, :, 0]
    gap = out[16:48]
    assert np.all(np.diff(gap) >= -1e-3)  # monotone ramp across the hole
    assert 0.2 < out[32] < 0.8


def test_feather_weight_never_raises() -> None:
    w = np.zeros((50, 50), np.float32)
    w[10:40, 10:40] = 1.0
    f = feather_weight(w, 3, 2.0)
    assert np.all(f <= w + 1e-7)
    assert f[25, 25] == pytest.approx(1.0, abs=1e-3) and f[10, 25] < 0.15


def test_skin_tone_is_robust_to_hair_and_highlights() -> None:
    rng = np.random.default_rng(0)
    skin_rgb = np.array([0.8, 0.6, 0.5], np.float32)
    color = np.clip(skin_rgb + rng.normal(0.0, 0.01, (40, 40, 3)), 0, 1).astype(np.float32)
    color[:8] = [0.1, 0.08, 0.05]  # dark hair
    color[8:10] = 1.0  # specular highlight
    tone = estimate_skin_tone(color, np.ones((40, 40), np.float32), np.ones((40, 40), bool), (0.5, 0.5, 0.5))
    assert tone.samples > 0
    assert np.allclose(tone.rgb, skin_rgb, atol=0.02)
    fallback = estimate_skin_tone(color, np.zeros((40, 40), np.float32), np.ones((40, 40), bool), (0.5, 0.4, 0.3))
    assert fallback.samples == 0 and np.allclose(fallback.rgb, [0.5, 0.4, 0.3])


def test_skin_likelihood_rejects_hair_and_other_hues() -> None:
    tone = estimate_skin_tone(
        np.full((30, 30, 3), [0.8, 0.6, 0.5], np.float32), np.ones((30, 30), np.float32), np.ones((30, 30), bool),
        (0.5, 0.5, 0.5),
    )  # fmt: skip
    colors = np.array([[[0.8, 0.6, 0.5], [0.12, 0.09, 0.07], [0.45, 0.2, 0.6], [0.55, 0.41, 0.34]]], np.float32)
    lab = to_lab(colors)
    full = skin_likelihood(lab, tone, smooth_px=0)[0]
    hue = skin_likelihood(lab, tone, chroma_only=True, smooth_px=0)[0]
    assert full[0] == 1.0 and full[1] == 0.0 and full[2] == 0.0  # skin / dark hair / purple
    assert hue[0] == 1.0 and hue[2] == 0.0 and hue[3] == 1.0  # a shadowed skin colour keeps its hue


def test_lab_round_trip() -> None:
    rgb = np.random.default_rng(2).uniform(0, 1, (10, 3)).astype(np.float32)
    assert np.allclose(from_lab(to_lab(rgb)), rgb, atol=2e-3)
