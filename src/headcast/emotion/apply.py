"""Setting an emotion on a head: network output → :class:`HeadParams` (and → :class:`Avatar`).

Expression: the person's resting face plus the emotion. The fitted expression holds both the emotion the photo
shows (``base``, detected from its blendshape scores) and the person's own resting face (mouth line, lids, brows);
the resting part is kept and the emotion's weights are added to it::

    resting = w_fit − net(b)
    w' = clip(resting · f + net(s), 0, 1),   f = 1 − min(1, k |a_r(s) − a_r(b)|)   per face region r of the shape

where ``a_r(x)`` = the largest of net(x)'s weights in region r (brows, eyes, lower face; gaze is never faded): the
emotion takes over the part of the face it changes, as far as it changes it from the photo's own emotion, and the
resting face stays elsewhere. (A smile does not keep the photo's pressed or puckered lips; it keeps the person's
brows. Removing a photographed smile also removes the part of it the detected intensity does not explain.)
``k`` = :data:`RESTING_FADE_GAIN` = 2: a change of half a region's range replaces its resting face — with 1, the
"neutral" of a photo with a broad laugh kept 40 % of the laugh (teeth showing; docs/emotion.md). So ``s = b`` —
zero sliders on a neutral photo — reproduces the fitted head exactly.
``EmotionSettings(keep_resting=False)`` puts the emotion on the model's mean face instead (``w' = net(s)``);
``fade_resting=False`` adds without fading (``f = 1``; docs/emotion.md compares the two).

Pose: the network's neck and global rotations, relative to those of ``base``, rotate the head about a neck pivot::

    R_d = exp(g(s)) exp(n(s)) · (exp(g(b)) exp(n(b)))ᵀ
    X_cam = R (R_d (X − p) + p) + t   →   pose' = (R R_d,  t + R (p − R_d p))

so ``s = b`` leaves the pose unchanged. ``p`` = :func:`neck_pivot`.
"""

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from headcast.avatar import Avatar
from headcast.emotion.model import EmotionMLP, predict
from headcast.emotion.types import NEUTRAL, EmotionIntensities, EmotionState
from headcast.geometry.camera import HeadPose
from headcast.geometry.rotation import axis_angle_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import HeadParams, LinearHeadModel


@dataclass(frozen=True)
class EmotionSettings:
    """How an emotion is applied.

    Attributes:
        apply_pose: add the emotion's head-pose tendency (off: expression only).
        pivot_behind_chin: the neck pivot's distance behind the chin landmark, metres.
        keep_resting: add the emotion to the person's resting face (fitted − net(base)); off: the emotion's
            weights alone, on the model's mean face.
        fade_resting: fade the resting face in the regions the emotion moves (module docstring); off: plain sum.
    """

    apply_pose: bool = True
    pivot_behind_chin: float = 0.07
    keep_resting: bool = True
    fade_resting: bool = True


RESTING_FADE_GAIN = 2.0
"""``k`` of the resting-face fade (module docstring); web/src/emotion.js uses the same number."""

FACE_REGIONS = ("brows", "eyes", "lower face")
"""Regions whose resting shapes fade together (:func:`face_region`)."""


def face_region(name: str) -> int:
    """Index into :data:`FACE_REGIONS` of a shape by its canonical (ARKit) name; -1: gaze and pupils (kept)."""
    if name.startswith(("eyeLook", "pupilDilate")):
        return -1
    if name.startswith("brow"):
        return 0
    if name.startswith("eye"):
        return 1
    return 2


def resting_fade(net_emotion: NDArray[np.floating], net_base: NDArray[np.floating],
                 regions: NDArray[np.integer]) -> NDArray[np.float64]:
    """``(E,)`` factor ``1 − min(1, k |a_r(s) − a_r(b)|)`` on each shape's resting weight (1 for region −1).

    Args:
        net_emotion: ``(E,)`` the network's weights for the emotion shown.
        net_base: ``(E,)`` the network's weights for the emotion the resting face was taken relative to.
        regions: ``(E,)`` :func:`face_region` of each shape.
    """
    fade = np.ones(len(regions))
    for r in range(len(FACE_REGIONS)):
        inside = regions == r
        if inside.any():
            change = abs(float(np.max(net_emotion[inside])) - float(np.max(net_base[inside])))
            fade[inside] = 1.0 - min(1.0, RESTING_FADE_GAIN * change)
    return fade


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
        if name in head.expression_names:  # the network's labels are the model's own shape names
            weights[head.expression_names.index(name)] = w
    return weights


def resting_expression(model: EmotionMLP, expression: NDArray[np.floating], base: EmotionIntensities,
                       head: LinearHeadModel, identity: NDArray[np.floating] | None = None) -> NDArray[np.float64]:
    """``(E,)`` the person's resting face: ``expression − net(base)``, unclipped (see the module docstring)."""
    return np.asarray(expression, dtype=np.float64) - emotion_expression(model, base, head, identity)


