"""The bundle in two stages (headcast.export.staged) writes what write_bundle writes, in the same order."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from headcast.avatar import Avatar
from headcast.export.bundle import write_bundle
from headcast.export.staged import VIEWER_NAMES, complete_bundle, write_viewer_files

PICTURES = {"preview.png": np.full((8, 8, 3), 90, np.uint8), "turntable.png": np.zeros((4, 16, 4), np.uint8)}
EXTRA = {"hair.json": b'{"style": "short"}', "hair.data": b"\x00\x01strands"}


def _without_timings(path: Path) -> dict:
    doc = json.loads(path.read_text())
    doc.pop("timings")
    return doc


def test_two_stages_write_the_same_bundle_as_one(tmp_path: Path, tiny_avatar: Avatar) -> None:
    whole = write_bundle(tiny_avatar, tmp_path / "whole", images=PICTURES, extra_files=EXTRA)

    glb, params = write_viewer_files(tiny_avatar, tmp_path / "staged")
    assert sorted(p.name for p in (tmp_path / "staged").iterdir()) == sorted(VIEWER_NAMES)  # only the viewer's
    assert (glb.name, params.name) == VIEWER_NAMES and glb.size_bytes == glb.path.stat().st_size > 0
    assert set(json.loads(params.path.read_text())["timings"]) == {"detect", "fit", "export"}
    glb_bytes = glb.path.read_bytes()
    staged = complete_bundle(tiny_avatar, tmp_path / "staged", images=PICTURES, extra_files=EXTRA)

    assert [f.name for f in staged.files] == [f.name for f in whole.files]
    for mine, theirs in zip(staged.files, whole.files, strict=True):
        if mine.name == "params.json":  # the wall-clock seconds differ
            assert _without_timings(mine.path) == _without_timings(theirs.path)
        else:
            assert mine.path.read_bytes() == theirs.path.read_bytes(), mine.name
    assert staged.path("avatar.glb").read_bytes() == glb_bytes  # the first stage's GLB is kept, not rewritten
    with zipfile.ZipFile(staged.archive.path) as a, zipfile.ZipFile(whole.archive.path) as b:
        assert a.namelist() == b.namelist()
        assert [i.compress_type for i in a.infolist()] == [i.compress_type for i in b.infolist()]
        assert a.read("avatar.glb") == glb_bytes


def test_second_stage_needs_the_first(tmp_path: Path, tiny_avatar: Avatar) -> None:
    with pytest.raises(FileNotFoundError):
        complete_bundle(tiny_avatar, tmp_path)


@pytest.mark.parametrize(
    ("images", "extra"),
    [
        ({"preview.jpg": PICTURES["preview.png"]}, {}),
        ({"preview.png": b"not a png"}, {}),
        ({}, {"avatar.glb": b"x"}),
        ({}, {"sub/hair.data": b"x"}),
        ({"hair.png": PICTURES["preview.png"]}, {"hair.png": b"x"}),
    ],
)
def test_second_stage_rejects_bad_or_clashing_names(tmp_path: Path, tiny_avatar: Avatar, images, extra) -> None:
    write_viewer_files(tiny_avatar, tmp_path)
    with pytest.raises(ValueError):
        complete_bundle(tiny_avatar, tmp_path, images=images, extra_files=extra)
