from dataclasses import replace

import numpy as np

from headcast.hair.generator import GrowSettings, grow_guides, make_strands, region_lengths
from headcast.hair.head import HairHead
from headcast.hair.sdf import sample_sdf
from headcast.hair.types import HairParams

SMALL = GrowSettings(render_strands=2000, render_points=16)


def test_region_lengths_blend_the_regions() -> None:
    p = HairParams(length_top=0.1, length_front=0.2, length_sides=0.3, length_back=0.4)
    d = np.array([[0, 1.0, 0], [0, 0, 1.0], [1.0, 0, 0], [0, 0, -1.0], [0, 0.6, 0.8]])
    got = region_lengths(p, d)
    np.testing.assert_allclose(got[:4], [0.1, 0.2, 0.3, 0.4])
    assert 0.1 < got[4] < 0.2


def test_generator_is_deterministic_per_seed(hair_head: HairHead) -> None:
    p = HairParams(waviness=0.005, frizz=0.002)
    a = make_strands(p, hair_head.scalp, hair_head.sdf, SMALL)
    b = make_strands(p, hair_head.scalp, hair_head.sdf, SMALL)
    c = make_strands(p, hair_head.scalp, hair_head.sdf, replace(SMALL, seed=1))
    np.testing.assert_array_equal(a.guides, b.guides)
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.array_equal(a.points, c.points)


def test_hairnet_layout_and_render_density(hair_head: HairHead) -> None:
    s = make_strands(HairParams(), hair_head.scalp, hair_head.sdf)
    assert s.guides.shape == (32, 32, 100, 3) and s.valid.shape == (32, 32)
    assert 300 < s.valid.sum() < 1024
    assert (s.guides[~s.valid] == 0).all()
    assert s.points.shape[0] >= 10_000
    # roots sit on the scalp (within the voxel interpolation error)
    d, _ = sample_sdf(hair_head.sdf, s.guides[s.valid][:, 0], with_gradient=False)
    assert np.abs(d).max() < 0.003


def test_no_strand_point_inside_the_head(hair_head: HairHead) -> None:
    for params in (HairParams(), HairParams(length_top=0.4, length_back=0.45, length_sides=0.4, gravity=1.0),
                   HairParams(updo="ponytail"), HairParams(curl_radius=0.008, gravity=0.2, volume=0.03)):
        s = make_strands(params, hair_head.scalp, hair_head.sdf, SMALL)
        d, _ = sample_sdf(hair_head.sdf, s.points[:, 1:], with_gradient=False)
        # roots lie on the surface by construction; tolerance 1 mm: the SDF grid (6 mm voxels) is trilinear and
        # push-out targets ≥ 0.75 mm of clearance
        assert (d < -0.001).mean() == 0.0, params
        dg, _ = sample_sdf(hair_head.sdf, s.guides[s.valid], with_gradient=False)
        assert (dg < -0.001).mean() < 0.001


def test_length_parameters_change_the_length(hair_head: HairHead) -> None:
    short = grow_guides(HairParams(length_top=0.05, length_back=0.05, length_sides=0.05, length_front=0.05),
                        hair_head.scalp, hair_head.sdf)[0]
    long_ = grow_guides(HairParams(length_top=0.3, length_back=0.3, length_sides=0.3, length_front=0.3),
                        hair_head.scalp, hair_head.sdf)[0]
    valid = hair_head.scalp.guide_valid

    def arc(g: np.ndarray) -> float:
        return float(np.linalg.norm(np.diff(g[valid], axis=1), axis=2).sum(1).mean())

    assert 0.04 < arc(short) < 0.07
    assert 0.25 < arc(long_) < 0.36


def test_smooth_tips_straightens_kinked_ends_only() -> None:
    from headcast.hair.generator import smooth_tips

    t = np.linspace(0.0, 0.1, 24)
    straight = np.stack([np.zeros(24), -t, 0.2 * t], axis=1)[None]
    np.testing.assert_allclose(smooth_tips(straight), straight, atol=1e-12)  # a straight strand stays
    kinked = straight.copy()
    kinked[0, -1, 0] += 0.01  # a 1 cm spike sideways at the tip
    out = smooth_tips(kinked, share=0.4)
    np.testing.assert_array_equal(out[0, :14], kinked[0, :14])  # the shaft before the last 40 % is untouched

    def tip_turn(x: np.ndarray) -> float:
        a, b = x[0, -2] - x[0, -3], x[0, -1] - x[0, -2]
        return float(np.degrees(np.arccos(a @ b / np.linalg.norm(a) / np.linalg.norm(b))))

    assert tip_turn(kinked) > 60.0 and tip_turn(out) < 0.5 * tip_turn(kinked)


def test_fringe_hangs_to_its_stop_and_slants(hair_head: HairHead) -> None:
    s = GrowSettings(guide_points=40)
    sc = hair_head.scalp
    base = HairParams(gravity=0.3, fringe=1.0, length_front=0.12)

    def fringe_tips(p: HairParams) -> np.ndarray:
        guides, valid = grow_guides(p, sc, hair_head.sdf, s)
        g = guides[valid]
        front = (g[:, 0, 2] - sc.centre[2]) / np.linalg.norm(g[:, 0] - sc.centre, axis=1) > 0.5
        return g[front, -1]

    low, high = fringe_tips(replace(base, fringe_stop=0.0)), fringe_tips(replace(base, fringe_stop=0.03))
    # low gravity (a quiff) still hangs its fringe over the forehead, down to the stop
    assert np.median(low[:, 1]) < sc.brow_y + 0.012
    assert np.median(high[:, 1]) > np.median(low[:, 1]) + 0.015
    swept = fringe_tips(replace(base, fringe_stop=0.0, fringe_sweep=1.0))
    assert np.mean(swept[:, 0]) > np.mean(low[:, 0]) + 0.01  # towards the head's left (+x)
