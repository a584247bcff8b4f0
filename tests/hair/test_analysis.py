import numpy as np

from headcast.hair.analysis import gabor_orientation, lab_of_srgb, srgb_of_lab


def test_gabor_finds_stripe_directions() -> None:
    x = np.arange(64)
    vertical = np.sin(2 * np.pi * x / 4.0)[None, :].repeat(64, 0)  # strands run along y
    angle, conf = gabor_orientation(vertical)
    # 16 orientations: bins of 11.25°
    assert abs(np.degrees(np.median(angle[16:48, 16:48])) - 90.0) <= 11.25
    diag = np.sin(2 * np.pi * (x[:, None] + x[None, :]) / 5.6)  # strands run along (1, -1) in image axes
    angle, _ = gabor_orientation(diag)
    assert abs(np.degrees(np.median(angle[16:48, 16:48])) - 135.0) <= 11.25
    assert conf.max() <= 1.0 and conf.min() >= 0.0


def test_lab_round_trip_and_reference_white() -> None:
    rgb = np.array([[0.2, 0.5, 0.7], [1.0, 1.0, 1.0]])
    lab = lab_of_srgb(rgb)
    np.testing.assert_allclose(lab[1], [100.0, 0.0, 0.0], atol=0.5)
    np.testing.assert_allclose(srgb_of_lab(lab), rgb, atol=2e-3)


def _landmarks(cx: float = 200.0, brow: float = 200.0, fh: float = 200.0) -> np.ndarray:
    lm = np.zeros((68, 2))
    lm[17:27] = [[cx - 60.0 + 120.0 * i / 9, brow] for i in range(10)]  # brows, outer ends 17 and 26
    lm[8] = [cx, brow + fh]  # chin
    lm[27] = [cx, brow + 20.0]
    lm[2] = [cx - 80.0, brow + 0.6 * fh]
    return lm


def test_subject_hair_keeps_the_subjects_hair_only() -> None:
    from headcast.hair.analysis import subject_hair

    lm = _landmarks()
    hair = np.zeros((700, 900), bool)
    hair[40:200, 110:290] = True  # the subject's hair over the forehead
    hair[260:480, 280:300] = True  # a tail that the ear separates from it (60 px gap < 0.3 face heights)
    other = np.zeros_like(hair)
    other[60:200, 560:760] = True  # a second person's hair, two face heights to the side
    bridge = np.zeros_like(hair)
    bridge[100:130, 290:800] = True  # hair of someone touching the subject's, reaching far beyond them
    out = subject_hair(hair | other | bridge, lm)
    assert out[hair].all()
    assert not out[other & ~bridge].any()
    cols = np.flatnonzero(out.any(axis=0))
    assert cols.max() <= 200 + 1.5 * 200  # cut at 1.5 face heights beside the face's centre line
    speck = hair.copy()
    speck[650:652, 10:12] = True  # far below and aside: not the subject's
    assert not subject_hair(speck, lm)[650:652, 10:12].any()


def test_fringe_shape_reads_the_fringe_end_and_slant() -> None:
    from headcast.hair.analysis import fringe_shape

    lm = _landmarks()
    hair = np.zeros((500, 400), bool)
    hair[0:190, 100:300] = True  # bangs down to 10 px above the brow line
    conf = np.ones(hair.shape, np.float32)
    straight = np.full(hair.shape, np.pi / 2, np.float32)  # strands straight down
    end, slant = fringe_shape(hair, straight, conf, lm)
    assert end == 189.0 and abs(slant) < 1e-6
    down_right = np.full(hair.shape, np.pi / 4, np.float32)  # down towards the image's right
    assert abs(fringe_shape(hair, down_right, conf, lm)[1] - 1.0) < 1e-5
    down_left = np.full(hair.shape, 3 * np.pi / 4, np.float32)
    assert abs(fringe_shape(hair, down_left, conf, lm)[1] + 1.0) < 1e-5
    assert np.isnan(fringe_shape(np.zeros_like(hair), straight, conf, lm)[0])
