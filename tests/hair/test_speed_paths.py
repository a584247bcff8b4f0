"""The fast paths of the hair code give what the straightforward code gives (speed work must not change results)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from headcast.hair.align import reroot
from headcast.hair.display import strand_colors
from headcast.hair.formats import write_data, write_hair, write_obj_polylines
from headcast.hair.generator import GrowSettings, interpolate_strands, make_strands, resample_polylines
from headcast.hair.head import HairHead
from headcast.hair.sdf import HeadSDF, push_out, sample_sdf
from headcast.hair.types import HairParams

SMALL = GrowSettings(render_strands=2000, render_points=16)


def _naive_sample(sdf: HeadSDF, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trilinear value and gradient, one point at a time (the definition in ``sdf.py``'s docstring)."""
    shape = np.array(sdf.values.shape)
    hi = sdf.origin + sdf.spacing * (shape - 1)
    vals, grads = [], []
    for p in np.asarray(points, dtype=np.float64).reshape(-1, 3):
        g = np.clip((p - sdf.origin) / sdf.spacing, 0.0, shape - 1.000001)
        i = g.astype(int)
        f = g - i
        v, gr = 0.0, np.zeros(3)
        for dx in (0, 1):
            for dy in (0, 1):
                for dz in (0, 1):
                    w = (f[0] if dx else 1 - f[0]) * (f[1] if dy else 1 - f[1]) * (f[2] if dz else 1 - f[2])
                    v += w * float(sdf.values[i[0] + dx, i[1] + dy, i[2] + dz])
                    gr += w * sdf.gradient[i[0] + dx, i[1] + dy, i[2] + dz]
        beyond = np.linalg.norm(np.maximum(sdf.origin - p, 0.0) + np.maximum(p - hi, 0.0))
        vals.append(max(v, beyond) if beyond > 0 else v)
        grads.append(gr)
    return np.array(vals), np.array(grads)


def _probe_points(sdf: HeadSDF, n: int = 400) -> np.ndarray:
    """Points inside, near and beyond the grid box."""
    rng = np.random.default_rng(5)
    size = sdf.spacing * (np.array(sdf.values.shape) - 1)
    return sdf.origin - 0.05 + rng.random((n, 3)) * (size + 0.1)


def test_sample_sdf_matches_the_definition(hair_head: HairHead) -> None:
    pts = _probe_points(hair_head.sdf)
    want_d, want_g = _naive_sample(hair_head.sdf, pts)
    d, g = sample_sdf(hair_head.sdf, pts)
    d_only, none = sample_sdf(hair_head.sdf, pts, with_gradient=False)
    assert none is None and g is not None
    np.testing.assert_allclose(d, want_d, rtol=0, atol=1e-9)
    np.testing.assert_allclose(d_only, want_d, rtol=0, atol=1e-9)
    np.testing.assert_allclose(g, want_g, rtol=0, atol=1e-6)
    assert sample_sdf(hair_head.sdf, pts.reshape(20, 20, 3), with_gradient=False)[0].shape == (20, 20)


def test_push_out_matches_the_plain_iteration(hair_head: HairHead) -> None:
    """The corner-minimum screen only skips points that need no move."""
    sdf = hair_head.sdf
    pts = _probe_points(sdf, 3000)
    clearance = np.linspace(0.0, 0.004, len(pts))
    want = pts.copy()
    for _ in range(3):
        d, g = sample_sdf(sdf, want)
        assert g is not None
        deficit = np.maximum(clearance - d, 0.0)
        want = want + deficit[:, None] * g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-9)
    got = push_out(sdf, pts, clearance, iterations=3)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    far = sample_sdf(sdf, pts, with_gradient=False)[0] > 0.01
    np.testing.assert_array_equal(got[far], pts[far])  # clear points are untouched


def test_resample_uniform_path_equals_the_general_one() -> None:
    x = np.random.default_rng(2).normal(size=(30, 17, 3))
    np.testing.assert_array_equal(resample_polylines(x, 40), resample_polylines(x, 40, np.ones(30)))
    np.testing.assert_array_equal(resample_polylines(x, 17)[:, [0, -1]], x[:, [0, -1]])


