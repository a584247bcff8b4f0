"""``headcast assets verify`` and the strict ``--assets DIR`` through ``headcast.cli.main.main``."""

from pathlib import Path

import pytest

from headcast.assets.fetch import SourceURLs, fetch_assets
from headcast.assets.registry import ASSETS
from headcast.cli.main import main


def test_make_with_a_missing_asset_folder_exits_5_before_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import headcast.headmodel.ict as ict

    def never(*args: object) -> None:
        raise AssertionError("the model must not be loaded")

    monkeypatch.setattr(ict, "_load", never)
    photo = tmp_path / "face.jpg"
    photo.write_bytes(b"not read before the model files are found")
    missing = tmp_path / "nonexistent"
    assert main(["make", str(photo), "-o", str(tmp_path / "out"), "--assets", str(missing), "--hair", "none"]) == 5
    err = capsys.readouterr().err
    assert f"The asset folder {missing} (given by --assets) does not exist" in err
    assert f"headcast assets fetch --out {missing}" in err
    assert not (tmp_path / "out").exists()


def test_verify_missing_folder_exits_5(tmp_path: Path, capsys) -> None:
    assert main(["assets", "verify", "--assets", str(tmp_path / "nonexistent")]) == 5
    assert "does not exist" in capsys.readouterr().err


def test_verify_lists_every_file_and_exit_codes(tmp_path: Path, mirror, miniature, capsys) -> None:
    fetch_assets(tmp_path, SourceURLs.mirror(mirror.url), pypi_download=None, log=lambda _: None)
    assert main(["assets", "verify", "--assets", str(tmp_path)]) == 0  # the missing hair files are optional
    out = capsys.readouterr().out
    assert f"only {tmp_path} (from --assets)" in out
    lines = {line.split()[2]: line.split()[:2] for line in out.splitlines()[1:]}
    assert set(lines) >= {spec.relpath for spec in ASSETS.values()}
    assert lines[ASSETS["ict_model"].relpath] == ["ok", "required"]
    assert lines[ASSETS["hair_mh_bob01"].relpath] == ["ok", "optional"]
    assert lines[ASSETS["hair_mh_afro01"].relpath] == ["missing", "optional"]
    assert f"[{tmp_path}]" in out

    (tmp_path / ASSETS["mediapipe_canonical_face"].relpath).write_bytes(b"tampered")
    (tmp_path / ASSETS["ict_neutral_obj"].relpath).unlink()
    assert main(["assets", "verify", "--assets", str(tmp_path)]) == 5
    captured = capsys.readouterr()
    assert f"checksum mismatch required {ASSETS['mediapipe_canonical_face'].relpath}" in captured.out
    assert f"missing           required {ASSETS['ict_neutral_obj'].relpath}  [-]" in captured.out
    assert "2 required model file(s) missing or corrupt" in captured.err


def test_verify_uses_the_environment_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("HEADCAST_ASSETS", str(tmp_path))
    assert main(["assets", "verify"]) == 5
    assert f"only {tmp_path} (from HEADCAST_ASSETS)" in capsys.readouterr().out
