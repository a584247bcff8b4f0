"""Project the photo onto the face cell of the atlas (one GL pass in UV space).

For every face-cell texel the pass interpolates the fitted mesh's camera-frame position ``p`` and normal ``n``,
projects ``p`` into the photo (docs/conventions.md: ``u = cx + fx·X/(−Z)``, ``v = cy − fy·Y/(−Z)``), samples
the photo bilinearly there — plus an optional per-vertex shift that registers the photo's features to the mesh's
(:mod:`headcast.texture.register`) — and weights the sample by

* visibility: ``−p_z ≤ d(u, v) + tolerance`` where ``d`` is the depth of the nearest opaque surface seen by the
  camera (a depth render at the photo's camera);
* view angle: ``smoothstep(lo, hi, n · (−p / |p|))`` (0 at grazing angles);
* trust: the photo's alpha, a soft mask of the detected face outline (:func:`face_trust_mask`);
* inside the image.

On request the same pass also writes the interpolated unit normal ``n`` (camera frame) to a second, half-float
attachment: the texel normals the lighting estimate and de-lighting need (:mod:`headcast.texture.lighting`), at
the cost of one more read-back instead of another raster pass.
"""

from dataclasses import dataclass

import cv2
import moderngl
import numpy as np
from numpy.typing import NDArray

from headcast.geometry.camera import Camera, opengl_projection
from headcast.render.context import Renderer, set_uniform
from headcast.render.shaders import ID_FRAGMENT, ID_VERTEX

#: MediaPipe FaceMesh face-oval contour (landmark indices, in order around the face).
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150,
    136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip

_VERTEX = """
#version 330
in vec2 in_uv;
in vec3 in_pos;
in vec3 in_normal;
in vec2 in_shift;
out vec3 v_pos;
out vec3 v_normal;
out vec2 v_shift;
void main() {
    v_pos = in_pos;
    v_normal = in_normal;
    v_shift = in_shift;
    gl_Position = vec4(in_uv * 2.0 - 1.0, 0.0, 1.0);
}
"""

_FRAGMENT = """
#version 330
uniform sampler2D photo;      // RGBA8, row 0 (top) at t = 0; alpha = trust
uniform sampler2D depth_map;  // .a = -Z of the nearest surface, 0 = nothing; row 0 (top) at t = 0
uniform vec4 intrinsics;      // fx, fy, cx, cy in photo pixels
uniform vec2 photo_size;      // W, H
uniform float depth_tolerance;
uniform vec2 grazing_cos;
in vec3 v_pos;
in vec3 v_normal;
in vec2 v_shift;              // photo pixels: where this point's feature is in the photo, from its projection
layout(location = 0) out vec4 f_out;
layout(location = 1) out vec4 f_normal;  // normal, and the photo's trust where the texel projects
void main() {
    vec3 n = normalize(v_normal);
    f_normal = vec4(n, 0.0);
    float depth = -v_pos.z;
    if (depth <= 1e-4) { f_out = vec4(0.0); return; }
    vec2 px = vec2(intrinsics.z + intrinsics.x * v_pos.x / depth, intrinsics.w - intrinsics.y * v_pos.y / depth);
    vec2 t = px / photo_size;
    vec2 ts = (px + v_shift) / photo_size;
    if (ts.x < 0.0 || ts.y < 0.0 || ts.x > 1.0 || ts.y > 1.0 || t.x < 0.0 || t.y < 0.0 || t.x > 1.0 || t.y > 1.0) {
        f_out = vec4(0.0);
        return;
    }
    vec4 c = texture(photo, ts);
    float nearest = texture(depth_map, vec2(t.x, 1.0 - t.y)).a;  // a framebuffer: its row 0 is the bottom
    float visible = (nearest > 0.0 && depth <= nearest + depth_tolerance) ? 1.0 : 0.0;
    float facing = dot(n, normalize(-v_pos));
    float angle_w = smoothstep(grazing_cos.x, grazing_cos.y, facing);
    f_normal = vec4(n, c.a);
    f_out = vec4(c.rgb, c.a * visible * angle_w);
}
"""


