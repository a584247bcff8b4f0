import moderngl
import numpy as np
import pytest

from headcast.render.context import RenderBackendError, Renderer


def test_missing_egl_names_apt_packages(monkeypatch) -> None:
    def fail(**kwargs):
        raise Exception("libEGL.so.1: cannot open shared object file")

    monkeypatch.setattr(moderngl, "create_standalone_context", fail)
    with pytest.raises(RenderBackendError, match="libegl1 libgl1-mesa-dri"):
        _ = Renderer().ctx


def test_context_is_lazy_and_reused(renderer) -> None:
    fresh = Renderer()
    assert fresh._ctx is None  # nothing touches EGL until a render
    assert renderer.ctx is renderer.ctx


def test_texture_cache_by_identity(renderer) -> None:
    img = np.zeros((4, 4, 3), np.uint8)
    assert renderer.texture(img) is renderer.texture(img)
    assert renderer.texture(img.copy()) is not renderer.texture(img)
    with pytest.raises(ValueError, match="uint8"):
        renderer.texture(np.zeros((4, 4, 3), np.float32))  # type: ignore[arg-type]
