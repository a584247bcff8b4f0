"""Fitting FLAME to points: the affine map against LBS, known-parameter recovery, and an ICT head from a photo."""

from pathlib import Path

import numpy as np
import pytest

from headcast.fitting.flame_correspondence import FlameCorrespondence, load_flame_correspondence
from headcast.fitting.flame_fit import (
    FlameFitSettings,
    FlameParams,
    _prepare,
    affine_in_coefficients,
    fit_flame_to_ict,
    fit_flame_to_mesh,
    flame_vertices,
)
from headcast.headmodel.base import LinearHeadModel
from headcast.headmodel.flame import FlameModel, load_flame


@pytest.fixture(scope="module")
def flame(flame_files: dict[str, Path]) -> FlameModel:
    return load_flame(flame_files["2023"])


@pytest.fixture(scope="module")
def corr() -> FlameCorrespondence:
    return load_flame_correspondence()


def known_params(seed: int = 3) -> FlameParams:
    rng = np.random.default_rng(seed)
    pose = np.zeros((5, 3))
    pose[0] = [0.04, -0.08, 0.02]  # global
    pose[1] = [0.06, 0.05, -0.01]  # neck
    pose[2] = [0.18, 0.01, -0.005]  # jaw: mouth open ~10°
    return FlameParams(rng.normal(0.0, 1.0, 100), rng.normal(0.0, 0.5, 50), pose, np.array([0.004, -0.012, 0.02]))


def test_affine_map_is_the_skinned_mesh(flame: FlameModel) -> None:
    truth = known_params()
    ids = np.arange(0, flame.num_vertices, 7)
    a, b = affine_in_coefficients(_prepare(flame, ids, 100, 50), truth.pose)
    coeffs = np.concatenate((truth.shape, truth.expression))
    skinned = np.einsum("nak,k->na", a, coeffs) + b + truth.translation
    np.testing.assert_allclose(skinned, flame_vertices(flame, truth)[ids], atol=1e-8)  # float32 bases


def test_recovers_known_parameters(flame: FlameModel, corr: FlameCorrespondence) -> None:
    """Targets: the known head's vertices where the ICT table has points (face, scalp, ears, upper neck)."""
    truth = known_params()
    ids = corr.flame_vertex_ids
    target_mesh = flame_vertices(flame, truth)
    fit = fit_flame_to_mesh(flame, ids, target_mesh[ids])
    err_mm = np.linalg.norm(flame_vertices(flame, fit.params) - target_mesh, axis=1) * 1000.0
    # measured: 0.02 mm mean over the fitted vertices; the priors' bias is the only error on exact data
    assert fit.mean_distance_m * 1000.0 < 0.1
    assert err_mm[: 3931].mean() < 0.2  # the whole skin, the unfitted lower neck included
    np.testing.assert_allclose(fit.params.pose[:3], truth.pose[:3], atol=2e-3)  # radians
    np.testing.assert_allclose(fit.params.translation, truth.translation, atol=2e-4)  # metres
    assert np.abs(fit.params.shape - truth.shape).max() < 0.1
    assert np.abs(fit.params.expression - truth.expression).max() < 0.1
    np.testing.assert_array_equal(fit.params.pose[3:], 0.0)  # eyes: not fitted


def test_fixed_shape_fits_expression_and_jaw(flame: FlameModel) -> None:
    truth = known_params(seed=5)
    ids = np.arange(3931)
    target = flame_vertices(flame, truth)[ids]
    fit = fit_flame_to_mesh(flame, ids, target, fixed_shape=truth.shape)
    np.testing.assert_array_equal(fit.params.shape, truth.shape)
    assert np.abs(fit.params.expression - truth.expression).max() < 0.05
    assert abs(fit.params.pose[2, 0] - truth.pose[2, 0]) < 1e-3
    assert fit.mean_distance_m < 5e-5


def test_weights_and_counts(flame: FlameModel) -> None:
    truth = known_params()
    ids = np.arange(3931)
    target = flame_vertices(flame, truth)[ids]
    small = fit_flame_to_mesh(flame, ids, target, settings=FlameFitSettings(num_shape=20, num_expression=10))
    assert small.params.shape.shape == (20,) and small.params.expression.shape == (10,)
    weights = np.ones(len(ids))
    weights[ids > 2000] = 0.0
    fit = fit_flame_to_mesh(flame, ids, target, weights)
    assert fit.mean_distance_m == pytest.approx(fit.distances_m[ids <= 2000].mean())
    with pytest.raises(ValueError, match="weights"):
        fit_flame_to_mesh(flame, ids, target, np.zeros(len(ids)))
    with pytest.raises(ValueError, match="targets"):
        fit_flame_to_mesh(flame, ids, target[:10])


FIXTURE_RESIDUAL_MM = 6.0
"""Bound on the mean distance of FLAME (synthetic file) to a photo's fitted ICT head (measured 4.1 mm on
london_107). The synthetic bases are random directions, so they cannot express how the ICT head differs from
FLAME's template (proportions, the landmark warp of the table): the template posed and placed alone is measured
at 4.14 mm, the full fit at 4.11 mm. This bound tests the wiring (correspondence → targets in the model frame →
two-stage fit), not FLAME's expressiveness, which only the real file has."""


def test_fit_to_an_ict_head_from_a_photo(
    flame: FlameModel, corr: FlameCorrespondence, ict_model: LinearHeadModel, portraits_dir: Path
) -> None:
    from headcast.fitting.correspondence import load_correspondence
    from headcast.fitting.fit import fit_head
    from headcast.fitting.settings import FitSettings
    from headcast.geometry.camera import camera_from_fov
    from headcast.landmarks.detector import FaceDetector, detect_landmarks
    from headcast.landmarks.image_io import load_photo
    from headcast.landmarks.settings import DetectorSettings, PhotoSettings

    photo = load_photo(portraits_dir / "london_107_neutral.jpg", PhotoSettings())
    with FaceDetector(DetectorSettings()) as det:
        lm = detect_landmarks(photo, det, DetectorSettings())
    head = fit_head(lm, ict_model, camera_from_fov(photo.width, photo.height, 40.0), FitSettings(),
                    load_correspondence()).params
    fit = fit_flame_to_ict(flame, ict_model, head, corr)
    rigid = fit_flame_to_ict(flame, ict_model, head, corr, FlameFitSettings(num_shape=0, num_expression=0))
    assert fit.mean_distance_m * 1000.0 < FIXTURE_RESIDUAL_MM
    assert fit.mean_distance_m <= rigid.mean_distance_m * 1.001  # more freedom never fits worse
    assert np.abs(fit.params.shape).max() < 3.0 and np.abs(fit.params.expression).max() < 3.0  # within the prior
    assert fit.params.shape.shape == (100,) and fit.params.expression.shape == (50,)
    assert np.degrees(np.linalg.norm(fit.params.pose[0])) < 10  # both heads upright in the model frame
