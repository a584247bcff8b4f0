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
