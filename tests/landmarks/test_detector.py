"""MediaPipe adapter: pixel conventions, face policy, no-face and small-face search (uses the fixture photos)."""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from headcast.assets import AssetSettings, resolve_asset
from headcast.errors import AssetError, MultipleFacesError, NoFaceError
from headcast.landmarks.detector import (
    NUM_BLENDSHAPES,
    NUM_LANDMARKS,
    FaceDetector,
    box_iou,
    detect_landmarks,
    tile_grid,
)
from headcast.landmarks.image_io import load_photo
from headcast.landmarks.settings import DetectorSettings, PhotoSettings
from headcast.landmarks.types import Photo

SETTINGS = DetectorSettings()


@pytest.fixture(scope="module")
def detector() -> Iterator[FaceDetector]:
    try:
        resolve_asset("face_landmarker")
    except AssetError as exc:
        pytest.skip(f"face_landmarker.task not available: {exc}")
    with FaceDetector(SETTINGS, AssetSettings()) as det:
        yield det


def _photo(path: Path) -> Photo:
    return load_photo(path, PhotoSettings())


def _outer_eye_distance(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[33, :2] - points[263, :2]))


def test_landmarks_shapes_and_names(detector: FaceDetector, portraits_dir: Path) -> None:
    photo = _photo(portraits_dir / "london_003_neutral.jpg")
    lm = detect_landmarks(photo, detector, SETTINGS)
    assert lm.points.shape == (NUM_LANDMARKS, 3)
    assert lm.blendshapes.shape == (NUM_BLENDSHAPES,) and lm.blendshape_names[0] == "_neutral"
    assert np.all((lm.blendshapes >= 0) & (lm.blendshapes <= 1))
    assert lm.transform.shape == (4, 4)
    assert lm.image_size == (photo.width, photo.height) and lm.num_faces == 1
    np.testing.assert_allclose(lm.box, [*lm.points[:, :2].min(0), *lm.points[:, :2].max(0)])
    # subject's right eye (landmark 33) is on the image's left in a frontal photo
    assert lm.points[33, 0] < lm.points[263, 0]
    # the nose tip is the nearest point: smaller z = nearer
    assert lm.points[1, 2] < np.median(lm.points[:468, 2])


def test_detection_is_deterministic(detector: FaceDetector, portraits_dir: Path) -> None:
    photo = _photo(portraits_dir / "ibmmax_Luciano.png")
    a = detect_landmarks(photo, detector, SETTINGS)
    b = detect_landmarks(photo, detector, SETTINGS)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.blendshapes, b.blendshapes)


def test_points_are_in_pixels_of_the_photo(detector: FaceDetector, portraits_dir: Path) -> None:
    """Mirroring maps x to W − x and doubling the image doubles the points (x·W, y·H, z·W convention)."""
    photo = _photo(portraits_dir / "london_012_neutral.jpg")
    base = detect_landmarks(photo, detector, SETTINGS).points
    iod = _outer_eye_distance(base)

    mirrored = Photo(np.ascontiguousarray(photo.pixels[:, ::-1]))
    mp = detect_landmarks(mirrored, detector, SETTINGS).points
    # the mirrored subject's left outer corner (263) lands where the original's right one (33) was
    assert abs((photo.width - mp[263, 0]) - base[33, 0]) < 0.02 * iod
    assert abs(mp[263, 1] - base[33, 1]) < 0.02 * iod

    big = np.asarray(
        Image.fromarray(photo.pixels).resize((2 * photo.width, 2 * photo.height), Image.Resampling.BICUBIC)
    )
    up = detect_landmarks(Photo(np.ascontiguousarray(big)), detector, SETTINGS).points
    assert np.median(np.linalg.norm(up[:, :2] / 2 - base[:, :2], axis=1)) < 0.01 * iod
    assert np.median(np.abs(up[:468, 2] / 2 - base[:468, 2])) < 0.02 * iod


def test_plain_grey_image_has_no_face(detector: FaceDetector) -> None:
    grey = Photo(np.full((480, 640, 3), 128, dtype=np.uint8))
    with pytest.raises(NoFaceError, match="No face"):
        detect_landmarks(grey, detector, SETTINGS)


