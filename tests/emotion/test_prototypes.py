import numpy as np

from headcast.emotion.prototypes import PROTOTYPES, mixture_expression_batch, mixture_pose, prototype_expression
from headcast.emotion.types import EMOTIONS

NAMES = ("browInnerUpLeft", "browInnerUpRight", "mouthSmileLeft", "mouthSmileRight", "mouthDimpleLeft",
         "mouthDimpleRight", "cheekSquintLeft", "cheekSquintRight", "eyeSquintLeft", "eyeSquintRight", "jawOpen")


def test_happiness_drives_smile_both_sides():
    w = dict(zip(NAMES, prototype_expression("happiness", 1.0, NAMES), strict=True))
    assert w["mouthSmileLeft"] == w["mouthSmileRight"] > 0.5
    assert w["cheekSquintLeft"] > 0 and w["browInnerUpLeft"] == 0


def test_contempt_is_one_sided_right():
    w = dict(zip(NAMES, prototype_expression("contempt", 1.0, NAMES), strict=True))
    assert w["mouthSmileRight"] > 0 and w["mouthSmileLeft"] == 0 and w["mouthDimpleRight"] > 0


def test_mixture_in_range_monotone_and_zero():
    rng = np.random.default_rng(0)
    s = rng.random((200, len(EMOTIONS)))
    w = mixture_expression_batch(s, NAMES)
    assert w.min() >= 0 and w.max() <= 1
    assert np.all(mixture_expression_batch(np.minimum(s + 0.1, 1), NAMES) >= w - 1e-12)
    assert np.all(mixture_expression_batch(np.zeros((1, 7)), NAMES) == 0)


def test_pose_tendencies():
    neck, _ = mixture_pose(np.eye(len(EMOTIONS)))
    assert neck[EMOTIONS.index("sadness"), 0] > 0  # head down
    assert neck[EMOTIONS.index("contempt"), 0] < 0  # chin up
    assert all(PROTOTYPES[e].facs for e in EMOTIONS)
