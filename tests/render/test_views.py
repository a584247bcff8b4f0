import numpy as np
import pytest

from headcast.geometry.camera import HeadPose, camera_from_fov, project, transform_points
from headcast.headmodel.base import HeadParams, head_vertices
from headcast.landmarks.types import Photo
from headcast.render.raster import RenderResult, RenderSettings
from headcast.render.views import preview_image, render_head, turntable_image, turntable_pose
from headcast.texture.atlas import atlas_uv
from headcast.texture.types import UVTexture
from testhelp import ict_with_jaw


@pytest.fixture(scope="module")
def flat_texture(ict_model) -> UVTexture:
    size = 64
    img = np.full((size, size, 3), 200, np.uint8)
    return UVTexture(img, atlas_uv(ict_model, size), np.zeros((size, size), np.float32))


def _neutral(model) -> HeadParams:
    return HeadParams(np.zeros(0), np.zeros(model.num_expressions), HeadPose(np.zeros(3), np.zeros(3)))


def test_render_head_lands_on_projected_vertices(ict_model, flat_texture, renderer) -> None:
    cam = camera_from_fov(256, 256, 30.0)
    pose = HeadPose(np.array([0.1, 0.3, 0.0]), np.array([0.0, 0.0, -0.8]))
    res = render_head(ict_model, _neutral(ict_model), flat_texture, cam, pose, RenderSettings(), renderer=renderer)
    nose = transform_points(ict_model.template[ict_model.landmarks68[30]][None], pose)[0]
    u, v = project(nose, cam)
    assert res.color[int(v), int(u), 3] == 255
    assert res.depth[int(v), int(u)] == pytest.approx(-nose[2], abs=3e-3)


def test_turntable_grid_and_background(ict_model, flat_texture, renderer) -> None:
    img = turntable_image(ict_model, _neutral(ict_model), flat_texture, yaws_deg=(0, 90, 180), size=96, columns=2,
                          renderer=renderer)  # fmt: skip
    assert img.shape == (192, 192, 3)
    assert np.all(img[0, 0] == 128)  # neutral grey background
    assert np.all(img[96:, 96:] == 128)  # the empty fourth cell
    for r0, c0 in ((0, 0), (0, 96), (96, 0)):
        view = img[r0 : r0 + 96, c0 : c0 + 96]
        assert (np.abs(view.astype(int) - 128).sum(axis=-1) > 0).mean() > 0.15  # a head is in every view


def test_turntable_pose_turns_about_the_head_centre(ict_model) -> None:
    verts = ict_model.template
    centre = 0.5 * (verts.min(axis=0) + verts.max(axis=0))
    for yaw in (0.0, 1.0, np.pi):
        pose = turntable_pose(verts, yaw, 1.5)
        assert np.allclose(transform_points(centre[None], pose), [[0.0, 0.0, -1.5]], atol=1e-9)


def test_preview_panels() -> None:
    photo = Photo(np.full((40, 30, 3), 50, np.uint8))
    color = np.zeros((40, 30, 4), np.uint8)
    color[10:20, 10:20] = [200, 100, 0, 255]
    out = preview_image(photo, RenderResult(color, np.full((40, 30), np.inf, np.float32)))
    assert out.shape == (40, 90, 3)
    assert np.all(out[:, :30] == 50)  # the photo
    assert np.all(out[0, 30:60] == 128) and np.all(out[15, 45] == [200, 100, 0])  # render on grey
    assert np.all(out[0, 60:] == 50)  # overlay: photo where nothing was rendered
    assert np.allclose(out[15, 75], 0.6 * np.array([200, 100, 0]) + 0.4 * 50, atol=1)


def test_render_and_turntable_show_a_skinned_jaw(ict_model, flat_texture, renderer) -> None:
    """A skinned head is drawn as head_vertices: with the jaw open the chin lands lower, where its posed vertex
    projects."""
    model = ict_with_jaw(ict_model)
    cam = camera_from_fov(256, 256, 30.0)
    pose = HeadPose(np.zeros(3), np.array([0.0, 0.0, -0.6]))
    rest = _neutral(model)
    opened = HeadParams(rest.identity, rest.expression, pose, np.array([[0.0, 0.0, 0.0], [0.3, 0.0, 0.0]]))
    chin = model.landmarks68[8]
    posed_chin = transform_points(head_vertices(model, opened)[chin][None], pose)[0]
    rest_chin = transform_points(model.template[chin][None].astype(float), pose)[0]
    u, v = project(posed_chin, cam)
    assert v - project(rest_chin, cam)[1] > 5  # pixels lower
    res = render_head(model, opened, flat_texture, cam, pose, RenderSettings(), renderer=renderer)
    assert res.color[int(v) - 1, int(u), 3] == 255
    assert res.depth[int(v) - 1, int(u)] == pytest.approx(-posed_chin[2], abs=5e-3)
    closed = render_head(model, rest, flat_texture, cam, pose, RenderSettings(), renderer=renderer)
    assert closed.depth[int(v) - 1, int(u)] > -posed_chin[2] + 0.02  # the closed head shows the neck there, behind
    spin = turntable_image(model, opened, flat_texture, yaws_deg=(0,), size=64, renderer=renderer)
    assert not np.array_equal(spin, turntable_image(model, rest, flat_texture, yaws_deg=(0,), size=64,
                                                    renderer=renderer))
