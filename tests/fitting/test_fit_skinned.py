"""The landmark fit of skinned models (jaw as a joint) and of models with unbounded expression coefficients."""

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from headcast.fitting.correspondence import Correspondence, landmark_points, load_correspondence
from headcast.fitting.fit import (
    _residuals_and_jacobian,
    _Terms,
    fit_head,
    point_basis,
    skinned_joints,
    so3_left_jacobian,
    vertex_basis,
)
from headcast.fitting.settings import FitSettings
from headcast.fitting.skinned import skin_points, skin_points_with_jacobian
from headcast.geometry.camera import HeadPose, camera_from_fov, project, transform_points
from headcast.geometry.rotation import axis_angle_to_matrix, euler_yxz_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import HeadParams, LinearHeadModel, blend_vertices, head_vertices, skin_rest_vertices
from headcast.landmarks.types import Landmarks
from testhelp import ict_with_jaw, synthetic_landmarks

# Central differences in float64 with h = 1e-6: truncation ~h² and round-off ~1e-10/h give ~1e-6 relative error
# (the same budget as test_fit_maths.py).
FD_STEP = 1e-6
FD_RTOL = 1e-5

TRUE_JAW = 0.15  # rad about +x: the mouth opens
TRUE_EXPRESSION = {"mouthSmileLeft": 0.5, "eyeBlinkRight": 0.4, "browInnerUp": 0.3}
# Noise-free data: weak priors so that their bias stays small.
EXACT = FitSettings(
    identity_prior=1e-5, expression_prior=1e-5, coefficient_prior=1e-5, joint_prior=1e-5, expression_init="zero",
    contour_mode="fixed", landmark_noise=None,
)  # fmt: skip
JAW_TOL_RAD = 0.003  # 0.17°: recovered jaw angle on noise-free landmarks (measured ≤ 2e-4 rad)
NME_TOL = 0.001  # 0.1 % of the eye distance (~0.15 px here; measured 7e-5)