@dataclass(frozen=True, eq=False)
class Projection:
    """The photo seen through the fitted mesh, in the face cell.

    Attributes:
        color: ``(F, F, 3)`` float32 sRGB in [0, 1], row 0 = top of the cell.
        weight: ``(F, F)`` float32 in [0, 1]: visibility × view-angle × trust (0 outside the chart).
        trust: ``(F, F)`` float32 in [0, 1]: the photo's trust where the texel projects, whether the camera sees
            the texel or not (the weight without visibility and view angle; half-float precision).
        normal: ``(F, F, 3)`` float32 unit normals of the fitted mesh in the camera frame (half-float precision,
            ~1e-3), zeros outside the chart; None unless :func:`project_photo` was asked for them.
    """

    color: NDArray[np.float32]
    weight: NDArray[np.float32]
    trust: NDArray[np.float32]
    normal: NDArray[np.float32] | None = None


def face_trust_mask(
    shape: tuple[int, int], points: NDArray[np.floating], erosion: float, feather: float, max_side: int = 512
) -> NDArray[np.uint8]:
    """Soft mask of the detected face outline, shrunk and feathered (computed at ≤ ``max_side`` and resized).

    Args:
        shape: ``(H, W)`` of the photo.
        points: ``(478, 2+)`` MediaPipe landmarks in photo pixels.
        erosion: shrink the outline by this fraction of the face width.
        feather: soft-edge width (Gaussian, ~2σ) as a fraction of the face width.
        max_side: working resolution.

    Returns:
        ``(H, W)`` uint8, 255 inside the shrunk outline, 0 outside.
    """
    h, w = shape
    scale = min(1.0, max_side / max(h, w))
    sh, sw = max(1, round(h * scale)), max(1, round(w * scale))
    poly = np.asarray(points, dtype=np.float64)[list(FACE_OVAL), :2] * scale
    width = float(np.ptp(poly[:, 0])) + 1e-6
    mask = np.zeros((sh, sw), np.float32)
    cv2.fillPoly(mask, [np.round(poly * 4).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=2)
    radius = max(1, round(erosion * width))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    mask = np.asarray(cv2.erode(mask, kernel), np.float32)
    sigma = max(0.5, 0.5 * feather * width)
    mask = np.asarray(cv2.GaussianBlur(mask, (0, 0), sigma), np.float32)
    mask = np.clip(2.0 * mask - 0.5, 0.0, 1.0)  # keep the centre solid, fade over the feather band
    if scale < 1.0:
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.rint(mask * 255).astype(np.uint8)


def project_photo(
    pixels: NDArray[np.uint8],
    trust: NDArray[np.uint8],
    camera: Camera,
    vertices_cam: NDArray[np.floating],
    normals_cam: NDArray[np.floating],
    occluders: NDArray[np.integer],
    face_triangles: NDArray[np.integer],
    face_uv: NDArray[np.floating],
    cell_size: int,
    depth_tolerance: float,
    grazing_cos: tuple[float, float],
    renderer: Renderer,
    depth_max_side: int = 640,
    with_normals: bool = False,
    shifts_px: NDArray[np.floating] | None = None,
) -> Projection:
    """Bake the photo into the face cell.

    Args:
        pixels: ``(H, W, 3)`` uint8 photo.
        trust: ``(H, W)`` uint8 per-pixel trust (255 = use fully).
        camera: the photo's intrinsics.
        vertices_cam: ``(V, 3)`` fitted mesh in the camera frame, metres.
        normals_cam: ``(V, 3)`` unit vertex normals in the camera frame.
        occluders: ``(T_o, 3)`` triangles that can hide the face (the opaque mesh).
        face_triangles: ``(T_f, 3)`` triangles of the face material.
        face_uv: ``(T_f, 3, 2)`` their corners' face-cell coordinates in [0, 1]².
        cell_size: face cell side ``F`` in texels.
        depth_tolerance: metres.
        grazing_cos: ``(lo, hi)`` view-angle ramp.
        renderer: GL owner.
        depth_max_side: the visibility depth map is rendered at most this large.
        with_normals: also return the texels' camera-frame normals (:attr:`Projection.normal`).
        shifts_px: ``(V, 2)`` per-vertex offsets (photo pixels) added to the projection before the photo is
            sampled (visibility is still tested at the projection itself); None: no offsets
            (:func:`headcast.texture.register.feature_shifts`).
    """
    ctx = renderer.ctx
    scale = min(1.0, depth_max_side / max(camera.width, camera.height))
    depth_cam = camera.scaled(scale) if scale < 1.0 else camera
    depth_tex = _depth_pass(renderer, vertices_cam, occluders, depth_cam)

    h, w = pixels.shape[:2]
    rgba = np.empty((h, w, 4), np.uint8)
    rgba[..., :3] = pixels
    rgba[..., 3] = trust
    photo_tex = ctx.texture((w, h), 4, rgba.tobytes(), alignment=1)
    photo_tex.filter = (moderngl.LINEAR, moderngl.LINEAR)

    tris = np.asarray(face_triangles, dtype=np.int64)
    corners = tris.ravel()
    data = np.zeros((len(corners), 10), dtype=np.float32)
    data[:, 0:2] = np.asarray(face_uv, np.float32).reshape(-1, 2)
    data[:, 2:5] = np.asarray(vertices_cam, np.float32)[corners]
    data[:, 5:8] = np.asarray(normals_cam, np.float32)[corners]
    if shifts_px is not None:
        data[:, 8:10] = np.asarray(shifts_px, np.float32)[corners]

    prog = renderer.program("bake_face", _VERTEX, _FRAGMENT)
    set_uniform(prog, "photo", 0)
    set_uniform(prog, "depth_map", 1)
    set_uniform(prog, "intrinsics", (camera.fx, camera.fy, camera.cx, camera.cy))
    set_uniform(prog, "photo_size", (float(w), float(h)))
    set_uniform(prog, "depth_tolerance", float(depth_tolerance))
    set_uniform(prog, "grazing_cos", (float(grazing_cos[0]), float(grazing_cos[1])))
    photo_tex.use(0)
    depth_tex.use(1)
    attachments: tuple[tuple[int, str], ...] = ((4, "f1"), (4, "f2"))
    fbo = renderer.framebuffer("bake_face", (cell_size, cell_size), attachments, depth=False)
    fbo.use()
    fbo.clear(0.0, 0.0, 0.0, 0.0)
    ctx.disable(moderngl.DEPTH_TEST)
    ctx.disable(moderngl.CULL_FACE)
    vbo = ctx.buffer(data.tobytes())
    vao = ctx.vertex_array(prog, [(vbo, "2f 3f 3f 2f", "in_uv", "in_pos", "in_normal", "in_shift")])
    vao.render(moderngl.TRIANGLES)
    raw = np.frombuffer(fbo.read(components=4, dtype="f1"), dtype=np.uint8)
    out = raw.reshape(cell_size, cell_size, 4)[::-1].astype(np.float32) / 255.0
    half = np.frombuffer(fbo.read(components=4, attachment=1, dtype="f2"), dtype=np.float16)
    second = half.reshape(cell_size, cell_size, 4)[::-1]
    normal = np.ascontiguousarray(second[..., :3], dtype=np.float32) if with_normals else None
    trust_out = np.ascontiguousarray(second[..., 3], dtype=np.float32)
    vao.release()
    vbo.release()
    photo_tex.release()
    return Projection(np.ascontiguousarray(out[..., :3]), np.ascontiguousarray(out[..., 3]), trust_out, normal)


def _depth_pass(
    renderer: Renderer, vertices_cam: NDArray[np.floating], triangles: NDArray[np.integer], camera: Camera
) -> moderngl.Texture:
    """Render ``-Z`` of the nearest surface into a float texture that stays on the GPU (alpha channel)."""
    ctx = renderer.ctx
    size = (camera.width, camera.height)
    fbo = renderer.framebuffer("bake_depth", size, ((4, "f4"),))
    fbo.use()
    fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
    ctx.enable(moderngl.DEPTH_TEST)
    ctx.disable(moderngl.CULL_FACE)
    prog = renderer.program("ids", ID_VERTEX, ID_FRAGMENT)
    set_uniform(prog, "proj", opengl_projection(camera, 0.01, 100.0).astype("f4").T.tobytes())
    pos = np.asarray(vertices_cam, dtype=np.float32)[np.asarray(triangles, dtype=np.int64).ravel()]
    vbo = ctx.buffer(pos.tobytes())
    vao = ctx.vertex_array(prog, [(vbo, "3f", "in_pos")])
    vao.render(moderngl.TRIANGLES)
    vao.release()
    vbo.release()
    ctx.disable(moderngl.DEPTH_TEST)
    tex = fbo.color_attachments[0]
    assert isinstance(tex, moderngl.Texture)
    tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
    return tex
