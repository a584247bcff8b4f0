"""The finished avatar: everything the exporters and renderers need, passed between stages as one value."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from headcast.fitting.types import FitResult, OutlineReport, RefineReport
from headcast.hair.types import Strands
from headcast.headmodel.base import LinearHeadModel
from headcast.landmarks.types import Landmarks, Photo
from headcast.texture.types import UVTexture

if TYPE_CHECKING:
    from headcast.emotion.types import EmotionState
    from headcast.hair.stage import HairResult


@dataclass(frozen=True, eq=False)
class Avatar:
    """One reconstructed head.

    Attributes:
        photo: the input photo as processed.
        landmarks: detector output for the chosen face.
        fit: fitted identity, expression, pose and camera.
        texture: UV texture atlas.
        model: the head model used.
        timings: wall seconds per stage (``detect``, ``fit``, ``texture``, ``export``, ...).
        warnings: remarks for the user (several faces found, image downscaled, ...).
        hair: strand hair in the model frame (None: no hair / hair off).
        hair_report: the hair stage's outcome (style, IoU, timings) when it ran.
        emotion: the photo's detected emotion, the one shown and the resting face (set by
            :func:`headcast.emotion.apply.with_emotion_state`; None until then).
        parsing: ``(H, W)`` uint8 face-parsing classes of ``photo`` (``headcast.parsing.FaceClass``) when they were
            computed (texture occlusion, hair); None without face parsing.
        refine: what the skull-outline refinement of the fit did (:mod:`headcast.fitting.refine`); None when it
            did not run (an avatar rebuilt from files).
        outline: what the outline warp did (:mod:`headcast.fitting.outline`; the warp itself is in
            ``fit.params.warp``); None when it did not run.
    """

    photo: Photo
    landmarks: Landmarks
    fit: FitResult
    texture: UVTexture
    model: LinearHeadModel
    timings: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    hair: Strands | None = None
    hair_report: "HairResult | None" = None
    emotion: "EmotionState | None" = None
    parsing: "NDArray[np.uint8] | None" = None
    refine: RefineReport | None = None
    outline: OutlineReport | None = None
