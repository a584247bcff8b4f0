"""MediaPipe FaceLandmarker adapter: 478 landmarks, 52 blendshape scores and a head transform per face.

Convention:
    MediaPipe returns x, y normalised by the image width and height and z normalised by the width. This adapter
    converts them to pixels of ``Photo.pixels`` (``x·W``, ``y·H``, ``z·W``; top-left corner origin, so the centre of
    pixel (i, j) is (i + 0.5, j + 0.5) as in docs/conventions.md). It is the only place that knows MediaPipe's units.

Small faces: MediaPipe's face detector (BlazeFace, short range) misses faces that are small in the frame. When the
whole image yields nothing, the search retries on the image padded by a border (faces that fill the frame), then on
overlapping square crops (sides ``DetectorSettings.tile_fractions`` of the shorter image side, resized to
``tile_size`` pixels), and maps the points back. Detections of one face in several crops are merged by box overlap.
The search visits crops in a fixed order, so it is deterministic.

MediaPipe is imported with this module, not lazily inside a function: its first import keeps a traceback whose
frames would pin the calling frame (and a detector under construction) in memory.
"""

import os
import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions, vision
from numpy.typing import NDArray
from PIL import Image

from headcast.assets import AssetSettings, resolve_asset
from headcast.errors import MultipleFacesError, NoFaceError
from headcast.landmarks.settings import DetectorSettings
from headcast.landmarks.types import Landmarks, Photo

NUM_LANDMARKS = 478
NUM_BLENDSHAPES = 52


@dataclass(frozen=True, eq=False)
class Detection:
    """One face found by the landmarker, already mapped to photo pixels.

    Attributes:
        points: ``(478, 3)`` x, y, z in photo pixels (z: MediaPipe relative depth × crop width, in photo pixels).
        blendshapes: ``(52,)`` scores in [0, 1].
        blendshape_names: MediaPipe's category names in index order.
        transform: ``(4, 4)`` facial transformation matrix (for a crop: relative to the crop's virtual camera).
    """

    points: NDArray[np.float64]
    blendshapes: NDArray[np.float64]
    blendshape_names: tuple[str, ...]
    transform: NDArray[np.float64]

    @property
    def box(self) -> NDArray[np.float64]:
        """``(4,)`` x0, y0, x1, y1 pixel box around the points."""
        xy = self.points[:, :2]
        return np.concatenate([xy.min(axis=0), xy.max(axis=0)])


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null while MediaPipe's C++ side starts up.

    Its glog/TFLite start-up notes ("Created TensorFlow Lite XNNPACK delegate", feedback-tensor warnings) go to
    the process's stderr directly and would clutter the command line; errors still surface as Python exceptions.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class FaceDetector:
    """A MediaPipe FaceLandmarker in IMAGE mode, created once and reused for many photos.

    Close it with :meth:`close` or use it as a context manager; it is also closed when garbage-collected. One still
    open at interpreter exit cannot be closed any more (MediaPipe's worker threads stop first) and MediaPipe then
    prints a harmless exception, so close it.

    Args:
        settings: ``max_faces`` and the confidence thresholds are fixed when the landmarker is created.
        assets: where to find ``face_landmarker.task``.
    """

    def __init__(self, settings: DetectorSettings, assets: AssetSettings | None = None) -> None:
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(resolve_asset("face_landmarker", assets))),
            running_mode=vision.RunningMode.IMAGE,
            num_faces=settings.max_faces,
            min_face_detection_confidence=settings.min_detection_confidence,
            min_face_presence_confidence=settings.min_presence_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self.settings = settings
        with _native_stderr_silenced():
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self._warm = False
        self._finalizer = weakref.finalize(self, self._landmarker.close)
        # At interpreter exit MediaPipe's dispatcher threads are already gone, so a late close cannot succeed.
        self._finalizer.atexit = False

    def close(self) -> None:
        """Release the landmarker (idempotent)."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return not self._finalizer.alive

    def __enter__(self) -> "FaceDetector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def detect_array(self, rgb: NDArray[np.uint8]) -> list[Detection]:
        """Run the landmarker on one ``(H, W, 3)`` uint8 RGB array; points in that array's pixels."""
        if self.closed:
            raise RuntimeError("FaceDetector is closed")
        height, width = rgb.shape[:2]
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb, dtype=np.uint8))
        if self._warm:
            result = self._landmarker.detect(image)
        else:  # the first inference logs TFLite delegate notes from native code
            with _native_stderr_silenced():
                result = self._landmarker.detect(image)
            self._warm = True
        out = []
        for k, face in enumerate(result.face_landmarks):
            pts = np.array([[p.x * width, p.y * height, p.z * width] for p in face], dtype=np.float64)
            cats = sorted(result.face_blendshapes[k], key=lambda c: c.index) if result.face_blendshapes else []
            scores = np.array([c.score for c in cats], dtype=np.float64)
            names = tuple(str(c.category_name) for c in cats)
            mats = result.facial_transformation_matrixes
            transform = np.asarray(mats[k], dtype=np.float64) if mats else np.eye(4)
            out.append(Detection(pts, scores, names, transform))
        return out


