"""Setting an emotion on a FLAME head: the FLAME network's output → :class:`HeadParams`.

A FLAME head in the pipeline is a skinned ``LinearHeadModel`` named ``"flame"`` with ``expression_kind =
"coefficients"``: its expression vector is ψ (the first components), ``joint_rotations`` ``(5, 3)`` are FLAME's θ in
joint order global, neck, jaw, eye_left, eye_right (each relative to its parent; ``(0, 3)`` = all at rest), and the
head pose (model → camera) is ``HeadParams.pose``. The network (:mod:`headcast.emotion.flame_net`) gives, for
intensities ``s``, ψ changes ``e(s)`` (50), a global tendency ``g(s)`` and a jaw change ``j(s)`` (axis-angle, rad),
all zero at ``s = 0``. Relative to the emotion ``b`` the parameters already show (default none)::

    ψ'       = ψ + e(s) − e(b)                                  (first min(E, 50) components)
    R_jaw'   = R_jaw · exp(j(b))ᵀ · exp(j(s))                    (in the jaw's own frame, as the targets)
    R_glob'  = R_glob · exp(g(b))ᵀ · exp(g(s))                   (FLAME's global joint: the thesis' θ_global)

ψ is additive: FLAME's expression space is linear and unbounded, so there is no clamp and no resting-face fade as
on ICT's [0, 1] weights — the person's own ψ is kept and the emotion's change added. The head tendency turns the
head about FLAME's root joint (FLAME's own θ_global, which ``flame_params.json`` then carries), not about
``apply.neck_pivot``; ``HeadParams.pose`` is unchanged. ``s = b`` returns ``params`` itself.
"""

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from headcast.emotion.model import EmotionMLP, mlp_forward
from headcast.emotion.types import NEUTRAL, EmotionIntensities
from headcast.geometry.rotation import axis_angle_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import HeadParams
from headcast.headmodel.flame import FLAME_JOINT_NAMES


@dataclass(frozen=True)
class FlameEmotionOutput:
    """The FLAME network's output for one emotion (changes relative to no emotion).

    Attributes:
        expression: ``(E,)`` ψ change, FLAME's units (σ).
        global_: ``(3,)`` head tendency on FLAME's global joint, axis-angle radians.
        jaw: ``(3,)`` jaw rotation change in the jaw's own frame, axis-angle radians.
    """

    expression: NDArray[np.float64]
    global_: NDArray[np.float64]
    jaw: NDArray[np.float64]


def flame_emotion(net: EmotionMLP, emotion: EmotionIntensities) -> FlameEmotionOutput:
    """ψ (50) + global (3) + jaw (3) for ``emotion`` (all zero for no emotion).

    Raises:
        ValueError: ``net`` is not a FLAME network (blocks ``expression``, ``global``, ``jaw``).
    """
    sl = net.layout.slices()
    if set(sl) != {"expression", "global", "jaw"}:
        raise ValueError(f"not a FLAME emotion network: output blocks {sorted(sl)}")
    out = mlp_forward(net, emotion.as_array())
    return FlameEmotionOutput(out[sl["expression"]], out[sl["global"]], out[sl["jaw"]])


def _turned(rotation: NDArray[np.floating], shown: NDArray[np.floating],
            base: NDArray[np.floating]) -> NDArray[np.float64]:
    """``log(exp(rotation) · exp(base)ᵀ · exp(shown))``, axis-angle radians (``base`` taken off, ``shown`` put on)."""
    delta = axis_angle_to_matrix(base).T @ axis_angle_to_matrix(shown)
    return matrix_to_axis_angle(axis_angle_to_matrix(rotation) @ delta)


def flame_params_with_emotion(params: HeadParams, emotion: EmotionIntensities, net: EmotionMLP, *,
                              base: EmotionIntensities = NEUTRAL, apply_pose: bool = True) -> HeadParams:
    """FLAME head parameters showing ``emotion`` instead of ``base`` (module docstring).

    Args:
        params: a FLAME head's parameters: ``expression`` ψ ``(E,)``, ``joint_rotations`` ``(5, 3)`` or ``(0, 3)``
            (rest); identity and ``pose`` are kept.
        emotion: the intensities to show.
        net: the FLAME network (:func:`headcast.emotion.flame_net.load_or_train_flame_emotion`).
        base: the emotion ``params`` already show (its change is taken out); default none.
        apply_pose: add the head tendency on the global joint (off: ψ and jaw only).

    Returns:
        New parameters; ``params`` itself when ``emotion`` equals ``base`` (no emotion → unchanged).
    """
    if np.array_equal(emotion.as_array(), base.as_array()):
        return params
    shown, before = flame_emotion(net, emotion), flame_emotion(net, base)
    psi = np.array(params.expression, dtype=np.float64)
    k = min(len(psi), len(shown.expression))
    psi[:k] += shown.expression[:k] - before.expression[:k]
    joints = np.asarray(params.joint_rotations, dtype=np.float64)
    if joints.size == 0:
        joints = np.zeros((len(FLAME_JOINT_NAMES), 3))
    if joints.shape != (len(FLAME_JOINT_NAMES), 3):
        raise ValueError(f"joint_rotations must be (5, 3) in FLAME's joint order or (0, 3), got {joints.shape}")
    joints = joints.copy()
    jaw = FLAME_JOINT_NAMES.index("jaw")
    joints[jaw] = _turned(joints[jaw], shown.jaw, before.jaw)
    if apply_pose:
        root = FLAME_JOINT_NAMES.index("global")
        joints[root] = _turned(joints[root], shown.global_, before.global_)
    return replace(params, expression=psi, joint_rotations=joints)
