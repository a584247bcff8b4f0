import numpy as np
import pytest

from headcast.geometry.camera import Camera, project
from headcast.render.raster import (
    LineSet,
    MeshDraw,
    RenderSettings,
    polyline_segments,
    rasterize_uv,
    render,
    render_triangle_ids,
)

CAM = Camera(100.0, 100.0, 32.0, 32.0, 64, 64)
# a 0.2 m square 1 m in front of the camera: projects to pixels [22, 42) × [22, 42)
QUAD = np.array([[-0.1, -0.1, -1.0], [0.1, -0.1, -1.0], [0.1, 0.1, -1.0], [-0.1, 0.1, -1.0]], np.float32)
QUAD_TRIS = np.array([[0, 1, 2], [0, 2, 3]])
QUAD_UV = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], np.float32)
UNLIT = RenderSettings(shading="unlit")


def test_quad_covers_expected_pixels(renderer) -> None:
    res = render(CAM, [MeshDraw(QUAD, QUAD_TRIS, color=(1.0, 0.0, 0.0))], settings=UNLIT, renderer=renderer)
    assert res.color.shape == (64, 64, 4) and res.color.dtype == np.uint8
    expected = np.zeros((64, 64), bool)
    expected[22:42, 22:42] = True  # pixel centres 22.5 … 41.5 lie inside [22, 42]
    assert np.array_equal(res.color[..., 3] == 255, expected)
    assert np.all(res.color[..., 3][~expected] == 0)
    assert np.all(res.color[expected][:, :3] == [255, 0, 0])
    # depth is -Z in metres (24-bit depth buffer, near 0.01: ~1e-5 m resolution at 1 m)
    assert np.allclose(res.depth[expected], 1.0, atol=1e-4)
    assert np.all(np.isinf(res.depth[~expected]))


def test_image_row_zero_is_top(renderer) -> None:
    top_half = QUAD.copy()
    top_half[[0, 1], 1] = 0.05  # the quad now spans y in [0.05, 0.1]: above the centre, so small rows
    res = render(CAM, [MeshDraw(top_half, QUAD_TRIS)], settings=UNLIT, renderer=renderer)
    rows = np.flatnonzero(res.color[..., 3].max(axis=1))
    assert rows.min() == 22 and rows.max() == 26  # v = 32 - 100·y: 22 … 27


def test_rendered_points_match_project(renderer) -> None:
    rng = np.random.default_rng(0)
    verts = np.c_[rng.uniform(-0.3, 0.3, (30, 2)), rng.uniform(-2.0, -0.8, 30)].astype(np.float32)
    tris = rng.integers(0, 30, (40, 3))
    ids = render_triangle_ids(verts, tris, CAM, renderer=renderer)
    rows, cols = np.nonzero(ids.triangle_id >= 0)
    assert len(rows) > 200
    tid = ids.triangle_id[rows, cols]
    # perspective-correct barycentrics rebuild the 3D point; projecting it lands on the pixel centre
    points = np.einsum("nk,nkc->nc", ids.barycentric[rows, cols].astype(np.float64), verts[tris[tid]])
    uv = project(points, CAM)
    assert np.allclose(uv, np.c_[cols + 0.5, rows + 0.5], atol=0.02)
    assert np.allclose(ids.depth[rows, cols], -points[:, 2], rtol=1e-4)


def test_textured_quad_reproduces_texture(renderer) -> None:
    # 2 × 2 texture, row 0 = top: red green / blue white
    tex = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [255, 255, 255]]], np.uint8)
    mesh = MeshDraw(QUAD, QUAD_TRIS, uv=QUAD_UV, texture=tex)
    res = render(CAM, [mesh], settings=UNLIT, renderer=renderer)
    # quadrant centres (bilinear filtering blends only near the middle lines)
    assert np.abs(res.color[24, 24, :3].astype(int) - [255, 0, 0]).max() <= 2  # top-left
    assert np.abs(res.color[24, 39, :3].astype(int) - [0, 255, 0]).max() <= 2  # top-right
    assert np.abs(res.color[39, 24, :3].astype(int) - [0, 0, 255]).max() <= 2  # bottom-left
    assert np.abs(res.color[39, 39, :3].astype(int) - [255, 255, 255]).max() <= 2  # bottom-right


def test_per_corner_uv_equals_per_vertex_uv(renderer) -> None:
    tex = np.random.default_rng(1).integers(0, 255, (8, 8, 3)).astype(np.uint8)
    a = render(CAM, [MeshDraw(QUAD, QUAD_TRIS, QUAD_UV, tex)], settings=UNLIT, renderer=renderer)
    b = render(CAM, [MeshDraw(QUAD, QUAD_TRIS, QUAD_UV[QUAD_TRIS], tex)], settings=UNLIT, renderer=renderer)
    assert np.array_equal(a.color, b.color)


