"""Prototype knowledge: facial action units, the emotion prototypes built from them, and their mixture rule.

Sources and the reasoning behind every number are in ``docs/emotion.md``. In short:

* Emotion → action units (AUs): the EMFACS prototypes of Ekman & Friesen (FACS manual, 1978; Ekman, Friesen &
  Hager, *FACS Investigator's Guide*, 2002, table of emotion predictions), as listed in the issue:
  happiness 6+12, sadness 1+4+15, surprise 1+2+5B+26, fear 1+2+4+5+7+20+26, anger 4+5+7+23, disgust 9+15+16,
  contempt R12A+R14A (right side only); the variants used (e.g. happiness 6+12+25, the open-mouth anger
  4+5+7+10+16+22+25+26, sadness with head and eyes down 1+4+15+17+54+64, disgust 9+15+16+26) are listed with their
  sources in docs/emotion.md. Letters are FACS intensities A (trace)
  … E (maximum).
* AU → ARKit shapes: Apple's description of each ``ARFaceAnchor.BlendShapeLocation`` matched to the FACS
  description of each AU; shapes are asked for by canonical ARKit name (``headmodel.base.ARKIT_EXPRESSIONS``:
  ``Left`` = the subject's left = the head's +x), which each head model maps to its own shapes.
* Amplitudes: FACS letters → weights A 0.2, B 0.4, C 0.6, D 0.8, E 1.0, then calibrated: happiness by the
  smile-transfer protocol on the calibration pairs 004/034 under a classifier constraint (docs/emotion.md), the
  others raised until a frontal render reads as the emotion on the contact sheet (ICT shapes are large at 1.0).

Convention:
    Expression weights are in [0, 1] in the order of the canonical names passed (a model's
    ``expression_arkit_names``, i.e. its ``expression_names`` order); head-pose tendencies are axis-angle
    vectors in radians in the model frame (x = pitch, positive tilts the face down; y = yaw, positive turns the face
    to the head's left; z = roll), docs/conventions.md. ``neck`` rotates the head about the neck, ``global`` the
    whole upper body (for a head-only model both become one rotation about the neck pivot).
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headcast.emotion.types import EMOTIONS, Emotion, EmotionIntensities

FACS_LETTER: Mapping[str, float] = {"A": 0.2, "B": 0.4, "C": 0.6, "D": 0.8, "E": 1.0}
"""FACS intensity letters (trace, slight, marked, severe, maximum) as weights."""


@dataclass(frozen=True)
class ActionUnit:
    """One FACS action unit and the ARKit-named shapes that reproduce it.

    Attributes:
        code: FACS number, e.g. 12.
        name: FACS name, e.g. ``"lip corner puller"``.
        shapes: ``(shape base name, gain)`` pairs; a base name without side (``"mouthSmile"``) means both
            ``…Left`` and ``…Right`` when the model splits it; gain = shape weight per unit of AU intensity.
    """

    code: int
    name: str
    shapes: tuple[tuple[str, float], ...]


ACTION_UNITS: Mapping[int, ActionUnit] = {
    au.code: au
    for au in (
        ActionUnit(1, "inner brow raiser", (("browInnerUp", 1.0),)),
        ActionUnit(2, "outer brow raiser", (("browOuterUp", 1.0),)),
        ActionUnit(4, "brow lowerer", (("browDown", 1.0),)),
        ActionUnit(5, "upper lid raiser", (("eyeWide", 1.0),)),
        ActionUnit(6, "cheek raiser", (("cheekSquint", 1.0), ("eyeSquint", 0.5), ("cheekRaiser", 0.5))),
        ActionUnit(7, "lid tightener", (("eyeSquint", 1.0),)),
        ActionUnit(9, "nose wrinkler", (("noseSneer", 1.0), ("mouthUpperUp", 0.3))),
        ActionUnit(10, "upper lip raiser", (("mouthUpperUp", 1.0),)),
        ActionUnit(12, "lip corner puller", (("mouthSmile", 1.0),)),
        ActionUnit(14, "dimpler", (("mouthDimple", 1.0),)),
        ActionUnit(15, "lip corner depressor", (("mouthFrown", 1.0),)),
        ActionUnit(16, "lower lip depressor", (("mouthLowerDown", 1.0),)),
        ActionUnit(17, "chin raiser", (("mouthShrugLower", 1.0),)),
        ActionUnit(20, "lip stretcher", (("mouthStretch", 1.0),)),
        ActionUnit(22, "lip funneler", (("mouthFunnel", 1.0),)),
        ActionUnit(23, "lip tightener", (("mouthPress", 1.0), ("mouthRollUpper", 0.3), ("mouthRollLower", 0.3))),
        ActionUnit(24, "lip pressor", (("mouthPress", 1.0), ("mouthClose", 0.2))),
        ActionUnit(25, "lips part", (("mouthLowerDown", 0.3), ("mouthUpperUp", 0.2))),
        ActionUnit(26, "jaw drop", (("jawOpen", 1.0),)),
        ActionUnit(43, "eyes closed", (("eyeBlink", 1.0),)),
        ActionUnit(64, "eyes down", (("eyeLookDown", 1.0),)),
    )
}
"""FACS action units used by the prototypes, keyed by code."""

Side = str
"""``""`` (both sides), ``"R"`` or ``"L"`` (the head's right / left only: ARKit's ``…Right`` / ``…Left``)."""

SIDE_SUFFIX: Mapping[str, str] = {"L": "Left", "R": "Right"}


@dataclass(frozen=True)
class AUActivation:
    """One AU in a prototype.

    Attributes:
        code: FACS AU number.
        amplitude: AU intensity at emotion intensity 1 (0..1, see :data:`FACS_LETTER`).
        gamma: intensity curve exponent: the AU's intensity at emotion intensity ``s`` is ``amplitude · s**gamma``
            (γ < 1: appears early, e.g. brows; γ > 1: appears late, e.g. the jaw drop of surprise).
        side: ``""`` both sides, ``"R"``/``"L"`` one side (contempt's R12A+R14A).
    """

    code: int
    amplitude: float
    gamma: float = 1.0
    side: Side = ""


@dataclass(frozen=True)
class Prototype:
    """An emotion's prototype expression and head-pose tendency at intensity 1.

    Attributes:
        emotion: which emotion.
        facs: the FACS formula as written in the sources, e.g. ``"6+12"``.
        aus: the AUs with amplitudes and curves.
        neck: ``(3,)`` head-on-neck rotation at intensity 1, axis-angle radians (x = pitch down, y = yaw, z = roll).
        global_: ``(3,)`` whole-body rotation at intensity 1, axis-angle radians.
    """

    emotion: Emotion
    facs: str
    aus: tuple[AUActivation, ...]
    neck: tuple[float, float, float] = (0.0, 0.0, 0.0)
    global_: tuple[float, float, float] = (0.0, 0.0, 0.0)


PROTOTYPES: Mapping[Emotion, Prototype] = {
    "happiness": Prototype(
        "happiness", "6+12+25",
        (AUActivation(6, 0.6), AUActivation(12, 0.7, 0.9), AUActivation(25, 1.0, 1.5)),
        neck=(-0.03, 0.0, 0.0),
    ),
    "sadness": Prototype(
        "sadness", "1+4+15+17+54+64",
        (AUActivation(1, 0.6, 0.8), AUActivation(4, 1.0), AUActivation(15, 1.0), AUActivation(17, 0.8),
         AUActivation(64, 0.6)),
        neck=(0.20, 0.0, 0.0), global_=(0.04, 0.0, 0.0),
    ),
    "anger": Prototype(
        "anger", "4+5+7+10+16+22+25+26(+9)",
        (AUActivation(4, 1.0, 0.7), AUActivation(5, 0.6), AUActivation(7, 1.0), AUActivation(9, 0.7),
         AUActivation(10, 0.7), AUActivation(16, 0.8), AUActivation(22, 0.6), AUActivation(25, 0.6),
         AUActivation(26, 0.6, 1.3)),
    ),
    "fear": Prototype(
        "fear", "1+2+4+5+7+20+25+26",
        (AUActivation(1, 1.0, 0.8), AUActivation(2, 0.6), AUActivation(4, 0.8), AUActivation(5, 1.0),
         AUActivation(7, 0.3), AUActivation(20, 1.0), AUActivation(25, 0.6), AUActivation(26, 0.2, 1.3)),
        neck=(-0.04, 0.0, 0.0), global_=(-0.03, 0.0, 0.0),
    ),
    "surprise": Prototype(
        "surprise", "1+2+5B+26",
        (AUActivation(1, 1.0, 0.8), AUActivation(2, 1.0, 0.8), AUActivation(5, 0.9), AUActivation(26, 0.9, 1.3)),
        neck=(-0.06, 0.0, 0.0), global_=(-0.03, 0.0, 0.0),
    ),
    "disgust": Prototype(
        "disgust", "9+15+16+26(+4+7)",
        (AUActivation(4, 0.5), AUActivation(7, 1.0), AUActivation(9, 1.0), AUActivation(15, 1.0), AUActivation(16, 0.6),
         AUActivation(26, 0.3, 1.3)),
        neck=(-0.03, 0.0, 0.0),
    ),
    "contempt": Prototype(
        "contempt", "R12A+R14A",
        (AUActivation(12, 0.5, side="R"), AUActivation(14, 0.8, side="R")),
        neck=(-0.08, 0.0, 0.06),
    ),
}
"""The seven prototypes, keyed by emotion (numbers explained in docs/emotion.md)."""


def shape_targets(shape: str, side: Side, names: tuple[str, ...]) -> tuple[str, ...]:
    """The canonical shape names a (base name, side) drives: ``"mouthSmile"`` → ``mouthSmileLeft``, ``…Right``.

    ``("mouthSmile", "R")`` → ``mouthSmileRight``. Shapes not in ``names`` are left out (so the table also serves
    models without, e.g., ``cheekRaiser``).
    """
    if side:
        candidates: tuple[str, ...] = (shape + SIDE_SUFFIX[side],)
    elif shape in names:
        candidates = (shape,)
    else:
        candidates = (shape + "Left", shape + "Right")
    return tuple(n for n in candidates if n in names)


def prototype_expression(emotion: Emotion, intensity: float, names: tuple[str, ...]) -> NDArray[np.float64]:
    """Expression weights of one emotion at one intensity.

    Each AU contributes ``gain · amplitude · intensity**gamma`` (capped at 1) to its shapes; contributions to the
    same shape combine by the probabilistic sum ``1 − Π(1 − w)`` (stays in [0, 1], increases with every input).

    Args:
        emotion: the emotion.
        intensity: in [0, 1].
        names: canonical (ARKit) shape names (E,), e.g. ``model.expression_arkit_names``.

    Returns:
        ``(E,)`` weights in [0, 1].
    """
    s = np.zeros(len(EMOTIONS))
    s[EMOTIONS.index(emotion)] = intensity
    return mixture_expression_batch(s[None], names)[0]


def mixture_expression(intensities: EmotionIntensities, names: tuple[str, ...]) -> NDArray[np.float64]:
    """Expression weights of a blend of emotions: the probabilistic sum over all AU contributions of all emotions.

    Returns:
        ``(E,)`` weights in [0, 1]; all zeros for the neutral input.
    """
    return mixture_expression_batch(intensities.as_array()[None], names)[0]


def mixture_expression_batch(intensities: NDArray[np.floating], names: tuple[str, ...]) -> NDArray[np.float64]:
    """Batched :func:`mixture_expression`.

    Args:
        intensities: ``(N, 7)`` in [0, 1], :data:`EMOTIONS` order.
        names: canonical (ARKit) shape names (E,), e.g. ``model.expression_arkit_names``.

    Returns:
        ``(N, E)`` weights in [0, 1].
    """
    s = np.clip(np.asarray(intensities, dtype=np.float64), 0.0, 1.0)
    keep = np.ones((s.shape[0], len(names)))  # Π(1 − w) per shape
    for k, emotion in enumerate(EMOTIONS):
        for act in PROTOTYPES[emotion].aus:
            level = act.amplitude * s[:, k] ** act.gamma  # (N,)
            for shape, gain in ACTION_UNITS[act.code].shapes:
                for target in shape_targets(shape, act.side, names):
                    keep[:, names.index(target)] *= 1.0 - np.minimum(1.0, gain * level)
    return 1.0 - keep


def mixture_pose(intensities: NDArray[np.floating]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Head-pose tendencies of blends: intensity-weighted sums of the prototypes' rotations (linear in intensity).

    Args:
        intensities: ``(..., 7)`` in [0, 1], :data:`EMOTIONS` order.

    Returns:
        ``(neck, global)``, each ``(..., 3)`` axis-angle radians.
    """
    s = np.asarray(intensities, dtype=np.float64)
    neck = np.array([PROTOTYPES[e].neck for e in EMOTIONS], dtype=np.float64)  # (7, 3)
    glob = np.array([PROTOTYPES[e].global_ for e in EMOTIONS], dtype=np.float64)
    return s @ neck, s @ glob
