"""Data passed from the landmark stage to the fitting and texture stages."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, eq=False)
class Photo:
    """A decoded portrait.

    Attributes:
        pixels: ``(H, W, 3)`` uint8 sRGB, EXIF orientation applied, after any downscale of a huge image.
        source: the file it came from (None for in-memory images).
        original_size: ``(width, height)`` of the decoded image before downscaling.
        scale: ``pixels`` size / original size (1.0 unless downscaled).
        notes: human-readable remarks made while loading (e.g. "converted from CMYK").
    """

    pixels: NDArray[np.uint8]
    source: Path | None = None
    original_size: tuple[int, int] = (0, 0)
    scale: float = 1.0
    notes: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        """Width in pixels."""
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        """Height in pixels."""
        return int(self.pixels.shape[0])


@dataclass(frozen=True, eq=False)
class Landmarks:
    """MediaPipe FaceLandmarker output for one face, in the photo's pixel frame.

    Attributes:
        points: ``(478, 3)`` float64: x, y in pixels of ``Photo.pixels`` (top-left origin, docs/conventions.md);
            z is MediaPipe's relative depth scaled by the image width (pixels, smaller = nearer the camera).
        blendshapes: ``(52,)`` float64 scores in [0, 1], order of ``blendshape_names``.
        blendshape_names: MediaPipe's 52 category names (``"_neutral"``, ``"browDownLeft"``, ...).
        transform: ``(4, 4)`` MediaPipe facial transformation matrix (canonical face → MediaPipe camera, cm).
        image_size: ``(width, height)`` of the image the points refer to.
        num_faces: how many faces the detector found (this one is the largest).
        box: ``(4,)`` x0, y0, x1, y1 pixel box around the 478 points.
    """

    points: NDArray[np.float64]
    blendshapes: NDArray[np.float64]
    blendshape_names: tuple[str, ...]
    transform: NDArray[np.float64]
    image_size: tuple[int, int]
    num_faces: int
    box: NDArray[np.float64]

    def blendshape_dict(self) -> dict[str, float]:
        """``{MediaPipe name: score}``."""
        return {n: float(s) for n, s in zip(self.blendshape_names, self.blendshapes, strict=True)}
