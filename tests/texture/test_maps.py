import numpy as np
import pytest

from headcast.texture.maps import Region, atlas_maps, triangle_regions
from headcast.texture.project import FACE_OVAL, face_trust_mask

SIZE = 1024


@pytest.fixture(scope="module")
def maps(ict_model, renderer):
    return atlas_maps(ict_model, SIZE, renderer)


def test_maps_are_cached(ict_model, renderer, maps) -> None:
    assert atlas_maps(ict_model, SIZE, renderer) is maps


def test_regions(ict_model, maps) -> None:
    assert maps.region.shape == (SIZE, SIZE)
    present = set(np.unique(maps.region).tolist())
    assert {int(r) for r in Region} <= present  # every region is somewhere in the atlas
    r0, r1, c0, c1 = maps.face_box
    assert np.all((maps.region[r0:r1, c0:c1] == Region.FACE) == maps.face_mask)
    tri = triangle_regions(ict_model)
    assert np.all(tri[ict_model.part_mask("mouth_socket")[ict_model.triangles[:, 0]]] == Region.MOUTH_SOCKET)


def test_mirror_map_is_an_involution(maps) -> None:
    f = maps.face_mask.shape[0]
    xs = np.tile(np.arange(f, dtype=np.float32), (f, 1))
    import cv2

    mx = cv2.remap(xs, maps.mirror_xy[..., 0], maps.mirror_xy[..., 1], cv2.INTER_LINEAR)
    inner = cv2.erode(maps.face_mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    # the chart is laid out symmetrically: the mirror of column x is column f - 1 - x
    assert np.percentile(np.abs(xs + mx - (f - 1))[inner], 99) < 1.0


def test_zones(maps) -> None:
    assert maps.skin_sample.sum() > 1000
    assert np.mean(maps.photo_zone[maps.skin_sample] > 0.99) > 0.95  # (zones are computed at 1/4 resolution)
    assert maps.hair_risk[maps.skin_sample].mean() < 0.3
    rows = np.flatnonzero(maps.face_mask.any(axis=1))
    first = maps.face_mask[rows].argmax(axis=1)
    assert np.all(maps.seam_fade[rows, first] < 0.05)  # 0 at the chart's outer border (the seam) ...
    assert maps.seam_fade[maps.skin_sample].min() == 1.0  # ... 1 inside
    assert maps.hair_risk.shape == maps.photo_zone.shape == maps.plain_skin.shape == maps.face_mask.shape


def test_trust_mask_inside_and_outside() -> None:
    pts = np.zeros((478, 2))
    angles = np.linspace(0, 2 * np.pi, len(FACE_OVAL), endpoint=False)
    pts[list(FACE_OVAL)] = np.c_[100 + 60 * np.sin(angles), 120 - 80 * np.cos(angles)]
    mask = face_trust_mask((240, 200), pts, erosion=0.05, feather=0.05)
    assert mask.shape == (240, 200) and mask.dtype == np.uint8
    assert mask[120, 100] == 255 and mask[5, 5] == 0 and mask[120, 165] == 0
