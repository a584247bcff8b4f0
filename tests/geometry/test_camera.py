import numpy as np

from headcast.geometry.camera import (
    Camera,
    HeadPose,
    camera_from_fov,
    opengl_projection,
    project,
    transform_points,
)


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
