"""Pieces of the photo fit: outline radii, layer lift, coverage model, retrieval cues, photo cues, shape parameters."""

from dataclasses import replace

import numpy as np

from headcast.geometry.camera import Camera, HeadPose
from headcast.hair.analysis import gabor_orientation, orientation_coherence, tail_side
from headcast.hair.generator import GrowSettings, comb_directions, grow_guides
from headcast.hair.head import HairHead
from headcast.hair.library import authored_styles
from headcast.hair.reconstruct import ReconstructSettings, inflate_guides, outline_radii, retrieval_pool
from headcast.hair.sdf import sample_sdf
from headcast.hair.silhouette import soft_iou, strand_coverage
from headcast.hair.types import HairAnalysis, HairParams

GROW = GrowSettings(render_strands=1000, render_points=12, guide_points=40)


def _analysis(coherence: float = 0.7, tail: float = 0.0) -> HairAnalysis:
    z = np.zeros((4, 4), bool)
    f = np.zeros((4, 4), np.float32)
    lab = np.array([30.0, 5.0, 10.0])
    return HairAnalysis(z, z, z, z, lab, lab, f, f, 0.0, 0.0, 0.0, False, 0.5, False, False,
                        coherence=coherence, tail_side=tail)


def test_outline_radii_of_a_disc() -> None:
    yy, xx = np.mgrid[:101, :101]
    disc = (xx + 0.5 - 50.0) ** 2 + (yy + 0.5 - 50.0) ** 2 <= 30.0**2
    r = outline_radii(disc, (50.0, 50.0), 36)
    assert np.all(np.abs(r - 30.0) < 1.0)
    top_only = disc & (yy < 50)
    r = outline_radii(top_only, (50.0, 50.0), 36)
    assert r[0] > 29.0 and r[18] < 1.0  # bin 0 = image up, bin 18 = down


def test_inflate_guides_lifts_layers_and_never_sinks_them(hair_head: HairHead) -> None:
    guides, valid = grow_guides(HairParams(), hair_head.scalp, hair_head.sdf, GROW)
    g = guides[valid].astype(np.float64)
    before, _ = sample_sdf(hair_head.sdf, g, with_gradient=False)
    up = inflate_guides(g, np.full(len(g), 0.01), hair_head.sdf)
    np.testing.assert_allclose(up[:, 0], g[:, 0])  # roots stay
    after, _ = sample_sdf(hair_head.sdf, up, with_gradient=False)
    top = g[:, -1, 1] > hair_head.scalp.centre[1] + 0.03  # tips high on the head: surface facing up, full lift
    gain = (after - before)[top, -1]
    assert np.median(gain) > 0.007
    down = inflate_guides(g, np.full(len(g), -0.05), hair_head.sdf)
    low, _ = sample_sdf(hair_head.sdf, down, with_gradient=False)
    # lowered to about 2 mm off the head at most, never into it
    assert np.mean(low < -0.0005) < 0.005
    assert abs(np.median(low[before > 0.006]) - 0.002) < 0.001


def test_inflate_guides_moves_a_tail_rigidly(hair_head: HairHead) -> None:
    guides, valid = grow_guides(HairParams(updo="ponytail"), hair_head.scalp, hair_head.sdf, GROW)
    g = guides[valid].astype(np.float64)
    up = inflate_guides(g, np.full(len(g), 0.01), hair_head.sdf, rigid_from=0.44)
    k = round(0.44 * (g.shape[1] - 1))
    moved = up - g
    np.testing.assert_allclose(moved[:, k + 1 :], np.repeat(moved[:, k : k + 1], g.shape[1] - k - 1, axis=1))


def test_strand_coverage_of_one_vertical_strand() -> None:
    cam = Camera(100.0, 100.0, 50.0, 50.0, 100, 100)
    y = np.linspace(0.2, -0.2, 41)
    strand = np.stack([np.zeros(41), y, np.full(41, -1.0)], axis=1)[None]  # 40 px tall at the image centre
    pose = HeadPose(np.zeros(3), np.zeros(3))
    cov = strand_coverage(strand, pose, cam, None, density=2.0, scale=8.0, width=3.0)
    column = cov[35:65, 50]
    np.testing.assert_allclose(column, 1.0 - np.exp(-2.0 * 1.0 * 3.0 / 8.0), atol=0.02)
    assert cov[:, :49].max() == 0.0 and cov[:, 51:].max() == 0.0
    assert soft_iou(cov, cov) == 1.0 and soft_iou(cov, np.zeros_like(cov)) == 0.0


