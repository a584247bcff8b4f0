"""``headcast eval --fast`` end to end on 3 fixture portraits: report structure and metric ranges."""

import json
import math
from pathlib import Path

import pytest
from evalhelp import require_package

from headcast.eval.runner import FAST_PHOTOS, choose_photos, metric_kind
from testhelp import require_weights

RANGES = {
    "db": lambda v: v > 0,
    "ssim": lambda v: -1.0 <= v <= 1.0,
    "nonneg": lambda v: v >= 0,
    "distance": lambda v: v >= 0,
    "rate": lambda v: 0.0 <= v <= 1.0,
}


def test_fast_selection_spreads_and_includes_an_annotated_photo(tmp_path: Path):
    names = [f"a{i}.jpg" for i in range(9)]
    for n in names:
        (tmp_path / n).touch()
    (tmp_path / "a2.tem").touch()
    photos = [tmp_path / n for n in names]
    picked = choose_photos(photos, fast=True, limit=None)
    assert len(picked) == FAST_PHOTOS
    assert [p.name for p in picked] == ["a0.jpg", "a2.jpg", "a8.jpg"]
    assert choose_photos(photos, fast=False, limit=2) == photos[:2]


@pytest.mark.slow
def test_eval_fast_writes_a_complete_report(portraits_dir: Path, asset_settings, tmp_path: Path):
    for module in ("torch", "dlib", "skimage", "matplotlib"):
        pytest.importorskip(module)
    for package in ("stlpips_pytorch", "face_recognition_models"):
        require_package(package)
    for key in ("bisenet", "facenet"):
        require_weights(key)
    from headcast.cli.main import main

    out = tmp_path / "report"
    assert main(["eval", str(portraits_dir), "--out", str(out), "--fast"]) == 0
    doc = json.loads((out / "report.json").read_text())
    for key in ("schema", "command", "versions", "settings", "thesis_table", "images", "aggregate", "timings",
                "memory", "synthetic", "notes", "plots"):
        assert key in doc, key
    assert "--fast" in doc["command"]
    assert len(doc["images"]) == 3
    assert all(r["ok"] for r in doc["images"])
    for plot in doc["plots"]:
        assert (out / plot).stat().st_size > 1000
    assert {"best.png", "worst.png", "distributions.png", "synthetic.png"} <= set(doc["plots"])
    md = (out / "report.md").read_text()
    assert "ST-LPIPS" in md and "23.15" in md and "31.49" in md

    required = {"psnr", "ssim", "st_lpips", "difd", "dlib", "novel_detection_rate", "nme_detector", "nme_tem",
                "mean_head.psnr", "flat_texture.psnr"}
    assert required <= set(doc["aggregate"])
    assert doc["aggregate"]["difd"]["n"] == 3, doc["aggregate"]["difd"]  # FaceNet ran on every photo (not missing)
    hair_keys = {"hair_iou", "hair_delta_e", "hair_penetration_anchor", "hair_root_gap_mm_anchor",
                 "hair_penetration_default", "hair_root_gap_mm_default"}
    assert hair_keys <= set(doc["aggregate"])
    assert doc["settings"]["options"]["hair"] == "auto"
    counts = doc["hair"]
    assert set(counts) == {"measured", "bald", "off"} and sum(counts.values()) == 3
    assert counts["measured"] == doc["aggregate"]["hair_iou"]["n"]
    assert "## Hair" in md and "default alignment" in md
    for rec in doc["images"]:
        assert rec["hair_status"] in ("hair", "bald", "off")
        assert hair_keys <= set(rec["metrics"])
        if rec["hair_status"] == "hair":
            assert rec["metrics"]["hair_iou"] is not None and rec["metrics"]["hair_penetration_default"] is not None
        else:
            assert all(rec["metrics"][k] is None for k in hair_keys)
        print(rec["photo"], rec["hair_status"], {k: rec["metrics"][k] for k in sorted(hair_keys)})
    for rec in doc["images"]:
        assert {"detect", "fit", "texture", "export"} <= set(rec["timings"])
        assert rec["peak_rss_mib"] > 0
        for key, value in rec["metrics"].items():
            if value is None:
                assert key not in ("psnr", "ssim", "st_lpips", "nme_detector", "novel_detection_rate"), key
                continue
            assert math.isfinite(value) and RANGES[metric_kind(key)](value), (rec["photo"], key, value)
        for view in rec["novel_views"]:
            assert isinstance(view["detected"], bool)
    for key, s in doc["aggregate"].items():
        for stat in ("median", "mean", "std"):
            v = s[stat]
            if v is not None:
                assert math.isfinite(v), (key, stat)
                if stat != "std":
                    assert RANGES[metric_kind(key)](v), (key, stat, v)
    assert doc["aggregate"]["nme_tem"]["n"] >= 1  # one London photo with a .tem is always among the three

    # profiles among the novel views, the seam score, the error split and the front / 45° / 90° sheet
    assert "views.png" in doc["plots"]
    for heading in ("## Seam score", "## Same-view error by region", "both profiles (±90)"):
        assert heading in md, heading
    for rec in doc["images"]:
        assert {v["yaw_deg"] for v in rec["novel_views"]} >= {-90.0, 90.0}
        assert [v["yaw_deg"] for v in rec["seam_views"]] == [-90.0, -45.0, 45.0, 90.0]
        split = rec["error_split"]
        shares = [split[k]["error_share"] for k in ("skin", "hair", "outline")]
        assert sum(shares) == pytest.approx(1.0)
        assert sum(split[k]["pixel_share"] for k in ("skin", "hair", "outline")) == pytest.approx(1.0)
        assert rec["metrics"]["profile_detection_rate"] is not None
    # a fresh bake has photo coverage, so the turned views show its boundary somewhere
    assert doc["aggregate"]["seam_score"]["n"] >= 1

    syn = doc["synthetic"]
    assert syn["aggregate"]["count"] == 2
    for name in ("reconstruction_mm", "mean_head_mm"):
        s = syn["aggregate"][name]
        assert s["n"] > 0 and 0 <= s["median"] < 50 and s["std"] >= 0
