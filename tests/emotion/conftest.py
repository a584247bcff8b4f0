"""A synthetic FLAME file for the FLAME emotion network's tests.

The builder and writer are tests/headmodel's (the real pickle layout with made-up bases on the CC-BY template's
topology, ``tests/headmodel/standin.py``; before that module existed, its conftest): the file is loaded by path under
its own module name — it is not importable as a package module, and copying it would let the two drift apart.
"""

import importlib.util
import types
from pathlib import Path

import pytest

from headcast.fitting.flame_correspondence import FlameCorrespondence, load_flame_correspondence
from headcast.headmodel.flame import FlameModel, load_flame, load_flame_template_ply

HEADMODEL_TESTS = Path(__file__).resolve().parents[1] / "headmodel"


def _headmodel_helpers() -> types.ModuleType:
    """The module of tests/headmodel that defines ``build_synthetic_flame`` and ``write_flame_2023``."""
    for name in ("standin.py", "conftest.py"):
        path = HEADMODEL_TESTS / name
        if not path.is_file() or "def build_synthetic_flame" not in path.read_text(encoding="utf-8"):
            continue
        spec = importlib.util.spec_from_file_location(f"headcast_tests_headmodel_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    raise RuntimeError(f"no synthetic FLAME builder in {HEADMODEL_TESTS}")


@pytest.fixture(scope="session")
def synthetic_flame_file(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic FLAME model written in FLAME 2023's layout (seed 2017, as tests/headmodel's)."""
    template_path = shared_dir / "assets" / "flame_tf_flame_cc_by" / "template.ply"
    if not template_path.is_file():
        pytest.skip(f"the CC-BY FLAME template is not at {template_path}")
    helpers = _headmodel_helpers()
    synthetic = helpers.build_synthetic_flame(load_flame_template_ply(template_path))
    return helpers.write_flame_2023(tmp_path_factory.mktemp("flame") / "flame2023.pkl", synthetic)


@pytest.fixture(scope="session")
def flame(synthetic_flame_file: Path) -> FlameModel:
    return load_flame(synthetic_flame_file)


@pytest.fixture(scope="session")
def flame_corr() -> FlameCorrespondence:
    return load_flame_correspondence()


@pytest.fixture(scope="session")
def standin_flame(shared_dir: Path, ict_model, flame_corr: FlameCorrespondence,
                  tmp_path_factory: pytest.TempPathFactory) -> FlameModel:
    """The realistic stand-in (ICT's shapes on FLAME's topology, ``standin.build_standin_flame``), when present."""
    template_path = shared_dir / "assets" / "flame_tf_flame_cc_by" / "template.ply"
    helpers = _headmodel_helpers()
    if not template_path.is_file() or not hasattr(helpers, "build_standin_flame"):
        pytest.skip("the realistic FLAME stand-in (tests/headmodel/standin.py) or the CC-BY template is not here")
    arrays = helpers.build_standin_flame(load_flame_template_ply(template_path), ict_model, flame_corr)
    return load_flame(helpers.write_flame_2023(tmp_path_factory.mktemp("standin") / "standin.pkl", arrays))
