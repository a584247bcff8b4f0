"""The .tem reader and the NME against manual annotations."""

from pathlib import Path

import numpy as np
import pytest

from headcast.eval.tem import (
    MEDIAPIPE_IDS,
    TEM_IDS,
    TemFormatError,
    mediapipe_tem_points,
    nme_vs_tem,
    parse_tem,
    read_tem,
    tem_for_photo,
    tem_reference_points,
)


def test_parse_tem_reads_points_and_ignores_line_data():
    text = "3\n1 2\n3.5\t4\n-1 0.25\n2\n0\n2\n0 1\n1\n3\n0 1 2\n"
    pts = parse_tem(text)
    assert pts.dtype == np.float64
    np.testing.assert_array_equal(pts, [[1.0, 2.0], [3.5, 4.0], [-1.0, 0.25]])


@pytest.mark.parametrize(
    "text",
    ["", "x\n1 2\n", "3\n1 2\n3 4\n", "2\n1 2 3\n4 5\n", "2\n1 a\n3 4\n"],
    ids=["empty", "bad-count", "too-few", "three-fields", "not-a-number"],
)
def test_parse_tem_rejects_malformed(text):
    with pytest.raises(TemFormatError):
        parse_tem(text)


def test_real_tem_file(portraits_dir: Path):
    photo = portraits_dir / "london_003_neutral.jpg"
    tem = tem_for_photo(photo)
    assert tem is not None
    pts = read_tem(tem)
    assert pts.shape == (189, 2)
    # the pupils of this 1350² frontal portrait: left one on the image's left, both at eye height
    np.testing.assert_array_equal(pts[0], [576.0, 603.0])
    np.testing.assert_array_equal(pts[1], [780.0, 602.0])
    ref = tem_reference_points(pts)
    assert ref.shape == (len(TEM_IDS), 2)
    assert ref[2, 0] < ref[4, 0] < ref[5, 0] < ref[3, 0]  # outer < inner (left eye), inner < outer (right eye)
    assert tem_for_photo(portraits_dir / "azure_Family2-Lady1.jpg") is None


def test_mediapipe_points_average_the_iris():
    pts = np.zeros((478, 2))
    pts[468:473] = [[10.0, 0.0], [12.0, 0.0], [8.0, 0.0], [10.0, 2.0], [10.0, -2.0]]
    pts[33] = [5.0, 5.0]
    out = mediapipe_tem_points(pts)
    assert out.shape == (len(MEDIAPIPE_IDS), 2)
    np.testing.assert_allclose(out[0], [10.0, 0.0])
    np.testing.assert_allclose(out[2], [5.0, 5.0])


def test_nme_vs_tem_is_normalised_by_the_pupils():
    ref = np.zeros((9, 2))
    ref[1] = [100.0, 0.0]
    pred = ref + np.array([0.0, 5.0])  # every point 5 px off, pupils 100 px apart
    assert nme_vs_tem(pred, ref) == pytest.approx(0.05)
    assert nme_vs_tem(ref, ref) == 0.0
    assert nme_vs_tem(ref, np.zeros((9, 2))) == float("inf")
