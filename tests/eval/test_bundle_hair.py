"""``headcast eval --reuse``: the strands of a bundle are restored from its hair files (or the loss is reported)."""

from pathlib import Path

import numpy as np
import pytest

from headcast.eval.bundle_hair import read_bundle_hair
from headcast.hair.display import strands_line_set
from headcast.hair.stage import HairResult, HairSettings, hair_files
from headcast.hair.types import HairParams, Strands


def _strands(n: int = 40, p: int = 100) -> Strands:
    rng = np.random.default_rng(3)
    roots = rng.normal(size=(n, 1, 3)) * 0.05 + [0.0, 0.1, 0.0]
    steps = np.cumsum(rng.normal(size=(n, p, 3)) * 0.002, axis=1)
    valid = np.zeros((32, 32), bool)
    valid[10:12, 10:12] = True
    return Strands(
        guides=np.zeros((32, 32, 100, 3), np.float32), valid=valid,
        points=(roots + steps).astype(np.float32), root_uv=rng.uniform(size=(n, 2)).astype(np.float32),
        root_color=(0.123456, 0.2, 0.3), tip_color=(0.4, 0.35, 0.3), name="bob", params=HairParams(fringe=0.4),
    )


def _bundle(tmp_path: Path, result: HairResult) -> Path:
    folder = tmp_path / "photo_stem"
    folder.mkdir()
    for name, data in hair_files(result, HairSettings()).items():
        (folder / name).write_bytes(data)
    return folder


def test_strands_come_back_from_hair_data_and_draw_the_same(tmp_path: Path):
    original = _strands()
    folder = _bundle(tmp_path, HairResult(original, "bob", iou=0.8123))
    hair = read_bundle_hair(folder)
    assert hair.status == "restored" and hair.source == "hair.data"
    s = hair.strands
    assert s is not None and hair.report is not None
    np.testing.assert_array_equal(s.points, original.points)  # float32 written and read back bit-exact
    np.testing.assert_allclose(s.root_color, original.root_color, atol=5e-5)  # hair.json rounds to 4 decimals
    assert s.tip_color == pytest.approx(original.tip_color)
    assert s.name == "bob" and s.params == HairParams(fringe=0.4)
    assert hair.report.iou == pytest.approx(0.8123) and hair.report.analysis is None
    # not restorable, and said so: no guides, NaN root UVs
    assert s.guide_polylines.shape[0] == 0 and np.isnan(s.root_uv).all()
    a, b = strands_line_set(original), strands_line_set(s)
    np.testing.assert_array_equal(a.vertices, b.vertices)
    np.testing.assert_array_equal(a.segments, b.segments)
    assert np.abs(a.colors - b.colors).max() < 0.5 / 255  # the same display colours to within rounding


def test_hair_hair_is_the_fallback_and_missing_strands_are_reported(tmp_path: Path):
    original = _strands()
    folder = _bundle(tmp_path, HairResult(original, "bob"))
    (folder / "hair.data").unlink()
    hair = read_bundle_hair(folder)
    assert hair.status == "restored" and hair.source == "hair.hair"
    np.testing.assert_array_equal(hair.strands.points, original.points)
    (folder / "hair.hair").unlink()
    lost = read_bundle_hair(folder)
    assert lost.status == "unreadable" and lost.report is None and lost.strands is None
    assert "rendered bald" in lost.note and "hair.data missing" in lost.note


def test_truncated_strand_file_is_not_trusted(tmp_path: Path):
    folder = _bundle(tmp_path, HairResult(_strands(), "bob"))
    data = (folder / "hair.data").read_bytes()
    (folder / "hair.data").write_bytes(data[: len(data) // 2])
    (folder / "hair.hair").unlink()
    hair = read_bundle_hair(folder)
    assert hair.status == "unreadable" and "truncated" in hair.note


def test_bald_and_hairless_bundles(tmp_path: Path):
    bald = read_bundle_hair(_bundle(tmp_path, HairResult(None, "bald")))
    assert bald.status == "bald" and bald.report is not None and bald.strands is None
    empty = tmp_path / "no_hair"
    empty.mkdir()
    absent = read_bundle_hair(empty)
    assert absent.status == "absent" and absent.report is None and "no hair.json" in absent.note
