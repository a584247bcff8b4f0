"""The one object that owns GL state: a headless moderngl context on EGL (Mesa llvmpipe on CPU).

Everything else in :mod:`headcast.render` is a function that takes a :class:`Renderer`; the renderer only
holds the context and caches what is expensive to recreate (compiled programs, offscreen framebuffers,
uploaded textures). The context is created on first use, so constructing a ``Renderer`` is free.
"""

import threading
from collections import OrderedDict
from typing import Literal

import moderngl
import numpy as np
from numpy.typing import NDArray

from headcast.errors import HeadcastError

Backend = Literal["egl"]

_APT_HINT = (
    "headcast renders on the CPU through EGL (Mesa llvmpipe). Install the system packages with "
    "'apt-get install libegl1 libgl1-mesa-dri' (Debian/Ubuntu), then try again."
)


class RenderBackendError(HeadcastError):
    """No offscreen OpenGL context could be created (EGL or Mesa missing)."""

    exit_code = 7


_CURRENT = threading.local()
"""Per thread: the renderer whose context is current (EGL contexts are made current per thread)."""


class Renderer:
    """Owner of one moderngl context plus its caches. Not thread-safe: use one renderer per thread.

    Attributes:
        backend: the moderngl standalone backend (only ``"egl"``: headless, no display server needed).
        max_textures: how many uploaded textures are kept for reuse (keyed by the identity of the numpy array,
            so a texture image must not be modified in place after it has been rendered).
    """

    def __init__(self, backend: Backend = "egl", max_textures: int = 4) -> None:
        self.backend: Backend = backend
        self.max_textures = int(max_textures)
        self._ctx: moderngl.Context | None = None
        self._programs: dict[str, moderngl.Program] = {}
        self._framebuffers: dict[tuple[object, ...], moderngl.Framebuffer] = {}
        self._textures: OrderedDict[int, tuple[NDArray[np.uint8], moderngl.Texture]] = OrderedDict()

    @property
    def ctx(self) -> moderngl.Context:
        """The context, created on first access.

        Raises:
            RenderBackendError: EGL / Mesa is not available.
        """
        if self._ctx is None:
            try:
                self._ctx = moderngl.create_standalone_context(backend=self.backend)  # type: ignore[arg-type]
            except Exception as exc:  # glcontext raises plain Exception subclasses with library messages
                raise RenderBackendError(f"Could not create an OpenGL context ({exc}). {_APT_HINT}") from exc
            _CURRENT.renderer = self  # a new standalone context is made current on this thread
        elif getattr(_CURRENT, "renderer", None) is not self:
            # Another renderer's context was made current on this thread since: GL calls (draws, reads) go to the
            # current context, so make ours current again before anyone uses it.
            self._ctx.__enter__()
            _CURRENT.renderer = self
        return self._ctx

    def program(self, key: str, vertex_shader: str, fragment_shader: str) -> moderngl.Program:
        """A compiled shader program, compiled once per ``key``."""
        ctx = self.ctx  # also makes this renderer's context current on this thread
        prog = self._programs.get(key)
        if prog is None:
            prog = ctx.program(vertex_shader=vertex_shader, fragment_shader=fragment_shader)
            self._programs[key] = prog
        return prog

    def framebuffer(
        self,
        key: str,
        size: tuple[int, int],
        attachments: tuple[tuple[int, str], ...],
        depth: bool = True,
        depth_texture: bool = False,
    ) -> moderngl.Framebuffer:
        """An offscreen framebuffer, reused for the same ``key``, ``size`` and attachment layout.

        Args:
            key: caller's name for the framebuffer (different passes keep separate buffers).
            size: ``(width, height)`` in pixels.
            attachments: one ``(components, dtype)`` per colour attachment, e.g. ``((4, "f1"), (1, "f4"))``.
            depth: attach a depth renderbuffer.
            depth_texture: attach a readable depth texture instead (``fbo.read(attachment=-1, dtype="f4")``).
        """
        ctx = self.ctx  # also makes this renderer's context current on this thread
        full_key = (key, size, attachments, depth, depth_texture)
        fbo = self._framebuffers.get(full_key)
        if fbo is None:
            stale = [k for k in self._framebuffers if k[0] == key]
            for k in stale:  # one size per key: release buffers of an older size
                self._release_framebuffer(self._framebuffers.pop(k))
            colors = [ctx.texture(size, comps, dtype=dtype) for comps, dtype in attachments]
            depth_att: moderngl.Texture | moderngl.Renderbuffer | None = None
            if depth_texture:
                depth_att = ctx.depth_texture(size)
            elif depth:
                depth_att = ctx.depth_renderbuffer(size)
            fbo = ctx.framebuffer(color_attachments=colors, depth_attachment=depth_att)
            self._framebuffers[full_key] = fbo
        return fbo

    def texture(self, image: NDArray[np.uint8], mipmaps: bool = True) -> moderngl.Texture:
        """Upload an ``(h, w, C)`` uint8 image (C = 1..4, row 0 first in memory) or reuse its upload.

        Row 0 of ``image`` lands at texture coordinate t = 0; samplers that expect the OpenGL bottom-left UV
        origin therefore read it at ``t = 1 - v`` (see the shaders in :mod:`headcast.render.raster`).
        """
        _ = self.ctx  # makes this renderer's context current on this thread
        key = id(image)
        hit = self._textures.get(key)
        if hit is not None and hit[0] is image:
            self._textures.move_to_end(key)
            return hit[1]
        img = np.ascontiguousarray(image)
        if img.ndim == 2:
            img = img[..., None]
        if img.dtype != np.uint8 or img.ndim != 3 or not 1 <= img.shape[2] <= 4:
            raise ValueError(f"texture images must be (h, w, 1..4) uint8, got {image.shape} {image.dtype}")
        h, w, c = img.shape
        tex = self.ctx.texture((w, h), c, img.tobytes(), alignment=1)
        if mipmaps:
            tex.build_mipmaps()
            tex.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)  # trilinear; anisotropy costs ~40%
        else:
            tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        tex.repeat_x = False
        tex.repeat_y = False
        self._textures[key] = (image, tex)
        while len(self._textures) > self.max_textures:
            _, (_, old) = self._textures.popitem(last=False)
            old.release()
        return tex

    def release(self) -> None:
        """Free every GL object and the context (a later call creates a fresh context)."""
        for _, tex in self._textures.values():
            tex.release()
        self._textures.clear()
        for fbo in self._framebuffers.values():
            self._release_framebuffer(fbo)
        self._framebuffers.clear()
        for prog in self._programs.values():
            prog.release()
        self._programs.clear()
        if self._ctx is not None:
            self._ctx.release()
            self._ctx = None

    @staticmethod
    def _release_framebuffer(fbo: moderngl.Framebuffer) -> None:
        for att in fbo.color_attachments:
            att.release()
        if fbo.depth_attachment is not None:
            fbo.depth_attachment.release()
        fbo.release()


def set_uniform(program: moderngl.Program, name: str, value: float | tuple[float, ...] | int | bytes) -> None:
    """Set a uniform of ``program``: a number or tuple, or raw bytes (e.g. a column-major ``mat4``)."""
    uniform = program[name]
    if not isinstance(uniform, moderngl.Uniform):
        raise KeyError(f"'{name}' is not a uniform of this program")
    if isinstance(value, bytes):
        uniform.write(value)
    else:
        uniform.value = value


_DEFAULT: Renderer | None = None


def default_renderer() -> Renderer:
    """The process-wide renderer used when a function is given ``renderer=None`` (created lazily).

    Its GL context is itself only created on first use, so importing headcast never touches EGL.
    """
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Renderer()
    return _DEFAULT