def test_retrieval_pool_follows_the_photo_cues() -> None:
    s = ReconstructSettings()
    styles = authored_styles()

    def tags(pool):
        return {t for st in pool for t in st.tags}

    straight = retrieval_pool(_analysis(coherence=0.7), styles, s)
    assert "curly" not in tags(straight) and "mohawk" not in tags(straight)
    curly = retrieval_pool(_analysis(coherence=0.35), styles, s)
    assert "curly" in tags(curly)
    tail = retrieval_pool(_analysis(tail=1.0), styles, s)
    assert tail and all(st.params is not None and st.params.updo in ("ponytail", "braid") for st in tail)
    assert all(st.params is not None and st.params.tail_side == 1.0 for st in tail)


def test_orientation_coherence_separates_stripes_from_noise() -> None:
    x = np.arange(96)
    stripes = np.sin(2 * np.pi * x / 4.0)[None, :].repeat(96, 0)
    mask = np.ones((96, 96), bool)
    a, c = gabor_orientation(stripes)
    assert orientation_coherence(a, c, mask) > 0.8
    noise = np.random.default_rng(0).normal(size=(96, 96))
    a, c = gabor_orientation(noise)
    assert orientation_coherence(a, c, mask) < 0.5
    assert np.isnan(orientation_coherence(a, c, np.zeros((96, 96), bool)))


def test_tail_side_finds_a_tail_over_one_shoulder() -> None:
    lm = np.zeros((68, 2))
    lm[17:27] = [[100.0 + 10 * i, 200.0] for i in range(10)]  # brows at y = 200
    lm[8] = [150.0, 400.0]  # chin: face height 200
    lm[27] = [150.0, 220.0]
    lm[2] = [60.0, 320.0]  # ear-lobe level
    hair = np.zeros((700, 300), bool)
    hair[120:200, 40:260] = True  # hair on top
    assert tail_side(hair, lm) == 0.0
    tail = hair.copy()
    tail[320:520, 200:240] = True  # a narrow tail on the image's right
    assert tail_side(tail, lm) == 1.0
    both = tail.copy()
    both[320:520, 60:100] = True  # hair down on both sides: loose long hair
    assert tail_side(both, lm) == 0.0


def test_no_parting_combs_smoothly_across_the_mid_line(hair_head: HairHead) -> None:
    scalp = hair_head.scalp
    top = scalp.points[:, 1] > scalp.centre[1] + 0.8 * scalp.radius
    roots, normals = scalp.points[top], scalp.normals[top]
    fringe = np.zeros(len(roots), bool)
    near = np.abs(roots[:, 0]) < 0.003  # a 6 mm band around the mid-line

    def sideways(depth: float) -> float:
        comb = comb_directions(HairParams(parting=0.0, part_depth=depth), roots, normals, scalp, fringe)
        return float(np.abs(comb[near, 0]).mean())

    assert sideways(1.0) > 0.5  # a parting: the hair goes left and right from the line
    assert sideways(0.0) < 0.25  # none: no split, the sideways comb fades to zero at the line


def test_tail_over_a_shoulder(hair_head: HairHead) -> None:
    base = HairParams(updo="ponytail", updo_height=0.2, tail_length=0.25)
    tips = {}
    for side in (-1.0, 0.0, 1.0):
        guides, valid = grow_guides(replace(base, tail_side=side), hair_head.scalp, hair_head.sdf, GROW)
        tips[side] = guides[valid][:, -1].mean(axis=0)
    assert tips[1.0][0] > tips[0.0][0] + 0.04 and tips[-1.0][0] < tips[0.0][0] - 0.04
    assert tips[1.0][2] > tips[0.0][2] + 0.03  # forwards, beside the neck


def test_retrieval_pool_gets_the_kind_right() -> None:
    s = ReconstructSettings()
    styles = authored_styles()
    shaved = retrieval_pool(replace(_analysis(), shaved=True), styles, s)
    assert shaved and all({"shaved", "buzz"} & set(st.tags) for st in shaved)  # no bun on a shaved head
    fringe = retrieval_pool(replace(_analysis(), fringe=0.8), styles, s, fringe=(0.03, 0.5))
    loose = [st for st in fringe if st.params is not None and st.params.updo == "none"]
    assert loose and all(st.params.fringe == 1.0 and st.params.fringe_stop == 0.03 and st.params.fringe_sweep == 0.5
                         for st in loose if st.params is not None)
    bare = retrieval_pool(replace(_analysis(), fringe=0.1), styles, s)
    assert all(st.params is not None and st.params.fringe == 0.0 for st in bare if st.params.updo == "none")
    hanging = retrieval_pool(replace(_analysis(), loose_area=0.1), styles, s)
    assert hanging and all(st.params is not None and st.params.updo == "none" for st in hanging)
    long_hair = retrieval_pool(replace(_analysis(), lowest_below_chin=0.6), styles, s)
    assert long_hair and not any("short" in st.tags for st in long_hair)
    assert any("short" in st.tags for st in retrieval_pool(_analysis(), styles, s))
