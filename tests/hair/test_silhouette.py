import numpy as np

from headcast.geometry.camera import HeadPose, camera_from_fov
from headcast.hair.silhouette import mask_iou, orientation_error_deg, splat_strands


def test_mask_iou_maths() -> None:
    a = np.zeros((10, 10), bool)
    b = np.zeros((10, 10), bool)
    a[:, :6] = True  # 60 px
    b[:, 4:] = True  # 60 px, overlap 20
    assert abs(mask_iou(a, b) - 20 / 100) < 1e-12
    assert mask_iou(a, a) == 1.0
    assert mask_iou(np.zeros_like(a), np.zeros_like(a)) == 1.0
    assert mask_iou(a, np.zeros_like(a)) == 0.0


def test_orientation_error_is_undirected_and_weighted() -> None:
    a = np.full((2, 2), np.deg2rad(10.0))
    b = np.array([[np.deg2rad(190.0), np.deg2rad(40.0)], [np.deg2rad(100.0), np.nan]])
    assert abs(orientation_error_deg(a[:1, :1], b[:1, :1]) - 0.0) < 1e-9  # 10° ≡ 190°
    w = np.array([[1.0, 1.0], [2.0, 5.0]])
    assert abs(orientation_error_deg(a, b, w) - (0 + 30 + 2 * 90) / 4) < 1e-9  # NaN pixel ignored


def test_splat_draws_a_vertical_strand_with_vertical_orientation() -> None:
    cam = camera_from_fov(64, 64, 40.0)
    pose = HeadPose(np.zeros(3), np.array([0.0, 0.0, -1.0]))
    strand = np.stack([np.zeros(20), np.linspace(-0.1, 0.1, 20), np.zeros(20)], 1)[None]
    mask, angle = splat_strands(strand, pose, cam)
    cols = np.flatnonzero(mask.any(axis=0))
    assert cols.min() >= 30 and cols.max() <= 33
    assert mask.any(axis=1).sum() > 15
    assert np.nanmax(np.abs(angle - np.pi / 2)) < 1e-6
