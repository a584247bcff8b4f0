"""The emotion vocabulary and its typed container.

Convention:
    Seven basic emotions (Ekman's six plus contempt), always in the order of :data:`EMOTIONS`. An intensity is a
    dimensionless number in [0, 1]: 0 = absent, 1 = the full prototype expression (docs/emotion.md).
"""

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from headcast.options import EMOTIONS, Emotion, EmotionSpecError, parse_emotion_text

__all__ = [  # the vocabulary lives in headcast.options (numpy-free, for the web gateway); the emotion stage uses it
    "EMOTIONS", "NEUTRAL", "Emotion", "EmotionIntensities", "EmotionSpecError", "EmotionState", "parse_emotion",
]


@dataclass(frozen=True)
class EmotionIntensities:
    """Intensities of the seven basic emotions, each in [0, 1] (dimensionless).

    Example:
        >>> parse_emotion("happiness=0.8,surprise=0.3").happiness
        0.8
    """

    happiness: float = 0.0
    sadness: float = 0.0
    anger: float = 0.0
    fear: float = 0.0
    surprise: float = 0.0
    disgust: float = 0.0
    contempt: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and 0.0 <= float(value) <= 1.0):
                raise EmotionSpecError(f"{f.name}={value!r}: intensities must be numbers in [0, 1]")
            object.__setattr__(self, f.name, float(value))

    def as_array(self) -> NDArray[np.float64]:
        """``(7,)`` intensities in :data:`EMOTIONS` order."""
        return np.array([getattr(self, e) for e in EMOTIONS], dtype=np.float64)

    @classmethod
    def from_array(cls, values: NDArray[np.floating]) -> "EmotionIntensities":
        """From a ``(7,)`` vector in :data:`EMOTIONS` order; values are clipped to [0, 1]."""
        v = np.clip(np.asarray(values, dtype=np.float64).reshape(-1), 0.0, 1.0)
        if v.shape != (len(EMOTIONS),):
            raise EmotionSpecError(f"expected {len(EMOTIONS)} intensities, got shape {v.shape}")
        return cls(**{e: float(x) for e, x in zip(EMOTIONS, v, strict=True)})

    def as_dict(self) -> dict[str, float]:
        """``{emotion: intensity}`` in :data:`EMOTIONS` order."""
        return {e: getattr(self, e) for e in EMOTIONS}

    def replaced(self, **changes: float) -> "EmotionIntensities":
        """A copy with some intensities changed."""
        return EmotionIntensities(**{**self.as_dict(), **changes})

    @property
    def is_neutral(self) -> bool:
        """Whether every intensity is 0."""
        return not np.any(self.as_array())

    def __str__(self) -> str:
        """The ``--emotion`` spelling of the non-zero intensities (``"neutral"`` when all are 0)."""
        parts = [f"{e}={v:.3g}" for e, v in self.as_dict().items() if v > 0]
        return ",".join(parts) if parts else "neutral"


NEUTRAL = EmotionIntensities()
"""All intensities 0."""


def parse_emotion(text: str) -> EmotionIntensities:
    """Read ``"happiness=0.8,surprise=0.3"`` (names of :data:`EMOTIONS`; omitted ones are 0).

    The rules are :func:`headcast.options.parse_emotion_text`'s: a bare name means 1, ``"neutral"`` or an empty
    string all zeros, spaces ignored, names case-insensitive.

    Raises:
        EmotionSpecError: an unknown name, a repeated name, or a value that is not a number in [0, 1].
    """
    return EmotionIntensities(**parse_emotion_text(text))


@dataclass(frozen=True, eq=False)
class EmotionState:
    """The emotion an avatar shows, and the person's resting face underneath it.

    ``expression = clip(resting + net(shown), 0, 1)`` (:func:`headcast.emotion.apply.apply_emotion`): the fitted
    expression minus the network's expression for the emotion detected on the photo is the person's own face at
    rest (their mouth line, lids, brows); every emotion is added to that, so zero intensities give the person, not
    the model's mean face.

    Attributes:
        detected: the photo's own emotion (:func:`headcast.emotion.detect.estimate_emotion`).
        shown: the emotion the avatar's expression shows now (``detected`` until one is set).
        resting: ``(E,)`` expression weights in the head model's order: fitted − net(detected); unclipped, so
            entries may be negative or above 1 where the network's expression exceeds the fit's.
    """

    detected: EmotionIntensities
    shown: EmotionIntensities
    resting: NDArray[np.float64]
