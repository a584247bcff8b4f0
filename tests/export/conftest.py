"""Fixtures of the export tests (builders in ``exporthelp``)."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from exporthelp import REQUIRE_VALIDATOR, VALIDATOR_DIR, make_avatar, random_texture, tiny_model

from headcast.avatar import Avatar
from headcast.headmodel.base import LinearHeadModel


@pytest.fixture
def tiny() -> LinearHeadModel:
    return tiny_model()


@pytest.fixture
def tiny_avatar(tiny: LinearHeadModel) -> Avatar:
    return make_avatar(tiny, np.array([0.5, -1.0]), np.array([0.7, 0.4, 0.25]), random_texture(len(tiny.uv)))


@pytest.fixture(scope="session")
def gltf_validator() -> Path:
    """Path of tools/node/validate.mjs; skips (or fails, in CI) when node or the npm package is missing."""
    script = VALIDATOR_DIR / "validate.mjs"
    missing = None
    if shutil.which("node") is None:
        missing = "node is not installed"
    elif not (VALIDATOR_DIR / "node_modules" / "gltf-validator").is_dir():
        missing = "gltf-validator is not installed (run: npm ci --prefix tools/node)"
    if missing:
        if REQUIRE_VALIDATOR:
            pytest.fail(f"HEADCAST_REQUIRE_GLTF_VALIDATOR=1 but {missing}")
        pytest.skip(missing)
    return script
