"""The hair stage end to end: a fixture portrait through the composition with ``--hair auto`` and into the bundle.

Needs the model files, the fixture photos, EGL and torch (BiSeNet); skipped where one is missing. About 15–25 s on
two cores (model loading, one photo, one bundle).
"""

import zipfile
from pathlib import Path

import numpy as np
import pytest

from headcast.assets import AssetSettings
from headcast.render.context import Renderer

PHOTO = "london_119_neutral.jpg"
"""Short black hair, frontal studio portrait (hair-mask IoU ≈ 0.85 when this test was written)."""

IOU_FLOOR = 0.7
"""The photo-view hair-mask IoU (``eval.hair_metrics.silhouette_iou``) this portrait must keep."""


@pytest.fixture(scope="module")
def avatar_and_pipeline(portraits_dir: Path, asset_settings: AssetSettings, renderer: Renderer):
    pytest.importorskip("torch")
    from headcast.options import Options
    from headcast.pipeline import Pipeline, PipelineSettings

    photo = portraits_dir / PHOTO
    if not photo.is_file():
        pytest.skip(f"{photo} is missing")
    pipe = Pipeline.load(PipelineSettings(assets=asset_settings))
    try:
        yield pipe.make(photo, Options(hair="auto")), pipe
    finally:
        pipe.close()


def test_auto_hair_on_a_portrait(avatar_and_pipeline) -> None:
    from headcast.eval.hair_metrics import silhouette_iou
    from headcast.hair.head import prepare_head
    from headcast.hair.sdf import sample_sdf
    from headcast.parsing import hair_mask

    av, pipe = avatar_and_pipeline
    report = av.hair_report
    assert report is not None and av.hair is not None, av.warnings
    strands = av.hair
    assert strands.num_strands >= 10_000
    assert report.style != "bald" and np.isfinite(report.iou)
    # on the scalp: roots on the head's surface, (almost) no point inside it
    head = prepare_head(av.model, av.fit.params)
    root_dist, _ = sample_sdf(head.sdf, strands.points[:, 0], with_gradient=False)
    assert np.percentile(np.abs(root_dist), 95) < 0.004
    dist, _ = sample_sdf(head.sdf, strands.points.reshape(-1, 3), with_gradient=False)
    assert np.mean(dist < -0.002) < 0.01
    # the photo's hair, seen from the photo's camera
    iou = silhouette_iou(strands, av.fit, av.model, hair_mask(pipe.parse_face(av.photo.pixels)), pipe.renderer)
    assert iou >= IOU_FLOOR, iou


def test_bundle_has_the_hair_files(avatar_and_pipeline, tmp_path: Path) -> None:
    import json

    av, pipe = avatar_and_pipeline
    manifest = pipe.write(av, tmp_path)
    names = {f.name for f in manifest.files}
    assert {"hair.json", "hair.data", "hair.hair", "hair_guides.obj"} <= names
    info = json.loads(manifest.path("hair.json").read_text())
    assert info["strands"] == av.hair.num_strands and info["hair_iou"] is not None
    with zipfile.ZipFile(manifest.archive.path) as z:
        assert {"hair.json", "hair.data", "hair.hair"} <= {Path(n).name for n in z.namelist()}


def test_without_face_parsing_auto_hair_falls_back_to_a_library_style(
    portraits_dir: Path, asset_settings: AssetSettings, renderer: Renderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain install (no torch, no BiSeNet weights) still makes the default avatar: library hair, a warning."""
    from headcast.assets.weights import MissingWeightsError
    from headcast.hair.stage import FALLBACK_STYLE
    from headcast.options import Options
    from headcast.parsing import BiSeNetFaceParser
    from headcast.pipeline import Pipeline, PipelineSettings

    def unavailable(self, pixels):
        raise MissingWeightsError("The weight file 'bisenet_79999_iter.pth' (face parsing) is not in /nowhere.")

    monkeypatch.setattr(BiSeNetFaceParser, "parse_face", unavailable)
    photo = portraits_dir / PHOTO
    if not photo.is_file():
        pytest.skip(f"{photo} is missing")
    pipe = Pipeline.load(PipelineSettings(assets=asset_settings))
    try:
        av = pipe.make(photo, Options())
    finally:
        pipe.close()
    assert av.hair is not None and av.hair.num_strands > 1000
    assert av.hair_report is not None and av.hair_report.style == FALLBACK_STYLE
    warning = next(w for w in av.warnings if "face parsing unavailable" in w)
    assert "bisenet_79999_iter.pth" in warning and FALLBACK_STYLE in warning
