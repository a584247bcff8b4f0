"""The photo's own emotion: intensities estimated from MediaPipe's 52 blendshape scores.

Bounded linear least squares (scipy ``lsq_linear``, intensities in [0, 1]) of the photo's scores, mapped to the
model's shape names (:func:`headcast.fitting.blendshapes.expression_from_mediapipe`), against the seven prototype
expressions at intensity 1 (:func:`headcast.emotion.prototypes.prototype_expression`)::

    s* = argmin_{0 ≤ s ≤ 1} ‖ P_M s − w_M ‖²      P: (E, 7) prototypes, w: (E,) scores, M: shapes used

``M`` excludes gaze (``eyeLook*``), the pupil shapes and shapes MediaPipe does not score (``cheekRaiser*``); a
neutral face scores up to ~0.3 on some shapes (squint, pucker; see docs/emotion.md), so intensities below
``DetectSettings.min_intensity`` are set to 0.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import lsq_linear

from headcast.emotion.prototypes import prototype_expression
from headcast.emotion.types import EMOTIONS, EmotionIntensities
from headcast.fitting.blendshapes import expression_from_mediapipe, mediapipe_to_model_ids
from headcast.headmodel.base import LinearHeadModel
from headcast.landmarks.types import Landmarks

EXCLUDED_PREFIXES = ("eyeLook", "pupilDilate", "cheekRaiser")
"""Shapes (canonical names) not used to recognise an emotion (gaze, pupils, shapes without a MediaPipe score)."""


@dataclass(frozen=True)
class DetectSettings:
    """Emotion estimation settings.

    Attributes:
        min_intensity: estimates below this are treated as absent. The ten London portraits labelled neutral
            (fixtures/portraits) give spurious estimates up to 0.22 (happiness 0.22, sadness and surprise 0.20;
            0.32 for the earlier closed-lip anger prototype; docs/emotion.md), posed smiles 0.47–0.66; an emotion
            detected on a neutral face would be subtracted from the person's resting face
            (:mod:`headcast.emotion.apply`), so the threshold sits above that.
    """

    min_intensity: float = 0.35


def prototype_matrix(names: tuple[str, ...]) -> NDArray[np.float64]:
    """``(E, 7)``: column k = emotion k's prototype weights at intensity 1 (``names``: canonical shape names)."""
    return np.stack([prototype_expression(e, 1.0, names) for e in EMOTIONS], axis=1)


def estimate_from_weights(weights: NDArray[np.floating], names: tuple[str, ...],
                          settings: DetectSettings | None = None) -> EmotionIntensities:
    """Intensities that best explain expression weights (bounded least squares; see the module docstring).

    Args:
        weights: ``(E,)`` observed weights in the order of ``names`` (e.g. mapped MediaPipe scores).
        names: canonical (ARKit) shape names (E,), e.g. ``model.expression_arkit_names``.
        settings: threshold; defaults to ``DetectSettings()``.
    """
    settings = DetectSettings() if settings is None else settings
    used = np.array([not n.startswith(EXCLUDED_PREFIXES) for n in names])
    proto = prototype_matrix(names)[used]
    w = np.asarray(weights, dtype=np.float64)[used]
    s = lsq_linear(proto, w, bounds=(0.0, 1.0), method="bvls").x
    s = np.where(s < settings.min_intensity, 0.0, s)
    return EmotionIntensities.from_array(s)


def mediapipe_scored_names(model: LinearHeadModel, landmarks: Landmarks) -> tuple[str, ...]:
    """The model shapes MediaPipe gives a score for."""
    ids = [t for n in landmarks.blendshape_names for t in mediapipe_to_model_ids(n, model)]
    return tuple(model.expression_names[t] for t in ids)


def estimate_emotion(landmarks: Landmarks, model: LinearHeadModel,
                     settings: DetectSettings | None = None) -> EmotionIntensities:
    """The photo's emotion intensities from its MediaPipe blendshape scores."""
    weights = expression_from_mediapipe(landmarks.blendshape_names, landmarks.blendshapes, model)
    return estimate_from_weights(weights, model.expression_arkit_names, settings)