def _fd(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = FD_STEP
        cols.append((f(x + e) - f(x - e)) / (2 * FD_STEP))
    return np.stack(cols, axis=-1)


@pytest.fixture(scope="module")
def corr() -> Correspondence:
    return load_correspondence()


@pytest.fixture(scope="module")
def jaw_model(ict_model: LinearHeadModel) -> LinearHeadModel:
    return ict_with_jaw(ict_model)


def _expression(model: LinearHeadModel, values: dict[str, float]) -> np.ndarray:
    w = np.zeros(model.num_expressions)
    for name, value in values.items():
        for i in model.expression_ids(name):
            w[i] = value
    return w


def _landmarks(model: LinearHeadModel, corr: Correspondence, params: HeadParams) -> tuple[Landmarks, np.ndarray]:
    """Detector-like landmarks of a known head (pixels, MediaPipe-style relative depth) and their exact pixels."""
    return synthetic_landmarks(model, corr, params, 1000)


def _head(model: LinearHeadModel, jaw: float, expression: dict[str, float]) -> HeadParams:
    rng = np.random.default_rng(7)
    pose = HeadPose(matrix_to_axis_angle(euler_yxz_to_matrix(0.2, -0.08, 0.04)), np.array([0.01, -0.02, -0.6]))
    rotations = np.zeros((2, 3))
    rotations[1, 0] = jaw
    return HeadParams(rng.normal(0.0, 0.3, 60), _expression(model, expression), pose, rotations)


def test_skin_points_match_the_lbs_reference(jaw_model: LinearHeadModel) -> None:
    """Skinning a vertex subset with precomputed joints equals posing the whole mesh (headmodel.lbs)."""
    skel = jaw_model.skeleton
    assert skel is not None
    rest = blend_vertices(jaw_model, np.full(10, 0.5), _expression(jaw_model, {"jawOpen": 0.3}))
    rotations = np.array([[0.0, 0.0, 0.0], [0.2, -0.05, 0.03]])
    ids = np.array([0, 1200, 3000, *jaw_model.landmarks68])
    joints = skel.j_regressor @ rest
    posed = skin_points(rest[ids], skel.lbs_weights[ids], skel.posedirs[ids], joints, skel.parents, rotations)
    reference = skin_rest_vertices(jaw_model, rest, rotations)[ids]
    np.testing.assert_allclose(posed, reference, atol=1e-7)  # float32 posedirs products in the reference
    assert np.max(np.linalg.norm(reference - rest[ids], axis=1)) > 0.005  # the jaw moved the chin


def test_skinned_point_jacobian_matches_finite_differences() -> None:
    """A 3-joint chain (root → a → b, both fitted) with large pose correctives: every column against differences."""
    rng = np.random.default_rng(11)
    n, m = 6, 4
    parents = np.array([-1, 0, 1])
    weights = rng.dirichlet(np.ones(3), size=n)
    posedirs = rng.normal(scale=0.05, size=(n, 3, 18))
    rest0, rest_jac = rng.normal(size=(n, 3)), rng.normal(size=(n, 3, m))
    joints0, joints_jac = rng.normal(size=(3, 3)), rng.normal(size=(3, 3, m))
    base = np.array([[0.1, -0.2, 0.05], [0.3, 0.1, -0.2], [-0.4, 0.25, 0.1]])
    fitted = np.array([1, 2])

    def rotations(theta: np.ndarray) -> np.ndarray:
        out = base.copy()
        out[fitted] = theta.reshape(-1, 3)
        return out

    def f(y: np.ndarray) -> np.ndarray:
        c, theta = y[:m], y[m:]
        return skin_points(rest0 + rest_jac @ c, weights, posedirs, joints0 + joints_jac @ c, parents, rotations(theta))

    y = np.concatenate([rng.normal(size=m), base[fitted].reshape(-1)])
    c, theta = y[:m], y[m:]
    left = np.array([so3_left_jacobian(r) for r in theta.reshape(-1, 3)])
    out = skin_points_with_jacobian(
        rest0 + rest_jac @ c, rest_jac, weights, posedirs, joints0 + joints_jac @ c, joints_jac, parents,
        rotations(theta), fitted, left,
    )  # fmt: skip
    numeric = _fd(f, y)
    np.testing.assert_array_equal(out.points, f(y))
    np.testing.assert_allclose(out.coefficients, numeric[:, :, :m], rtol=FD_RTOL, atol=1e-8)
    np.testing.assert_allclose(out.rotations, numeric[:, :, m:], rtol=FD_RTOL, atol=1e-8)
    # the corrective term is part of what was checked: without it the rotation columns are off
    bare = skin_points_with_jacobian(
        rest0 + rest_jac @ c, rest_jac, weights, 0.0 * posedirs, joints0 + joints_jac @ c, joints_jac, parents,
        rotations(theta), fitted, left,
    )  # fmt: skip
    assert np.max(np.abs(bare.rotations - numeric[:, :, m:])) > 1e-3


def test_skinned_residual_jacobian_matches_finite_differences(jaw_model: LinearHeadModel, corr: Correspondence) -> None:
    """All residual blocks of the skinned fit (points, contour, depth, priors) w.r.t. pose, identity, expression and
    the jaw rotation, against central differences."""
    rng = np.random.default_rng(3)
    k, expr_ids = 6, np.array([2, 24, 30, 49])  # includes jawOpen-like shapes that move the jaw's joint region
    basis = point_basis(jaw_model, corr.face_ids, corr.barycentric, k, expr_ids)
    fixed = basis.take(np.arange(0, 468, 5))
    contour = vertex_basis(jaw_model, np.asarray(jaw_model.landmarks68[:8]), k, expr_ids)
    cam = camera_from_fov(800, 600, 40.0)
    normals = rng.normal(size=(8, 2))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    depth_rows = np.arange(0, len(fixed.mean), 2)
    w_all = rng.uniform(size=jaw_model.num_expressions)
    skin = skinned_joints(jaw_model, k, expr_ids, w_all)
    terms = _Terms(
        fixed=fixed,
        fixed_target=rng.uniform(300, 500, (len(fixed.mean), 2)),
        fixed_weight=rng.uniform(0.5, 1.0, len(fixed.mean)),
        contour=contour,
        contour_target=rng.uniform(300, 500, (8, 2)),
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
        settings=FitSettings(depth_weight=0.3, joint_prior=0.05),
        skin=skin,
    )
    theta = np.array([0.2, -0.06, 0.04])
    x = np.concatenate([[0.02, -0.01, 0.03], [0.0, 0.01, -0.8], rng.normal(size=k), rng.uniform(size=4), theta])
    res, jac = _residuals_and_jacobian(x, terms)
    assert jac is not None and jac.shape == (res.size, x.size)
    numeric = _fd(lambda y: _residuals_and_jacobian(y, terms, with_jacobian=False)[0], x)
    for name, cols in (("pose", slice(0, 6)), ("identity", slice(6, 6 + k)), ("expression", slice(6 + k, 10 + k)),
                       ("jaw", slice(10 + k, 13 + k))):  # fmt: skip
        np.testing.assert_allclose(jac[:, cols], numeric[:, cols], rtol=FD_RTOL, atol=1e-7, err_msg=name)
    assert np.abs(jac[:, 10 + k :]).max() > 1.0  # the jaw columns are not trivially zero
    res_only, none = _residuals_and_jacobian(x, terms, with_jacobian=False)
    assert none is None
    np.testing.assert_array_equal(res_only, res)


def test_jaw_rotation_is_recovered(jaw_model: LinearHeadModel, corr: Correspondence) -> None:
    truth = _head(jaw_model, TRUE_JAW, TRUE_EXPRESSION)
    lm, uv = _landmarks(jaw_model, corr, truth)
    fit = fit_head(lm, jaw_model, camera_from_fov(1000, 1000, 40.0), EXACT, corr)
    jaw = fit.params.joint_rotations
    assert jaw.shape == (2, 3)
    np.testing.assert_array_equal(jaw[0], 0.0)  # the root is the head pose, not fitted
    np.testing.assert_allclose(jaw[1], truth.joint_rotations[1], atol=JAW_TOL_RAD)
    assert fit.nme < NME_TOL
    assert np.linalg.norm(fit.landmarks_2d - uv, axis=1).max() < 0.5
    # the reported landmarks are the skinned ones: they match the fitted head posed by head_vertices. A landmark
    # is skinned with its triangle's interpolated weights, the mesh's corners each with their own; the two differ
    # at second order where the weights change across a triangle (measured 0.06 px at the jaw seam).
    posed = landmark_points(head_vertices(jaw_model, fit.params), jaw_model.triangles, corr)
    expected = project(transform_points(posed, fit.params.pose), fit.camera)
    np.testing.assert_allclose(fit.landmarks_2d, expected, atol=0.15)
    v68 = transform_points(head_vertices(jaw_model, fit.params)[jaw_model.landmarks68], fit.params.pose)
    np.testing.assert_allclose(fit.landmarks68_2d, project(v68, fit.camera), atol=1e-3)  # vertices: same maths
    for name, value in TRUE_EXPRESSION.items():
        for i in jaw_model.expression_ids(name):
            assert fit.params.expression[i] == pytest.approx(value, abs=0.1), name


def test_closed_jaw_stays_closed(jaw_model: LinearHeadModel, ict_model: LinearHeadModel, corr: Correspondence) -> None:
    truth = _head(jaw_model, 0.0, TRUE_EXPRESSION)
    lm, _ = _landmarks(jaw_model, corr, truth)
    camera = camera_from_fov(1000, 1000, 40.0)
    fit = fit_head(lm, jaw_model, camera, EXACT, corr)
    assert np.abs(fit.params.joint_rotations).max() < JAW_TOL_RAD
    assert fit.nme < NME_TOL
    # the same landmarks (a head at rest is the linear blend) through the plain model: no joints
    plain = fit_head(lm, ict_model, camera, EXACT, corr)
    assert plain.params.joint_rotations.shape == (0, 3)
    assert plain.nme < NME_TOL
    np.testing.assert_allclose(fit.landmarks_2d, plain.landmarks_2d, atol=0.5)


def test_coefficients_are_unbounded(jaw_model: LinearHeadModel, corr: Correspondence) -> None:
    """A ``"coefficients"`` model reaches negative expression values; the same data with weights stops at 0."""
    coeff_model = replace(jaw_model, expression_kind="coefficients")
    truth = _head(coeff_model, 0.1, {"mouthSmileLeft": -0.4, "eyeBlinkRight": 0.4})
    lm, _ = _landmarks(coeff_model, corr, truth)
    camera = camera_from_fov(1000, 1000, 40.0)
    fit = fit_head(lm, coeff_model, camera, EXACT, corr)
    smile = coeff_model.expression_index("mouthSmileLeft")
    assert fit.params.expression[smile] == pytest.approx(-0.4, abs=0.1)
    assert fit.params.expression.min() < -0.2
    assert fit.nme < NME_TOL
    bounded = fit_head(lm, jaw_model, camera, EXACT, corr)
    assert bounded.params.expression.min() >= 0.0
    assert bounded.nme > 2 * fit.nme
    # coefficients start at 0 whatever the detector's blendshape scores say, and every shape is fitted
    scored = replace(lm, blendshapes=np.array([0.0, 0.9]))
    again = fit_head(scored, coeff_model, camera, replace(EXACT, expression_init="mediapipe"), corr)
    np.testing.assert_array_equal(again.params.expression, fit.params.expression)
    gaze = [i for i, n in enumerate(coeff_model.expression_arkit_names) if n.startswith("eyeLook")]
    assert np.abs(fit.params.expression[gaze]).max() > 0.0


def test_root_joint_cannot_be_fitted(jaw_model: LinearHeadModel, corr: Correspondence) -> None:
    skel = jaw_model.skeleton
    assert skel is not None
    rooted = replace(jaw_model, skeleton=replace(skel, fitted_joints=("global", "jaw")))
    lm, _ = _landmarks(jaw_model, corr, _head(jaw_model, 0.0, {}))
    with pytest.raises(ValueError, match="root joint"):
        fit_head(lm, rooted, camera_from_fov(1000, 1000, 40.0), EXACT, corr)
