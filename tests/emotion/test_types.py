import numpy as np
import pytest

from headcast.emotion.types import EMOTIONS, NEUTRAL, EmotionIntensities, EmotionSpecError, parse_emotion


def test_parse_values_and_defaults():
    e = parse_emotion("happiness=0.8, Surprise=0.3")
    assert e.happiness == 0.8 and e.surprise == 0.3
    assert e.as_array().sum() == pytest.approx(1.1)


def test_parse_bare_name_and_neutral():
    assert parse_emotion("anger").anger == 1.0
    assert parse_emotion("neutral") == NEUTRAL and parse_emotion("") == NEUTRAL


@pytest.mark.parametrize("bad", ["joy=0.5", "happiness=1.5", "happiness=x", "anger=0.2,anger=0.3", "fear=nan"])
def test_parse_rejects(bad):
    with pytest.raises(EmotionSpecError):
        parse_emotion(bad)


def test_array_round_trip_and_str():
    v = np.linspace(0, 1, len(EMOTIONS))
    e = EmotionIntensities.from_array(v)
    np.testing.assert_allclose(e.as_array(), v)
    assert parse_emotion(str(e)).as_array() == pytest.approx(v, abs=1e-3)
    assert str(NEUTRAL) == "neutral" and NEUTRAL.is_neutral
