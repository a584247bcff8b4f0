"""Helpers shared by the test folders: fixture-photo loading and skips for files outside the base install."""

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image


def load_rgb(path: Path, size: tuple[int, int] | None = None) -> NDArray[np.uint8]:
    """A fixture photo as ``(H, W, 3)`` uint8 RGB, optionally resized (PIL bilinear) to ``size = (W, H)``."""
    im = Image.open(path).convert("RGB")
    if size is not None:
        im = im.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.uint8).copy()


def require_weights(key: str) -> None:
    """Skip unless the weight file ``key`` is in the weights folder (``headcast assets weights``)."""
    from headcast.assets.weights import weight_status

    status = weight_status(key)
    if status != "ok":
        pytest.skip(f"weights '{key}' {status} (run: headcast assets weights --only {key})")
