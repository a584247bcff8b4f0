"""Rasterisation with a :class:`~headcast.render.context.Renderer`: textured meshes, lines, triangle ids, UV space.

Convention:
    Geometry is given in the **camera frame** (metres, OpenGL axes, the camera looks down −z) and projected with
    :func:`headcast.geometry.camera.opengl_projection`, so a rendered vertex lands exactly where
    :func:`headcast.geometry.camera.project` puts it. Output images are ``(H, W, ...)`` with **row 0 at the top**
    (the framebuffer is read bottom-up and flipped). Depth is ``-Z`` in metres (distance along the viewing axis),
    ``inf`` where nothing was drawn. UVs have the OpenGL bottom-left origin; texture images are row 0 = top.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import moderngl
import numpy as np
from numpy.typing import NDArray

from headcast.geometry.camera import Camera, opengl_projection
from headcast.render import shaders
from headcast.render.context import Renderer, default_renderer, set_uniform

Shading = Literal["unlit", "lambert"]
StrandShading = Literal["flat", "kajiya_kay"]


@dataclass(frozen=True)
class RenderSettings:
    """How a frame is rendered.

    Attributes:
        shading: ``"unlit"`` shows texture colours as they are; ``"lambert"`` multiplies them (in linear light)
            by ``ambient + (1 - ambient) · max(0, n · l)``, lighting both sides of a surface (a mesh whose texture
            is an albedo with its own :class:`ShLight` is lit by that instead).
        light_dir: ``(3,)`` direction towards the light in the camera frame (normalised by the shader).
        ambient: fraction of light that reaches surfaces facing away from the light, in [0, 1].
        background: ``(r, g, b)`` in [0, 1] behind the geometry (RGB is composited over it; alpha stays coverage).
        supersample: 2 renders 2 × 2 samples per pixel (4× supersampling) and box-filters them; 1 renders once.
        cull_back_faces: skip triangles facing away from the camera (counter-clockwise = front).
        line_width: width of :class:`LineSet` lines in output pixels.
        strand_shading: ``"flat"`` draws lines in their vertex colours; ``"kajiya_kay"`` lights them as hair
            fibres (tangent = segment direction) with ``light_dir``, ``ambient`` and a specular highlight.
        strand_specular: Kajiya-Kay specular strength.
        strand_shininess: Kajiya-Kay specular exponent.
        near: near clipping distance in metres.
        far: far clipping distance in metres.
    """

    shading: Shading = "lambert"
    light_dir: tuple[float, float, float] = (0.3, 0.4, 1.0)
    ambient: float = 0.45
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    supersample: Literal[1, 2] = 1
    cull_back_faces: bool = False
    line_width: float = 1.0
    strand_shading: StrandShading = "flat"
    strand_specular: float = 0.08
    strand_shininess: float = 40.0
    near: float = 0.01
    far: float = 100.0


@dataclass(frozen=True, eq=False)
class ShLight:
    """Distant light as second-order spherical harmonics, camera frame, for a mesh whose texture is an albedo.

    Under ``"lambert"`` settings a mesh carrying one is shaded by it instead of ``RenderSettings.light_dir``:
    channel ``c`` of a pixel is ``linear(texel_c) · g · clamp(s(n), lo, hi) ** (strength · m · k_c)`` (sRGB
    transfer curve of IEC 61966-2-1 both ways), with ``s(n) = n̂ᵀ M n̂``, ``n̂ = (x, y, z, 1)`` the interpolated
    unit normal (flipped on back faces), ``m`` the strength map at the pixel's UV (1 without one) and ``g`` the
    cavity factor below. This is the inverse of :func:`headcast.texture.lighting.delight` with the same ``lo``,
    ``hi``, ``k`` and per-texel strength, so a texture de-lit under a lighting and drawn under it again shows the
    photo's shading (up to 8-bit rounding).

    Attributes:
        matrix: ``(4, 4)`` symmetric ``M`` of the shading's quadratic form in the camera frame
            (:func:`headcast.texture.lighting.shading_matrix`; 1 = the mean shading of the fitted skin).
        exponents: ``(3,)`` per-channel exponents ``k_c`` (``(1, 1, 1)``: one grey shading).
        strength: the fraction of the shading the texture had divided out, in [0, 1] (0: the texture keeps its
            light and is drawn as it is); multiplies ``strength_map``.
        strength_map: ``(h, w)`` uint8, row 0 = top, sampled at the mesh's UVs like its texture: the per-texel
            fraction (× 255) of the shading divided out; None = 1 everywhere. Treat it as immutable (uploads
            are cached by array identity, :meth:`~headcast.render.context.Renderer.texture`).
        shading_range: ``(lo, hi)``, ``0 < lo <= hi``: the shading is clamped to it (normals the estimate never saw
            are not extrapolated into black or glare).
        ambient: the band-0 part of ``s`` (the same for every normal). A mesh's ``occlusion`` ``(a, d)`` scales it
            by ``a`` and the rest by ``d``: ``g = (a · min(ambient, s) + d · (s − min(ambient, s))) / s``.
    """

    matrix: NDArray[np.floating]
    exponents: tuple[float, float, float] = (1.0, 1.0, 1.0)
    strength: float = 1.0
    shading_range: tuple[float, float] = (0.05, 10.0)
    ambient: float = 0.0
    strength_map: NDArray[np.uint8] | None = None

    def __post_init__(self) -> None:
        if self.strength_map is not None and (self.strength_map.ndim != 2 or self.strength_map.dtype != np.uint8):
            raise ValueError(f"ShLight.strength_map must be (h, w) uint8, got {self.strength_map.shape} "
                             f"{self.strength_map.dtype}")
        if np.shape(self.matrix) != (4, 4):
            raise ValueError(f"ShLight.matrix must be (4, 4), got {np.shape(self.matrix)}")
        lo, hi = self.shading_range
        if not 0.0 < lo <= hi:
            raise ValueError(f"ShLight.shading_range must satisfy 0 < lo <= hi, got {self.shading_range}")
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"ShLight.strength must lie in [0, 1], got {self.strength}")


@dataclass(frozen=True, eq=False)
class MeshDraw:
    """A triangle mesh to draw, in the camera frame.

    Attributes:
        vertices: ``(V, 3)`` camera-frame positions, metres.
        triangles: ``(T, 3)`` vertex indices, counter-clockwise seen from outside.
        uv: ``(V, 2)`` per-vertex or ``(T, 3, 2)`` per-corner texture coordinates (bottom-left origin);
            None samples the texture at (0, 0).
        texture: ``(h, w, 3|4)`` uint8 sRGB image, row 0 = top; None draws ``color`` alone.
        normals: ``(V, 3)`` vertex normals for lambert shading; None computes area-weighted smooth normals.
        color: ``(r, g, b)`` in [0, 1] multiplied with the texture (the flat colour when there is none).
        occlusion: ``(V, 2)`` per-vertex light factors in [0, 1] under lambert shading: column 0 multiplies the
            ambient, column 1 the direct light (the mouth cavity, :mod:`headcast.render.mouth`); None = 1. Unlit
            ignores it.
        lighting: the texture is an albedo lit by this SH light (:class:`ShLight`), used instead of the settings'
            ``light_dir`` and ``ambient`` under ``"lambert"`` shading; None: lambert as the settings say. Unlit
            ignores it.
        lid_edges: ``(2, 2, P, 3)`` two overhanging edges (upper, lower lid) of each of two eyes as polylines of
            ``P = shaders.LID_POINTS`` points in the camera frame, metres
            (:func:`headcast.render.eyes.lid_polylines`); under lambert shading each fragment of a vertex of eye
            ``e`` (``lid_eye``) has its ambient and direct light factors multiplied by
            ``∏ₖ ½ (1 + dₖ / √(dₖ² + hₖ²))`` (:func:`headcast.render.eyes.lid_visibility`), ``dₖ`` its distance to
            the polyline ``lid_edges[e, k]``, computed per fragment. None = 1.
        lid_eye: ``(V,)`` the eye (0, 1) each vertex belongs to, -1 for none (light unchanged); needed with
            ``lid_edges``.
        lid_height: ``(h_upper, h_lower)`` wall heights ``h`` in metres for ``lid_edges``.
    """

    vertices: NDArray[np.floating]
    triangles: NDArray[np.integer]
    uv: NDArray[np.floating] | None = None
    texture: NDArray[np.uint8] | None = None
    normals: NDArray[np.floating] | None = None
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    occlusion: NDArray[np.floating] | None = None
    lighting: ShLight | None = None
    lid_edges: NDArray[np.floating] | None = None
    lid_eye: NDArray[np.integer] | None = None
    lid_height: tuple[float, float] = (1e-3, 1e-3)


@dataclass(frozen=True, eq=False)
class LineSet:
    """Line segments with per-vertex colours, in the camera frame (e.g. hair strands as polylines).

    Attributes:
        vertices: ``(P, 3)`` camera-frame points, metres.
        segments: ``(S, 2)`` index pairs into ``vertices`` (see :func:`polyline_segments`).
        colors: ``(P, 3)`` per-vertex sRGB colours in [0, 1] (interpolated along each segment).
    """

    vertices: NDArray[np.floating]
    segments: NDArray[np.integer]
    colors: NDArray[np.floating]


@dataclass(frozen=True, eq=False)
class RenderResult:
    """A rendered frame.

    Attributes:
        color: ``(H, W, 4)`` uint8: RGB composited over the background, A = coverage (255 = fully covered).
        depth: ``(H, W)`` float32 ``-Z`` of the nearest surface in metres; ``inf`` where nothing was drawn
            (with supersampling: the nearest of the pixel's samples).
    """

    color: NDArray[np.uint8]
    depth: NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class TriangleIdRender:
    """Which triangle each pixel centre sees.

    Attributes:
        triangle_id: ``(H, W)`` int32 index into the triangles drawn; -1 for background.
        barycentric: ``(H, W, 3)`` float32 perspective-correct weights of the triangle's three corners
            (rows sum to 1; zeros on background).
        depth: ``(H, W)`` float32 ``-Z`` in metres, ``inf`` on background.
    """

    triangle_id: NDArray[np.int32]
    barycentric: NDArray[np.float32]
    depth: NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class UVRaster:
    """Attributes rasterised in texture space.

    Attributes:
        values: ``(S_h, S_w, C)`` float32 interpolated attributes, row 0 = top (v = 1).
        mask: ``(S_h, S_w)`` bool, True where a triangle covers the texel centre.
    """

    values: NDArray[np.float32]
    mask: NDArray[np.bool_]


def polyline_segments(lengths: Sequence[int] | NDArray[np.integer]) -> NDArray[np.int32]:
    """Segment index pairs for polylines stored back to back.

    Args:
        lengths: ``(N,)`` number of points of each polyline (points of polyline i follow those of i − 1).

    Returns:
        ``(S, 2)`` int32 pairs ``(k, k + 1)`` within each polyline, ``S = Σ max(n_i − 1, 0)``.

    Example:
        >>> polyline_segments([3, 2]).tolist()
        [[0, 1], [1, 2], [3, 4]]
    """
    n = np.asarray(lengths, dtype=np.int64).reshape(-1)
    total = int(n.sum())
    keep = np.ones(total, dtype=bool)
    keep[(np.cumsum(n) - 1)[n > 0]] = False  # the last point of each polyline starts no segment
    a = np.flatnonzero(keep)
    return np.stack([a, a + 1], axis=1).astype(np.int32)


def smooth_normals(vertices: NDArray[np.floating], triangles: NDArray[np.integer]) -> NDArray[np.float32]:
    """Area-weighted unit vertex normals (``np.bincount`` accumulation, fast for 50k triangles).

    Args:
        vertices: ``(V, 3)`` positions.
        triangles: ``(T, 3)`` counter-clockwise triangles.

    Returns:
        ``(V, 3)`` float32 unit normals; zero for vertices used by no triangle.
    """
    v = np.asarray(vertices, dtype=np.float64)
    t = np.asarray(triangles, dtype=np.int64)
    fn = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])
    idx = t.ravel()
    n = np.stack([np.bincount(idx, weights=np.repeat(fn[:, c], 3), minlength=len(v)) for c in range(3)], axis=1)
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    return (n / np.where(norm == 0, 1.0, norm)).astype(np.float32)


def render(
    camera: Camera,
    meshes: Sequence[MeshDraw] = (),
    lines: Sequence[LineSet] = (),
    settings: RenderSettings | None = None,
    renderer: Renderer | None = None,
) -> RenderResult:
    """Draw textured meshes and lines with a depth test and read the frame back.

    Args:
        camera: intrinsics; the output is ``camera.height × camera.width``.
        meshes: triangle meshes in the camera frame.
        lines: line sets in the camera frame, depth-tested against the meshes.
        settings: shading, background, supersampling (``RenderSettings()`` when None).
        renderer: GL owner; the process default when None.

    Returns:
        colour with coverage alpha and linear depth, row 0 at the top.
    """
    settings = RenderSettings() if settings is None else settings
    renderer = default_renderer() if renderer is None else renderer
    ss = int(settings.supersample)
    cam = camera if ss == 1 else camera.scaled(ss)
    size = (cam.width, cam.height)
    ctx = renderer.ctx
    fbo = renderer.framebuffer("scene", size, ((4, "f1"),), depth_texture=True)
    fbo.use()
    # Opaque fragments write alpha 1 over a clear alpha of 0, so alpha is coverage and, after the box filter,
    # RGB is the render composited over the background.
    fbo.clear(*settings.background, 0.0, depth=1.0)
    ctx.enable(moderngl.DEPTH_TEST)
    if settings.cull_back_faces:
        ctx.enable(moderngl.CULL_FACE)
        ctx.front_face = "ccw"
        ctx.cull_face = "back"
    else:
        ctx.disable(moderngl.CULL_FACE)
    proj = opengl_projection(cam, settings.near, settings.far).astype("f4")
    for mesh in meshes:
        _draw_mesh(renderer, mesh, proj, settings)
    if lines:
        ctx.line_width = float(settings.line_width) * ss
        for line_set in lines:
            _draw_lines(renderer, line_set, proj, settings)
    ctx.disable(moderngl.CULL_FACE)
    rgba = _read(fbo, 0, 4, "f1", size)
    depth = _linear_depth(_read(fbo, -1, 1, "f4", size)[..., 0], settings.near, settings.far)
    if ss > 1:
        h, w = camera.height, camera.width
        # INTER_AREA at an integer factor is the ss × ss box mean, rounded; ~10× faster than a float mean here.
        rgba = cv2.resize(rgba, (w, h), interpolation=cv2.INTER_AREA)
        depth = depth.reshape(h, ss, w, ss).min(axis=(1, 3))
    return RenderResult(np.ascontiguousarray(rgba), np.ascontiguousarray(depth))


def render_triangle_ids(
    vertices: NDArray[np.floating],
    triangles: NDArray[np.integer],
    camera: Camera,
    cull_back_faces: bool = False,
    renderer: Renderer | None = None,
    near: float = 0.01,
    far: float = 100.0,
) -> TriangleIdRender:
    """Per-pixel triangle id and barycentric coordinates (visibility at pixel centres, no antialiasing).

    Args:
        vertices: ``(V, 3)`` camera-frame positions, metres.
        triangles: ``(T, 3)`` vertex indices.
        camera: intrinsics.
        cull_back_faces: ignore triangles seen from behind.
        renderer: GL owner; the process default when None.
        near: near clipping distance, metres.
        far: far clipping distance, metres.

    Returns:
        ids, barycentrics and depth, row 0 at the top.
    """
    renderer = default_renderer() if renderer is None else renderer
    ctx = renderer.ctx
    size = (camera.width, camera.height)
    tris = np.asarray(triangles, dtype=np.int64)
    pos = np.asarray(vertices, dtype=np.float32)[tris.ravel()]
    fbo = renderer.framebuffer("ids", size, ((4, "f4"),))
    fbo.use()
    fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
    ctx.enable(moderngl.DEPTH_TEST)
    if cull_back_faces:
        ctx.enable(moderngl.CULL_FACE)
        ctx.front_face = "ccw"
        ctx.cull_face = "back"
    prog = renderer.program("ids", shaders.ID_VERTEX, shaders.ID_FRAGMENT)
    set_uniform(prog, "proj", opengl_projection(camera, near, far).astype("f4").T.tobytes())
    vbo = ctx.buffer(pos.tobytes())
    vao = ctx.vertex_array(prog, [(vbo, "3f", "in_pos")])
    vao.render(moderngl.TRIANGLES)
    vao.release()
    vbo.release()
    ctx.disable(moderngl.CULL_FACE)
    out = _read(fbo, 0, 4, "f4", size)
    tid = np.rint(out[..., 0]).astype(np.int32) - 1
    b0, b1 = out[..., 1], out[..., 2]
    bary = np.stack([b0, b1, 1.0 - b0 - b1], axis=-1).astype(np.float32)
    bary[tid < 0] = 0.0
    depth = np.where(tid >= 0, out[..., 3], np.inf).astype(np.float32)
    return TriangleIdRender(tid, bary, depth)


def rasterize_uv(
    uv_corners: NDArray[np.floating],
    attributes: NDArray[np.floating],
    size: tuple[int, int],
    renderer: Renderer | None = None,
    precision: Literal["f4", "f1"] = "f4",
) -> UVRaster:
    """Rasterise per-corner attributes into texture space (texel centres, no antialiasing).

    Args:
        uv_corners: ``(T, 3, 2)`` target coordinates in [0, 1]² (bottom-left origin) of each triangle corner.
        attributes: ``(T, 3, C)`` per-corner values, interpolated linearly in UV space; any C ≥ 1.
        size: ``(width, height)`` of the output in texels.
        renderer: GL owner; the process default when None.
        precision: ``"f4"`` keeps float32 values; ``"f1"`` stores values in [0, 1] with 8 bits (4× less memory,
            exact for multiples of 1/255 such as small integer labels / 255).

    Returns:
        ``(height, width, C)`` values with row 0 = v near 1 (texel row = (1 − v) · height) and the coverage mask.
        Where triangles overlap in UV space the last one drawn wins.
    """
    renderer = default_renderer() if renderer is None else renderer
    ctx = renderer.ctx
    uv = np.ascontiguousarray(np.asarray(uv_corners, dtype=np.float32).reshape(-1, 2))
    attrs = np.asarray(attributes, dtype=np.float32)
    channels = attrs.shape[-1]
    attrs = np.concatenate([attrs.reshape(-1, channels), np.ones((len(uv), 1), np.float32)], axis=1)
    total = channels + 1  # the last channel is coverage
    prog = renderer.program("uv", shaders.UV_VERTEX, shaders.UV_FRAGMENT)
    ctx.disable(moderngl.DEPTH_TEST)
    ctx.disable(moderngl.CULL_FACE)
    uv_vbo = ctx.buffer(uv.tobytes())
    chunks = []
    for start in range(0, total, 4):
        comps = min(4, total - start)
        block = np.zeros((len(attrs), 4), dtype=np.float32)
        block[:, :comps] = attrs[:, start : start + comps]
        fbo = renderer.framebuffer(f"uv{comps}{precision}", size, ((comps, precision),), depth=False)
        attr_vbo = ctx.buffer(block.tobytes())
        vao = ctx.vertex_array(prog, [(uv_vbo, "2f", "in_uv"), (attr_vbo, "4f", "in_attr")])
        fbo.use()
        fbo.clear(0.0, 0.0, 0.0, 0.0)
        vao.render(moderngl.TRIANGLES)
        chunk = _read(fbo, 0, comps, precision, size)
        chunks.append(chunk.astype(np.float32) / 255.0 if precision == "f1" else chunk)
        vao.release()
        attr_vbo.release()
    uv_vbo.release()
    values = np.concatenate(chunks, axis=-1) if len(chunks) > 1 else chunks[0]
    return UVRaster(np.ascontiguousarray(values[..., :channels]), values[..., channels] > 0.5)


def _draw_mesh(renderer: Renderer, mesh: MeshDraw, proj: NDArray[np.float32], settings: RenderSettings) -> None:
    ctx = renderer.ctx
    tris = np.asarray(mesh.triangles, dtype=np.int64)
    if len(tris) == 0:
        return
    verts = np.asarray(mesh.vertices, dtype=np.float32)
    corners = tris.ravel()
    normals = smooth_normals(verts, tris) if mesh.normals is None else np.asarray(mesh.normals, np.float32)
    if mesh.uv is None:
        uv = np.zeros((len(corners), 2), dtype=np.float32)
    else:
        uv_in = np.asarray(mesh.uv, dtype=np.float32)
        uv = uv_in.reshape(-1, 2) if uv_in.ndim == 3 else uv_in[corners]
    data = np.empty((len(corners), 11), dtype=np.float32)
    data[:, 0:3] = verts[corners]
    data[:, 3:5] = uv
    data[:, 5:8] = normals[corners]
    data[:, 8:10] = 1.0 if mesh.occlusion is None else np.asarray(mesh.occlusion, np.float32).reshape(-1, 2)[corners]
    lids = mesh.lid_edges is not None and mesh.lid_eye is not None
    data[:, 10] = np.asarray(mesh.lid_eye, np.float32)[corners] if lids else -1.0
    tex_img = mesh.texture if mesh.texture is not None else _WHITE
    tex = renderer.texture(tex_img)
    prog = renderer.program("mesh", shaders.MESH_VERTEX, shaders.MESH_FRAGMENT)
    set_uniform(prog, "proj", proj.T.tobytes())
    set_uniform(prog, "base_color", tuple(float(c) for c in mesh.color))
    light = mesh.lighting
    mode = 0 if settings.shading != "lambert" else (1 if light is None else 2)
    set_uniform(prog, "mode", mode)
    set_uniform(prog, "light_dir", tuple(float(c) for c in settings.light_dir))
    set_uniform(prog, "ambient", float(settings.ambient))
    if lids:
        edges = np.asarray(mesh.lid_edges, np.float32)
        if edges.shape != (2, 2, shaders.LID_POINTS, 3):
            raise ValueError(f"lid_edges must be (2, 2, {shaders.LID_POINTS}, 3), got {edges.shape}")
        set_uniform(prog, "lid_pts", edges.tobytes())
        set_uniform(prog, "lid_height", tuple(max(float(h), 1e-6) for h in mesh.lid_height))
    if light is not None:
        set_uniform(prog, "sh_matrix", np.asarray(light.matrix, "f4").T.tobytes())  # column-major
        set_uniform(prog, "sh_power", tuple(float(light.strength) * float(k) for k in light.exponents))
        set_uniform(prog, "sh_range", tuple(float(x) for x in light.shading_range))
        set_uniform(prog, "sh_ambient", float(light.ambient))
        strength_map = _WHITE_1 if light.strength_map is None else light.strength_map
        renderer.texture(strength_map).use(1)
    set_uniform(prog, "tex", 0)
    set_uniform(prog, "strength_tex", 1)
    tex.use(0)
    vbo = ctx.buffer(data.tobytes())
    vao = ctx.vertex_array(prog, [(vbo, "3f 2f 3f 2f 1f", "in_pos", "in_uv", "in_normal", "in_occlusion", "in_eye")])
    vao.render(moderngl.TRIANGLES)
    vao.release()
    vbo.release()


def _draw_lines(
    renderer: Renderer, line_set: LineSet, proj: NDArray[np.float32], settings: RenderSettings | None = None
) -> None:
    ctx = renderer.ctx
    seg = np.asarray(line_set.segments, dtype=np.int64).ravel()
    if len(seg) == 0:
        return
    pos = np.asarray(line_set.vertices, dtype=np.float32)[seg]
    col = np.asarray(line_set.colors, dtype=np.float32)[seg]
    if col.shape[1] == 3:
        col = np.concatenate([col, np.ones((len(col), 1), np.float32)], axis=1)
    if settings is not None and settings.strand_shading == "kajiya_kay":
        tangent = np.repeat(pos[1::2] - pos[0::2], 2, axis=0)
        data = np.concatenate([pos, col, tangent], axis=1).astype(np.float32)
        prog = renderer.program("hair_lines", shaders.HAIR_LINES_VERTEX, shaders.HAIR_LINES_FRAGMENT)
        set_uniform(prog, "light_dir", tuple(float(c) for c in settings.light_dir))
        set_uniform(prog, "ambient", float(settings.ambient))
        set_uniform(prog, "specular", float(settings.strand_specular))
        set_uniform(prog, "shininess", float(settings.strand_shininess))
        layout: tuple[str, ...] = ("3f 4f 3f", "in_pos", "in_color", "in_tangent")
    else:
        data = np.concatenate([pos, col], axis=1).astype(np.float32)
        prog = renderer.program("lines", shaders.LINES_VERTEX, shaders.LINES_FRAGMENT)
        layout = ("3f 4f", "in_pos", "in_color")
    set_uniform(prog, "proj", proj.T.tobytes())
    vbo = ctx.buffer(data.tobytes())
    vao = ctx.vertex_array(prog, [(vbo, *layout)])
    vao.render(moderngl.LINES)
    vao.release()
    vbo.release()


def _linear_depth(buffer: NDArray[np.float32], near: float, far: float) -> NDArray[np.float32]:
    """``-Z`` in metres from depth-buffer values in [0, 1] (1 = cleared → ``inf``), inverting the projection."""
    ndc = 2.0 * buffer.astype(np.float64) - 1.0
    lin = 2.0 * far * near / ((far + near) - ndc * (far - near))
    return np.where(buffer < 1.0, lin, np.inf).astype(np.float32)


def _read(fbo: moderngl.Framebuffer, attachment: int, components: int, dtype: str, size: tuple[int, int]) -> NDArray:
    raw = fbo.read(components=components, attachment=attachment, dtype=dtype)  # attachment -1: depth
    arr = np.frombuffer(raw, dtype=np.uint8 if dtype == "f1" else np.float32)
    return arr.reshape(size[1], size[0], components)[::-1]


_WHITE = np.full((1, 1, 3), 255, dtype=np.uint8)
_WHITE_1 = np.full((1, 1), 255, dtype=np.uint8)