def test_lambert_follows_cosine(renderer) -> None:
    normals = np.tile([0.0, 0.0, 1.0], (4, 1)).astype(np.float32)
    settings = RenderSettings(shading="lambert", light_dir=(0.0, 0.0, 1.0), ambient=0.0)
    lit = render(CAM, [MeshDraw(QUAD, QUAD_TRIS, normals=normals)], settings=settings, renderer=renderer)
    assert np.all(lit.color[30, 30, :3] == 255)
    side = RenderSettings(shading="lambert", light_dir=(1.0, 0.0, 1.0), ambient=0.0)
    half = render(CAM, [MeshDraw(QUAD, QUAD_TRIS, normals=normals)], settings=side, renderer=renderer)
    # cos 45° in linear light, back to sRGB (gamma 2.2)
    expected = 255.0 * np.cos(np.pi / 4) ** (1 / 2.2)
    assert abs(int(half.color[30, 30, 0]) - expected) <= 1.5


def test_background_and_supersampling(renderer) -> None:
    edge = QUAD.copy()
    edge[[1, 2], 0] = 0.005  # right edge at u = 32.5: through the centre of pixel column 32
    settings = RenderSettings(shading="unlit", background=(0.0, 0.0, 1.0), supersample=2)
    res = render(CAM, [MeshDraw(edge, QUAD_TRIS, color=(1.0, 0.0, 0.0))], settings=settings, renderer=renderer)
    assert np.all(res.color[0, 0] == [0, 0, 255, 0])  # background colour, zero coverage
    assert res.color[30, 32, 3] == pytest.approx(128, abs=1)  # half of the 2 × 2 samples covered
    assert res.color[30, 32, 0] == pytest.approx(128, abs=1)
    assert np.all(res.color[30, 28] == [255, 0, 0, 255])


def test_lines_render_with_colours_and_depth(renderer) -> None:
    # y = 0.005 → v = 31.5: pixel row 31
    pts = np.array([[-0.1, 0.005, -1.0], [0.1, 0.005, -1.0]], np.float32)
    line = LineSet(pts, polyline_segments([2]), np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    res = render(CAM, lines=[line], settings=UNLIT, renderer=renderer)
    covered = res.color[..., 3] > 0
    rows = np.flatnonzero(covered.any(axis=1))
    assert rows.tolist() == [31]
    cols = np.flatnonzero(covered[31])
    assert 22 <= cols.min() <= 23 and 40 <= cols.max() <= 42
    left, right = res.color[31, cols.min(), :3].astype(int), res.color[31, cols.max(), :3].astype(int)
    assert left[0] > 200 and left[2] < 50 and right[2] > 200 and right[0] < 50  # colours interpolate
    assert np.allclose(res.depth[31, cols], 1.0, atol=1e-4)
    # behind the quad the line is hidden; in front of it the line shows
    shift = np.array([0.0, 0.0, 0.5], np.float32)
    behind = LineSet(pts - shift, np.array([[0, 1]]), np.ones((2, 3)))
    front = LineSet(pts + shift, np.array([[0, 1]]), np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]))
    quad = MeshDraw(QUAD, QUAD_TRIS, color=(1.0, 0.0, 0.0))
    hidden = render(CAM, [quad], [behind], settings=UNLIT, renderer=renderer)
    assert np.all(hidden.color[31, 24:40, :3] == [255, 0, 0])
    shown = render(CAM, [quad], [front], settings=UNLIT, renderer=renderer)
    assert np.any(np.all(shown.color[29:34, 30, :3] == [0, 255, 0], axis=-1))


def test_wide_lines(renderer) -> None:
    pts = np.array([[-0.1, 0.005, -1.0], [0.1, 0.005, -1.0]], np.float32)
    line = LineSet(pts, np.array([[0, 1]]), np.ones((2, 3)))
    res = render(CAM, lines=[line], settings=RenderSettings(shading="unlit", line_width=3.0), renderer=renderer)
    assert np.flatnonzero(res.color[..., 3].any(axis=1)).tolist() == [30, 31, 32]


def test_polyline_segments() -> None:
    assert polyline_segments([3, 1, 2]).tolist() == [[0, 1], [1, 2], [4, 5]]
    assert polyline_segments([]).shape == (0, 2)


def test_rasterize_uv_orientation_and_values(renderer) -> None:
    # the lower-left half-square triangle u + v < 1; attribute = u
    uv = np.array([[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]], np.float32)
    attrs = np.array([[[0.0, 1.0], [1.0, 1.0], [0.0, 1.0]]], np.float32)
    ras = rasterize_uv(uv, attrs, (16, 16), renderer)
    assert ras.values.shape == (16, 16, 2) and ras.mask.shape == (16, 16)
    rows, cols = np.mgrid[0:16, 0:16]
    u, v = (cols + 0.5) / 16, 1.0 - (rows + 0.5) / 16
    inside = u + v < 1.0 - 1e-6
    assert np.array_equal(ras.mask, inside)  # row 0 is v ≈ 1: mostly outside
    assert np.allclose(ras.values[..., 0][inside], u[inside], atol=1e-5)
    assert np.allclose(ras.values[..., 1][inside], 1.0)
    small = rasterize_uv(uv, attrs / 2, (16, 16), renderer, precision="f1")
    assert np.allclose(small.values[..., 0][inside], u[inside] / 2, atol=1 / 255)
