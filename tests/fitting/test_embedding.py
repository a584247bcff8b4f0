"""Pure geometry of the embedding build, against brute force and known answers."""

import numpy as np
import pytest

from headcast.fitting.embedding import boundary_loops, closest_point_on_mesh, closest_point_on_triangles, umeyama
from headcast.geometry.rotation import axis_angle_to_matrix


def _brute_force_closest(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, n: int = 400) -> float:
    """Smallest distance from p to a dense barycentric sampling of the triangle (upper bound on the true one)."""
    u, v = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    keep = u + v <= 1
    u, v = u[keep], v[keep]
    pts = a + u[:, None] * (b - a) + v[:, None] * (c - a)
    return float(np.min(np.linalg.norm(pts - p, axis=1)))


def test_closest_point_on_triangles_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    n = 60
    a, b, c = (rng.normal(size=(n, 3)) for _ in range(3))
    p = rng.normal(scale=2.0, size=(n, 3))  # many points project outside: vertex and edge regions
    q, bary = closest_point_on_triangles(p, a, b, c)
    assert np.all(bary >= -1e-12)
    np.testing.assert_allclose(bary.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(q, bary[:, :1] * a + bary[:, 1:2] * b + bary[:, 2:] * c, atol=1e-12)
    d = np.linalg.norm(q - p, axis=1)
    for i in range(n):
        brute = _brute_force_closest(p[i], a[i], b[i], c[i])
        assert d[i] <= brute + 1e-12  # never worse than any sample
        assert d[i] >= brute - 0.02  # and within the sampling resolution of the best one


def test_closest_point_regions_known_answers() -> None:
    a, b, c = np.array([[0.0, 0, 0]]), np.array([[1.0, 0, 0]]), np.array([[0.0, 1, 0]])
    cases = {
        (0.2, 0.3, 5.0): (0.5, 0.2, 0.3),  # interior, above the plane
        (-1.0, -1.0, 0.0): (1.0, 0.0, 0.0),  # vertex a
        (3.0, -1.0, 0.0): (0.0, 1.0, 0.0),  # vertex b
        (0.5, -2.0, 1.0): (0.5, 0.5, 0.0),  # edge ab
        (1.0, 1.0, 0.0): (0.0, 0.5, 0.5),  # edge bc
    }
    for point, expected in cases.items():
        _, bary = closest_point_on_triangles(np.array([point]), a, b, c)
        np.testing.assert_allclose(bary[0], expected, atol=1e-12)


def test_closest_point_on_mesh_finds_the_right_face() -> None:
    # a unit square split in two triangles, at z = 0
    verts = np.array([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]])
    tris = np.array([[0, 1, 2], [0, 2, 3]])
    fid, bary, dist = closest_point_on_mesh(np.array([[0.8, 0.2, 0.5], [0.2, 0.8, -0.25]]), verts, tris)
    np.testing.assert_array_equal(fid, [0, 1])
    np.testing.assert_allclose(dist, [0.5, 0.25])
    q = np.einsum("nkc,nk->nc", verts[tris[fid]], bary)
    np.testing.assert_allclose(q, [[0.8, 0.2, 0.0], [0.2, 0.8, 0.0]], atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_umeyama_recovers_a_similarity(weighted: bool) -> None:
    rng = np.random.default_rng(5)
    src = rng.normal(size=(30, 3))
    rot = axis_angle_to_matrix(np.array([0.3, -1.2, 0.7]))
    dst = 1.7 * src @ rot.T + np.array([0.1, -2.0, 3.0])
    weights = rng.uniform(0.1, 2.0, 30) if weighted else None
    s, r, t = umeyama(src, dst, weights)
    assert s == pytest.approx(1.7)
    np.testing.assert_allclose(r, rot, atol=1e-12)
    np.testing.assert_allclose(t, [0.1, -2.0, 3.0], atol=1e-12)


def test_umeyama_never_returns_a_reflection() -> None:
    src = np.random.default_rng(6).normal(size=(20, 3))
    dst = src * np.array([-1.0, 1.0, 1.0])  # a mirror image: best proper rotation, det +1
    _, r, _ = umeyama(src, dst)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_boundary_loops_of_a_fan_and_an_annulus() -> None:
    # square fan around centre 4: boundary 0-1-2-3 in winding order
    fan = np.array([[0, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]])
    loops = boundary_loops(fan)
    assert len(loops) == 1
    np.testing.assert_array_equal(loops[0], [0, 1, 2, 3])
    # annulus between an outer square (0-3) and an inner one (4-7): two loops
    ring = []
    for i in range(4):
        j = (i + 1) % 4
        ring += [[i, j, 4 + j], [i, 4 + j, 4 + i]]
    loops = boundary_loops(np.array(ring))
    assert [len(lp) for lp in loops] == [4, 4]
    assert set(loops[0]) == {0, 1, 2, 3} and set(loops[1]) == {4, 5, 6, 7}
