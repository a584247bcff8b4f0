"""Seam score (render space): a hard colour step along the projection boundary scores above a smooth blend."""

import numpy as np
import pytest

from headcast.eval.seams import (
    SeamSettings,
    boundary_line,
    decode_labels,
    enclosed_holes,
    gradient_magnitude,
    seam_regions,
    seam_score,
)

SIZE = 96


def _scene(blend_px: float, photo_detail: float = 3.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A skin patch whose left half is 'photo' (coverage 1) and right half 'completed' (coverage 0).

    The photo side is 20 levels brighter; ``blend_px`` is the width of the linear colour blend centred on the
    boundary (0 = a hard step). The photo side carries a fine texture of amplitude ``photo_detail``, the completed
    side one of amplitude 1.5 (completed skin is smoother than photographed skin).
    """
    x = np.arange(SIZE, dtype=np.float64)
    y = np.arange(SIZE, dtype=np.float64)[:, None]
    edge = SIZE / 2 - 0.5
    photo = x < SIZE / 2
    coverage = np.broadcast_to(photo.astype(np.float32), (SIZE, SIZE)).copy()
    t = photo.astype(np.float64) if blend_px == 0 else np.clip(0.5 - (x - edge) / blend_px, 0.0, 1.0)
    detail = 1.5 + (photo_detail - 1.5) * t
    base = 140.0 + 20.0 * t + detail * np.sin(0.9 * x) * np.cos(0.7 * y)
    image = np.clip(np.rint(np.repeat(base[..., None], 3, axis=2) * [1.0, 0.8, 0.7]), 0, 255).astype(np.uint8)
    skin = np.zeros((SIZE, SIZE), bool)
    skin[8:-8, 8:-8] = True
    return image, coverage, skin


def test_gradient_magnitude_of_a_step_is_analytic():
    img = np.zeros((6, 10, 3), np.uint8)
    img[:, 5:] = (30, 40, 0)
    g = gradient_magnitude(img)
    # Sobel/8 of a unit step is 1/2 on each of the two columns next to it: |(15, 20, 0)| = 25
    np.testing.assert_allclose(g[3, 4:6], 25.0, atol=1e-4)
    assert g[3, :3].max() == 0 and g[3, 7:].max() == 0


def test_hard_edge_ranks_above_smooth_blend():
    scores = {}
    for blend in (0.0, 8.0, 24.0):
        s = seam_score(*_scene(blend))
        assert s is not None
        scores[blend] = s.score
    assert scores[0.0] > scores[8.0] > scores[24.0]
    assert scores[0.0] > 2.0  # a 20-level step beside 1.5–3-level texture is a clearly visible seam
    assert scores[24.0] < 1.3  # spread over 24 px it is little busier than the skin on either side


def test_seamless_boundary_between_unequal_textures_scores_about_one():
    # no colour step, the texture only gets finer across the boundary (blended over 12 px): the two-sided
    # reference keeps it ≈ 1, where a reference dominated by the smooth side would make it a "seam"
    image, coverage, skin = _scene(0.0)
    x = np.arange(SIZE)
    y = np.arange(SIZE)[:, None]
    amp = 1.5 + 4.5 * np.clip(0.5 - (x - (SIZE / 2 - 0.5)) / 12.0, 0.0, 1.0)
    base = 150.0 + amp * np.sin(0.9 * x) * np.cos(0.7 * y)
    image = np.clip(np.rint(np.repeat(base[..., None], 3, axis=2)), 0, 255).astype(np.uint8)
    s = seam_score(image, coverage, skin)
    assert s is not None and s.score == pytest.approx(1.0, abs=0.15)


def test_no_boundary_or_no_texture_gives_none():
    image, coverage, skin = _scene(0.0)
    assert seam_score(image, np.ones_like(coverage), skin) is None  # all photo: no boundary
    flat = np.full_like(image, 128)
    assert seam_score(flat, coverage, skin) is None  # reference gradient is zero
    with pytest.raises(ValueError):
        seam_score(image[:-1], coverage, skin)


def test_regions_stay_inside_skin_apart_and_on_their_side():
    _, coverage, skin = _scene(0.0)
    r = seam_regions(coverage, skin, SeamSettings(band_px=2, gap_px=6, reach_px=24, margin_px=2))
    assert not (r.band & (r.photo_side | r.completed_side)).any()
    inner = np.zeros_like(skin)
    inner[10:-10, 10:-10] = True
    for m in (r.band, r.photo_side, r.completed_side):
        assert not (m & ~inner).any()
    cols = np.flatnonzero(r.band.any(axis=0))
    assert cols.min() == 47 - 2 and cols.max() == 48 + 2  # the line is columns 47 | 48, band ±2
    assert set(np.flatnonzero(r.photo_side.any(axis=0))) == set(range(23, 41))  # 7..24 px left of column 47
    assert set(np.flatnonzero(r.completed_side.any(axis=0))) == set(range(55, 73))
    # the silhouette of the skin patch is no boundary: only coverage crossings are
    assert set(np.flatnonzero(boundary_line(coverage, skin).any(axis=0))) == {47, 48}


def test_enclosed_holes_are_the_completed_islands_only():
    c = np.zeros((12, 12))
    c[2:10, 2:10] = 1.0
    c[4:6, 4:6] = 0.2  # an eye: completed texels inside the photo region
    c[7:10, 9] = 0.0  # a notch open to the outside is not a hole
    holes = enclosed_holes(c)
    assert np.argwhere(holes).tolist() == [[4, 4], [4, 5], [5, 4], [5, 5]]


def test_decode_labels_reads_coverage_outer_coverage_and_skin():
    lab = np.zeros((2, 3, 3), np.uint8)
    lab[0, 0] = (255, 255, 255)  # skin, full photo coverage
    lab[0, 1] = (64, 255, 255)  # skin, completed hole inside the photo region
    lab[0, 2] = (0, 0, 0)  # strand
    lab[1, 0] = (255, 0, 255)  # background
    lab[1, 1] = (200, 0, 30)  # an eye: not skin
    cov, outer, skin = decode_labels(lab)
    assert skin.tolist() == [[True, True, False], [False, False, False]]
    assert cov[0, 1] == pytest.approx(64 / 255) and outer[0, 1] == pytest.approx(1.0)
    assert cov[1, 1] == 0.0 and outer[1, 0] == 0.0
