import hashlib
from pathlib import Path

import pytest

from headcast.assets import ASSETS, AssetSettings, resolve_asset
from headcast.assets.resolver import candidate_dirs, sha256_file
from headcast.errors import AssetError


def test_sha256_known_answer(tmp_path: Path) -> None:
    f = tmp_path / "x.bin"
    f.write_bytes(b"abc")
    assert sha256_file(f) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_search_order_explicit_then_env_then_parents(tmp_path: Path) -> None:
    explicit = tmp_path / "explicit"
    env_dir = tmp_path / "env"
    cwd = tmp_path / "a" / "b"
    dirs = candidate_dirs(AssetSettings(assets_dir=explicit), cwd=cwd, env={"HEADCAST_ASSETS": str(env_dir)})
    assert dirs[0] == explicit
    assert dirs[1] == env_dir
    assert dirs[2] == cwd / "shared" / "assets"
    assert tmp_path / "shared" / "assets" in dirs
    assert dirs[-1].parts[-2:] == ("headcast", "assets")


def _fake_assets(tmp_path: Path, key: str, content: bytes) -> Path:
    spec = ASSETS[key]
    path = tmp_path / spec.relpath
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    return path


def test_missing_file_names_file_and_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("HEADCAST_ASSETS", raising=False)
    from headcast.assets import resolver

    monkeypatch.setattr(resolver, "editable_checkout", lambda: None)
    with pytest.raises(AssetError) as err:
        resolve_asset("face_landmarker", AssetSettings(assets_dir=tmp_path / "nowhere"))
    msg = str(err.value)
    assert "face_landmarker.task" in msg
    assert "Get it from" in msg and "MediaPipe" in msg
    assert str(tmp_path / "nowhere") in msg


def test_corrupt_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _fake_assets(tmp_path, "ict_neutral_obj", b"not the real file")
    with pytest.raises(AssetError, match="sha256"):
        resolve_asset("ict_neutral_obj", AssetSettings(assets_dir=tmp_path))


def test_good_file_resolves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = b"hello"
    spec = ASSETS["ict_neutral_obj"]
    monkeypatch.setitem(
        ASSETS, "ict_neutral_obj", type(spec)(spec.key, spec.relpath, hashlib.sha256(content).hexdigest(), "MIT", "x")
    )
    path = _fake_assets(tmp_path, "ict_neutral_obj", content)
    assert resolve_asset("ict_neutral_obj", AssetSettings(assets_dir=tmp_path)) == path


def test_unknown_key() -> None:
    with pytest.raises(AssetError, match="Unknown model file key"):
        resolve_asset("nope")


def test_real_assets_verify(asset_settings: AssetSettings) -> None:
    for key in ASSETS:
        assert resolve_asset(key, asset_settings).is_file()


def test_editable_checkout_is_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from headcast.assets import resolver

    monkeypatch.setattr(resolver, "editable_checkout", lambda: tmp_path / "repo")
    dirs = candidate_dirs(AssetSettings(), cwd=tmp_path / "elsewhere", env={})
    assert tmp_path / "shared" / "assets" in dirs
    assert dirs.index(tmp_path / "elsewhere" / "shared" / "assets") < dirs.index(tmp_path / "shared" / "assets")
