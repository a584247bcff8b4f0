"""Setting an emotion on a head: network output → :class:`HeadParams` (and → :class:`Avatar`).

Expression: the network's weights replace the head's expression (the emotion is absolute, not added to the
fitted expression). Pose: the network's neck and global rotations, relative to those of the emotion the head
already shows (``base``, e.g. the photo's detected emotion), rotate the head about a neck pivot::

    R_d = exp(g(s)) exp(n(s)) · (exp(g(b)) exp(n(b)))ᵀ
    X_cam = R (R_d (X − p) + p) + t   →   pose' = (R R_d,  t + R (p − R_d p))

so ``s = b`` leaves the pose unchanged. ``p`` = :func:`neck_pivot`.
"""

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from headcast.avatar import Avatar
from headcast.emotion.model import EmotionMLP, predict
from headcast.emotion.types import NEUTRAL, EmotionIntensities
from headcast.geometry.camera import HeadPose
from headcast.geometry.rotation import axis_angle_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import HeadParams, LinearHeadModel


@dataclass(frozen=True)
class EmotionSettings:
    """How an emotion is applied.

    Attributes:
        apply_pose: add the emotion's head-pose tendency (off: expression only).
        pivot_behind_chin: the neck pivot's distance behind the chin landmark, metres.
    """

    apply_pose: bool = True
    pivot_behind_chin: float = 0.07


def neck_pivot(head: LinearHeadModel, identity: NDArray[np.floating], settings: EmotionSettings) -> NDArray[np.float64]:
    """``(3,)`` model-frame point the head turns about: on the mid-plane, level with the chin, behind it (metres)."""
    from headcast.headmodel.base import blend_vertices

    chin = blend_vertices(head, identity, np.zeros(head.num_expressions), head.landmarks68[8:9])[0]
    return np.array([0.0, chin[1], chin[2] - settings.pivot_behind_chin])


def _tendency(model: EmotionMLP, emotion: EmotionIntensities, identity: NDArray[np.floating]) -> NDArray[np.float64]:
    out = predict(model, emotion, identity)
    return axis_angle_to_matrix(out.global_) @ axis_angle_to_matrix(out.neck)


def emotion_expression(model: EmotionMLP, emotion: EmotionIntensities, head: LinearHeadModel,
                       identity: NDArray[np.floating] | None = None) -> NDArray[np.float64]:
    """``(E,)`` weights in ``head.expression_names`` order (shapes the network does not output are 0)."""
    out = predict(model, emotion, identity)
    labels = next(b.labels for b in model.layout.blocks if b.name == "expression")
    weights = np.zeros(head.num_expressions)
    for name, w in zip(labels, out.expression, strict=True):
        if name in head.expression_names:
            weights[head.expression_index(name)] = w
    return weights


def apply_emotion(params: HeadParams, emotion: EmotionIntensities, model: EmotionMLP, head: LinearHeadModel,
                  base: EmotionIntensities = NEUTRAL, settings: EmotionSettings | None = None) -> HeadParams:
    """Head parameters showing ``emotion``.

    Args:
        params: the fitted (or any) head parameters; identity is kept.
        emotion: target intensities.
        model: the emotion network (``load_packaged_model()``).
        head: the head model (shape names, chin landmark).
        base: the emotion ``params.pose`` already shows (its pose tendency is taken out; see module docstring).
        settings: pose options.

    Returns:
        New parameters: expression from the network, pose rotated by the tendency difference.
    """
    settings = EmotionSettings() if settings is None else settings
    expression = emotion_expression(model, emotion, head, params.identity)
    pose = params.pose
    if settings.apply_pose:
        delta = _tendency(model, emotion, params.identity) @ _tendency(model, base, params.identity).T
        rot = axis_angle_to_matrix(pose.rotation)
        p = neck_pivot(head, params.identity, settings)
        pose = HeadPose(matrix_to_axis_angle(rot @ delta), np.asarray(pose.translation) + rot @ (p - delta @ p))
    return replace(params, expression=expression, pose=pose)


def with_params(avatar: Avatar, params: HeadParams) -> Avatar:
    """The avatar with new head parameters (photo, texture, camera and fitted landmarks unchanged)."""
    return replace(avatar, fit=replace(avatar.fit, params=params))


def avatar_with_emotion(avatar: Avatar, emotion: EmotionIntensities, model: EmotionMLP,
                        settings: EmotionSettings | None = None) -> Avatar:
    """The avatar showing ``emotion`` instead of the emotion detected on its photo (``NEUTRAL`` = ``--neutral``).

    The photo's own emotion (:func:`headcast.emotion.detect.estimate_emotion`) is the base of the pose tendency;
    the change is recorded in ``avatar.warnings`` so the user sees what was detected and what was set.
    """
    from headcast.emotion.detect import estimate_emotion

    detected = estimate_emotion(avatar.landmarks, avatar.model)
    params = apply_emotion(avatar.fit.params, emotion, model, avatar.model, base=detected, settings=settings)
    note = f"emotion detected on the photo: {detected}; set to: {emotion}"
    return replace(with_params(avatar, params), warnings=(*avatar.warnings, note))
