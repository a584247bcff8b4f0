"""Eyeballs from the photo: which pixels can be eyeball, and a render → bake round trip of the eyes."""

from dataclasses import replace

import numpy as np
import pytest

from headcast.texture.bake import bake_texture
from headcast.texture.eyeball import EYEBALL_ROLES, EyePhotoSettings, eye_trust
from headcast.texture.maps import atlas_maps
from headcast.texture.materials import LEFT_EYE, RIGHT_EYE
from headcast.texture.settings import TextureSettings
from headcast.texture.types import UVTexture
from testhelp import photo_of_known_head

SIZE = 1024


def _eye_points(height: float) -> np.ndarray:
    """478 landmarks whose eye contours are ellipses 60 px wide and ``height`` px tall."""
    pts = np.zeros((478, 3))
    t = np.linspace(np.pi, -np.pi, 16, endpoint=False)  # first point a corner, the ninth the other corner
    for contour, cx in ((RIGHT_EYE, 100.0), (LEFT_EYE, 250.0)):
        pts[list(contour), 0] = cx + 30.0 * np.cos(t)
        pts[list(contour), 1] = 100.0 - 0.5 * height * np.sin(t)
    return pts


def test_trust_is_inside_open_eyes_only() -> None:
    trust = eye_trust((200, 350), _eye_points(24.0), EyePhotoSettings())
    assert trust[100, 100] == 255 and trust[100, 250] == 255
    assert trust[100, 175] == 0 and trust[100 + 13, 100] == 0  # between the eyes, below the lower lid
    assert trust[100, 100 + 29] == 0  # the corner is shrunk away (lid margin)
    assert eye_trust((200, 350), _eye_points(3.0), EyePhotoSettings()).max() == 0  # closed eyes
    assert eye_trust((200, 350), np.zeros((10, 2)), EyePhotoSettings()).max() == 0  # no eye landmarks


def _known_atlas(size: int, boxes) -> np.ndarray:
    rows, cols = np.mgrid[0:size, 0:size] / size
    img = np.stack([0.5 + 0.4 * np.sin(40 * np.pi * cols), 0.3 + 0.5 * rows, 0.6 + 0.3 * np.cos(30 * np.pi * rows)],
                   axis=-1)
    return np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def looking(ict_model, renderer):
    """The mean head rendered with a known atlas, baked back with and without eyes from the photo."""
    model = ict_model
    maps = atlas_maps(model, SIZE, renderer)
    known = UVTexture(_known_atlas(SIZE, None), maps.uv, np.zeros((SIZE, SIZE), np.float32))
    photo, fit = photo_of_known_head(model, known, np.zeros(model.num_expressions), (0.0, -0.03, -0.35), 800, 30.0,
                                     renderer)
    settings = TextureSettings(atlas_size=SIZE, hair_gate=False, delight=False)
    baked = bake_texture(photo, fit, model, settings, renderer=renderer)
    painted = bake_texture(photo, fit, model, replace(settings, eyes_from_photo=False), renderer=renderer)
    return known, baked, painted, maps


@pytest.mark.parametrize("role", EYEBALL_ROLES)
def test_seen_eyeball_takes_the_photo_colour_and_the_rest_stays_painted(looking, role) -> None:
    known, baked, painted, maps = looking
    r0, r1, c0, c1 = maps.cell_boxes[role][0]
    seen = baked.coverage[r0:r1, c0:c1] > 0.9
    assert seen.sum() > 500, seen.sum()  # the cornea and the whites between the lids
    cell = baked.image[r0:r1, c0:c1].astype(int)
    diff = np.abs(cell - known.image[r0:r1, c0:c1].astype(int))[seen]
    assert np.median(diff) < 8
    flat_diff = np.abs(painted.image[r0:r1, c0:c1].astype(int) - known.image[r0:r1, c0:c1].astype(int))[seen]
    assert np.median(flat_diff) > 3 * max(np.median(diff), 1)
    unseen = baked.coverage[r0:r1, c0:c1] == 0.0
    assert unseen.sum() > seen.sum()  # most of the eyeball is behind the lids
    np.testing.assert_array_equal(cell[unseen], painted.image[r0:r1, c0:c1].astype(int)[unseen])
    assert painted.coverage[r0:r1, c0:c1].max() == 0.0