def detect_landmarks(photo: Photo, detector: FaceDetector, settings: DetectorSettings) -> Landmarks:
    """Find the face in a photo and return its landmarks in ``Photo.pixels`` coordinates.

    Args:
        photo: decoded photo.
        detector: an open :class:`FaceDetector`.
        settings: face policy and the small-face search (the landmarker's own options come from
            ``detector.settings``).

    Returns:
        the largest face (by landmark box area), with ``num_faces`` = how many faces were found.

    Raises:
        NoFaceError: no face anywhere in the photo.
        MultipleFacesError: several faces and ``settings.faces == "error"``.
    """
    faces = find_faces(photo.pixels, detector, settings)
    if not faces:
        raise NoFaceError(
            f"No face was found in the photo ({photo.width}×{photo.height} pixels). Use a photo where one face "
            "is clearly visible, roughly frontal, not covered, and at least ~60 pixels across."
        )
    if len(faces) > 1 and settings.faces == "error":
        raise MultipleFacesError(
            f"{len(faces)} faces were found in the photo; crop it to one face, or allow several faces "
            "(the largest is then used)."
        )
    best = max(faces, key=lambda d: _area(d.box))
    return Landmarks(
        points=best.points,
        blendshapes=best.blendshapes,
        blendshape_names=best.blendshape_names,
        transform=best.transform,
        image_size=(photo.width, photo.height),
        num_faces=len(faces),
        box=best.box,
    )


def find_faces(rgb: NDArray[np.uint8], detector: FaceDetector, settings: DetectorSettings) -> list[Detection]:
    """All distinct faces in an ``(H, W, 3)`` image: whole image first, then the padded and tiled searches."""
    faces = detector.detect_array(rgb)
    if faces or not settings.tile_search:
        return faces
    height, width = rgb.shape[:2]
    pad = max(height, width) // 4
    padded = np.pad(rgb, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    faces = [_shift(d, -pad, -pad, 1.0) for d in detector.detect_array(padded)]
    if faces:
        return faces
    for fraction in settings.tile_fractions:
        found: list[tuple[Detection, float]] = []
        for x0, y0, side in tile_grid(width, height, fraction, settings.tile_overlap):
            crop = rgb[y0 : y0 + side, x0 : x0 + side]
            zoom = settings.tile_size / side
            resized = np.asarray(
                Image.fromarray(crop).resize((settings.tile_size, settings.tile_size), Image.Resampling.BICUBIC)
            )
            for det in detector.detect_array(resized):
                mapped = _shift(det, x0, y0, 1.0 / zoom)
                margin = _margin(mapped.box, (x0, y0, x0 + side, y0 + side), (width, height))
                if margin > -0.05:
                    found.append((mapped, margin))
        if found:
            return merge_duplicates(found, settings.duplicate_iou)
    return []


def tile_grid(width: int, height: int, fraction: float, overlap: float) -> list[tuple[int, int, int]]:
    """Square crops ``(x0, y0, side)`` covering a ``width`` × ``height`` image, row-major from the top-left.

    The side is ``fraction`` × the shorter image side; neighbours overlap by ``overlap`` × side and the last
    row/column is aligned with the image edge.
    """
    side = max(16, round(min(width, height) * fraction))
    step = max(1, round(side * (1.0 - overlap)))

    def starts(n: int) -> list[int]:
        if n <= side:
            return [0]
        s = list(range(0, n - side, step))
        return [*s, n - side]

    return [(x, y, side) for y in starts(height) for x in starts(width)]


def merge_duplicates(found: list[tuple[Detection, float]], iou_threshold: float) -> list[Detection]:
    """Keep one detection per face: the one best inside its crop (largest margin) among overlapping boxes."""
    order = sorted(range(len(found)), key=lambda i: -found[i][1])
    kept: list[Detection] = []
    for i in order:
        det = found[i][0]
        if all(box_iou(det.box, k.box) <= iou_threshold for k in kept):
            kept.append(det)
    return kept


def box_iou(a: NDArray[np.floating], b: NDArray[np.floating]) -> float:
    """Intersection over union of two ``(4,)`` x0, y0, x1, y1 boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = _area(a) + _area(b) - inter
    return float(inter / union) if union > 0 else 0.0


def _area(box: NDArray[np.floating]) -> float:
    return float(max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1]))


def _shift(det: Detection, x0: float, y0: float, scale: float) -> Detection:
    """Map points from a crop (offset ``x0, y0``, resized by ``1/scale``) back to the image's pixels."""
    pts = det.points * scale
    pts[:, 0] += x0
    pts[:, 1] += y0
    return Detection(pts, det.blendshapes, det.blendshape_names, det.transform)


def _margin(box: NDArray[np.floating], crop: tuple[int, int, int, int], size: tuple[int, int]) -> float:
    """Smallest distance from the box to a crop edge that is not an image edge, in units of the box size."""
    scale = max(box[2] - box[0], box[3] - box[1], 1e-9)
    gaps = []
    if crop[0] > 0:
        gaps.append(box[0] - crop[0])
    if crop[1] > 0:
        gaps.append(box[1] - crop[1])
    if crop[2] < size[0]:
        gaps.append(crop[2] - box[2])
    if crop[3] < size[1]:
        gaps.append(crop[3] - box[3])
    return float(min(gaps) / scale) if gaps else 1.0
