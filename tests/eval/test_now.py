"""NoW-style alignment and point-to-surface distances against analytic cases and brute force."""

import numpy as np
import pytest

from headcast.eval.now import (
    NOW_LANDMARKS68,
    closest_points_on_triangles,
    face_geometry_error,
    point_to_surface_distances,
    similarity_transform,
)
from headcast.geometry.rotation import axis_angle_to_matrix


def test_similarity_recovers_a_known_transform_exactly():
    rng = np.random.default_rng(1)
    src = rng.normal(size=(7, 3))
    rot = axis_angle_to_matrix(np.array([0.3, -1.1, 0.7]))
    dst = 1.7 * src @ rot.T + np.array([0.1, -2.0, 3.0])
    sim = similarity_transform(src, dst)
    assert sim.scale == pytest.approx(1.7, abs=1e-12)
    np.testing.assert_allclose(sim.rotation, rot, atol=1e-12)
    np.testing.assert_allclose(sim.translation, [0.1, -2.0, 3.0], atol=1e-12)
    np.testing.assert_allclose(sim.apply(src), dst, atol=1e-12)


def test_similarity_never_reflects():
    src = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    sim = similarity_transform(src, src * [1, 1, -1])  # a mirror image: best proper rotation instead
    assert np.linalg.det(sim.rotation) == pytest.approx(1.0)


def _brute_force(points, vertices, triangles):
    t = triangles
    best = np.full(len(points), np.inf)
    for tri in t:
        n = len(points)
        q = closest_points_on_triangles(
            points, np.repeat(vertices[tri[0]][None], n, 0), np.repeat(vertices[tri[1]][None], n, 0),
            np.repeat(vertices[tri[2]][None], n, 0)
        )
        best = np.minimum(best, np.linalg.norm(q - points, axis=1))
    return best


def test_closest_point_regions_on_one_triangle():
    a, b, c = np.array([0.0, 0, 0]), np.array([1.0, 0, 0]), np.array([0.0, 1, 0])
    pts = np.array([[0.2, 0.2, 1.0], [-1.0, -1.0, 0.0], [2.0, -0.5, 0.0], [0.5, -1.0, 0.0], [1.0, 1.0, 0.0]])
    n = len(pts)
    q = closest_points_on_triangles(pts, np.tile(a, (n, 1)), np.tile(b, (n, 1)), np.tile(c, (n, 1)))
    np.testing.assert_allclose(q, [[0.2, 0.2, 0], [0, 0, 0], [1, 0, 0], [0.5, 0, 0], [0.5, 0.5, 0]], atol=1e-12)


def test_surface_distance_matches_brute_force_on_a_grid_mesh():
    # a bumpy 12 × 12 height field, triangulated, and random query points above and beside it
    n = 12
    xs, ys = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    zs = 0.1 * np.sin(3 * xs) * np.cos(2 * ys)
    verts = np.stack([xs.ravel(), ys.ravel(), zs.ravel()], axis=1)
    idx = np.arange(n * n).reshape(n, n)
    quads = np.stack([idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, 1:].ravel(), idx[1:, :-1].ravel()], 1)
    tris = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    pts = np.random.default_rng(2).uniform([-0.2, -0.2, -0.3], [1.2, 1.2, 0.3], size=(300, 3))
    np.testing.assert_allclose(point_to_surface_distances(pts, verts, tris), _brute_force(pts, verts, tris),
                               atol=1e-12)


def test_face_error_of_identical_and_similar_meshes_is_zero(ict_model):
    model = ict_model
    gt = model.template.astype(np.float64) + 0.01 * model.identity_basis[0]
    err = face_geometry_error(model, gt, gt)
    assert err.distances_mm.shape == (len(model.face_vertices),)
    assert err.distances_mm.max() < 1e-9
    # a scaled, rotated and moved copy is aligned back exactly: still 0 mm
    rot = axis_angle_to_matrix(np.array([0.1, 0.4, -0.2]))
    moved = 1.3 * gt @ rot.T + np.array([0.05, -0.2, 0.4])
    err2 = face_geometry_error(model, gt, moved)
    assert err2.distances_mm.max() < 1e-6
    assert err2.alignment.scale == pytest.approx(1 / 1.3)
    assert len(NOW_LANDMARKS68) == 7


def test_face_error_measures_a_known_offset(ict_model):
    model = ict_model
    gt = model.template.astype(np.float64)
    rec = gt.copy()
    mask = model.part_mask("face")
    bulge = np.zeros(model.num_vertices, bool)
    bulge[model.face_vertices[:200]] = True
    rec[bulge & mask] += [0.0, 0.0, 0.002]  # 2 mm forward on some vertices; landmarks mostly untouched
    err = face_geometry_error(model, gt, rec)
    assert 0.0 <= err.distances_mm.min()
    assert err.distances_mm.max() <= 2.0 + 1e-6
    assert np.median(err.distances_mm) < 0.5
