"""The nose takes the photo's colours (flanks at a grazing angle, the nostrils' hidden inside), not a skin fill."""

from dataclasses import replace

import numpy as np
import pytest

from headcast.geometry.camera import pose_matrix, project, transform_points
from headcast.geometry.rotation import euler_yxz_to_matrix
from headcast.headmodel.base import head_vertices
from headcast.parsing.face import FaceClass
from headcast.texture.bake import bake_texture, frontal_factor
from headcast.texture.maps import _nose_zone, atlas_maps
from headcast.texture.settings import TextureSettings
from headcast.texture.types import UVTexture
from testhelp import photo_of_known_head

SIZE = 1024
NOSE_RGB = (120, 30, 30)  # the known head's nose, dark red: a skin fill cannot pass for it


def _known_atlas(maps) -> np.ndarray:
    rows, cols = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    img = np.stack([0.75 + 0.1 * np.sin(6 * np.pi * cols), 0.6 + 0.1 * np.cos(4 * np.pi * rows), 0.5 + 0 * rows], -1)
    atlas = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    r0, r1, c0, c1 = maps.face_box
    atlas[r0:r1, c0:c1][maps.nose_zone > 0.5] = NOSE_RGB
    return atlas


@pytest.fixture(scope="module")
def nose_shot(ict_model, renderer):
    """The mean head, its nose painted dark red, rendered unlit facing the camera; and its exact fit."""
    model = ict_model
    maps = atlas_maps(model, SIZE, renderer)
    known = UVTexture(_known_atlas(maps), maps.uv, np.zeros((SIZE, SIZE), np.float32))
    photo, fit = photo_of_known_head(model, known, np.zeros(model.num_expressions), (0.0, 0.0, -0.4), 800, 30.0,
                                     renderer)  # fmt: skip
    settings = TextureSettings(atlas_size=SIZE, hair_gate=False, delight=False, mirror=False)
    return model, maps, photo, fit, settings


def _nose_texels(baked, maps) -> tuple[np.ndarray, np.ndarray]:
    r0, r1, c0, c1 = maps.face_box
    core = maps.nose_zone > 0.95
    return baked.image[r0:r1, c0:c1][core].astype(int), baked.coverage[r0:r1, c0:c1][core]


def test_nose_zone_is_the_nose(ict_model, renderer) -> None:
    lm68 = ict_model.landmarks68
    zone = _nose_zone(ict_model, ict_model.template.astype(np.float64))
    assert np.all(zone[lm68[[30, 31, 33, 35]]] > 0.99)  # tip, the nostrils' base
    assert np.all(zone[lm68[[2, 14, 8, 19, 24, 48, 54, 36, 45]]] == 0.0)  # cheeks, chin, brows, mouth, eye corners
    maps = atlas_maps(ict_model, SIZE, renderer)
    share = float((maps.nose_zone > 0.5).sum()) / float(maps.face_mask.sum())
    assert 0.01 < share < 0.1, share


def test_the_nose_is_the_photos_not_a_skin_fill(nose_shot, renderer) -> None:
    model, maps, photo, fit, settings = nose_shot
    colours, coverage = _nose_texels(bake_texture(photo, fit, model, settings, renderer=renderer), maps)
    before, before_cov = _nose_texels(
        bake_texture(photo, fit, model, replace(settings, nose_from_photo=False), renderer=renderer), maps
    )
    # the flanks and the nostrils' inside too (measured 0.77: what stays below is the zone's feathered rim)
    assert np.mean(coverage > 0.9) > 0.7
    assert np.mean(before_cov > 0.9) < 0.3  # the view-angle rule and the erosion left most of it to the fill (0.09)
    dark = np.abs(colours - np.array(NOSE_RGB)).max(axis=1) < 30
    dark_before = np.abs(before - np.array(NOSE_RGB)).max(axis=1) < 30
    assert dark.mean() > 0.9, dark.mean()
    assert dark_before.mean() < dark.mean() - 0.15, (dark_before.mean(), dark.mean())


def test_an_occluder_on_the_nose_still_keeps_the_photo_out(nose_shot, renderer) -> None:
    model, maps, photo, fit, settings = nose_shot
    h, w = photo.pixels.shape[:2]
    classes = np.full((h, w), FaceClass.SKIN, np.uint8)
    on_nose = _nose_zone(model, model.template.astype(np.float64)) > 0.5
    nose_px = project(transform_points(head_vertices(model, fit.params)[on_nose], fit.params.pose), fit.camera)
    x0, y0 = np.floor(nose_px.min(axis=0) - 40).astype(int)
    x1, y1 = np.ceil(nose_px.max(axis=0) + 40).astype(int)
    classes[y0:y1, x0:x1] = FaceClass.CLOTH  # a hand over the nose
    _, coverage = _nose_texels(bake_texture(photo, fit, model, settings, renderer=renderer, classes=classes), maps)
    assert coverage.max() == 0.0


def test_frontal_factor_fades_with_the_turn() -> None:
    def pose(yaw_deg: float) -> np.ndarray:
        m = pose_matrix(np.zeros(3), np.array([0.0, 0.0, -0.5]))
        m[:3, :3] = euler_yxz_to_matrix(np.deg2rad(yaw_deg), 0.0, 0.0)
        return m

    assert frontal_factor(pose(0.0), (15.0, 30.0)) == 1.0
    assert frontal_factor(pose(-14.0), (15.0, 30.0)) == 1.0
    assert frontal_factor(pose(22.5), (15.0, 30.0)) == pytest.approx(0.5, abs=1e-6)
    assert frontal_factor(pose(-40.0), (15.0, 30.0)) == 0.0


def test_a_turned_photo_keeps_the_view_angle_rule(nose_shot, renderer) -> None:
    model, _, photo, fit, settings = nose_shot
    turned = replace(settings, nose_turn_deg=(0.0, 1e-3))
    assert frontal_factor(fit.params.pose.matrix, turned.nose_turn_deg) == 0.0  # the shot is not exactly head-on
    a = bake_texture(photo, fit, model, turned, renderer=renderer)
    b = bake_texture(photo, fit, model, replace(settings, nose_from_photo=False), renderer=renderer)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.coverage, b.coverage)


def test_settings_validate_the_nose_turn() -> None:
    with pytest.raises(ValueError, match="nose_turn_deg"):
        TextureSettings(nose_turn_deg=(30.0, 15.0))
