"""CPU rendering (moderngl on EGL / llvmpipe) for previews, turntables, texture baking and evaluation.

Head-level pictures (``render_head``, ``preview_image``, ``turntable_image``) are in :mod:`headcast.render.views`.
"""

from headcast.render.context import RenderBackendError, Renderer, default_renderer
from headcast.render.raster import (
    LineSet,
    MeshDraw,
    RenderResult,
    RenderSettings,
    TriangleIdRender,
    polyline_segments,
    rasterize_uv,
    render,
    render_triangle_ids,
)

__all__ = [
    "LineSet",
    "MeshDraw",
    "RenderBackendError",
    "RenderResult",
    "RenderSettings",
    "Renderer",
    "TriangleIdRender",
    "default_renderer",
    "polyline_segments",
    "rasterize_uv",
    "render",
    "render_triangle_ids",
]
