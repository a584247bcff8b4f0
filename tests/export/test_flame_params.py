"""flame_params.json: written and read back, validated, and added to avatar.zip."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from headcast.export.bundle import ZIP_NAME, BundleFile, BundleManifest, write_zip
from headcast.export.flame_params import (
    FLAME_PARAMS_NAME,
    FlameParamsFileError,
    append_to_zip,
    flame_params_document,
    load_flame_params_document,
    read_flame_params,
    write_flame_params,
)
from headcast.fitting.flame_fit import FlameFit, FlameParams


def a_fit() -> FlameFit:
    rng = np.random.default_rng(0)
    params = FlameParams(rng.normal(size=100), rng.normal(size=50), rng.normal(0, 0.1, (5, 3)),
                         np.array([0.001, -0.02, 0.03]))
    return FlameFit(params, np.array([0.001, 0.002, 0.004]), 0.0021, {"shape": 7, "expression": 5})


def test_round_trip(tmp_path: Path) -> None:
    fit = a_fit()
    doc = flame_params_document(fit, "generic_model.pkl", "a" * 64, "ict-facekit")
    path = write_flame_params(tmp_path / FLAME_PARAMS_NAME, doc)
    back = read_flame_params(path)
    for name in ("shape", "expression", "pose", "translation"):
        np.testing.assert_array_equal(getattr(back, name), getattr(fit.params, name))  # floats survive JSON exactly
    raw = json.loads(path.read_text())
    assert raw["joint_names"] == ["global", "neck", "jaw", "eye_left", "eye_right"]
    assert raw["flame_model"] == {"file": "generic_model.pkl", "sha256": "a" * 64}
    assert raw["fit"]["mean_distance_mm"] == pytest.approx(2.1)
    assert raw["fit"]["median_distance_mm"] == pytest.approx(2.0)
    assert "axis-angle radians" in raw["conventions"]


@pytest.mark.parametrize(("edit", "field"), [
    (lambda d: d.update(pose=d["pose"][:4]), "pose"),
    (lambda d: d.update(joint_names=["a", "b", "c", "d", "e"]), "joint_names"),
    (lambda d: d["flame_model"].update(sha256="xyz"), "sha256"),
    (lambda d: d.update(extra=1), "extra"),
])
def test_invalid_documents_are_refused(tmp_path: Path, edit, field: str) -> None:
    path = write_flame_params(tmp_path / FLAME_PARAMS_NAME,
                              flame_params_document(a_fit(), "flame2023.pkl", "b" * 64, "ict-facekit"))
    raw = json.loads(path.read_text())
    edit(raw)
    path.write_text(json.dumps(raw))
    with pytest.raises(FlameParamsFileError, match=field):
        load_flame_params_document(path)
    with pytest.raises(FlameParamsFileError, match="cannot read"):
        load_flame_params_document(tmp_path / "missing.json")


def test_append_to_zip(tmp_path: Path) -> None:
    (tmp_path / "params.json").write_text("{}")
    files = (BundleFile.at(tmp_path / "params.json"),)
    manifest = BundleManifest(tmp_path, files, write_zip(tmp_path / ZIP_NAME, files))
    extra = write_flame_params(tmp_path / FLAME_PARAMS_NAME,
                               flame_params_document(a_fit(), "generic_model.pkl", "c" * 64, "ict-facekit"))
    updated = append_to_zip(manifest, extra)
    again = append_to_zip(updated, extra)  # a second time replaces, never duplicates
    for m in (updated, again):
        with zipfile.ZipFile(m.archive.path) as zf:
            assert sorted(zf.namelist()) == [FLAME_PARAMS_NAME, "params.json"]
            assert zf.read(FLAME_PARAMS_NAME) == extra.read_bytes()
        assert [f.name for f in m.files] == ["params.json", FLAME_PARAMS_NAME]
        assert m.archive.size_bytes == (tmp_path / ZIP_NAME).stat().st_size
