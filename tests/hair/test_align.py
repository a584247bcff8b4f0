import numpy as np

from headcast.hair.align import alignment_report, anchor_transform, reroot, root_anchor, top_anchor, umeyama
from headcast.hair.head import HairHead


def test_top_anchor_is_mean_xz_and_max_y_of_the_top_five_percent() -> None:
    y = np.arange(100, dtype=float)
    pts = np.stack([y * 0.0 + 1.0, y, -y], axis=1)
    pts[95:, 0] = [2, 4, 6, 8, 10]
    a = top_anchor(pts)
    np.testing.assert_allclose(a, [6.0, 99.0, -97.0])


def test_anchor_method_on_a_synthetic_case_with_known_answer() -> None:
    # head: a box 0.2 wide, top at y = 0.1; hair: a box 0.4 wide whose roots are the top layer y = 1.
    rng = np.random.default_rng(0)
    head = rng.uniform([-0.1, -0.1, -0.1], [0.1, 0.1, 0.1], (2000, 3))
    head[0] = [-0.1, 0.1, 0.0]  # exact extents
    head[1] = [0.1, 0.1, 0.0]
    roots = np.stack([np.linspace(-0.2, 0.2, 41), np.ones(41), np.zeros(41)], 1)
    hair = np.concatenate([roots, roots - [0, 0.5, 0]])
    t = anchor_transform(hair, roots, head)
    a_head = top_anchor(head)
    a_hair = root_anchor(hair, roots)
    # the 5 % nearest the roots are ceil(0.05 · 82) = 5 points at distance 0: the first 5 roots (stable order)
    np.testing.assert_allclose(a_hair, [roots[:5, 0].mean(), 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(a_head, [head[np.argsort(head[:, 1])[-100:], 0].mean(), 0.1, a_head[2]])
    np.testing.assert_allclose(t.translation, a_hair - a_head)  # T = A_hair − A_head (+ C = 0)
    assert abs(t.scale - 0.4 / 0.2) < 1e-12  # S = W_hair / W_head
    np.testing.assert_allclose(t.apply(hair[:1]), (hair[:1] + t.translation) / t.scale)
    # the corrected sign lands the hair anchor on the head anchor
    c = anchor_transform(hair, roots, head, sign="corrected")
    np.testing.assert_allclose(c.apply(a_hair), a_head, atol=1e-12)
    # the constants C are added
    k = anchor_transform(hair, roots, head, c_translation=np.array([0.0, 0.1, 0.0]), c_scale=0.5)
    np.testing.assert_allclose(k.translation, t.translation + np.array([0, 0.1, 0]))
    assert abs(k.scale - 2.5) < 1e-12


def test_umeyama_recovers_a_similarity() -> None:
    rng = np.random.default_rng(1)
    src = rng.normal(size=(50, 3))
    ang = 0.3
    r = np.array([[np.cos(ang), 0, np.sin(ang)], [0, 1, 0], [-np.sin(ang), 0, np.cos(ang)]])
    dst = 1.7 * src @ r.T + [0.1, -0.2, 0.3]
    s, rot, t = umeyama(src, dst)
    assert abs(s - 1.7) < 1e-9
    np.testing.assert_allclose(rot, r, atol=1e-9)
    np.testing.assert_allclose(t, [0.1, -0.2, 0.3], atol=1e-9)


def test_reroot_puts_roots_on_the_scalp_and_strands_outside(hair_head: HairHead) -> None:
    scalp = hair_head.scalp
    rng = np.random.default_rng(2)
    roots = scalp.points[rng.choice(len(scalp.points), 200)]
    # strands that start 1 cm inside the head and point down through it
    strands = [r - 0.01 * (r - scalp.centre) / np.linalg.norm(r - scalp.centre) + np.linspace(0, 1, 20)[:, None]
               * [0, -0.08, 0] for r in roots]
    before = alignment_report(strands, hair_head.sdf)
    after = alignment_report(reroot(strands, scalp, hair_head.sdf), hair_head.sdf)
    assert before.penetration > 0.3
    assert after.penetration < 0.01
    assert after.root_gap_mm < 1.5 < before.root_gap_mm
