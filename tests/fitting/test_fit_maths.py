"""Known-answer and finite-difference checks of the fitting maths."""

from collections.abc import Callable

import numpy as np
import pytest

from headcast.fitting.correspondence import load_correspondence
from headcast.fitting.fit import (
    _residuals_and_jacobian,
    _Terms,
    point_basis,
    projection_jacobian,
    scalar_jacobian_rows,
    so3_left_jacobian,
    vertex_basis,
)
from headcast.fitting.settings import FitSettings
from headcast.geometry.camera import Camera, HeadPose, camera_from_fov, project, transform_points
from headcast.geometry.rotation import axis_angle_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import LinearHeadModel, blend_vertices

# Central differences in float64 with h = 1e-6: truncation ~h² and round-off ~1e-10/h give ~1e-6 relative error.
FD_STEP = 1e-6
FD_RTOL = 1e-5


def _fd(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = FD_STEP
        cols.append((f(x + e) - f(x - e)) / (2 * FD_STEP))
    return np.stack(cols, axis=-1)


def test_zero_coefficients_give_the_template(ict_model: LinearHeadModel) -> None:
    v = blend_vertices(ict_model, np.zeros(60), np.zeros(ict_model.num_expressions))
    np.testing.assert_array_equal(v, ict_model.template.astype(np.float64))
    corr = load_correspondence()
    expr_ids = np.arange(ict_model.num_expressions)
    basis = point_basis(ict_model, corr.face_ids, corr.barycentric, 60, expr_ids)
    expected = np.einsum("nkc,nk->nc", ict_model.template[ict_model.triangles[corr.face_ids]], corr.barycentric)
    np.testing.assert_allclose(basis.evaluate(np.zeros(60), np.zeros(len(expr_ids))), expected, atol=1e-12)


def test_point_and_vertex_bases_agree_with_blend_vertices(ict_model: LinearHeadModel) -> None:
    rng = np.random.default_rng(0)
    alpha, w = rng.normal(size=20), rng.uniform(size=ict_model.num_expressions)
    ids = np.array([0, 5, 1225, 4088])
    vb = vertex_basis(ict_model, ids, 20, np.arange(ict_model.num_expressions))
    np.testing.assert_allclose(vb.evaluate(alpha, w), blend_vertices(ict_model, alpha, w, vertex_ids=ids), atol=1e-9)
    # a point at a triangle corner equals that vertex
    tri = 123
    bary = np.array([[0.0, 1.0, 0.0]])
    pb = point_basis(ict_model, np.array([tri]), bary, 20, np.arange(ict_model.num_expressions))
    vid = ict_model.triangles[tri, 1]
    np.testing.assert_allclose(pb.evaluate(alpha, w)[0], blend_vertices(ict_model, alpha, w)[vid], atol=1e-9)


def test_projection_of_known_points() -> None:
    cam = camera_from_fov(200, 100, 90.0)  # f = 100 px, centre (100, 50)
    assert cam.fx == pytest.approx(100.0)
    pts = np.array([[0.0, 0.0, -1.0], [1.0, 0.5, -2.0], [-0.2, -0.1, -0.5]])
    np.testing.assert_allclose(project(pts, cam), [[100.0, 50.0], [150.0, 25.0], [60.0, 70.0]])
    # a head pose moving the model 2 m in front of the camera, turned 90° about +y: +z (the nose) points to +x
    pose = HeadPose(np.array([0.0, np.pi / 2, 0.0]), np.array([0.0, 0.0, -2.0]))
    np.testing.assert_allclose(transform_points(np.array([[0.0, 0.0, 0.1]]), pose), [[0.1, 0.0, -2.0]], atol=1e-12)


def test_rotation_round_trips() -> None:
    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(50, 3))
    vecs *= (rng.uniform(0.0, np.pi - 1e-3, 50) / np.linalg.norm(vecs, axis=1))[:, None]
    np.testing.assert_allclose(matrix_to_axis_angle(axis_angle_to_matrix(vecs)), vecs, atol=1e-9)
    r = axis_angle_to_matrix(vecs)
    np.testing.assert_allclose(r @ np.swapaxes(r, -1, -2), np.broadcast_to(np.eye(3), r.shape), atol=1e-12)


