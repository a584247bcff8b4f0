"""fit_head on synthetic landmarks with known parameters, and on a real photo."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from headcast.fitting.blendshapes import expression_from_mediapipe, mediapipe_to_model_ids
from headcast.fitting.correspondence import Correspondence, landmark_points, load_correspondence
from headcast.fitting.fit import contour_directions, fit_head, silhouette_vertices
from headcast.fitting.metrics import nme
from headcast.fitting.settings import FitSettings
from headcast.geometry.camera import Camera, HeadPose, camera_from_fov, project, transform_points
from headcast.geometry.rotation import axis_angle_to_matrix, euler_yxz_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import LinearHeadModel, blend_vertices
from headcast.landmarks.types import Landmarks

TRUE_EXPRESSION = {"jawOpen": 0.4, "mouthSmileLeft": 0.6, "mouthSmileRight": 0.3, "eyeBlinkRight": 0.5}
# Noise-free data: weak priors so their bias stays far below the 0.5 px tolerance.
EXACT = FitSettings(identity_prior=1e-5, expression_prior=1e-5, expression_init="zero", landmark_noise=None)


@pytest.fixture(scope="module")
def corr() -> Correspondence:
    return load_correspondence()


class Scene:
    """A head with known identity, expression and pose seen by a 1000 × 1000 camera."""

    def __init__(self, model: LinearHeadModel, corr: Correspondence) -> None:
        rng = np.random.default_rng(0)
        self.model, self.corr = model, corr
        self.identity = rng.normal(0.0, 0.8, 60)
        self.expression = np.zeros(model.num_expressions)
        for name, value in TRUE_EXPRESSION.items():
            self.expression[model.expression_index(name)] = value
        rot = euler_yxz_to_matrix(0.25, -0.1, 0.05)  # yaw 14°, pitch −6°, roll 3°
        self.pose = HeadPose(matrix_to_axis_angle(rot), np.array([0.01, -0.02, -0.6]))
        self.camera = camera_from_fov(1000, 1000, 40.0)
        self.vertices = blend_vertices(model, self.identity, self.expression)
        cam_pts = transform_points(landmark_points(self.vertices, model.triangles, corr), self.pose)
        self.uv = project(cam_pts, self.camera)
        depth = -cam_pts[:, 2]
        self.z = self.camera.fx * (depth - depth[:468].mean()) / depth[:468].mean()

    def landmarks(self, uv: np.ndarray) -> Landmarks:
        points = np.column_stack([uv, self.z])
        return Landmarks(
            points=points,
            blendshapes=np.zeros(2),
            blendshape_names=("_neutral", "jawOpen"),
            transform=np.eye(4),
            image_size=(1000, 1000),
            num_faces=1,
            box=np.r_[uv.min(axis=0), uv.max(axis=0)],
        )

    def silhouette_uv(self) -> np.ndarray:
        """Landmarks whose jaw contour lies on the true silhouette (what a detector sees), self-consistently."""
        uv = self.uv.copy()
        for _ in range(3):
            normals, _ = contour_directions(uv, self.corr.face_oval, self.corr.contour)
            ids = silhouette_vertices(
                self.model,
                self.corr.contour_candidates,
                normals,
                self.identity,
                self.expression,
                self.pose,
                self.camera,
            )
            uv[self.corr.contour] = project(transform_points(self.vertices[ids], self.pose), self.camera)
        return uv


@pytest.fixture(scope="module")
def scene(ict_model: LinearHeadModel, corr: Correspondence) -> Scene:
    return Scene(ict_model, corr)


def _rotation_error_deg(a: np.ndarray, b: np.ndarray) -> float:
    rel = axis_angle_to_matrix(a) @ axis_angle_to_matrix(b).T
    return float(np.degrees(np.linalg.norm(matrix_to_axis_angle(rel))))


def test_synthetic_fit_recovers_pose_and_expression(
    scene: Scene, ict_model: LinearHeadModel, corr: Correspondence
) -> None:
    settings = replace(EXACT, contour_mode="fixed")
    fit = fit_head(scene.landmarks(scene.uv), ict_model, scene.camera, settings, corr)
    err = np.linalg.norm(fit.landmarks_2d - scene.uv, axis=1)
    assert err.max() < 0.5, f"max reprojection {err.max():.3f} px"
    assert _rotation_error_deg(fit.params.pose.rotation, scene.pose.rotation) < 0.5
    # depth trades against head size a little; 1 cm at 60 cm
    np.testing.assert_allclose(fit.params.pose.translation, scene.pose.translation, atol=0.01)
    for name, value in TRUE_EXPRESSION.items():
        assert fit.params.expression[ict_model.expression_index(name)] == pytest.approx(value, abs=0.1), name
    assert fit.params.expression[ict_model.expression_index("eyeBlinkLeft")] < 0.1
    assert np.corrcoef(fit.params.identity[:10], scene.identity[:10])[0, 1] > 0.8
    assert fit.nme < 0.005
    v68 = transform_points(scene.vertices[ict_model.landmarks68], scene.pose)
    np.testing.assert_allclose(fit.landmarks68_2d, project(v68, scene.camera), atol=1.5)
    assert fit.camera == scene.camera
    assert fit.params.identity.shape == (60,) and fit.params.expression.shape == (ict_model.num_expressions,)


def test_sliding_contour_reaches_the_silhouette(scene: Scene, ict_model: LinearHeadModel, corr: Correspondence) -> None:
    """Jaw landmarks on the true silhouette (≈40 px off their skin points at 14° yaw) are matched by sliding."""
    uv = scene.silhouette_uv()
    assert np.max(np.linalg.norm(uv - scene.uv, axis=1)) > 20  # the test case is not trivial
    fit = fit_head(scene.landmarks(uv), ict_model, scene.camera, EXACT, corr)
    err = np.linalg.norm(fit.landmarks_2d - uv, axis=1)
    assert err.max() < 0.5, f"max reprojection {err.max():.3f} px (contour {err[corr.contour].max():.3f})"
    fixed = replace(EXACT, contour_mode="fixed")
    stuck = fit_head(scene.landmarks(uv), ict_model, scene.camera, fixed, corr)
    assert np.linalg.norm(stuck.landmarks_2d - uv, axis=1)[corr.contour].max() > 2.0


def test_fit_is_deterministic(scene: Scene, ict_model: LinearHeadModel, corr: Correspondence) -> None:
    lm = scene.landmarks(scene.silhouette_uv() + np.random.default_rng(4).normal(scale=1.0, size=scene.uv.shape))
    a = fit_head(lm, ict_model, scene.camera, FitSettings(), corr)
    b = fit_head(lm, ict_model, scene.camera, FitSettings(), corr)
    np.testing.assert_array_equal(a.params.identity, b.params.identity)
    np.testing.assert_array_equal(a.landmarks_2d, b.landmarks_2d)
    assert a.nme < 0.02  # 1 px noise on a ~200 px eye distance


def test_real_photo_fit(ict_model: LinearHeadModel, corr: Correspondence, portraits_dir: Path) -> None:
    from headcast.landmarks.detector import FaceDetector, detect_landmarks
    from headcast.landmarks.image_io import load_photo
    from headcast.landmarks.settings import DetectorSettings, PhotoSettings

    photo = load_photo(portraits_dir / "london_107_neutral.jpg", PhotoSettings())
    with FaceDetector(DetectorSettings()) as det:
        lm = detect_landmarks(photo, det, DetectorSettings())
    settings = FitSettings()
    camera = camera_from_fov(photo.width, photo.height, settings.fov_deg)
    fit = fit_head(lm, ict_model, camera, settings, corr)  # its speed: scripts/benchmark.py, not a timed assert
    assert fit.nme < 0.03
    assert fit.nme == pytest.approx(nme(fit.landmarks_2d, lm.points[:, :2], 263, 33))
    # iBUG outer eye corners (36, 45) land near MediaPipe's (33, 263)
    iod = np.linalg.norm(lm.points[33, :2] - lm.points[263, :2])
    assert np.linalg.norm(fit.landmarks68_2d[36] - lm.points[33, :2]) < 0.08 * iod
    assert np.linalg.norm(fit.landmarks68_2d[45] - lm.points[263, :2]) < 0.08 * iod
    # frontal studio portrait: small head rotation, head 0.3–2 m in front of the camera
    assert np.degrees(np.linalg.norm(fit.params.pose.rotation)) < 20
    assert -2.0 < fit.params.pose.translation[2] < -0.3
    assert np.all(np.abs(fit.params.identity) < 5)


def test_blendshape_name_mapping(ict_model: LinearHeadModel) -> None:
    def names(mp_name: str) -> tuple[str, ...]:
        return tuple(ict_model.expression_arkit_names[i] for i in mediapipe_to_model_ids(mp_name, ict_model))

    assert names("browDownLeft") == ("browDownLeft",)
    assert names("eyeBlinkRight") == ("eyeBlinkRight",)
    assert names("browInnerUp") == ("browInnerUpLeft", "browInnerUpRight")
    assert names("cheekPuff") == ("cheekPuffLeft", "cheekPuffRight")
    assert names("jawOpen") == ("jawOpen",)
    assert names("jawLeft") == ("jawLeft",)  # a direction, not a side
    assert names("mouthRight") == ("mouthRight",)
    assert names("_neutral") == ()
    # MediaPipe's Left is ICT's _L (the subject's left, +x): the pairing fitting/blendshapes.py always made
    assert ict_model.expression_names[mediapipe_to_model_ids("browDownLeft", ict_model)[0]] == "browDown" + "_L"
    w = expression_from_mediapipe(("_neutral", "cheekPuff", "mouthSmileLeft"), np.array([0.9, 0.2, 0.7]), ict_model)
    assert w[ict_model.expression_index("cheekPuffRight")] == pytest.approx(0.2)
    assert w[ict_model.expression_index("mouthSmileLeft")] == pytest.approx(0.7)
    assert np.count_nonzero(w) == 3


def test_mediapipe_blendshapes_all_map_except_neutral(ict_model: LinearHeadModel) -> None:
    from headcast.landmarks.detector import NUM_BLENDSHAPES

    mp_names = [
        "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "cheekPuff",
        "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight",
        "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight",
        "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen",
        "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight",
        "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight",
        "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
        "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft",
        "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
    ]  # fmt: skip
    assert len(mp_names) == NUM_BLENDSHAPES
    unmapped = [n for n in mp_names if not mediapipe_to_model_ids(n, ict_model)]
    assert unmapped == ["_neutral"]


def test_nme_known_answer_and_shape_check() -> None:
    target = np.array([[0.0, 0.0], [100.0, 0.0], [50.0, 50.0]])
    pred = target + np.array([[3.0, 4.0], [0.0, 0.0], [0.0, -10.0]])
    assert nme(pred, target, 1, 0) == pytest.approx((5.0 + 0.0 + 10.0) / 3 / 100.0)
    assert nme(target, target, 1, 0) == 0.0
    with pytest.raises(ValueError):
        nme(pred[:2], target, 1, 0)


def test_contour_directions_on_a_circle() -> None:
    angles = np.linspace(0, 2 * np.pi, 36, endpoint=False)
    pts = np.column_stack([100 + 50 * np.cos(angles), 200 + 50 * np.sin(angles)])
    oval = np.arange(36)[::-1]  # either orientation gives outward normals
    normals, tangents = contour_directions(pts, oval, np.array([0, 9, 20]))
    radial = np.column_stack([np.cos(angles), np.sin(angles)])[[0, 9, 20]]
    np.testing.assert_allclose(normals, radial, atol=1e-12)
    np.testing.assert_allclose(np.einsum("nc,nc->n", normals, tangents), 0.0, atol=1e-12)


def test_silhouette_vertices_pick_the_outermost(ict_model: LinearHeadModel) -> None:
    cam = Camera(1000.0, 1000.0, 500.0, 500.0, 1000, 1000)
    pose = HeadPose(np.zeros(3), np.array([0.0, 0.0, -1.0]))
    zero_id, zero_ex = np.zeros(0), np.zeros(ict_model.num_expressions)
    xs = ict_model.template[:, 0]
    cand = np.array([[int(np.argmin(xs)), 0, int(np.argmax(xs)), -1]])
    chosen = silhouette_vertices(ict_model, cand, np.array([[1.0, 0.0]]), zero_id, zero_ex, pose, cam)
    assert chosen[0] == int(np.argmax(xs))  # +x in the model is +u in this frontal view
    chosen = silhouette_vertices(ict_model, cand, np.array([[-1.0, 0.0]]), zero_id, zero_ex, pose, cam)
    assert chosen[0] == int(np.argmin(xs))


def test_inputs_are_checked(scene: Scene, ict_model: LinearHeadModel, corr: Correspondence) -> None:
    lm = scene.landmarks(scene.uv)
    with pytest.raises(ValueError, match="camera is for"):
        fit_head(lm, ict_model, camera_from_fov(640, 480, 40.0), FitSettings(), corr)
    with pytest.raises(ValueError, match="landmark points"):
        fit_head(replace(lm, points=lm.points[:468]), ict_model, scene.camera, FitSettings(), corr)