def expression_with_emotion(model: EmotionMLP, resting: NDArray[np.floating], emotion: EmotionIntensities,
                            head: LinearHeadModel, identity: NDArray[np.floating] | None = None,
                            base: EmotionIntensities = NEUTRAL, fade: bool = True) -> NDArray[np.float64]:
    """``(E,)`` ``clip(resting · f + net(emotion), 0, 1)``: the expression weights showing ``emotion``.

    ``resting`` is relative to ``base`` (:func:`resting_expression`); ``f`` = :func:`resting_fade` (1 without
    ``fade``).
    """
    net = emotion_expression(model, emotion, head, identity)
    rest = np.asarray(resting, dtype=np.float64)
    if fade:
        regions = np.array([face_region(n) for n in head.expression_arkit_names])
        rest = rest * resting_fade(net, emotion_expression(model, base, head, identity), regions)
    return np.clip(rest + net, 0.0, 1.0)


def posed_with_emotion(model: EmotionMLP, pose: HeadPose, emotion: EmotionIntensities, base: EmotionIntensities,
                       head: LinearHeadModel, identity: NDArray[np.floating],
                       settings: EmotionSettings) -> HeadPose:
    """``pose`` turned about the neck pivot by the tendency of ``emotion`` relative to that of ``base``."""
    if not settings.apply_pose:
        return pose
    delta = _tendency(model, emotion, identity) @ _tendency(model, base, identity).T
    rot = axis_angle_to_matrix(pose.rotation)
    p = neck_pivot(head, identity, settings)
    return HeadPose(matrix_to_axis_angle(rot @ delta), np.asarray(pose.translation) + rot @ (p - delta @ p))


def apply_emotion(params: HeadParams, emotion: EmotionIntensities, model: EmotionMLP, head: LinearHeadModel,
                  base: EmotionIntensities = NEUTRAL, settings: EmotionSettings | None = None) -> HeadParams:
    """Head parameters showing ``emotion``.

    Args:
        params: the fitted (or any) head parameters; identity is kept.
        emotion: target intensities.
        model: the emotion network (``load_packaged_model()``).
        head: the head model (shape names, chin landmark).
        base: the emotion ``params`` already show (e.g. the photo's detected emotion): its expression is taken out
            of ``params.expression`` to leave the resting face, and its pose tendency out of ``params.pose``.
        settings: resting face and pose options.

    Returns:
        New parameters: ``clip(resting · f + net(emotion), 0, 1)`` (or ``net(emotion)`` without the resting face),
        pose rotated by the tendency difference.
    """
    resting = resting_expression(model, params.expression, base, head, params.identity)
    return show_emotion(params, EmotionState(base, base, resting), emotion, model, head, settings)


def show_emotion(params: HeadParams, state: EmotionState, emotion: EmotionIntensities, model: EmotionMLP,
                 head: LinearHeadModel, settings: EmotionSettings | None = None) -> HeadParams:
    """``params`` — a head showing ``state.shown`` over ``state.resting`` — changed to show ``emotion``.

    The expression is ``clip(resting · f + net(emotion), 0, 1)`` with the fade relative to ``state.detected``
    (``net(emotion)`` alone without the resting face); the pose turns by the tendency of ``emotion`` relative to
    ``state.shown``. ``params.expression`` is not read.
    """
    settings = EmotionSettings() if settings is None else settings
    resting = state.resting if settings.keep_resting else np.zeros(head.num_expressions)
    expression = expression_with_emotion(model, resting, emotion, head, params.identity, state.detected,
                                         settings.fade_resting)
    pose = posed_with_emotion(model, params.pose, emotion, state.shown, head, params.identity, settings)
    return replace(params, expression=expression, pose=pose)


def with_params(avatar: Avatar, params: HeadParams) -> Avatar:
    """The avatar with new head parameters (photo, texture, camera and fitted landmarks unchanged)."""
    return replace(avatar, fit=replace(avatar.fit, params=params))


def emotion_state(avatar: Avatar, model: EmotionMLP) -> EmotionState:
    """The avatar's :class:`EmotionState`: its own, or (fitted head) the photo's detected emotion and resting face."""
    if avatar.emotion is not None:
        return avatar.emotion
    from headcast.emotion.detect import estimate_emotion

    detected = estimate_emotion(avatar.landmarks, avatar.model)
    params = avatar.fit.params
    resting = resting_expression(model, params.expression, detected, avatar.model, params.identity)
    return EmotionState(detected, detected, resting)


def with_emotion_state(avatar: Avatar, model: EmotionMLP) -> Avatar:
    """The avatar with its :class:`EmotionState` recorded (params.json carries it to the browser's sliders)."""
    return avatar if avatar.emotion is not None else replace(avatar, emotion=emotion_state(avatar, model))


def avatar_with_emotion(avatar: Avatar, emotion: EmotionIntensities, model: EmotionMLP,
                        settings: EmotionSettings | None = None) -> Avatar:
    """The avatar showing ``emotion`` instead of the emotion it shows now (``NEUTRAL`` = ``--neutral``).

    A fitted avatar shows the photo's own emotion (:func:`headcast.emotion.detect.estimate_emotion`); the emotion
    is added to the person's resting face and the head turns by the pose-tendency difference (module docstring).
    The change is recorded in ``avatar.warnings`` so the user sees what was detected and what was set.
    """
    settings = EmotionSettings() if settings is None else settings
    state = emotion_state(avatar, model)
    new = show_emotion(avatar.fit.params, state, emotion, model, avatar.model, settings)
    resting = state.resting if settings.keep_resting else np.zeros(avatar.model.num_expressions)
    note = f"emotion detected on the photo: {state.detected}; set to: {emotion}"
    return replace(with_params(avatar, new), warnings=(*avatar.warnings, note),
                   emotion=EmotionState(state.detected, emotion, resting))
