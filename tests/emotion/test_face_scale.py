"""The generator's identity-variant face scale."""

import numpy as np

from headcast.emotion.generator import GeneratorSettings, face_scale


def test_face_scale_is_linear_then_clipped_and_one_without_gain():
    s = GeneratorSettings(identity_gain=(0.1, -0.05), max_scale_change=0.25)
    ident = np.array([[0.0, 0.0, 9.0], [1.0, 1.0, 0.0], [5.0, 0.0, 0.0]])
    np.testing.assert_allclose(face_scale(ident, s), [1.0, 1.05, 1.25])
    np.testing.assert_array_equal(face_scale(ident, GeneratorSettings()), np.ones(3))
