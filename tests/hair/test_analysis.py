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
