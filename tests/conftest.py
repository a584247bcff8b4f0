"""Shared fixtures: the asset folder and the fixture photos (../shared beside the checkout)."""

from pathlib import Path

import pytest

from headcast.assets import AssetSettings, resolve_asset
from headcast.errors import AssetError
from headcast.render.context import RenderBackendError, Renderer


def _shared_dir() -> Path | None:
    for parent in (Path.cwd(), *Path.cwd().parents):
        if (parent / "shared" / "fixtures").is_dir():
            return parent / "shared"
    return None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    d = _shared_dir()
    if d is None:
        pytest.skip("../shared (fixtures and assets) is not beside this checkout")
    return d


@pytest.fixture(scope="session")
def portraits_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "portraits"


@pytest.fixture(scope="session")
def asset_settings() -> AssetSettings:
    try:
        resolve_asset("ict_model")
    except AssetError as exc:
        pytest.skip(f"model files not available: {exc}")
    return AssetSettings()


@pytest.fixture(scope="session")
def ict_model(asset_settings: AssetSettings):
    from headcast.headmodel.ict import load_ict_facekit

    return load_ict_facekit(asset_settings)


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    """One GL renderer for the render and texture tests; skips them where EGL is unavailable."""
    r = Renderer()
    try:
        _ = r.ctx
    except RenderBackendError as exc:
        pytest.skip(str(exc))
    return r
