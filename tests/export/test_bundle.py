"""Bundle writer: every file, the zip holding them, manifest, extra pictures."""

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from headcast.avatar import Avatar
from headcast.export.bundle import write_bundle

EXPECTED = [
    "avatar.glb",
    "head.obj",
    "head.mtl",
    "texture.png",
    "params.json",
    "preview.png",
    "turntable.png",
]


def _png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def test_bundle_writes_all_files_and_zip(tmp_path: Path, tiny_avatar: Avatar) -> None:
    preview = np.full((8, 8, 3), 90, np.uint8)
    turntable = np.zeros((4, 16, 4), np.uint8)
    manifest = write_bundle(
        tiny_avatar, tmp_path / "out", images={"preview.png": preview, "turntable.png": _png(turntable)}
    )
    assert [f.name for f in manifest.files] == EXPECTED
    for f in manifest.files:
        assert f.path == tmp_path / "out" / f.name and f.path.stat().st_size == f.size_bytes > 0
    with zipfile.ZipFile(manifest.path("avatar.zip")) as archive:
        assert archive.namelist() == EXPECTED
        for name in EXPECTED:
            assert archive.read(name) == manifest.path(name).read_bytes()
    np.testing.assert_array_equal(np.asarray(Image.open(manifest.path("preview.png"))), preview)
    timings = json.loads(manifest.path("params.json").read_text())["timings"]
    assert set(timings) == {"detect", "fit", "export"} and timings["export"] > 0
    summary = manifest.to_json()
    assert summary["archive"] == str(tmp_path / "out" / "avatar.zip")
    assert json.dumps(summary)  # JSON-ready


def test_bundle_without_images_and_unknown_name(tmp_path: Path, tiny_avatar: Avatar) -> None:
    manifest = write_bundle(tiny_avatar, tmp_path)
    assert [f.name for f in manifest.files] == EXPECTED[:5]
    with pytest.raises(KeyError, match=r"no 'preview\.png'"):
        manifest.path("preview.png")


@pytest.mark.parametrize(
    ("name", "image"),
    [
        ("../escape.png", np.zeros((2, 2, 3), np.uint8)),
        ("preview.jpg", np.zeros((2, 2, 3), np.uint8)),
        ("texture.png", np.zeros((2, 2, 3), np.uint8)),
        ("preview.png", b"GIF89a not a png"),
        ("preview.png", np.zeros((2, 2, 3), np.float32)),
    ],
)
def test_bundle_rejects_bad_images(tmp_path: Path, tiny_avatar: Avatar, name: str, image: object) -> None:
    with pytest.raises(ValueError):
        write_bundle(tiny_avatar, tmp_path, images={name: image})  # type: ignore[dict-item]
