"""The fitted eyes open as far as the photo's: held gaze shapes are part of the fitted points.

ICT's gaze shapes (``eyeLook*``) are held at MediaPipe's scores, not fitted, but they move the lids with the
eyeballs. A head looking down by 0.4 has its upper lids ~3 mm lower; a fit that leaves the held shapes out of its
points closes the lids with ``eyeBlink`` on top of that, and the drawn eyes end up much narrower than the photo's.
"""

import numpy as np
import pytest

from headcast.fitting.correspondence import Correspondence, landmark_points, load_correspondence
from headcast.fitting.fit import fit_head, held_offset, point_basis, vertex_basis
from headcast.fitting.settings import FitSettings
from headcast.geometry.camera import HeadPose, camera_from_fov, project, transform_points
from headcast.headmodel.base import LinearHeadModel, blend_vertices, head_vertices
from headcast.landmarks.types import Landmarks

# (outer corner, inner corner, (upper, lower) lid pairs): the subject's right eye, then the left
EYES = ((33, 133, ((160, 144), (159, 145), (158, 153))), (263, 362, ((387, 373), (386, 374), (385, 380))))
GAZE = {"eyeLookDownLeft": 0.4, "eyeLookDownRight": 0.4, "eyeLookInRight": 0.2, "eyeLookOutLeft": 0.2}
EXACT = FitSettings(identity_prior=1e-5, expression_prior=1e-5, contour_mode="fixed", landmark_noise=None)


def aperture(points: np.ndarray, eye: tuple) -> float:
    outer, inner, pairs = eye
    width = np.linalg.norm(points[outer, :2] - points[inner, :2])
    return float(np.mean([np.linalg.norm(points[a, :2] - points[b, :2]) for a, b in pairs]) / width)


@pytest.fixture(scope="module")
def corr() -> Correspondence:
    return load_correspondence()


def _scene(model: LinearHeadModel, corr: Correspondence, expression: dict[str, float]) -> tuple:
    """Landmarks of a head with ``expression`` (MediaPipe scores = those values) seen frontally."""
    w = np.zeros(model.num_expressions)
    for name, value in expression.items():
        w[model.expression_index(name)] = value
    identity = np.random.default_rng(3).normal(0.0, 0.5, 60)
    camera = camera_from_fov(1000, 1000, 40.0)
    pose = HeadPose(np.array([0.05, 0.1, 0.0]), np.array([0.0, -0.03, -0.6]))
    uv = project(transform_points(landmark_points(blend_vertices(model, identity, w), model.triangles, corr), pose),
                 camera)
    names = ("_neutral", *expression)
    lm = Landmarks(
        points=np.column_stack([uv, np.zeros(len(uv))]),
        blendshapes=np.r_[0.0, list(expression.values())],
        blendshape_names=names,
        transform=np.eye(4),
        image_size=(1000, 1000),
        num_faces=1,
        box=np.r_[uv.min(axis=0), uv.max(axis=0)],
    )
    return lm, camera, uv


def test_held_offset_is_the_held_shapes_displacement(ict_model: LinearHeadModel) -> None:
    ids = np.array([10, 2000, 4500, 11000])
    held = np.zeros(ict_model.num_expressions)
    down = ict_model.expression_index("eyeLookDownLeft")
    jaw = ict_model.expression_index("jawOpen")
    held[down], held[jaw] = 0.5, 0.7
    fitted = np.array([jaw])  # jawOpen is fitted, so only the gaze shape is held
    expected = 0.5 * ict_model.expression_basis[down][ids]
    np.testing.assert_allclose(held_offset(ict_model, ids, fitted, held), expected, atol=1e-9)
    vb = vertex_basis(ict_model, ids, 5, fitted, held=held)
    np.testing.assert_allclose(vb.mean, ict_model.template[ids] + expected, atol=1e-7)
    # a point on a triangle: the same offset interpolated, and nothing held when every shape is fitted
    tri = np.array([5000])
    bary = np.array([[0.2, 0.3, 0.5]])
    corners = ict_model.triangles[tri[0]]
    pb = point_basis(ict_model, tri, bary, 5, fitted, held=held)
    want = bary[0] @ (ict_model.template[corners] + 0.5 * ict_model.expression_basis[down][corners])
    np.testing.assert_allclose(pb.mean[0], want, atol=1e-7)
    every = np.arange(ict_model.num_expressions)
    np.testing.assert_array_equal(held_offset(ict_model, ids, every, held), np.zeros((4, 3)))


def test_gaze_down_moves_the_lids_it_is_held_for(ict_model: LinearHeadModel, corr: Correspondence) -> None:
    """The premise: ICT's gaze-down shape lowers the upper lid by millimetres."""
    down = ict_model.expression_basis[ict_model.expression_index("eyeLookDownLeft")]
    lid = landmark_points(ict_model.template + down, ict_model.triangles, corr)[386]
    rest = landmark_points(ict_model.template, ict_model.triangles, corr)[386]
    assert rest[1] - lid[1] > 0.004  # metres, at weight 1


def test_fit_with_held_gaze_recovers_the_lids(ict_model: LinearHeadModel, corr: Correspondence) -> None:
    lm, camera, uv = _scene(ict_model, corr, GAZE)
    fit = fit_head(lm, ict_model, camera, EXACT, corr)
    names = ict_model.expression_arkit_names
    blink = [fit.params.expression[names.index(n)] for n in ("eyeBlinkLeft", "eyeBlinkRight")]
    assert max(blink) < 0.05  # nothing to close: the held gaze already lowers the lids
    # the head as drawn (held gaze included) shows the photo's apertures at the lid landmarks
    drawn = project(
        transform_points(landmark_points(head_vertices(ict_model, fit.params), ict_model.triangles, corr),
                         fit.params.pose),
        camera,
    )
    for eye in EYES:
        assert aperture(drawn, eye) == pytest.approx(aperture(uv, eye), abs=0.005)
    np.testing.assert_allclose(fit.landmarks_2d, drawn, atol=1e-6)  # the fit reports the drawn points