def test_two_faces_largest_wins_or_error(detector: FaceDetector, portraits_dir: Path) -> None:
    big = Image.open(portraits_dir / "london_003_neutral.jpg").convert("RGB").resize((600, 600))
    small = Image.open(portraits_dir / "london_096_neutral.jpg").convert("RGB").resize((400, 400))
    canvas = Image.new("RGB", (1000, 600), (128, 128, 128))
    canvas.paste(big, (0, 0))
    canvas.paste(small, (600, 100))
    photo = Photo(np.asarray(canvas).copy())
    lm = detect_landmarks(photo, detector, SETTINGS)
    assert lm.num_faces == 2
    assert lm.box[2] < 600  # the face of the larger (left) picture
    with pytest.raises(MultipleFacesError, match="2 faces"):
        detect_landmarks(photo, detector, replace(SETTINGS, faces="error"))


@pytest.mark.parametrize(
    ("folder", "name"), [("expressions", "ibmmax_happy-baby.jpeg"), ("portraits", "ibmmax_Bryan.png")]
)
def test_small_and_low_resolution_faces(detector: FaceDetector, shared_dir: Path, folder: str, name: str) -> None:
    photo = _photo(shared_dir / "fixtures" / folder / name)
    lm = detect_landmarks(photo, detector, SETTINGS)
    assert lm.num_faces == 1
    assert np.all(lm.points[:, 0] > -0.05 * photo.width) and np.all(lm.points[:, 0] < 1.05 * photo.width)
    assert _outer_eye_distance(lm.points) > 10


def test_tiny_face_found_by_tile_search(detector: FaceDetector, portraits_dir: Path) -> None:
    """A face ~40 px wide in a 1800×1300 frame: missed on the whole image, found on an upscaled crop."""
    face = (
        Image.open(portraits_dir / "london_003_neutral.jpg").convert("RGB").resize((120, 120), Image.Resampling.LANCZOS)
    )
    canvas = Image.new("RGB", (1800, 1300), (120, 130, 120))
    canvas.paste(face, (1300, 300))
    photo = Photo(np.asarray(canvas).copy())
    assert detector.detect_array(photo.pixels) == []
    with pytest.raises(NoFaceError):
        detect_landmarks(photo, detector, replace(SETTINGS, tile_search=False))
    lm = detect_landmarks(photo, detector, SETTINGS)
    assert lm.num_faces == 1
    x0, y0, x1, y1 = lm.box
    assert 1300 <= x0 and x1 <= 1420 and 300 <= y0 and y1 <= 420
    # the face in the pasted picture spans about a third of it; eye corners ~ 0.2 of its width apart
    assert 15 < _outer_eye_distance(lm.points) < 40


def test_closed_detector_refuses_work() -> None:
    try:
        det = FaceDetector(SETTINGS)
    except AssetError as exc:
        pytest.skip(str(exc))
    det.close()
    det.close()  # idempotent
    assert det.closed
    with pytest.raises(RuntimeError, match="closed"):
        det.detect_array(np.zeros((8, 8, 3), dtype=np.uint8))


def test_tile_grid_covers_the_image() -> None:
    tiles = tile_grid(1000, 600, 0.5, 0.5)
    assert all(side == 300 for _, _, side in tiles)
    covered = np.zeros((600, 1000), dtype=bool)
    for x, y, side in tiles:
        assert 0 <= x and x + side <= 1000 and 0 <= y and y + side <= 600
        covered[y : y + side, x : x + side] = True
    assert covered.all()
    assert tiles[0][:2] == (0, 0) and tiles[-1][:2] == (700, 300)  # row-major, last aligned to the edge
    assert tile_grid(100, 100, 1.0, 0.5) == [(0, 0, 100)]


def test_box_iou_known_values() -> None:
    a = np.array([0.0, 0.0, 2.0, 2.0])
    assert box_iou(a, a) == 1.0
    assert box_iou(a, np.array([1.0, 0.0, 3.0, 2.0])) == pytest.approx(2 / 6)
    assert box_iou(a, np.array([5.0, 5.0, 6.0, 6.0])) == 0.0
