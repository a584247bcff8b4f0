"""``headcast eval --reuse`` on a real bundle: the reused avatar wears the strands ``headcast make`` wrote."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from evalhelp import require_package

from headcast.options import Options
from testhelp import require_weights

PHOTO = "london_119_neutral.jpg"


@pytest.mark.slow
def test_reused_bundle_renders_and_measures_its_hair(portraits_dir: Path, asset_settings, tmp_path: Path):
    from headcast.eval.runner import avatar_from_bundle
    from headcast.hair.display import strands_line_set
    from headcast.pipeline import Pipeline, PipelineSettings
    from headcast.render.views import render_avatar

    photo = portraits_dir / PHOTO
    if not photo.is_file():
        pytest.skip(f"{photo} is missing")
    bundles = tmp_path / "bundles"
    pipeline = Pipeline.load(PipelineSettings(assets=asset_settings))
    try:
        # a library style with a colour: no face parsing needed to make the bundle
        avatar = pipeline.make(photo, Options(hair="bob", hair_color="#8b5a2b"))
        assert avatar.hair is not None and avatar.hair.num_strands > 1000
        pipeline.write(avatar, bundles / photo.stem)
        reused, hair = avatar_from_bundle(pipeline, photo, bundles / photo.stem)
        assert hair.status == "restored" and reused.hair is not None and reused.hair_report is not None
        np.testing.assert_array_equal(reused.hair.points, avatar.hair.points)

        def draw(a, strands: bool) -> np.ndarray:
            lines = [strands_line_set(a.hair)] if strands else []
            return render_avatar(a, renderer=pipeline.renderer, strands=lines).color[..., :3].astype(np.int16)

        bare, worn, original = draw(reused, False), draw(reused, True), draw(avatar, True)
    finally:
        pipeline.close()
    hair_px = np.any(worn != bare, axis=2)
    assert hair_px.mean() > 0.02  # the strands cover a visible part of the picture
    # the same picture as the avatar that was written (params.json round trip, 4-decimal hair colours)
    assert np.abs(worn - original).mean() < 1.0

    # the whole command, where the metric networks are installed: hair measured, not "off"
    for module in ("torch", "dlib", "skimage", "matplotlib"):
        if not _importable(module):
            return
    for package in ("stlpips_pytorch", "face_recognition_models"):
        require_package(package)
    for key in ("bisenet", "facenet"):
        require_weights(key)
    from headcast.cli.main import main

    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(photo, photos / PHOTO)
    out = tmp_path / "report"
    assert main(["eval", str(photos), "--out", str(out), "--reuse", str(bundles), "--synthetic", "0"]) == 0
    doc = json.loads((out / "report.json").read_text())
    rec = doc["images"][0]
    assert rec["hair_status"] == "hair", rec["hair_status"]
    assert rec["metrics"]["hair_iou"] is not None and rec["metrics"]["hair_penetration_default"] is not None
    assert rec["metrics"]["seam_score"] is None  # the bundle holds no coverage: missing, not invented
    assert any("restored from hair.data" in n for n in doc["notes"])
    assert not any("WITHOUT hair" in n for n in doc["notes"])


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
