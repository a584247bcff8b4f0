"""Detection and fit of a portrait, cached as a pickle between runs of the hair scripts (bench_hair.py, hair_iou.py).

The pickles are our own cache files, read back only from the folder the user names with ``--cache``.
"""

import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headcast.pipeline import Pipeline



def cached_fit(pipe: "Pipeline", photo: Path, path: Path | None, parse: bool = False) -> tuple[Any, ...]:
    """``(pixels, fit)``, or ``(pixels, fit, face-parsing classes)`` with ``parse``; read from / written to ``path``.

    Args:
        pipe: the loaded composition (its ``reconstruct`` step and face parser).
        photo: the portrait.
        path: the cache file; None computes without caching.
        parse: also run BiSeNet face parsing (hair masks).
    """
    if path is not None and path.exists():
        with path.open("rb") as f:
            return tuple(pickle.load(f))  # our own cache file
    avatar = pipe.reconstruct(photo)
    pixels, fit = avatar.photo.pixels, avatar.fit
    out: tuple[Any, ...] = (pixels, fit, pipe.parse_face(pixels)) if parse else (pixels, fit)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            pickle.dump(out, f)
    return out
