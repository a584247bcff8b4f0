"""Teeth from the photo: which pixels can be teeth, and a render → bake round trip of a head showing its teeth."""

from dataclasses import replace

import numpy as np
import pytest

from headcast.texture.bake import bake_texture
from headcast.texture.maps import Region, atlas_maps
from headcast.texture.settings import TextureSettings
from headcast.texture.teeth import (
    INNER_LIPS,
    TeethPhotoSettings,
    TeethProjection,
    blend_teeth,
    feather_texels,
    mouth_opening,
    spread_colour,
    teeth_trust,
    tooth_likeness,
)
from headcast.texture.types import UVTexture
from testhelp import photo_of_known_head

SIZE = 1024  # atlas side for the round trip (teeth cell 256²)


def _mouth_points(width: float, height: float, centre=(200.0, 150.0)) -> np.ndarray:
    """478 landmarks whose inner lip contour is an ellipse ``width`` × ``height`` (pixels) round ``centre``."""
    pts = np.zeros((478, 3))
    t = np.linspace(np.pi, -np.pi, len(INNER_LIPS), endpoint=False)  # 78 (left corner) first, then the upper lip
    pts[list(INNER_LIPS), 0] = centre[0] + 0.5 * width * np.cos(t)
    pts[list(INNER_LIPS), 1] = centre[1] - 0.5 * height * np.sin(t)
    return pts


def test_mouth_opening_is_area_over_squared_width() -> None:
    pts = _mouth_points(100.0, 30.0)
    n = len(INNER_LIPS)
    expected = 0.5 * n * np.sin(2 * np.pi / n) * 50.0 * 15.0 / 100.0**2  # inscribed polygon of the ellipse
    assert mouth_opening(pts) == pytest.approx(expected, rel=1e-6)
    assert mouth_opening(_mouth_points(100.0, 0.0)) == pytest.approx(0.0, abs=1e-12)


def test_tooth_likeness_prefers_pale_bright_pixels() -> None:
    img = np.zeros((4, 4, 3), np.float32)
    img[0] = (0.92, 0.90, 0.85)  # tooth
    img[1] = (0.75, 0.30, 0.35)  # lip / gum: bright enough but red
    img[2] = (0.12, 0.08, 0.08)  # dark gap, back of the mouth
    img[3] = (0.60, 0.58, 0.55)  # a tooth in shadow: partly
    inside = np.ones((4, 4), bool)
    like = tooth_likeness(img, inside, TeethPhotoSettings())
    assert like[0].min() > 0.99
    assert like[1].max() < 0.01 and like[2].max() < 0.01
    assert 0.2 < like[3].mean() < 0.99
    inside[0, :2] = False
    assert tooth_likeness(img, inside, TeethPhotoSettings())[0, :2].max() == 0.0
    # a dark opening (no bright pixel) shows no teeth at all
    assert tooth_likeness(img * 0.15, np.ones((4, 4), bool), TeethPhotoSettings()).max() == 0.0


def test_trust_is_inside_an_open_mouth_only() -> None:
    pixels = np.full((300, 400, 3), 235, np.uint8)  # pale everywhere: only the opening decides
    settings = TeethPhotoSettings()
    open_pts = _mouth_points(120.0, 40.0)
    trust = teeth_trust(pixels, open_pts, settings)
    assert trust[150, 200] > 0.99
    assert trust[150, 200 + 70] == 0.0 and trust[150 + 30, 200] == 0.0  # outside the lips' opening
    assert trust[:, :100].max() == 0.0
    assert teeth_trust(pixels, _mouth_points(120.0, 2.0), settings).max() == 0.0  # closed: no teeth
    parsed = np.zeros((300, 400), bool)
    parsed[:, 200:] = True  # the parser sees the inside of the mouth on the right half only
    half = teeth_trust(pixels, open_pts, settings, mouth_class=parsed)
    assert half[150, 170].max() == 0.0 and half[150, 230] > 0.99


