import numpy as np

from headcast.geometry.rotation import axis_angle_to_matrix, euler_yxz_to_matrix, matrix_to_axis_angle

ATOL = 1e-9  # float64 round trips


def test_identity() -> None:
    assert np.allclose(axis_angle_to_matrix(np.zeros(3)), np.eye(3), atol=ATOL)


def test_quarter_turn_about_y_sends_z_to_x() -> None:
    r = axis_angle_to_matrix(np.array([0.0, np.pi / 2, 0.0]))
    assert np.allclose(r @ [0, 0, 1], [1, 0, 0], atol=ATOL)


def test_round_trip_batch() -> None:
    rng = np.random.default_rng(0)
    axes = rng.normal(size=(50, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    angles = rng.uniform(0, np.pi * 0.999, size=(50, 1))
    rv = axes * angles
    m = axis_angle_to_matrix(rv)
    assert m.shape == (50, 3, 3)
    assert np.allclose(m @ np.swapaxes(m, -1, -2), np.eye(3), atol=ATOL)
    assert np.allclose(np.linalg.det(m), 1.0, atol=ATOL)
    assert np.allclose(matrix_to_axis_angle(m), rv, atol=1e-6)


def test_near_pi() -> None:
    rv = np.array([0.0, 0.0, np.pi])
    back = matrix_to_axis_angle(axis_angle_to_matrix(rv))
    assert np.allclose(axis_angle_to_matrix(back), axis_angle_to_matrix(rv), atol=1e-6)


def test_euler_yaw_only_matches_axis_angle() -> None:
    assert np.allclose(euler_yxz_to_matrix(0.3, 0.0, 0.0), axis_angle_to_matrix(np.array([0, 0.3, 0])), atol=ATOL)
