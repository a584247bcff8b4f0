"""MediaPipe blendshape scores → the head model's expression weights.

MediaPipe's categories are ARKit's blendshape names (``eyeBlinkLeft``, ``jawOpen``, ...; "Left" is the subject's own
left, checked on photos: squashing the eye on the image's right, the subject's left eye, raises ``eyeBlinkLeft``),
the canonical names the head model answers to (``headmodel.base.ARKIT_EXPRESSIONS``). Rules:

1. ``_neutral`` is ignored;
2. a name drives the shapes ``model.expression_ids`` gives for it: its own shape, or both halves of a shape the
   model splits in two (``browInnerUp``, ``cheekPuff``); ``jawLeft``/``mouthLeft`` are directions, not sides;
3. a name the model lacks drives nothing.

Model shapes without a MediaPipe score (cheek raisers, pupil dilation) start at 0.
"""

import numpy as np
from numpy.typing import NDArray

from headcast.headmodel.base import LinearHeadModel

IGNORED = ("_neutral",)


def mediapipe_to_model_ids(mp_name: str, model: LinearHeadModel) -> tuple[int, ...]:
    """Indices of the model shapes a MediaPipe blendshape drives (empty when none); see the module rules."""
    if mp_name in IGNORED or not model.has_expression(mp_name):
        return ()
    return model.expression_ids(mp_name)


def expression_from_mediapipe(
    names: tuple[str, ...], scores: NDArray[np.floating], model: LinearHeadModel
) -> NDArray[np.float64]:
    """Initial expression weights from MediaPipe's blendshape scores.

    Args:
        names: MediaPipe category names (``Landmarks.blendshape_names``).
        scores: ``(len(names),)`` scores in [0, 1].
        model: the head model (its ``expression_names`` order is used).

    Returns:
        ``(E,)`` weights in [0, 1]; shapes no score maps to are 0.
    """
    out = np.zeros(model.num_expressions)
    for name, score in zip(names, np.asarray(scores, dtype=np.float64), strict=True):
        for target in mediapipe_to_model_ids(name, model):
            out[target] = score
    return np.clip(out, 0.0, 1.0)