def test_feathering_stays_inside_and_colour_spreads() -> None:
    w = np.zeros((64, 64), np.float32)
    w[20:44, 20:44] = 1.0
    f = feather_texels(w, 2.0)
    assert f[32, 32] > 0.99 and f[:16].max() < 1e-3 and f[w == 0].max() < 0.5
    colour = np.zeros((64, 64, 3), np.float32)
    colour[w > 0] = (0.8, 0.7, 0.6)
    spread = spread_colour(colour, w, 4.0)
    np.testing.assert_allclose(spread[19, 32], (0.8, 0.7, 0.6), atol=1e-5)  # just outside: the neighbours' colour
    painted = np.full((64, 64, 3), 0.2, np.float32)
    cell = blend_teeth(painted, TeethProjection(spread, f, 1.0))
    np.testing.assert_allclose(cell[32, 32], (0.8, 0.7, 0.6), atol=0.01)
    np.testing.assert_allclose(cell[2, 2], (0.2, 0.2, 0.2), atol=1e-6)


def _known_atlas(size: int, teeth_box: tuple[int, int, int, int]) -> np.ndarray:
    """A saturated pattern everywhere, pale (tooth-like) greys with a slow gradient in the teeth cell."""
    rows, cols = np.mgrid[0:size, 0:size] / size
    img = np.stack([0.6 + 0.3 * np.sin(6 * np.pi * cols), 0.3 + 0.1 * rows, 0.35 + 0.1 * cols], axis=-1)
    r0, r1, c0, c1 = teeth_box
    grey = 0.72 + 0.22 * cols[r0:r1, c0:c1]
    img[r0:r1, c0:c1] = np.stack([grey, 0.98 * grey, 0.93 * grey], axis=-1)
    return np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def smiling(ict_model, renderer):
    """Render the mean head with its teeth bared and a known atlas; bake it back with the model's own landmarks."""
    model = ict_model
    maps = atlas_maps(model, SIZE, renderer)
    box = maps.cell_boxes["teeth"][0]
    known = UVTexture(_known_atlas(SIZE, box), maps.uv, np.zeros((SIZE, SIZE), np.float32))
    expression = np.zeros(model.num_expressions)
    for name, value in (("jawOpen", 0.3), ("mouthUpperUpLeft", 0.8), ("mouthUpperUpRight", 0.8),
                        ("mouthSmileLeft", 0.5), ("mouthSmileRight", 0.5)):
        expression[model.expression_index(name)] = value
    photo, fit = photo_of_known_head(model, known, expression, (0.0, 0.02, -0.45), 640, 30.0, renderer)
    params, points = fit.params, fit.landmarks_2d
    settings = TextureSettings(atlas_size=SIZE, hair_gate=False, delight=False)
    baked = bake_texture(photo, fit, model, settings, renderer=renderer)
    flat = bake_texture(photo, fit, model, replace(settings, teeth_from_photo=False), renderer=renderer)
    closed = bake_texture(photo, replace(fit, params=replace(params, expression=np.zeros_like(expression))), model,
                          settings, renderer=renderer)
    return box, known, baked, flat, closed, mouth_opening(points), maps


def test_seen_teeth_take_the_photo_colour(smiling) -> None:
    (r0, r1, c0, c1), known, baked, flat, _, opening, _ = smiling
    assert opening > TeethPhotoSettings().min_opening  # the test head shows its teeth
    seen = baked.coverage[r0:r1, c0:c1] > 0.9
    assert seen.sum() > 150, seen.sum()  # the front teeth's faces: a few hundred texels of a 256² cell
    cell = baked.image[r0:r1, c0:c1].astype(int)
    diff = np.abs(cell - known.image[r0:r1, c0:c1].astype(int))[seen]
    assert diff.mean() < 4.0 and np.percentile(diff, 95) < 14
    # without the photo these texels have the flat colour, far from the known pattern
    flat_diff = np.abs(flat.image[r0:r1, c0:c1].astype(int) - known.image[r0:r1, c0:c1].astype(int))[seen]
    assert flat_diff.mean() > 3 * diff.mean()


def test_unseen_teeth_keep_the_painted_colour(smiling) -> None:
    (r0, r1, c0, c1), _, baked, flat, closed, _, maps = smiling
    chart = maps.region[r0:r1, c0:c1] == Region.TEETH  # (gutters copy their nearest chart texel, seen or not)
    unseen = chart & (baked.coverage[r0:r1, c0:c1] == 0.0)
    assert unseen.sum() > 0.8 * chart.sum()  # the molars, the teeth's backs, the lower teeth behind the lip
    np.testing.assert_array_equal(baked.image[r0:r1, c0:c1][unseen], flat.image[r0:r1, c0:c1][unseen])
    assert flat.coverage[r0:r1, c0:c1].max() == 0.0
    # a closed mouth shows no teeth: the cell is the painted one
    assert closed.coverage[r0:r1, c0:c1].max() == 0.0
