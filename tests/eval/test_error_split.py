"""Same-view error split: skin / hair / outline band partition the head mask's error."""

import math

import numpy as np
import pytest

from headcast.eval.error_split import error_split, region_masks


def _case():
    s = 20
    head = np.zeros((s, s), bool)
    head[2:18, 2:18] = True  # photo head: 16 × 16 = 256 px
    hair = np.zeros((s, s), bool)
    hair[2:6, 2:18] = True  # top 4 rows: hair (64 px)
    render_mask = np.zeros((s, s), bool)
    render_mask[2:18, 2:16] = True  # the render misses 2 columns on the right …
    render_mask[2:18, 18] = True  # … and draws one column outside the photo's head
    photo = np.zeros((s, s, 3), np.uint8)
    photo[head] = 100
    render = np.zeros((s, s, 3), np.uint8)
    render[head & render_mask] = 100
    render[hair & render_mask] = 90  # hair off by 10 on every channel
    render[6:18, 2:16][0, 0] = 130  # one skin pixel off by 30
    return photo, render, head, hair, render_mask


def test_regions_partition_the_head_mask():
    _, _, head, hair, render_mask = _case()
    m = region_masks(head, hair, render_mask)
    assert (m["skin"] | m["hair"] | m["outline"]).sum() == head.sum() == 256
    assert not (m["skin"] & m["hair"]).any() and not (m["skin"] & m["outline"]).any()
    assert m["outline"].sum() == 32 and m["outside"].sum() == 16
    assert m["hair"].sum() == 4 * 14 and m["skin"].sum() == 12 * 14


def test_shares_and_psnr_match_hand_computation():
    split = error_split(*_case())
    sse_outline = 32 * 3 * 100**2  # render black where the photo has head
    sse_hair = 56 * 3 * 10**2
    sse_skin = 3 * 30**2
    total = sse_outline + sse_hair + sse_skin
    assert split.outline.error_share == pytest.approx(sse_outline / total)
    assert split.hair.error_share == pytest.approx(sse_hair / total)
    assert split.skin.error_share == pytest.approx(sse_skin / total)
    assert split.skin.error_share + split.hair.error_share + split.outline.error_share == pytest.approx(1.0)
    assert split.hair.psnr == pytest.approx(10 * math.log10(255**2 / 100))
    assert split.outline.psnr == pytest.approx(10 * math.log10(255**2 / 100**2))
    assert split.skin.pixel_share == pytest.approx(168 / 256)
    assert split.outside_pixels == 16


def test_identical_crops_and_empty_regions():
    photo, _, head, _, _ = _case()
    split = error_split(photo, photo.copy(), head, np.zeros_like(head), head)
    assert split.skin.psnr == math.inf and split.skin.error_share is None
    assert split.hair.pixels == 0 and split.hair.psnr is None
    with pytest.raises(ValueError):
        error_split(photo, photo, head[:-1], head, head)
