import numpy as np

from headcast.geometry.mesh import barycentric_interpolate, split_quads, vertex_normals


def test_split_quads_keeps_triangles_and_order() -> None:
    faces = np.array([[0, 1, 2, 3], [4, 5, 6, -1]])
    tris, src = split_quads(faces)
    assert tris.tolist() == [[0, 1, 2], [0, 2, 3], [4, 5, 6]]
    assert src.tolist() == [0, 0, 1]


def test_normals_of_ccw_square_point_up_z() -> None:
    v = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float)
    tris, _ = split_quads(np.array([[0, 1, 2, 3]]))
    assert np.allclose(vertex_normals(v, tris), [[0, 0, 1]] * 4)


def test_barycentric_interpolate_corners_and_centroid() -> None:
    v = np.array([[0, 0, 0], [3, 0, 0], [0, 3, 0]], float)
    t = np.array([[0, 1, 2]])
    pts = barycentric_interpolate(v, t, np.array([0, 0]), np.array([[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]]))
    assert np.allclose(pts, [[0, 0, 0], [1, 1, 0]])
    batched = barycentric_interpolate(np.stack([v, 2 * v]), t, np.array([0]), np.array([[0, 1, 0]]))
    assert np.allclose(batched[:, 0], [[3, 0, 0], [6, 0, 0]])


def test_morphed_normals_match_full_recompute() -> None:
    from headcast.geometry.mesh import morphed_normals, normal_sums

    rng = np.random.default_rng(3)
    grid = np.stack(np.meshgrid(np.arange(6.0), np.arange(6.0)), -1).reshape(-1, 2)
    v = np.c_[grid, rng.normal(scale=0.1, size=len(grid))]
    quads = np.array(
        [[i * 6 + j, i * 6 + j + 1, (i + 1) * 6 + j + 1, (i + 1) * 6 + j] for i in range(5) for j in range(5)]
    )
    tris, _ = split_quads(quads)
    delta = np.zeros_like(v)
    delta[[7, 8, 20], 2] = [0.5, -0.3, 0.2]
    expect = vertex_normals(v + delta, tris)
    assert np.allclose(morphed_normals(v, tris, delta), expect, atol=1e-6)
    assert np.allclose(morphed_normals(v, tris, delta, normal_sums(v, tris)), expect, atol=1e-6)
    assert np.allclose(morphed_normals(v, tris, np.zeros_like(v)), vertex_normals(v, tris), atol=1e-6)
