"""MediaPipe blendshape scores → the head model's expression weights.

Both use ARKit's 52 names; MediaPipe spells sides ``browDownLeft``, ICT FaceKit ``browDown_L``. MediaPipe's
"Left" is the subject's own left (checked on photos: squashing the eye on the image's right, the subject's left
eye, raises ``eyeBlinkLeft``), which is ICT's ``_L`` (+x, the head's left; ``eyeBlink_L`` moves the +x eyelid).
Rules, in order:

1. ``_neutral`` is ignored;
2. a name the model has as is (``jawOpen``, ``jawLeft``, ``mouthFunnel``, ...) maps to itself
   (``jawLeft``/``mouthLeft`` are directions — towards the subject's left — not sides);
3. ``<base>Left`` / ``<base>Right`` map to ``<base>_L`` / ``<base>_R``;
4. a name with no side whose model shape is split in two (``browInnerUp``, ``cheekPuff``) drives both halves.

Model shapes without a MediaPipe score (``cheekRaiser_*``, ``PupilDilate_*``) start at 0.
"""

import numpy as np
from numpy.typing import NDArray

from headcast.headmodel.base import LinearHeadModel

IGNORED = ("_neutral",)


def mediapipe_to_model_names(mp_name: str, model_names: tuple[str, ...]) -> tuple[str, ...]:
    """The model shapes a MediaPipe blendshape drives (empty when none); see the module rules."""
    if mp_name in IGNORED:
        return ()
    if mp_name in model_names:
        return (mp_name,)
    for suffix, side in (("Left", "_L"), ("Right", "_R")):
        if mp_name.endswith(suffix) and mp_name[: -len(suffix)] + side in model_names:
            return (mp_name[: -len(suffix)] + side,)
    both = (mp_name + "_L", mp_name + "_R")
    if all(n in model_names for n in both):
        return both
    return ()


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
        for target in mediapipe_to_model_names(name, model.expression_names):
            out[model.expression_index(target)] = score
    return np.clip(out, 0.0, 1.0)
