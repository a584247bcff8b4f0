"""Round trip: render the template head with a known texture, bake it back from that render."""

import numpy as np
import pytest

from headcast.fitting.types import FitResult
from headcast.geometry.camera import HeadPose, camera_from_fov, project, transform_points
from headcast.headmodel.base import HeadParams
from headcast.landmarks.types import Photo
from headcast.render.raster import RenderSettings
from headcast.render.views import render_head
from headcast.texture.atlas import cell_pixels
from headcast.texture.bake import bake_texture
from headcast.texture.maps import Region, atlas_maps
from headcast.texture.project import FACE_OVAL
from headcast.texture.settings import TextureSettings
from headcast.texture.types import UVTexture

SIZE = 1024  # atlas side for the test (face cell 512²)


def _known_atlas(size: int) -> np.ndarray:
    """Smooth, low-frequency colours (a few periods per cell) that survive render + bake resampling."""
    rows, cols = np.mgrid[0:size, 0:size] / size
    img = np.stack(
        [
            0.55 + 0.3 * np.sin(2 * np.pi * 3 * cols),
            0.45 + 0.3 * np.cos(2 * np.pi * 2 * rows),
            0.5 + 0.25 * np.sin(2 * np.pi * (2 * cols + 3 * rows)),
        ],
        axis=-1,
    )
    return np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def round_trip(ict_model, renderer):
    model = ict_model
    maps = atlas_maps(model, SIZE, renderer)
    known = UVTexture(_known_atlas(SIZE), maps.uv, np.zeros((SIZE, SIZE), np.float32))
    params = HeadParams(
        np.zeros(0), np.zeros(model.num_expressions), HeadPose(np.array([0.0, 0.15, 0.0]), np.array([0, 0, -0.6]))
    )
    camera = camera_from_fov(640, 640, 30.0)
    shot = render_head(model, params, known, camera, settings=RenderSettings(shading="unlit"), renderer=renderer)
    photo = Photo(np.ascontiguousarray(shot.color[..., :3]))
    # a generous face outline so that the trust mask does not limit this test
    points = np.zeros((478, 2))
    angles = np.linspace(0, 2 * np.pi, len(FACE_OVAL), endpoint=False)
    points[list(FACE_OVAL)] = np.c_[320 + 300 * np.sin(angles), 320 - 300 * np.cos(angles)]
    fit = FitResult(params, camera, points, np.zeros((68, 2)), 0.0)
    settings = TextureSettings(atlas_size=SIZE, hair_gate=False)
    baked = bake_texture(photo, fit, model, settings, renderer=renderer)
    return model, maps, known, baked, fit


def test_output_types(round_trip) -> None:
    model, _, _, baked, _ = round_trip
    assert baked.image.shape == (SIZE, SIZE, 3) and baked.image.dtype == np.uint8
    assert baked.coverage.shape == (SIZE, SIZE) and baked.coverage.dtype == np.float32
    assert baked.uv.shape == model.uv.shape
    assert 0.0 <= baked.coverage.min() and baked.coverage.max() <= 1.0


def test_visible_face_texels_match_the_known_texture(round_trip) -> None:
    _, maps, known, baked, _ = round_trip
    r0, r1, c0, c1 = maps.face_box
    seen = baked.coverage[r0:r1, c0:c1] > 0.95
    assert seen.sum() > 0.1 * seen.size
    diff = np.abs(baked.image[r0:r1, c0:c1].astype(int) - known.image[r0:r1, c0:c1].astype(int))[seen]
    # bilinear resampling twice (texture → 640² render → face cell) on a smooth pattern: a few levels of 255
    assert diff.mean() < 3.0
    assert np.percentile(diff, 99) < 12


def test_coverage_is_high_on_the_front_and_zero_behind(round_trip) -> None:
    model, maps, _, baked, fit = round_trip
    r0, r1, c0, c1 = maps.face_box
    # the nose tip, the cheeks and the forehead centre are seen head-on
    front = baked.coverage[r0:r1, c0:c1][maps.skin_sample]
    assert np.median(front) > 0.85 and np.percentile(front, 75) > 0.99
    b0, b1, d0, d1 = cell_pixels(model.atlas_cell("head"), SIZE)
    assert baked.coverage[b0:b1, d0:d1].max() == 0.0
    outside_face = np.ones((SIZE, SIZE), bool)
    outside_face[r0:r1, c0:c1] = False
    assert baked.coverage[outside_face].max() == 0.0
    nose = transform_points(model.template[model.landmarks68[30]][None], fit.params.pose)
    assert 0 < project(nose, fit.camera)[0, 0] < 640


def test_every_chart_texel_is_filled(round_trip) -> None:
    _, maps, _, baked, _ = round_trip
    chart = (maps.region != Region.EMPTY) & (maps.region != Region.HIDDEN)
    assert baked.image[chart].max(axis=-1).min() > 3  # nothing left black (the pupil is the darkest, ~5)
    # completed (unseen) skin is close to the measured skin tone: no holes, no streaks
    unseen = chart & (baked.coverage == 0) & (maps.region == Region.HEAD)
    spread = baked.image[unseen].astype(float).std(axis=0)
    assert np.all(spread < 12)
    # gutters repeat the nearest chart texel
    flat = baked.image.reshape(-1, 3)
    assert np.array_equal(flat[maps.gutter_dst], flat[maps.gutter_src])


def test_mirror_completes_the_far_side(ict_model, renderer) -> None:
    model = ict_model
    maps = atlas_maps(model, SIZE, renderer)
    r0, r1, c0, c1 = maps.face_box
    # a texture that is mirror-symmetric in the face cell (the chart is laid out symmetrically)
    img = _known_atlas(SIZE)
    face = img[r0:r1, c0:c1]
    img[r0:r1, c0:c1] = np.where(np.arange(face.shape[1])[None, :, None] < face.shape[1] // 2, face, face[:, ::-1])
    known = UVTexture(img, maps.uv, np.zeros((SIZE, SIZE), np.float32))
    pose = HeadPose(np.array([0.0, 0.7, 0.0]), np.array([0.0, 0.0, -0.6]))  # 40°: one cheek turns away
    params = HeadParams(np.zeros(0), np.zeros(model.num_expressions), pose)
    camera = camera_from_fov(640, 640, 30.0)
    shot = render_head(model, params, known, camera, settings=RenderSettings(shading="unlit"), renderer=renderer)
    points = np.zeros((478, 2))
    angles = np.linspace(0, 2 * np.pi, len(FACE_OVAL), endpoint=False)
    points[list(FACE_OVAL)] = np.c_[320 + 300 * np.sin(angles), 320 - 300 * np.cos(angles)]
    fit = FitResult(params, camera, points, np.zeros((68, 2)), 0.0)
    baked = bake_texture(Photo(np.ascontiguousarray(shot.color[..., :3])), fit, model,
                         TextureSettings(atlas_size=SIZE, hair_gate=False), renderer=renderer)  # fmt: skip
    cov = baked.coverage[r0:r1, c0:c1]
    mirrored_cov = cov[:, ::-1]
    far = (cov < 0.1) & (mirrored_cov > 0.95) & (maps.photo_zone > 0.99) & (maps.seam_fade > 0.99)
    assert far.sum() > 2000  # a real patch of the far side is unseen but its mirror image is seen
    diff = np.abs(baked.image[r0:r1, c0:c1].astype(int) - known.image[r0:r1, c0:c1].astype(int))[far]
    assert diff.mean() < 4.0
