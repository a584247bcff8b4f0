"""Strands retract from skin: the photo's bare forehead (mask and cut) and the face guard's cut, analytic cases."""

import numpy as np

from headcast.geometry.camera import Camera, HeadPose
from headcast.hair.generator import face_guard_cut, resample_polylines
from headcast.hair.head import HairHead
from headcast.hair.reconstruct import forehead_skin, skin_cut
from headcast.hair.types import HairAnalysis

CAM = Camera(100.0, 100.0, 50.0, 50.0, 100, 100)
POSE = HeadPose(np.zeros(3), np.zeros(3))


def _analysis(skin: np.ndarray, hair: np.ndarray) -> HairAnalysis:
    f = np.zeros(skin.shape, np.float32)
    lab = np.array([30.0, 5.0, 10.0])
    return HairAnalysis(hair, np.zeros_like(skin), skin, skin, lab, lab, f, f, 0.0, 0.0, 0.0, False, 0.5, False,
                        False)


def _brows(left: tuple[float, float], right: tuple[float, float]) -> np.ndarray:
    """68 landmarks at the image centre except the brows (17–26), on the line from ``left`` to ``right``."""
    lm = np.full((68, 2), 50.0)
    t = np.linspace(0.0, 1.0, 10)[:, None]
    lm[17:27] = (1 - t) * np.asarray(left) + t * np.asarray(right)
    return lm


def test_forehead_skin_is_bare_skin_above_the_brow_line() -> None:
    skin = np.zeros((100, 100), bool)
    skin[10:90, 20:80] = True
    hair = np.zeros((100, 100), bool)
    hair[10:25, :] = True  # a fringe over the top of the forehead
    bare = forehead_skin(_analysis(skin, hair), _brows((30.0, 40.0), (70.0, 60.0)))
    # the brow line falls from row 40 at column 30 to row 60 at column 70; level beyond the ends
    for col, row in ((25, 40.0), (30, 40.0), (50, 50.0), (70, 60.0), (75, 60.0)):
        rows = np.flatnonzero(bare[:, col])
        assert rows.min() == 25  # under the fringe
        assert abs(rows.max() + 1 - row) <= 1.0, (col, rows.max())
    assert not bare[:, :20].any() and not bare[:, 80:].any()  # no skin there
    assert not (bare & hair).any()


def test_skin_cut_ends_a_strand_before_its_first_visible_point_on_bare_skin() -> None:
    bare = np.zeros((100, 100), bool)
    bare[60:80, :] = True
    y = np.linspace(-0.005, -0.405, 41)  # 1 cm steps, point k on image row 50.5 + k (v = 50 − 100 y / 1)
    front = np.stack([np.zeros(41), y, np.full(41, -1.0)], axis=1)
    depth = np.full((50, 50), 1.5)  # a head 1.5 m away: the strand is in front of it (any depth resolution)
    share = skin_cut(front[None], POSE, CAM, bare, depth)
    # point k projects to row 50 + k; the first on bare skin is k = 10, so points 0..9 stay: 9 of 40 segments
    np.testing.assert_allclose(share, [9 / 40])
    cut = resample_polylines(front[None], 41, share)
    np.testing.assert_allclose(cut[0, -1], front[9], atol=1e-12)  # ends 1 cm above the bare band
    # the same strand hidden behind the head (more than the tolerance) is left whole
    behind = np.full((50, 50), 0.9)
    np.testing.assert_allclose(skin_cut(front[None], POSE, CAM, bare, behind), [1.0])
    # a root on bare skin does not count; a strand that starts on it keeps its floor (2 mm of 40 cm)
    start = front + np.array([0.0, -0.1, 0.0])  # rows 60.5 → 100.5
    np.testing.assert_allclose(skin_cut(start[None], POSE, CAM, bare, depth), [0.002 / 0.4])
    # off the image and beside the band: whole
    aside = front + np.array([0.0, 0.3, 0.0])  # rows 20.5 → 60.5, only the last point on bare skin
    np.testing.assert_allclose(skin_cut(aside[None], POSE, CAM, bare, depth), [39 / 40])
    assert skin_cut(np.zeros((0, 5, 3)), POSE, CAM, bare, depth).shape == (0,)


def test_face_guard_cut_ends_a_strand_over_the_face_and_pushes_one_beside_it(hair_head: HairHead) -> None:
    sc = hair_head.scalp
    ys, half = sc.face_half_width
    z = sc.face_front_z + 0.01  # in front of the cheeks
    y = sc.brow_y + 0.03 - 0.005 * np.arange(21)  # 3 cm above the brows to 7 cm below, 5 mm steps
    centre = np.stack([np.zeros(21), y, np.full(21, z)], axis=1)
    width = np.interp(y, ys, np.maximum.accumulate(half)) + 0.006  # the guard's half width at each height
    beside = centre + np.stack([width - 0.005, np.zeros(21), np.zeros(21)], axis=1)  # 5 mm inside the outline
    out = face_guard_cut(np.stack([centre, beside]), sc, np.ones((2, 1)), top=-0.01)
    # over the middle of the face: the first guarded point (1 cm below the brows: index 8) would move ~7 cm;
    # the strand keeps points 0..7, resampled over its 21 points
    first = int(np.argmax(y < sc.brow_y - 0.01))
    np.testing.assert_allclose(out[0, -1], centre[first - 1], atol=1e-9)
    assert np.all(out[0, :, 1] >= centre[first - 1, 1] - 1e-9)
    # beside the cheek: pushed out by 5 mm below the guard's top, untouched above it
    low = y < sc.brow_y - 0.01
    np.testing.assert_allclose(out[1, low, 0], width[low], atol=1e-9)
    np.testing.assert_allclose(out[1, ~low], beside[~low], atol=1e-12)
