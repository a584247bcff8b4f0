import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from headcast.assets import ASSETS, AssetSettings, resolve_asset
from headcast.assets.resolver import candidate_dirs, npz_content_sha256, search_plan, sha256_file
from headcast.errors import AssetError


def test_sha256_known_answer(tmp_path: Path) -> None:
    f = tmp_path / "x.bin"
    f.write_bytes(b"abc")
    assert sha256_file(f) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_explicit_folder_is_the_only_one_searched(tmp_path: Path) -> None:
    explicit = tmp_path / "explicit"
    env = {"HEADCAST_ASSETS": str(tmp_path / "env")}
    assert candidate_dirs(AssetSettings(assets_dir=explicit), cwd=tmp_path / "a", env=env) == [explicit]
    plan = search_plan(AssetSettings(assets_dir=explicit), cwd=tmp_path / "a", env=env)
    assert plan.explicit == "--assets"


def test_environment_folder_is_the_only_one_searched(tmp_path: Path) -> None:
    env_dir = tmp_path / "env"
    plan = search_plan(AssetSettings(), cwd=tmp_path / "a", env={"HEADCAST_ASSETS": str(env_dir)})
    assert plan.dirs == (env_dir,) and plan.explicit == "HEADCAST_ASSETS"


def test_search_order_without_an_explicit_folder(tmp_path: Path) -> None:
    cwd = tmp_path / "a" / "b"
    dirs = candidate_dirs(AssetSettings(), cwd=cwd, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert dirs[0] == cwd / "shared" / "assets"
    assert tmp_path / "shared" / "assets" in dirs
    assert dirs[-1] == tmp_path / "cache" / "headcast" / "assets"


def _fake_assets(tmp_path: Path, key: str, content: bytes) -> Path:
    spec = ASSETS[key]
    path = tmp_path / spec.relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_missing_file_names_file_and_source(tmp_path: Path) -> None:
    folder = tmp_path / "assets"
    folder.mkdir()
    with pytest.raises(AssetError) as err:
        resolve_asset("face_landmarker", AssetSettings(assets_dir=folder))
    msg = str(err.value)
    assert "face_landmarker.task" in msg and str(folder) in msg
    assert "headcast assets fetch" in msg and "MediaPipe" in msg
    assert "no other folder is searched" in msg


def test_missing_explicit_folder_is_an_error_not_a_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = tmp_path / "shared" / "assets"
    _fake_assets(good, "ict_neutral_obj", b"x")  # a folder the search would otherwise find
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HEADCAST_ASSETS", raising=False)
    (good / "x.txt").write_text("a file, not a folder")
    for folder, what in ((tmp_path / "nowhere", "does not exist"), (good / "x.txt", "is not a folder")):
        with pytest.raises(AssetError) as err:
            resolve_asset("ict_neutral_obj", AssetSettings(folder, verify=False))
        msg = str(err.value)
        assert f"{folder} (given by --assets) {what}" in msg
        assert "headcast assets fetch --out" in msg
    monkeypatch.setenv("HEADCAST_ASSETS", str(tmp_path / "typo"))
    with pytest.raises(AssetError, match="HEADCAST_ASSETS"):
        resolve_asset("ict_neutral_obj", AssetSettings(verify=False))
    monkeypatch.delenv("HEADCAST_ASSETS")
    assert resolve_asset("ict_neutral_obj", AssetSettings(verify=False)) == good / ASSETS["ict_neutral_obj"].relpath


def test_explicit_folder_missing_one_file_does_not_fall_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_assets(tmp_path / "shared" / "assets", "ict_neutral_obj", b"x")
    (tmp_path / "mine").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AssetError, match="is not in the asset folder"):
        resolve_asset("ict_neutral_obj", AssetSettings(tmp_path / "mine", verify=False))


def test_npz_accepted_on_its_array_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A built .npz whose compressed bytes differ (another zlib) but whose arrays are the pinned ones is accepted."""
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "names": np.array(["x", "yz"])}
    path = tmp_path / ASSETS["ict_model"].relpath
    path.parent.mkdir(parents=True)
    np.savez_compressed(path, **arrays)
    digest = npz_content_sha256(path)
    spec = replace(ASSETS["ict_model"], sha256="0" * 64, content_sha256=digest)
    monkeypatch.setitem(ASSETS, "ict_model", spec)
    assert resolve_asset("ict_model", AssetSettings(tmp_path)) == path
    np.savez(path, **arrays)  # stored, not compressed: other bytes, same arrays
    assert sha256_file(path) != spec.sha256 and npz_content_sha256(path) == digest
    assert resolve_asset("ict_model", AssetSettings(tmp_path)) == path
    np.savez(path, a=arrays["a"] + 1, names=arrays["names"])
    with pytest.raises(AssetError, match="corrupt or a different version"):
        resolve_asset("ict_model", AssetSettings(tmp_path))


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
