"""Settings of the landmark stage: photo decoding and the MediaPipe face landmarker."""

from dataclasses import dataclass
from typing import Literal

FacePolicy = Literal["largest", "error"]


@dataclass(frozen=True)
class PhotoSettings:
    """How a photo is decoded.

    Attributes:
        max_side: longer side, in pixels, above which the decoded image is downscaled (Lanczos) for processing.
        max_pixels: width × height above which the image is refused before decoding (decompression bombs).
        background: ``(r, g, b)`` 8-bit colour that transparent pixels are composited onto.
    """

    max_side: int = 2048
    max_pixels: int = 80_000_000
    background: tuple[int, int, int] = (255, 255, 255)


@dataclass(frozen=True)
class DetectorSettings:
    """How faces are found.

    Attributes:
        faces: with several faces, ``"largest"`` keeps the one with the largest landmark box, ``"error"`` raises
            :class:`headcast.errors.MultipleFacesError`.
        max_faces: at most this many faces are detected per image (or per crop in the tiled search).
        min_detection_confidence: MediaPipe face-detector score threshold.
        min_presence_confidence: MediaPipe landmark presence threshold.
        tile_search: when the whole image yields no face, search overlapping crops scaled up (small faces).
        tile_fractions: crop side as fractions of the image's shorter side, largest first.
        tile_overlap: overlap of neighbouring crops, as a fraction of the crop side (0 ≤ overlap < 1).
        tile_size: the side, in pixels, each crop is resized to before detection.
        duplicate_iou: two detections whose boxes overlap more than this (intersection over union) are one face.
    """

    faces: FacePolicy = "largest"
    max_faces: int = 5
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    tile_search: bool = True
    tile_fractions: tuple[float, ...] = (0.5, 0.3)
    tile_overlap: float = 0.5
    tile_size: int = 512
    duplicate_iou: float = 0.3
