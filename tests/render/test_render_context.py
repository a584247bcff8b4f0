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



def test_renderers_used_in_turn_draw_into_their_own_context(renderer) -> None:
    # A second renderer makes its context current; the first must make its own current again when used, or its
    # reads and draws go to the other context (seen: texture maps baked empty after a worker test made a renderer).
    key, size, layout = "test-turns", (8, 8), ((4, "f1"),)
    fbo = renderer.framebuffer(key, size, layout, depth=False)
    fbo.use()
    fbo.clear(1.0, 0.0, 0.0, 1.0)
    other = Renderer()
    try:
        _ = other.ctx  # current on this thread now
        fbo = renderer.framebuffer(key, size, layout, depth=False)  # the cached one, through renderer.ctx
        pixels = np.frombuffer(fbo.read(components=4), np.uint8).reshape(8, 8, 4)
        assert pixels[..., :3].reshape(-1, 3).tolist() == [[255, 0, 0]] * 64
    finally:
        if other._ctx is not None:
            other._ctx.release()
