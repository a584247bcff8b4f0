"""The photo's hairline: the default curve's anatomy, the scalp read off a photo, and the bald-band measure."""

from dataclasses import replace

import numpy as np
import pytest

from headcast.fitting.types import FitResult
from headcast.geometry.camera import Camera, HeadPose, project, transform_points
from headcast.hair.hairline import hairline_fit, hairline_pixels, photo_scalp, with_photo_scalp
from headcast.hair.head import HairHead
from headcast.hair.scalp import candidate_samples, hairline_phi, scalp_angles
from headcast.hair.types import HairAnalysis

CAMERA = Camera(1500.0, 1500.0, 400.0, 400.0, 800, 800)


def _fit(hair_head: HairHead, params) -> FitResult:
    """The mean head 60 cm in front of ``CAMERA``, face on."""
    pose = HeadPose(np.zeros(3), np.array([0.0, -0.02, -0.6]))
    lm = project(transform_points(hair_head.vertices[hair_head.model.landmarks68], pose), CAMERA)
    return FitResult(replace(params, pose=pose), CAMERA, np.zeros((478, 2)), lm, 0.0)


def _analysis(hair: np.ndarray, skin: np.ndarray, fringe: float = 0.0) -> HairAnalysis:
    f = np.zeros(hair.shape, np.float32)
    lab = np.array([30.0, 5.0, 10.0])
    return HairAnalysis(hair, np.zeros_like(hair), skin, skin, lab, lab, f, f, 0.0, fringe, 0.0, False, 0.5,
                        False, False)


def _row_of(hair_head: HairHead, fit: FitResult, y: float) -> float:
    """Image row of the forehead surface point at model height ``y`` on the mid-line."""
    v = hair_head.vertices
    face = v[hair_head.model.part_mask("face")]
    near = face[np.argmin(np.abs(face[:, 0]) * 4.0 + np.abs(face[:, 1] - y) - 0.01 * face[:, 2])]
    return float(project(transform_points(near[None], fit.params.pose), CAMERA)[0, 1])


def test_default_hairline_follows_the_ear(hair_head: HairHead) -> None:
    sc = hair_head.scalp
    knots = sc.hairline_phi
    assert knots.shape[0] == 2 and np.all(np.diff(knots[0]) > 0)  # |ψ| ascending, 0 to π
    lm = hair_head.vertices[hair_head.model.landmarks68]
    phi_jaw, _ = scalp_angles(lm[[0, 16]], sc.centre)
    phi, psi = scalp_angles(sc.points, sc.centre)
    ap = np.abs(psi)
    # the sideburn (just behind the jaw contour's top, ahead of the ear) reaches down to about that landmark
    sideburn = np.abs(ap - knots[0, 2]) < np.deg2rad(2.0)
    assert phi[sideburn].max() > phi_jaw.mean() - np.deg2rad(2.0)
    # over the ear the hairline passes above it, and the nape is lower than the sides
    over_ear = (ap > knots[0, 3] + np.deg2rad(2.0)) & (ap < knots[0, 4] - np.deg2rad(2.0))
    assert phi[over_ear].max() < phi_jaw.mean() - np.deg2rad(4.0)
    assert hairline_phi(np.array([np.pi]), knots)[0] > knots[1, 4]


def test_scalp_read_off_the_photo_meets_its_hairline(hair_head: HairHead, mean_params) -> None:
    fit = _fit(hair_head, mean_params)
    sc = hair_head.scalp
    unit = sc.brow_y - float(hair_head.vertices[hair_head.model.landmarks68[33], 1])
    y_line = sc.brow_y + 0.7 * unit  # the photo's hairline: lower than the default (1.0)
    row = _row_of(hair_head, fit, y_line)
    rows = np.arange(CAMERA.height)[:, None] * np.ones((1, CAMERA.width))
    hair, skin = rows < row, rows >= row
    keep = photo_scalp(hair_head, fit, _analysis(hair, skin))
    pts, _, phi, psi, outward = candidate_samples(hair_head.model, hair_head.vertices, sc.centre)
    mid = (np.abs(pts[:, 0]) < 0.01) & (pts[:, 2] > sc.centre[2])  # the forehead's mid-line
    kept_low = pts[keep & mid, 1].min()
    assert kept_low == pytest.approx(y_line, abs=0.004)  # down to the photo's hairline, no bare band
    default = phi < hairline_phi(psi, sc.hairline_phi)
    assert kept_low < pts[default & mid, 1].min() - 0.01
    back = np.abs(psi) > np.deg2rad(120.0)  # never seen: the default curve
    assert np.array_equal(keep[back], (default & outward)[back])
    head = with_photo_scalp(hair_head, keep)
    assert head.photo_keep is keep and len(head.scalp.points) > len(sc.points)


def test_hair_over_the_forehead_grows_no_roots_below_the_lowest_hairline(hair_head: HairHead, mean_params) -> None:
    fit = _fit(hair_head, mean_params)
    sc = hair_head.scalp
    unit = sc.brow_y - float(hair_head.vertices[hair_head.model.landmarks68[33], 1])
    everywhere = np.ones((CAMERA.height, CAMERA.width), bool)
    pts, _, phi, psi, _ = candidate_samples(hair_head.model, hair_head.vertices, sc.centre)
    mid = (np.abs(pts[:, 0]) < 0.01) & (pts[:, 2] > sc.centre[2])
    keep = photo_scalp(hair_head, fit, _analysis(everywhere, ~everywhere))
    assert pts[keep & mid, 1].min() > sc.brow_y + 0.45 * unit - 0.004
    # a fringe hides the hairline: the front stays where the default curve puts it
    hidden = photo_scalp(hair_head, fit, _analysis(everywhere, ~everywhere, fringe=0.9))
    default = phi < hairline_phi(psi, sc.hairline_phi)
    assert pts[hidden & mid, 1].min() == pytest.approx(pts[default & mid, 1].min(), abs=0.003)


def test_hairline_fit_measures_the_bald_band() -> None:
    lm = np.zeros((68, 2))
    lm[17:27] = [[100.0 + 20 * i, 150.0] for i in range(10)]  # brows at row 150
    lm[8] = [190.0, 350.0]  # chin: face height 200 px
    lm[36:48] = [[150.0, 200.0]] * 12  # eyes at row 200
    hair = np.zeros((400, 400), bool)
    hair[:100] = True
    skin = np.zeros_like(hair)
    skin[100:300] = True
    line = hairline_pixels(hair, skin, lm)
    assert set(np.flatnonzero(line.any(axis=1))) == {99}
    render = np.zeros_like(hair)
    render[:90] = True  # stops 10 rows above the photo's hairline
    fit = hairline_fit(render, hair, skin, lm)
    assert fit is not None
    assert fit.gap_px == pytest.approx(10.0, abs=0.5) and fit.gap == pytest.approx(0.05, abs=0.003)
    assert fit.cover == 0.0  # the band is rows 90..99 (0.05 face heights)
    render[:96] = True
    fit = hairline_fit(render, hair, skin, lm)
    assert fit is not None and fit.gap_px == pytest.approx(4.0, abs=0.5) and fit.cover == pytest.approx(0.6)
    assert hairline_fit(render, np.zeros_like(hair), skin, lm) is None
