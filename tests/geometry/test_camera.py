import numpy as np
import pytest

from headcast.geometry.camera import (
    Camera,
    HeadPose,
    camera_from_fov,
    opengl_projection,
    project,
    transform_points,
    turn_from_camera_deg,
)
from headcast.geometry.rotation import euler_yxz_to_matrix


def test_project_known_points() -> None:
    cam = Camera(100.0, 100.0, 50.0, 40.0, 100, 80)
    pts = np.array([[0.0, 0.0, -2.0], [0.2, 0.0, -1.0], [0.0, 0.1, -1.0]])
    # principal point; +x goes right; +y goes up, i.e. to smaller v
    assert np.allclose(project(pts, cam), [[50, 40], [70, 40], [50, 30]])


def test_camera_from_fov() -> None:
    cam = camera_from_fov(200, 100, 90.0)
    assert np.isclose(cam.fx, 100.0)  # half-width 100 px at tan(45°) = 1
    assert (cam.cx, cam.cy) == (100.0, 50.0)


def test_pose_then_project() -> None:
    pose = HeadPose(np.array([0.0, np.pi / 2, 0.0]), np.array([0.0, 0.0, -1.0]))
    # model +z (nose direction) turns to camera +x
    p = transform_points(np.array([[0.0, 0.0, 0.1]]), pose)
    assert np.allclose(p, [[0.1, 0.0, -1.0]])


def test_opengl_matrix_matches_project() -> None:
    cam = Camera(300.0, 310.0, 120.0, 90.0, 256, 192)
    rng = np.random.default_rng(1)
    pts = np.c_[rng.uniform(-0.1, 0.1, (20, 2)), rng.uniform(-2, -0.5, 20)]
    clip = np.c_[pts, np.ones(20)] @ opengl_projection(cam, 0.1, 10.0).T
    ndc = clip[:, :3] / clip[:, 3:]
    u = (ndc[:, 0] + 1) / 2 * cam.width
    v = (1 - ndc[:, 1]) / 2 * cam.height
    assert np.allclose(np.c_[u, v], project(pts, cam), atol=1e-9)
    assert np.all(np.abs(ndc[:, 2]) <= 1)


def test_scaled_camera_scales_pixels() -> None:
    cam = Camera(100.0, 100.0, 50.0, 40.0, 100, 80)
    p = np.array([0.05, -0.02, -1.0])
    assert np.allclose(project(p, cam.scaled(0.5)), project(p, cam) * 0.5)


def test_turn_from_camera_is_the_angle_between_forward_and_the_way_to_the_camera() -> None:
    def pose(yaw_deg: float, pitch_deg: float, offset_x: float) -> np.ndarray:
        m = np.eye(4)
        m[:3, :3] = euler_yxz_to_matrix(np.deg2rad(yaw_deg), np.deg2rad(pitch_deg), 0.0)
        m[:3, 3] = (offset_x, 0.0, -0.5)
        return m

    assert turn_from_camera_deg(pose(0.0, 0.0, 0.0)) == pytest.approx(0.0, abs=1e-6)
    assert turn_from_camera_deg(pose(30.0, 0.0, 0.0)) == pytest.approx(30.0)
    assert turn_from_camera_deg(pose(0.0, -20.0, 0.0)) == pytest.approx(20.0)
    # a head beside the optical axis that faces straight ahead is turned from the camera by its offset's angle
    assert turn_from_camera_deg(pose(0.0, 0.0, 0.5)) == pytest.approx(45.0)
