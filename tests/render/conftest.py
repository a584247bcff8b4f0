import pytest

from headcast.render.context import RenderBackendError, Renderer


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    r = Renderer()
    try:
        _ = r.ctx
    except RenderBackendError as exc:
        pytest.skip(str(exc))
    return r
