import numpy as np

from headcast.hair.sdf import build_head_sdf, push_out, sample_sdf


def _sphere(radius: float, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """UV sphere with outward counter-clockwise triangles."""
    th = np.linspace(0, np.pi, n)
    ph = np.linspace(0, 2 * np.pi, 2 * n, endpoint=False)
    t, p = np.meshgrid(th, ph, indexing="ij")
    v = radius * np.stack([np.sin(t) * np.cos(p), np.cos(t), np.sin(t) * np.sin(p)], -1).reshape(-1, 3)
    idx = np.arange(n * 2 * n).reshape(n, 2 * n)
    a, b = idx[:-1], np.roll(idx, -1, axis=1)[:-1]
    c, d = idx[1:], np.roll(idx, -1, axis=1)[1:]
    tris = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([b, d, c], -1).reshape(-1, 3)])
    cen = v[tris].mean(1)
    nrm = np.cross(v[tris[:, 1]] - v[tris[:, 0]], v[tris[:, 2]] - v[tris[:, 0]])
    flip = (nrm * cen).sum(1) < 0
    tris[flip] = tris[flip][:, ::-1]
    return v, tris


def test_sphere_sdf_matches_analytic_distance_within_a_voxel() -> None:
    v, t = _sphere(0.09)
    sdf = build_head_sdf(v, t, spacing=0.005, margin=0.04)
    rng = np.random.default_rng(0)
    d = rng.normal(size=(500, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    r = rng.uniform(0.05, 0.12, 500)
    got, grad = sample_sdf(sdf, d * r[:, None])
    # tolerance: half a voxel plus the facet error of the 40-ring sphere (~0.3 mm)
    assert np.abs(got - (r - 0.09)).max() < 0.004
    near = np.abs(r - 0.09) < 0.01
    assert np.einsum("nd,nd->n", grad[near] / np.linalg.norm(grad[near], axis=1, keepdims=True), d[near]).min() > 0.9


def test_push_out_reaches_the_clearance() -> None:
    v, t = _sphere(0.09)
    sdf = build_head_sdf(v, t, spacing=0.005, margin=0.04)
    pts = np.array([[0.0, 0.05, 0.0], [0.08, 0.0, 0.0], [0.0, 0.0, 0.11]])
    out = push_out(sdf, pts, 0.003, iterations=4)
    d, _ = sample_sdf(sdf, out, with_gradient=False)
    assert (d > 0.003 - 0.001).all()
    np.testing.assert_allclose(out[2], pts[2])  # already clear: untouched
