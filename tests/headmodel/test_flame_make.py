"""``headcast make … --flame-model PATH``: flame_params.json beside the bundle and in avatar.zip; a missing file."""

import zipfile
from pathlib import Path

import numpy as np
import pytest

from headcast.cli.main import main
from headcast.export.flame_params import FLAME_PARAMS_NAME, load_flame_params_document
from headcast.headmodel.flame import FLAME_SOURCE


def test_missing_flame_file_is_exit_5_before_any_photo(tmp_path: Path, portraits_dir: Path, capsys) -> None:
    out = tmp_path / "out"
    code = main(["make", str(portraits_dir / "london_003_neutral.jpg"), "-o", str(out), "--hair", "none",
                 "--flame-model", str(tmp_path / "generic_model.pkl")])
    assert code == 5
    err = capsys.readouterr().err
    assert FLAME_SOURCE in err and "non-commercial" in err and "--flame-model" in err
    assert not out.exists()  # failed before the pipeline made anything


@pytest.mark.slow
def test_make_writes_flame_params(tmp_path: Path, portraits_dir: Path, flame_files: dict[str, Path],
                                  asset_settings) -> None:
    from headcast.assets.resolver import sha256_file

    out = tmp_path / "out"
    flame_file = flame_files["2020"]
    assert main(["make", str(portraits_dir / "london_003_neutral.jpg"), "-o", str(out), "--hair", "none",
                 "--flame-model", str(flame_file)]) == 0
    doc = load_flame_params_document(out / FLAME_PARAMS_NAME)
    assert doc.flame_model.file == flame_file.name and doc.flame_model.sha256 == sha256_file(flame_file)
    assert len(doc.shape) == 100 and len(doc.expression) == 50
    # synthetic bases: measured 3.6 mm mean on this photo (see test_flame_fit.FIXTURE_RESIDUAL_MM)
    assert 0.0 < doc.fit.mean_distance_mm < 6.0 and doc.fit.points > 2500
    assert np.all(np.isfinite(doc.params().pose))
    with zipfile.ZipFile(out / "avatar.zip") as zf:
        assert zf.read(FLAME_PARAMS_NAME) == (out / FLAME_PARAMS_NAME).read_bytes()
        assert "params.json" in zf.namelist()
