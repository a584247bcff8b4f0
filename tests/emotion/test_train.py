import numpy as np

from headcast.emotion.generator import GeneratorSettings
from headcast.emotion.model import expression_layout
from headcast.emotion.train import TrainSettings, train_emotion_mlp

NAMES = ("browInnerUpLeft", "browInnerUpRight", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft",
         "mouthFrownRight", "jawOpen")


def test_training_is_deterministic_and_learns():
    settings = TrainSettings(hidden=(16,), steps=150, data=GeneratorSettings(num_examples=500),
                             validation=GeneratorSettings(num_examples=200, seed=1))
    a, rep_a = train_emotion_mlp(expression_layout(NAMES), settings)
    b, _ = train_emotion_mlp(expression_layout(NAMES), settings)
    for wa, wb in zip(a.weights, b.weights, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert rep_a.validation_mae["expression"] < 0.2  # a few steps only: smoke level (the full run reaches ~0.002)
