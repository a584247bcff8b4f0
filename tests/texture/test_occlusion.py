"""Occlusion-aware projection: pixels the face parser calls glasses, hair, hands, ... give the texture nothing."""

import numpy as np
import pytest

from headcast.fitting.types import FitResult
from headcast.geometry.camera import HeadPose, camera_from_fov
from headcast.headmodel.base import HeadParams
from headcast.landmarks.types import Photo
from headcast.parsing.face import FaceClass
from headcast.render.raster import RenderSettings
from headcast.render.views import render_head
from headcast.texture.bake import bake_texture
from headcast.texture.maps import atlas_maps
from headcast.texture.occlusion import PHOTO_CLASSES, occlusion_trust
from headcast.texture.project import FACE_OVAL
from headcast.texture.settings import TextureSettings
from headcast.texture.types import UVTexture

SIZE = 1024
GLASSES = (slice(270, 310), slice(240, 400))  # rows, cols of the photo labelled eyeglasses (and painted green)


def _classes_with(label: FaceClass, shape: tuple[int, int] = (200, 300)) -> np.ndarray:
    classes = np.full(shape, FaceClass.SKIN, np.uint8)
    classes[80:120, 100:200] = label
    return classes


@pytest.mark.parametrize(
    "label", [FaceClass.EYE_GLASSES, FaceClass.HAIR, FaceClass.HAT, FaceClass.BACKGROUND, FaceClass.CLOTH,
              FaceClass.EARRING, FaceClass.NECKLACE],
)  # fmt: skip
def test_occluders_get_zero_trust_with_a_dilated_soft_edge(label: FaceClass) -> None:
    face_width = 200.0
    keep = occlusion_trust(_classes_with(label), face_width, dilation=0.02, feather=0.04)
    assert keep.dtype == np.uint8 and keep.shape == (200, 300)
    assert keep[80:120, 100:200].max() == 0
    assert keep[78, 150] == 0 and keep[121, 150] == 0  # the 4 px dilation (0.02 × 200)
    assert keep[:20].min() == 255 and keep[:, :40].min() == 255  # far from it: untouched
    ramp = keep[120:160, 150]
    assert np.all(np.diff(ramp.astype(int)) >= 0) and 0 < ramp[8] < 255  # a soft edge outside the grown occluder


@pytest.mark.parametrize("label", PHOTO_CLASSES)
def test_the_face_itself_is_kept(label: FaceClass) -> None:
    keep = occlusion_trust(_classes_with(label), 200.0, dilation=0.02, feather=0.04)
    assert keep.min() == 255


def test_large_photos_are_masked_at_working_resolution_with_the_same_result() -> None:
    small = _classes_with(FaceClass.EYE_GLASSES)
    big = np.repeat(np.repeat(small, 4, axis=0), 4, axis=1)  # 800 × 1200, processed at 512 on the long side
    keep_big = occlusion_trust(big, 800.0, dilation=0.02, feather=0.04)
    assert keep_big[4 * 80 : 4 * 120, 4 * 100 : 4 * 200].max() == 0
    assert keep_big[:60].min() == 255


@pytest.fixture(scope="module")
def glasses_photo(ict_model, renderer):
    """A render of the template head (known smooth texture), with a green "glasses" bar across the eyes."""
    model = ict_model
    maps = atlas_maps(model, SIZE, renderer)
    rows, cols = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    atlas = np.stack([0.6 + 0.2 * np.sin(6 * np.pi * cols), 0.5 + 0.2 * np.cos(4 * np.pi * rows), 0.45 + 0 * rows], -1)
    known = UVTexture(np.rint(atlas * 255).astype(np.uint8), maps.uv, np.zeros((SIZE, SIZE), np.float32))
    params = HeadParams(np.zeros(0), np.zeros(model.num_expressions),
                        HeadPose(np.array([0.0, 0.1, 0.0]), np.array([0.0, 0.0, -0.6])))  # fmt: skip
    camera = camera_from_fov(640, 640, 30.0)
    shot = render_head(model, params, known, camera, settings=RenderSettings(shading="unlit"), renderer=renderer)
    pixels = np.ascontiguousarray(shot.color[..., :3])
    pixels[GLASSES] = (0, 255, 0)
    classes = np.where(shot.color[..., 3] > 0, FaceClass.SKIN, FaceClass.BACKGROUND).astype(np.uint8)
    points = np.zeros((478, 2))
    angles = np.linspace(0, 2 * np.pi, len(FACE_OVAL), endpoint=False)
    points[list(FACE_OVAL)] = np.c_[320 + 300 * np.sin(angles), 320 - 300 * np.cos(angles)]
    fit = FitResult(params, camera, points, np.zeros((68, 2)), 0.0)
    return model, maps, Photo(pixels), classes, fit


def _bake(glasses_photo, renderer, classes):
    model, _, photo, _, fit = glasses_photo
    return bake_texture(photo, fit, model, TextureSettings(atlas_size=SIZE, hair_gate=False), renderer=renderer,
                        classes=classes)  # fmt: skip


def test_glasses_pixels_get_zero_weight_in_the_bake(glasses_photo, renderer) -> None:
    _, maps, _, skin_classes, _ = glasses_photo
    r0, r1, c0, c1 = maps.face_box
    plain = _bake(glasses_photo, renderer, None)
    img = plain.image[r0:r1, c0:c1].astype(int)
    green = (img[..., 1] > 200) & (img[..., 0] < 60) & (img[..., 2] < 60) & (plain.coverage[r0:r1, c0:c1] > 0.5)
    assert green.sum() > 500  # without classes the bar is baked onto the face
    classes = skin_classes.copy()
    classes[GLASSES] = FaceClass.EYE_GLASSES
    masked = _bake(glasses_photo, renderer, classes)
    cov = masked.coverage[r0:r1, c0:c1]
    assert cov[green].max() == 0.0  # every texel that showed the bar has no photo weight now
    assert np.all(cov <= plain.coverage[r0:r1, c0:c1] + 1e-6)  # masking only ever lowers weights
    assert (cov > 0.95).sum() > 0.5 * (plain.coverage[r0:r1, c0:c1] > 0.95).sum()  # the rest of the face stays
    # and the bar's colour is gone from the completed face (filled like unseen skin)
    out = masked.image[r0:r1, c0:c1].astype(int)
    assert np.abs(out[green] - np.array([0, 255, 0])).sum(axis=-1).min() > 150


def test_classes_showing_only_the_face_change_nothing(glasses_photo, renderer) -> None:
    _, _, photo, _, _ = glasses_photo
    plain = _bake(glasses_photo, renderer, None)
    same = _bake(glasses_photo, renderer, np.full(photo.pixels.shape[:2], FaceClass.SKIN, np.uint8))
    assert np.array_equal(plain.image, same.image) and np.array_equal(plain.coverage, same.coverage)


def test_classes_of_another_size_are_refused(glasses_photo, renderer) -> None:
    with pytest.raises(ValueError, match="classes"):
        _bake(glasses_photo, renderer, np.zeros((10, 10), np.uint8))
