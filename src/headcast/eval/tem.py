"""Manual landmark annotations in WebMorph/Psychomorph ``.tem`` files, and the points we compare them with.

Format (the Face Research Lab London Set's 189-point template): the first line is the point count ``N``; the next
``N`` lines hold ``x y`` (pixels of the photo, top-left origin, whitespace- or tab-separated); line data follows
(the number of lines, then per line a flag, a length and the point ids) and is not needed here.

Compared points (EVALUATION.md) and the MediaPipe landmarks of ours that match them (checked on
``london_003_neutral``: every pair lies within a few pixels on a 1350² photo):

=====================  ========  =====================================================
point                  ``.tem``  MediaPipe index (478-point FaceLandmarker)
=====================  ========  =====================================================
pupil, image left      0         mean of iris 468–472 (the subject's right eye)
pupil, image right     1         mean of iris 473–477 (the subject's left eye)
outer eye corner, l.   18        33
outer eye corner, r.   27        263
inner eye corner, l.   22        133
inner eye corner, r.   23        362
mouth corner, left     87        61
mouth corner, right    93        291
subnasale              55        2 (the nose's bottom point where it meets the upper lip)
=====================  ========  =====================================================

NME against the annotation = mean point distance / the annotation's inter-pupil distance (points 0 and 1).
"""

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

TEM_IDS: tuple[int, ...] = (0, 1, 18, 27, 22, 23, 87, 93, 55)
"""``.tem`` point ids compared, in the order of :data:`MEDIAPIPE_IDS`."""

MEDIAPIPE_IDS: tuple[int | tuple[int, ...], ...] = (
    (468, 469, 470, 471, 472),
    (473, 474, 475, 476, 477),
    33,
    263,
    133,
    362,
    61,
    291,
    2,
)
"""MediaPipe ids matching :data:`TEM_IDS`; a tuple is averaged (the iris centre = the pupil)."""

TEM_POINT_NAMES: tuple[str, ...] = (
    "pupil_image_left",
    "pupil_image_right",
    "outer_eye_image_left",
    "outer_eye_image_right",
    "inner_eye_image_left",
    "inner_eye_image_right",
    "mouth_corner_image_left",
    "mouth_corner_image_right",
    "subnasale",
)


class TemFormatError(ValueError):
    """A ``.tem`` file does not start with a point count followed by that many ``x y`` lines."""


def parse_tem(text: str) -> NDArray[np.float64]:
    r"""The points of a ``.tem`` file's text.

    Args:
        text: the file's contents.

    Returns:
        ``(N, 2)`` float64 pixel coordinates ``(x, y)``, N = the count on the first line.

    Raises:
        TemFormatError: the count or a point line is missing or malformed.

    Example:
        >>> parse_tem("2\n1 2\n3.5\t4\n1\n0\n2\n0 1\n").tolist()
        [[1.0, 2.0], [3.5, 4.0]]
    """
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise TemFormatError("empty .tem file")
    try:
        count = int(lines[0])
    except ValueError:
        raise TemFormatError(f"first line must be the point count, got {lines[0]!r}") from None
    if count < 0 or len(lines) < 1 + count:
        raise TemFormatError(f".tem file announces {count} points but has {len(lines) - 1} more lines")
    points = np.empty((count, 2), dtype=np.float64)
    for i, ln in enumerate(lines[1 : 1 + count]):
        fields = ln.split()
        if len(fields) != 2:
            raise TemFormatError(f"point {i}: expected 'x y', got {ln!r}")
        try:
            points[i] = float(fields[0]), float(fields[1])
        except ValueError:
            raise TemFormatError(f"point {i}: not numbers: {ln!r}") from None
    return points


def read_tem(path: Path | str) -> NDArray[np.float64]:
    """``(N, 2)`` pixel points of a ``.tem`` file (see :func:`parse_tem`)."""
    return parse_tem(Path(path).read_text(encoding="utf-8", errors="replace"))


def tem_for_photo(photo: Path) -> Path | None:
    """The ``.tem`` file beside a photo (same stem), or None."""
    candidate = photo.with_suffix(".tem")
    return candidate if candidate.is_file() else None


def tem_reference_points(tem_points: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(9, 2)`` the compared annotation points (:data:`TEM_IDS` order) of an ``(N ≥ 94, 2)`` ``.tem`` array."""
    pts = np.asarray(tem_points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] <= max(TEM_IDS):
        raise ValueError(f"expected (N >= {max(TEM_IDS) + 1}, 2) .tem points, got {pts.shape}")
    return pts[list(TEM_IDS)]


def mediapipe_tem_points(points: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(9, 2)`` our points matching :data:`TEM_IDS` from ``(478, 2+)`` MediaPipe-indexed pixel points."""
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    if pts.shape[0] != 478:
        raise ValueError(f"expected 478 MediaPipe points, got {pts.shape[0]}")
    out = [pts[list(ids)].mean(axis=0) if isinstance(ids, tuple) else pts[ids] for ids in MEDIAPIPE_IDS]
    return np.stack(out)


def nme_vs_tem(pred: NDArray[np.floating], reference: NDArray[np.floating]) -> float:
    """Mean distance of ``(9, 2)`` predicted points to ``(9, 2)`` reference points over the inter-pupil distance.

    Both in :data:`TEM_IDS` order (points 0 and 1 are the pupils); dimensionless; ``inf`` if the pupils coincide.
    """
    p = np.asarray(pred, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    if p.shape != r.shape or p.shape != (len(TEM_IDS), 2):
        raise ValueError(f"expected two ({len(TEM_IDS)}, 2) arrays, got {p.shape} and {r.shape}")
    ipd = float(np.linalg.norm(r[0] - r[1]))
    if ipd == 0.0:
        return float("inf")
    return float(np.mean(np.linalg.norm(p - r, axis=1)) / ipd)