def test_interpolation_is_deterministic_and_collision_free(hair_head: HairHead) -> None:
    p = HairParams(length_top=0.3, length_back=0.35, length_sides=0.3, frizz=0.002, clumping=0.6)
    s = make_strands(p, hair_head.scalp, hair_head.sdf, SMALL)
    again, uv = interpolate_strands(s.guides, s.valid, hair_head.scalp, hair_head.sdf, p, SMALL)
    np.testing.assert_array_equal(s.points, again)
    np.testing.assert_array_equal(s.root_uv, uv)
    d, _ = sample_sdf(hair_head.sdf, s.points[:, 1:], with_gradient=False)
    assert (d < -0.001).sum() == 0


def test_reroot_array_and_list_inputs_agree(hair_head: HairHead) -> None:
    s = make_strands(HairParams(), hair_head.scalp, hair_head.sdf, SMALL)
    polys = s.points[:300].astype(np.float64) + np.array([0.0, 0.01, 0.0])
    a = reroot(polys, hair_head.scalp, hair_head.sdf)
    b = reroot(list(polys), hair_head.scalp, hair_head.sdf)
    assert len(a) == len(b) == 300
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_writers_give_the_same_bytes_for_arrays_and_lists(tmp_path: Path) -> None:
    pts = np.random.default_rng(4).normal(size=(50, 8, 3)).astype(np.float32)
    for write, ext in ((write_data, "data"), (write_obj_polylines, "obj")):
        a = write(tmp_path / f"a.{ext}", pts).read_bytes()
        assert a == write(tmp_path / f"b.{ext}", list(pts)).read_bytes()
    a = write_hair(tmp_path / "a.hair", pts, pts).read_bytes()
    assert a == write_hair(tmp_path / "b.hair", list(pts), list(pts)).read_bytes()
    text = (tmp_path / "a.obj").read_text()
    assert text.count("\nv ") == 400 and text.count("\nl ") == 50 * 7 and text.endswith("\n")  # one l per segment
    assert f"v {pts[0, 0, 0]:.6f} {pts[0, 0, 1]:.6f} {pts[0, 0, 2]:.6f}\n" in text


def test_hair_writer_rejects_empty_strands(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="points"):
        write_hair(tmp_path / "a.hair", [np.zeros((3, 3)), np.zeros((0, 3))])


def test_strand_colours_are_cached_per_groom(hair_head: HairHead) -> None:
    s = make_strands(HairParams(), hair_head.scalp, hair_head.sdf, SMALL)
    a = strand_colors(s)
    assert strand_colors(s) is a and not a.flags.writeable
    other = s.recoloured((0.9, 0.1, 0.1))
    b = strand_colors(other)
    assert b is not a and b[..., 0].mean() > a[..., 0].mean()
    shaded = strand_colors(s, hair_head.sdf)
    assert shaded.mean() < a.mean()  # inner points darkened
    assert strand_colors(replace(s), seed=1) is not a


def test_prepare_head_is_remembered_per_fit(ict_model, mean_params) -> None:
    from headcast.hair.head import prepare_head
    from headcast.hair.stage import clear_caches

    clear_caches(ict_model)
    a = prepare_head(ict_model, mean_params)
    assert prepare_head(ict_model, mean_params) is a
    b = prepare_head(ict_model, mean_params, front_height=1.2)
    assert b is not a and b.sdf is not a.sdf
    other = replace(mean_params, identity=mean_params.identity + 0.5)
    c = prepare_head(ict_model, other)
    assert c is not a and not np.array_equal(c.vertices, a.vertices)
    clear_caches(ict_model)
    fresh = prepare_head(ict_model, mean_params)
    assert fresh is not a
    np.testing.assert_array_equal(fresh.sdf.values, a.sdf.values)
    np.testing.assert_array_equal(fresh.scalp.points, a.scalp.points)


def test_with_front_height_matches_a_fresh_head(ict_model, mean_params) -> None:
    from headcast.hair.head import prepare_head, with_front_height
    from headcast.hair.stage import clear_caches

    clear_caches(ict_model)
    head = prepare_head(ict_model, mean_params)
    raised = with_front_height(head, 1.3)  # reuses the head's surface samples
    clear_caches(ict_model)
    fresh = prepare_head(ict_model, mean_params, front_height=1.3)
    np.testing.assert_array_equal(raised.scalp.points, fresh.scalp.points)
    np.testing.assert_array_equal(raised.scalp.guide_valid, fresh.scalp.guide_valid)
    np.testing.assert_array_equal(raised.scalp.guide_roots, fresh.scalp.guide_roots)
