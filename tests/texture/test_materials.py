import numpy as np
import pytest

from headcast.texture.materials import (
    IRIS_A,
    IRIS_B,
    LEFT_EYE,
    RIGHT_EYE,
    SCLERA_LIMBUS_R,
    cell_tile_uv,
    exposure_factor,
    measure_eyes,
    paint_eye,
)

IRIS = np.array([0.2, 0.4, 0.7], np.float32)


def _radius_texel(n: int, r: float) -> tuple[int, int]:
    """Row, column of the texel at tile-UV radius r to the right of the centre."""
    uv = cell_tile_uv(n)
    d = np.abs(uv[..., 1] - 0.5) + np.abs(uv[..., 0] - (0.5 + r))
    row, col = np.unravel_index(np.argmin(d), d.shape)
    return int(row), int(col)


def test_sclera_cell_has_pupil_iris_and_white() -> None:
    n = 256
    img = paint_eye(n, "sclera", IRIS, (0.9, 0.88, 0.85), (0.02, 0.02, 0.02), None)
    assert img.shape == (n, n, 3)
    assert np.all(img[_radius_texel(n, 0.0)] < 0.05)  # pupil
    mid = img[_radius_texel(n, 0.5 * (0.042 + SCLERA_LIMBUS_R))]
    assert np.argmax(mid) == 2 and np.allclose(mid / mid.sum(), IRIS / IRIS.sum(), atol=0.02)  # iris hue kept
    assert np.all(img[_radius_texel(n, 0.2)] > 0.8)  # white of the eye


def test_paint_eye_is_affine_in_the_iris_colour() -> None:
    a = paint_eye(64, "iris", np.zeros(3), (0.9, 0.9, 0.9), (0.0, 0.0, 0.0))
    b = paint_eye(64, "iris", np.full(3, 0.5), (0.9, 0.9, 0.9), (0.0, 0.0, 0.0))
    c = paint_eye(64, "iris", np.full(3, 0.25), (0.9, 0.9, 0.9), (0.0, 0.0, 0.0))
    assert np.allclose(c, 0.5 * (a + b), atol=1e-6)


def test_catchlight_is_painted_where_asked() -> None:
    img = paint_eye(256, "sclera", IRIS, (0.9, 0.88, 0.85), (0.02, 0.02, 0.02), (0.56, 0.56))
    uv = cell_tile_uv(256)
    spot = np.unravel_index(np.argmin(np.sum((uv - 0.56) ** 2, axis=-1)), uv.shape[:2])
    assert np.all(img[spot] > 0.85)


def _synthetic_eyes() -> tuple[np.ndarray, np.ndarray]:
    img = np.full((200, 300, 3), 180, np.uint8)
    points = np.zeros((478, 2))
    for centre, contour, iris in (((90, 100), RIGHT_EYE, IRIS_A), ((210, 100), LEFT_EYE, IRIS_B)):
        cx, cy = centre
        angles = np.linspace(0, 2 * np.pi, len(contour), endpoint=False)
        points[list(contour)] = np.c_[cx + 30 * np.cos(angles), cy + 12 * np.sin(angles)]  # eye opening
        points[iris[0]] = centre
        points[list(iris[1:])] = [[cx + 10, cy], [cx, cy - 10], [cx - 10, cy], [cx, cy + 10]]
        yy, xx = np.mgrid[0:200, 0:300]
        d = np.hypot(xx + 0.5 - cx, yy + 0.5 - cy)
        inside = ((xx + 0.5 - cx) / 30) ** 2 + ((yy + 0.5 - cy) / 12) ** 2 < 1
        img[inside] = [230, 225, 220]  # whites
        img[inside & (d < 10)] = [60, 110, 40]  # green iris
        img[d < 3] = [5, 5, 5]  # pupil
        img[inside & (np.hypot(xx - cx - 4, yy - cy + 4) < 1.5)] = 255  # catchlight
    return img, points


def test_measure_eyes_finds_iris_colour_and_white_level() -> None:
    img, points = _synthetic_eyes()
    eyes = measure_eyes(img, points)
    assert eyes.iris is not None and np.allclose(eyes.iris * 255, [60, 110, 40], atol=2)
    assert eyes.sclera_luminance is not None and abs(eyes.sclera_luminance - 0.887) < 0.02
    assert eyes.sclera_rgb is not None and np.allclose(eyes.sclera_rgb * 255, [230, 225, 220], atol=2)
    assert measure_eyes(img, np.zeros((468, 2))).iris is None  # no iris landmarks


def test_iris_profile_runs_from_the_pupil_to_the_iris_and_paints_it() -> None:
    from headcast.texture.materials import IRIS_BINS, SCLERA_LIMBUS_R, cell_tile_uv, paint_eye_from_profile

    img, points = _synthetic_eyes()
    profile = measure_eyes(img, points).iris_profile
    assert profile is not None and profile.shape == (IRIS_BINS, 3)
    assert np.all(profile[0] * 255 < 10)  # the pupil (the catchlight left out)
    np.testing.assert_allclose(profile[IRIS_BINS // 2] * 255, [60, 110, 40], atol=2)  # the iris
    cell = paint_eye_from_profile(128, "sclera", profile, (0.9, 0.88, 0.85), None)
    r = np.hypot(*np.moveaxis(cell_tile_uv(128) - 0.5, -1, 0))
    assert np.all(cell[r < 0.1 * SCLERA_LIMBUS_R] < 0.05)  # a dark pupil in the middle
    ring = (r > 0.5 * SCLERA_LIMBUS_R) & (r < 0.7 * SCLERA_LIMBUS_R)
    assert np.allclose(np.median(cell[ring], axis=0) * 255, [60, 110, 40], atol=12)  # green iris, some texture
    assert np.all(cell[r > 1.5 * SCLERA_LIMBUS_R].mean(axis=0) > 0.6)  # whites outside
    assert measure_eyes(img, np.zeros((468, 2))).iris_profile is None  # no iris landmarks


def test_exposure_factor() -> None:
    assert exposure_factor(None, (0.9, 0.9, 0.9)) == 1.0
    assert exposure_factor(0.95, (0.9, 0.9, 0.9)) == 1.0
    assert exposure_factor(0.6, (0.9, 0.9, 0.9)) == pytest.approx(1.15 * 0.6 / 0.9)
    assert exposure_factor(0.05, (0.9, 0.9, 0.9)) == 0.55
