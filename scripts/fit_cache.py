"""Detection and fit of a portrait, cached as a pickle between runs of the hair scripts (bench_hair.py, hair_iou.py).

The pickles are our own cache files, read back only from the folder the user names with ``--cache``.
"""

import pickle
from pathlib import Path
from typing import Any

from headcast.fitting.fit import fit_head
from headcast.geometry.camera import camera_from_fov
from headcast.landmarks.detector import detect_landmarks
from headcast.landmarks.image_io import load_photo


def cached_fit(pipe: Any, photo: Path, path: Path | None, parse: bool = False) -> tuple[Any, ...]:
    """``(pixels, fit)``, or ``(pixels, fit, face-parsing classes)`` with ``parse``; read from / written to ``path``.

    Args:
        pipe: a loaded ``headcast.pipeline.Pipeline`` (its settings, detector, model, correspondence, parser).
        photo: the portrait.
        path: the cache file; None computes without caching.
        parse: also run BiSeNet face parsing (hair masks).
    """
    if path is not None and path.exists():
        with path.open("rb") as f:
            return tuple(pickle.load(f))  # our own cache file
    s = pipe.settings
    img = load_photo(photo, s.photo)
    landmarks = detect_landmarks(img, pipe.detector, s.detector)
    camera = camera_from_fov(img.width, img.height, s.fit.fov_deg)
    fit = fit_head(landmarks, pipe.model, camera, s.fit, pipe.correspondence)
    out: tuple[Any, ...] = (img.pixels, fit, pipe.parse_face(img.pixels)) if parse else (img.pixels, fit)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            pickle.dump(out, f)
    return out
