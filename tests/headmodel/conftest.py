"""Fixtures of the FLAME tests: the CC-BY template and the synthetic FLAME model written in each file layout.

The model and the writers are in ``standin.py`` (beside this file), which ``scripts/make_standin_flame.py`` also
uses: :func:`~standin.build_synthetic_flame` gives random bases in FLAME's real layout, for the loader and LBS tests.
"""

import sys
import types
from pathlib import Path

import pytest
from standin import (
    SyntheticFlame,
    build_synthetic_flame,
    fake_chumpy,
    py2_pickle_bytes,
    write_flame_2020,
    write_flame_2023,
)

from headcast.headmodel.flame import FlameTemplate, load_flame_template_ply

# --- fixtures -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def flame_cc_by_dir(shared_dir: Path) -> Path:
    folder = shared_dir / "assets" / "flame_tf_flame_cc_by"
    if not (folder / "template.ply").is_file():
        pytest.skip(f"the CC-BY FLAME template is not in {folder}")
    return folder


@pytest.fixture(scope="session")
def flame_template(flame_cc_by_dir: Path) -> FlameTemplate:
    return load_flame_template_ply(flame_cc_by_dir / "template.ply")


@pytest.fixture(scope="session")
def synthetic_flame(flame_template: FlameTemplate) -> SyntheticFlame:
    return build_synthetic_flame(flame_template)


@pytest.fixture(scope="session")
def flame_files(synthetic_flame: SyntheticFlame, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The synthetic model in each layout: ``"2020"``, ``"2023"``, and ``"2023-chumpy"`` (chumpy arrays, protocol 5)."""
    folder = tmp_path_factory.mktemp("flame")
    files = {
        "2020": write_flame_2020(folder / "generic_model.pkl", synthetic_flame),
        "2023": write_flame_2023(folder / "flame2023.pkl", synthetic_flame),
        "2023-chumpy": write_flame_2023(folder / "flame2023_ch.pkl", synthetic_flame, chumpy_arrays=True, protocol=5),
    }
    assert "chumpy" not in sys.modules  # the stand-in modules are gone again
    return files


@pytest.fixture(scope="session")
def flame_writers() -> types.SimpleNamespace:
    """The writers and helpers above, for tests that write variants of the file."""
    return types.SimpleNamespace(
        write_2020=write_flame_2020,
        write_2023=write_flame_2023,
        fake_chumpy=fake_chumpy,
        py2_pickle_bytes=py2_pickle_bytes,
    )
