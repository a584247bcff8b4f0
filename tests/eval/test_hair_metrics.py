"""Pure hair metrics of ``headcast eval``: median-Lab ΔE and mask erosion."""

import numpy as np
import pytest

pytest.importorskip("skimage")

from headcast.eval.hair_metrics import eroded, hair_delta_e, median_lab


def _image(colour: tuple[int, int, int], size: int = 16) -> np.ndarray:
    return np.broadcast_to(np.array(colour, np.uint8), (size, size, 3)).copy()


def test_identical_colours_give_zero_delta_e():
    a, b = _image((120, 80, 40)), _image((120, 80, 40))
    mask = np.ones((16, 16), bool)
    assert hair_delta_e(a, mask, b, mask) == pytest.approx(0.0, abs=1e-9)


def test_different_colours_give_positive_delta_e_and_only_masked_pixels_count():
    photo = _image((120, 80, 40))
    render = _image((30, 25, 20))
    half = np.zeros((16, 16), bool)
    half[:8] = True
    render[8:] = (120, 80, 40)  # outside the mask: must not matter
    d = hair_delta_e(photo, np.ones((16, 16), bool), render, half)
    assert d is not None and d > 5.0
    assert hair_delta_e(photo, np.ones((16, 16), bool), render, ~half) == pytest.approx(0.0, abs=1e-9)


def test_median_is_robust_and_empty_mask_gives_none():
    img = _image((200, 10, 10))
    img[0, :3] = (0, 255, 0)  # a few outliers
    lab = median_lab(img, np.ones((16, 16), bool))
    ref = median_lab(_image((200, 10, 10)), np.ones((16, 16), bool))
    assert lab is not None and ref is not None and np.allclose(lab, ref)
    assert median_lab(img, np.zeros((16, 16), bool)) is None
    assert hair_delta_e(img, np.zeros((16, 16), bool), img, np.ones((16, 16), bool)) is None


def test_eroded_drops_edges_but_never_empties():
    m = np.zeros((9, 9), bool)
    m[2:7, 2:7] = True
    assert eroded(m).sum() == 9
    single = np.zeros((9, 9), bool)
    single[4, 4] = True
    assert eroded(single).sum() == 1
