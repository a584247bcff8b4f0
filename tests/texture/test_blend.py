"""The membrane solver against analytic harmonic functions, and the completion it gives: no jump at the boundary."""

import cv2
import numpy as np
import pytest

from headcast.texture.blend import membrane, membrane_fill
from headcast.texture.fill import push_pull
from headcast.texture.seam import seam_score


def _border(shape: tuple[int, int]) -> np.ndarray:
    fixed = np.zeros(shape, bool)
    fixed[0, :] = fixed[-1, :] = fixed[:, 0] = fixed[:, -1] = True
    return fixed


@pytest.mark.parametrize("name", ["linear", "saddle"])
def test_membrane_reproduces_discrete_harmonic_functions(name: str) -> None:
    # x, y and x² − y² have zero 5-point Laplacian: with their values on the border, the membrane is exact
    yy, xx = np.mgrid[0:23, 0:31].astype(np.float64)
    truth = 0.02 * xx - 0.03 * yy + 0.1 if name == "linear" else 1e-3 * (xx - 15.0) ** 2 - 1e-3 * (yy - 11.0) ** 2
    values = np.where(_border(truth.shape), truth, 7.0)[..., None]  # interior values must not matter
    out = membrane(values, np.zeros(truth.shape), _border(truth.shape))
    assert np.abs(out[..., 0] - truth).max() < 1e-7  # the 1e-9 ridge (towards 0) leaves ~1e-8 on these values


def test_membrane_follows_heavily_weighted_data_and_keeps_channels_apart() -> None:
    rng = np.random.default_rng(1)
    values = rng.random((16, 16, 3))
    out = membrane(values, np.full((16, 16), 1e6))
    assert np.abs(out - values).max() < 1e-4  # data weight 1e6 against 4 links of weight 1: error ~ 4e-6 · range
    one = membrane(values[..., :1], np.full((16, 16), 1e6))
    assert np.array_equal(one[..., 0], out[..., 0])


def test_membrane_without_any_data_stays_finite() -> None:
    out = membrane(np.ones((6, 6, 1)), np.zeros((6, 6)))
    assert np.all(np.isfinite(out)) and np.abs(out).max() < 1e-6  # the ridge keeps an unanchored group at 0


def _synthetic_face(n: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A shaded "photo" seen inside a disc (feathered weight), a chart border where the seam fade is 0.

    The skin tone is the photo's mean colour: a flat fill then meets the photo's dark side with a dark-to-light step
    and its bright side with a light-to-dark one, the "photo mask" look.
    """
    yy, xx = (np.mgrid[0:n, 0:n] + 0.5) / n
    r = np.hypot(xx - 0.5, yy - 0.5)
    # photo: darker to the left (lighting), fine texture on top
    shade = 0.8 + 1.0 * (xx - 0.5)
    base_photo = np.array([0.62, 0.46, 0.40])
    photo = (shade[..., None] * base_photo).astype(np.float32)
    photo += 0.01 * np.random.default_rng(0).standard_normal(photo.shape).astype(np.float32)
    hard = (r < 0.15).astype(np.float32)
    weight = np.minimum(cv2.GaussianBlur(cv2.erode(hard, np.ones((7, 7), np.uint8)), (0, 0), 4.0), hard)
    seam_fade = np.clip((0.47 - r) / 0.04, 0.0, 1.0).astype(np.float32)
    skin = photo[hard > 0].mean(axis=0).astype(np.float32)
    return photo, weight.astype(np.float32), seam_fade, skin


def test_membrane_fill_continues_the_photo_across_the_boundary() -> None:
    photo, weight, seam_fade, base = _synthetic_face()
    fill = membrane_fill(photo, weight, seam_fade, base, grid=64, screening=1e-3)
    out = fill + weight[..., None] * (photo - fill)
    # just outside the seen disc the completed colour is the photo's own low-frequency colour, not the skin tone
    band = (weight > 0.02) & (weight < 0.5)
    smooth_photo = cv2.GaussianBlur(photo, (0, 0), 4.0)
    assert np.abs(out[band] - smooth_photo[band]).mean() < 0.015
    # the chart border is exactly the skin tone of the head behind it
    assert np.abs(fill[seam_fade == 0.0] - base).max() < 1e-6
    # no step: the boundary is no busier than the seen skin (score < 1; measured 0.86), while a blend into the flat
    # skin tone steps on both sides of the face (measured 1.47)
    flat = base + weight[..., None] * (photo - base)
    ref = weight > 0.9
    s_membrane = seam_score(out, weight, ref, band_px=6, sigma_px=2.0)
    s_flat = seam_score(flat, weight, ref, band_px=6, sigma_px=2.0)
    assert s_membrane < 1.0 and s_membrane < 0.7 * s_flat


def test_membrane_fill_is_smoother_than_push_pull_at_the_boundary() -> None:
    photo, weight, seam_fade, base = _synthetic_face()
    fill = membrane_fill(photo, weight, seam_fade, base, grid=64, screening=1e-3)
    out = fill + weight[..., None] * (photo - fill)
    residual = push_pull(((photo - base) * weight[..., None]).astype(np.float32) / np.maximum(weight, 1e-6)[..., None],
                         weight, 0.6)
    pp = base + residual * seam_fade[..., None]
    out_pp = pp + weight[..., None] * (photo - pp)
    ref = weight > 0.9
    # measured 0.86 against 1.77: push-pull's decaying residual still bends towards the skin tone in the band
    assert seam_score(out, weight, ref, band_px=6, sigma_px=2.0) < 0.7 * seam_score(out_pp, weight, ref, band_px=6,
                                                                                     sigma_px=2.0)
