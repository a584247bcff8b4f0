"""Emotion sliders: seven basic emotions → ICT expression weights and head-pose tendencies (see DESIGN.md).

Public API::

    parse_emotion("happiness=0.8,surprise=0.3") -> EmotionIntensities
    load_packaged_model("base" | "identity") -> EmotionMLP
    apply_emotion(params, emotion, model, head, base=...) -> HeadParams   (resting face + emotion)
    avatar_with_emotion(avatar, emotion, model) -> Avatar
    estimate_emotion(landmarks, head) -> EmotionIntensities

FLAME heads (not imported here: the fits pull in scipy.optimize)::

    headcast.emotion.flame_net.load_or_train_flame_emotion(flame, sha256, ict, corr) -> EmotionMLP
    headcast.emotion.flame_apply.flame_params_with_emotion(params, emotion, net) -> HeadParams
"""

from headcast.emotion.apply import (
    EmotionSettings,
    apply_emotion,
    avatar_with_emotion,
    emotion_expression,
    emotion_state,
    show_emotion,
    with_emotion_state,
    with_params,
)
from headcast.emotion.detect import DetectSettings, estimate_emotion
from headcast.emotion.model import EmotionMLP, load_model, load_packaged_model, mlp_forward, predict
from headcast.emotion.types import (
    EMOTIONS,
    NEUTRAL,
    Emotion,
    EmotionIntensities,
    EmotionSpecError,
    EmotionState,
    parse_emotion,
)

__all__ = [
    "EMOTIONS",
    "NEUTRAL",
    "DetectSettings",
    "Emotion",
    "EmotionIntensities",
    "EmotionMLP",
    "EmotionSettings",
    "EmotionSpecError",
    "EmotionState",
    "apply_emotion",
    "avatar_with_emotion",
    "emotion_expression",
    "emotion_state",
    "estimate_emotion",
    "load_model",
    "load_packaged_model",
    "mlp_forward",
    "parse_emotion",
    "predict",
    "show_emotion",
    "with_emotion_state",
    "with_params",
]
