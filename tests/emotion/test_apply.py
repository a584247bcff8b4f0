import numpy as np
import pytest

from headcast.emotion import EMOTIONS, NEUTRAL, EmotionIntensities, apply_emotion, load_packaged_model
from headcast.emotion.apply import RESTING_FADE_GAIN, EmotionSettings, emotion_expression, face_region
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


@pytest.fixture(scope="module")
def fitted(ict_model):
    """A fitted-looking head: a resting expression on every shape (as landmark fits give)."""
    rng = np.random.default_rng(5)
    return HeadParams(rng.normal(size=10), rng.uniform(0.0, 0.35, ict_model.num_expressions),
                      HeadPose(np.array([0.05, -0.1, 0.02]), np.array([0.0, 0.01, -0.8])))


def test_zero_keeps_the_fitted_face(ict_model, fitted):
    """Zero sliders on a photo detected neutral reproduce the fitted head exactly (the resting face is kept)."""
    p = apply_emotion(fitted, NEUTRAL, load_packaged_model(), ict_model)
    np.testing.assert_array_equal(p.expression, fitted.expression)
    np.testing.assert_allclose(p.pose.rotation, fitted.pose.rotation, atol=1e-12)


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_base_emotion_round_trip(ict_model, fitted, emotion):
    """Sliders at the detected emotion give the fitted head; 0 removes exactly the emotion's own weights."""
    model = load_packaged_model()
    b = EmotionIntensities(**{emotion: 0.6})
    same = apply_emotion(fitted, b, model, ict_model, base=b)
    np.testing.assert_allclose(same.expression, fitted.expression, atol=1e-12)
    removed = apply_emotion(fitted, NEUTRAL, model, ict_model, base=b)
    net = emotion_expression(model, b, ict_model, fitted.identity)
    # removing takes the emotion's weights out (and fades the rest of its regions): never more than fitted − net
    assert np.all(removed.expression <= np.maximum(fitted.expression - net, 0) + 1e-12)
    assert (net > 0.05).any()  # the emotion really drives some shapes, so removing it is a change
    driven = net > 0.05
    assert np.all(removed.expression[driven] < fitted.expression[driven])


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_emotion_takes_over_the_regions_it_moves(ict_model, fitted, emotion):
    """Gaze and regions the emotion leaves alone keep the resting values; without fading, the emotion's weights are
    added to the resting face; a region the emotion drives fully shows the emotion's weights alone."""
    model = load_packaged_model()
    e = EmotionIntensities(**{emotion: 1.0})
    net = emotion_expression(model, e, ict_model, fitted.identity)
    regions = np.array([face_region(n) for n in ict_model.expression_arkit_names])
    p = apply_emotion(fitted, e, model, ict_model)
    plain = apply_emotion(fitted, e, model, ict_model, settings=EmotionSettings(fade_resting=False))
    np.testing.assert_array_equal(plain.expression, np.clip(fitted.expression + net, 0, 1))
    for r in (-1, 0, 1, 2):
        inside = regions == r
        if r == -1:  # gaze is never faded
            np.testing.assert_array_equal(p.expression[inside], np.clip(fitted.expression + net, 0, 1)[inside])
        elif net[inside].max() == 0:  # a region this emotion does not move
            np.testing.assert_array_equal(p.expression[inside], fitted.expression[inside])
        else:
            a = min(1.0, RESTING_FADE_GAIN * net[inside].max())
            kept = np.abs(p.expression[inside] - net[inside])
            assert np.all(kept <= (1 - a) * fitted.expression[inside] + 1e-12), (r, a)


def test_happiness_keeps_the_brows_and_replaces_the_mouth(ict_model, fitted):
    model = load_packaged_model()
    p = apply_emotion(fitted, EmotionIntensities(happiness=1.0), model, ict_model)
    names = ict_model.expression_names
    brows = [i for i, n in enumerate(names) if n.startswith("brow")]
    np.testing.assert_allclose(p.expression[brows], fitted.expression[brows], atol=5e-3)  # the net: ~1e-3 there
    pucker = names.index("mouthPucker")  # a resting pucker fades under a full smile
    assert p.expression[pucker] < 0.5 * fitted.expression[pucker]


def test_replace_mode_ignores_the_fit(ict_model, fitted):
    """keep_resting=False: the emotion on the model's mean face (the fitted expression is not used)."""
    model = load_packaged_model()
    e = EmotionIntensities(happiness=0.7)
    p = apply_emotion(fitted, e, model, ict_model, settings=EmotionSettings(keep_resting=False))
    np.testing.assert_allclose(p.expression, emotion_expression(model, e, ict_model, fitted.identity), atol=0)
    zero = apply_emotion(fitted, NEUTRAL, model, ict_model, settings=EmotionSettings(keep_resting=False))
    assert not zero.expression.any()


def test_sadness_tilts_head_down(ict_model, params):
    p = apply_emotion(params, EmotionIntensities(sadness=1.0), load_packaged_model(), ict_model)
    assert p.pose.rotation[0] > 0.1


def test_base_emotion_cancels_pose(ict_model, params):
    e = EmotionIntensities(surprise=0.7)
    p = apply_emotion(params, e, load_packaged_model(), ict_model, base=e)
    np.testing.assert_allclose(p.pose.rotation, 0, atol=1e-9)


@pytest.mark.parametrize("emotion", ["happiness", "sadness", "surprise", "disgust"])
def test_estimate_recovers_prototype(ict_model, emotion):
    w = prototype_expression(emotion, 0.7, ict_model.expression_arkit_names)
    est = estimate_from_weights(w, ict_model.expression_arkit_names)
    assert getattr(est, emotion) == pytest.approx(0.7, abs=0.1)
    assert est.as_array().sum() == pytest.approx(0.7, abs=0.15)