def test_so3_left_jacobian_matches_finite_differences() -> None:
    """exp(φ + ε) ≈ exp(J_l(φ) ε) exp(φ): compare J_l with d/dε log(exp(φ + ε) exp(φ)ᵀ) at ε = 0."""
    for phi in (np.array([0.3, -0.5, 0.2]), np.array([1e-8, 0.0, 0.0]), np.array([0.0, 2.5, 0.4])):
        r0 = axis_angle_to_matrix(phi)

        def log_of_perturbation(e: np.ndarray, phi: np.ndarray = phi, r0: np.ndarray = r0) -> np.ndarray:
            return matrix_to_axis_angle(axis_angle_to_matrix(phi + e) @ r0.T)

        numeric = _fd(log_of_perturbation, np.zeros(3))
        np.testing.assert_allclose(so3_left_jacobian(phi), numeric, rtol=FD_RTOL, atol=1e-8)


def test_projection_jacobian_matches_finite_differences() -> None:
    cam = Camera(1200.0, 1100.0, 640.0, 480.0, 1280, 960)
    pts = np.array([[0.05, -0.02, -0.6], [-0.1, 0.08, -0.9]])
    jac = projection_jacobian(pts, cam)
    for i, p in enumerate(pts):
        numeric = _fd(lambda q: project(q, cam), p)
        np.testing.assert_allclose(jac[i], numeric, rtol=FD_RTOL, atol=1e-6)


def test_scalar_jacobian_rows_match_finite_differences(ict_model: LinearHeadModel) -> None:
    rng = np.random.default_rng(2)
    k, expr_ids = 8, np.array([3, 30, 49])
    basis = vertex_basis(ict_model, np.array([10, 2000, 4500]), k, expr_ids)
    r0 = axis_angle_to_matrix(np.array([0.1, 0.4, -0.2]))
    c = rng.normal(size=(3, 3))
    x = np.concatenate([[0.05, -0.02, 0.03], [0.01, 0.02, -0.7], rng.normal(size=k), rng.uniform(size=3)])

    def f(x: np.ndarray) -> np.ndarray:
        rot = axis_angle_to_matrix(x[:3]) @ r0
        p = basis.evaluate(x[6 : 6 + k], x[6 + k :]) @ rot.T + x[3:6]
        return np.einsum("nc,nc->n", c, p)

    rot = axis_angle_to_matrix(x[:3]) @ r0
    rx = basis.evaluate(x[6 : 6 + k], x[6 + k :]) @ rot.T
    rows = scalar_jacobian_rows(basis, rot, rx, so3_left_jacobian(x[:3]), c)
    np.testing.assert_allclose(rows, _fd(f, x), rtol=FD_RTOL, atol=1e-8)


def test_full_residual_jacobian_matches_finite_differences(ict_model: LinearHeadModel) -> None:
    """All residual blocks (points, contour across/along, depth, priors) against central differences."""
    rng = np.random.default_rng(3)
    corr = load_correspondence()
    k, expr_ids = 6, np.array([2, 30, 49, 50])
    basis = point_basis(ict_model, corr.face_ids, corr.barycentric, k, expr_ids)
    fixed = basis.take(np.arange(0, 468, 7))
    contour = basis.take(corr.contour[:5])
    cam = camera_from_fov(800, 600, 40.0)
    normals = rng.normal(size=(5, 2))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    depth_rows = np.arange(0, len(fixed.mean), 2)
    terms = _Terms(
        fixed=fixed,
        fixed_target=rng.uniform(300, 500, (len(fixed.mean), 2)),
        fixed_weight=rng.uniform(0.5, 1.0, len(fixed.mean)),
        contour=contour,
        contour_target=rng.uniform(300, 500, (5, 2)),
        contour_normal=normals,
        contour_tangent=normals[:, ::-1] * [1.0, -1.0],
        depth_rows=depth_rows,
        depth=fixed.take(depth_rows),
        depth_target=rng.normal(size=len(depth_rows)),
        depth_scale=2000.0,
        rotation0=axis_angle_to_matrix(np.array([0.05, 0.3, 0.0])),
        camera=cam,
        scale=80.0,
        w0=rng.uniform(size=4),
        settings=FitSettings(depth_weight=0.3),
    )
    x = np.concatenate([[0.02, -0.01, 0.03], [0.0, 0.01, -0.8], rng.normal(size=k), rng.uniform(size=4)])
    res, jac = _residuals_and_jacobian(x, terms)
    assert jac is not None and jac.shape == (res.size, x.size)
    numeric = _fd(lambda y: _residuals_and_jacobian(y, terms, with_jacobian=False)[0], x)
    np.testing.assert_allclose(jac, numeric, rtol=FD_RTOL, atol=1e-7)
    res_only, none = _residuals_and_jacobian(x, terms, with_jacobian=False)
    assert none is None
    np.testing.assert_array_equal(res_only, res)
