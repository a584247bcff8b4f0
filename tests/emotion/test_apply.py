import numpy as np
import pytest

from headcast.emotion import EMOTIONS, NEUTRAL, EmotionIntensities, apply_emotion, load_packaged_model
from headcast.emotion.detect import estimate_from_weights
from headcast.emotion.prototypes import prototype_expression
from headcast.geometry.camera import HeadPose
from headcast.headmodel.base import HeadParams, blend_vertices

# iBUG-68 landmarks that each emotion moves most (brows 17-26, eyes 36-47, mouth 48-67, chin 8).
KEY_LANDMARKS = {
    "happiness": [48, 54], "sadness": [21, 22, 48, 54], "anger": [19, 21, 22, 24], "fear": [19, 24, 48, 54, 57],
    "surprise": [19, 24, 57, 8], "disgust": [31, 35, 50, 52],
    "contempt": [48],  # iBUG 48 = the subject's right mouth corner (R12A+R14A)
}


@pytest.fixture(scope="module")
def params(ict_model):
    return HeadParams(np.zeros(10), np.zeros(ict_model.num_expressions), HeadPose(np.zeros(3), np.array([0, 0, -1.0])))


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_monotone_key_landmark_displacement(ict_model, params, emotion):
    model = load_packaged_model()
    rest = blend_vertices(ict_model, params.identity, params.expression, ict_model.landmarks68)
    moved = []
    for s in np.linspace(0, 1, 6):
        p = apply_emotion(params, EmotionIntensities(**{emotion: float(s)}), model, ict_model)
        v = blend_vertices(ict_model, p.identity, p.expression, ict_model.landmarks68)
        moved.append(np.linalg.norm(v[KEY_LANDMARKS[emotion]] - rest[KEY_LANDMARKS[emotion]], axis=1).mean())
    assert moved[0] == 0.0
    assert np.all(np.diff(moved) > 0), moved
    assert moved[-1] > 0.002  # at least 2 mm at full intensity


def test_zero_is_neutral_and_pose_unchanged(ict_model, params):
    p = apply_emotion(params, NEUTRAL, load_packaged_model(), ict_model)
    assert not p.expression.any()
    np.testing.assert_allclose(p.pose.rotation, 0, atol=1e-12)
    np.testing.assert_allclose(p.pose.translation, params.pose.translation, atol=1e-12)


def test_sadness_tilts_head_down(ict_model, params):
    p = apply_emotion(params, EmotionIntensities(sadness=1.0), load_packaged_model(), ict_model)
    assert p.pose.rotation[0] > 0.1


def test_base_emotion_cancels_pose(ict_model, params):
    e = EmotionIntensities(surprise=0.7)
    p = apply_emotion(params, e, load_packaged_model(), ict_model, base=e)
    np.testing.assert_allclose(p.pose.rotation, 0, atol=1e-9)


@pytest.mark.parametrize("emotion", ["happiness", "sadness", "surprise", "disgust"])
def test_estimate_recovers_prototype(ict_model, emotion):
    w = prototype_expression(emotion, 0.7, ict_model.expression_names)
    est = estimate_from_weights(w, ict_model.expression_names)
    assert getattr(est, emotion) == pytest.approx(0.7, abs=0.1)
    assert est.as_array().sum() == pytest.approx(0.7, abs=0.15)
