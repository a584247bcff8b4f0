"""What a user asks of one avatar: the typed, numpy-free choices every entry point builds.

The command line (``headcast make --hair … --emotion …``), the web service (a job's options, stored as JSON in the
job table) and the evaluation all build one :class:`Options` and hand it to the composition
(:class:`headcast.pipeline.Pipeline`). This module imports only the standard library, so the web gateway can
validate a form without importing the numeric stack.

Convention:
    Emotion intensities are dimensionless numbers in [0, 1], names from :data:`EMOTIONS` (Ekman's six plus
    contempt). Colours are sRGB ``#rrggbb``; :meth:`Options.hair_rgb` gives them as floats in [0, 1].
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from headcast.errors import HeadcastError

Emotion = Literal["happiness", "sadness", "anger", "fear", "surprise", "disgust", "contempt"]
"""One basic emotion."""

EMOTIONS: tuple[Emotion, ...] = get_args(Emotion)
"""The emotions in container / network-input order."""

FacePolicy = Literal["largest", "error"]
"""What to do with a photo of several faces: use the largest, or fail."""

HAIR_AUTO = "auto"
"""Hair mode: strands reconstructed from the photo."""
HAIR_NONE = "none"
"""Hair mode: no hair."""

Color = tuple[float, float, float]
"""sRGB in [0, 1]."""

JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]
"""A value ``json.loads`` can return: what job options and machine-readable summaries hold."""

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")
_STYLE_NAME = re.compile(r"^[a-z0-9_]{1,64}$")


class OptionError(HeadcastError, ValueError):
    """An option that cannot be used: a malformed value or an unknown hairstyle (exit status 2, like bad flags)."""

    exit_code = 2


class EmotionSpecError(OptionError):
    """An ``--emotion`` string or intensity vector that cannot be read (unknown name, bad number, out of range)."""


def parse_emotion_text(text: str) -> dict[Emotion, float]:
    """Read ``"happiness=0.8,surprise=0.3"`` into ``{name: intensity}`` (omitted names are absent, i.e. 0).

    A bare name means intensity 1 (``"anger"``); ``"neutral"`` or an empty string gives ``{}``. Spaces are ignored
    and names are case-insensitive.

    Raises:
        EmotionSpecError: an unknown name, a repeated name, or a value that is not a number in [0, 1].
    """
    values: dict[Emotion, float] = {}
    for raw in text.split(","):
        item = raw.strip().lower()
        if not item or item == "neutral":
            continue
        name, sep, number = item.partition("=")
        name = name.strip()
        emotion = next((e for e in EMOTIONS if e == name), None)
        if emotion is None:
            raise EmotionSpecError(f"unknown emotion '{name}' in '{text}'; known: {', '.join(EMOTIONS)}")
        if emotion in values:
            raise EmotionSpecError(f"'{name}' given twice in '{text}'")
        try:
            value = float(number) if sep else 1.0
        except ValueError:
            raise EmotionSpecError(f"'{item}': '{number.strip()}' is not a number") from None
        if not 0.0 <= value <= 1.0:
            raise EmotionSpecError(f"'{item}': intensities must be in [0, 1]")
        values[emotion] = value
    return values


def canonical_emotion(text: str | None) -> str | None:
    """One spelling per emotion setting, so that equal settings compare equal (and cache keys match).

    Names in :data:`EMOTIONS` order, zeros dropped, ``"neutral"`` when all are zero; None or blank text (keep the
    photo's own expression, as an empty web form field) gives None.

    Raises:
        EmotionSpecError: as :func:`parse_emotion_text`.
    """
    if text is None or not text.strip():
        return None
    values = parse_emotion_text(text)
    items = [f"{name}={values[name]:g}" for name in EMOTIONS if values.get(name, 0.0) > 0.0]
    return ",".join(items) if items else "neutral"


def parse_hex_color(text: str) -> Color:
    """``"#RRGGBB"`` (or without ``#``) → sRGB in [0, 1].

    Raises:
        OptionError: not a 6-digit hex colour.
    """
    m = _HEX.match(text.strip())
    if not m:
        raise OptionError(f"'{text}' is not a colour like #8B5A2B")
    v = int(m.group(1), 16)
    return ((v >> 16) / 255.0, ((v >> 8) & 255) / 255.0, (v & 255) / 255.0)


@dataclass(frozen=True)
class Options:
    """The choices for one avatar, validated and in one canonical spelling (equal choices compare equal).

    Attributes:
        hair: ``"auto"`` (strands from the photo), ``"none"``, or a library style name (``headcast hairstyles``;
            whether the style exists is checked by the pipeline, which knows the library).
        hair_color: ``"#rrggbb"`` (lower case) or None for the photo's hair colour.
        emotion: the emotion to show, canonical (:func:`canonical_emotion`; ``"neutral"`` removes the photo's own
            expression), or None to keep the photo's expression.
        faces: several faces in the photo: use the largest, or fail.

    Raises:
        OptionError: a malformed value.

    Example:
        >>> Options(hair="BOB", hair_color="8B5A2B", emotion="surprise=0.3, happiness=0.8")
        Options(hair='bob', hair_color='#8b5a2b', emotion='happiness=0.8,surprise=0.3', faces='largest')
    """

    hair: str = HAIR_AUTO
    hair_color: str | None = None
    emotion: str | None = None
    faces: FacePolicy = "largest"

    def __post_init__(self) -> None:
        hair = self.hair.strip().lower()
        if not _STYLE_NAME.match(hair):
            raise OptionError(f"hair '{self.hair}': give auto, none or a hairstyle name (see `headcast hairstyles`)")
        object.__setattr__(self, "hair", hair)
        if self.hair_color is not None:
            r, g, b = (round(c * 255) for c in parse_hex_color(self.hair_color))
            object.__setattr__(self, "hair_color", f"#{r:02x}{g:02x}{b:02x}")
        object.__setattr__(self, "emotion", canonical_emotion(self.emotion))
        if self.faces not in get_args(FacePolicy):
            raise OptionError(f"faces '{self.faces}': give one of {', '.join(get_args(FacePolicy))}")

    @property
    def style(self) -> str | None:
        """The library style asked for, or None for ``auto`` / ``none``."""
        return None if self.hair in (HAIR_AUTO, HAIR_NONE) else self.hair

    def hair_rgb(self) -> Color | None:
        """:attr:`hair_color` as sRGB in [0, 1], or None."""
        return None if self.hair_color is None else parse_hex_color(self.hair_color)

    def emotion_values(self) -> dict[Emotion, float] | None:
        """:attr:`emotion` as ``{name: intensity}`` (``{}`` = neutral), or None to keep the photo's expression."""
        return None if self.emotion is None else parse_emotion_text(self.emotion)

    def to_json(self) -> dict[str, str | None]:
        """The options as a JSON object (what the web service stores with a job)."""
        return {"hair": self.hair, "hair_color": self.hair_color, "emotion": self.emotion, "faces": self.faces}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> "Options":
        """Options from :meth:`to_json`'s object; absent keys take their defaults.

        Raises:
            OptionError: a value of the wrong type or malformed.
        """

        def text(key: str, default: str | None) -> str | None:
            value = data.get(key, default)
            if value is not None and not isinstance(value, str):
                raise OptionError(f"option '{key}' must be a string, got {type(value).__name__}")
            return value

        faces = text("faces", "largest")
        if faces not in get_args(FacePolicy):
            raise OptionError(f"faces '{faces}': give one of {', '.join(get_args(FacePolicy))}")
        return cls(
            hair=text("hair", HAIR_AUTO) or HAIR_AUTO,
            hair_color=text("hair_color", None),
            emotion=text("emotion", None),
            faces="error" if faces == "error" else "largest",
        )
