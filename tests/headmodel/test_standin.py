"""The realistic stand-in FLAME file (``standin.build_standin_flame``): it loads, its bases are smooth and are ICT's
at the table points, its eyeballs are rigid, its jaw opens the mouth, and its script writes it."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from standin import (
    EYEBALL_START,
    STANDIN_NOTE,
    SyntheticFlame,
    build_standin_flame,
    ict_mean_offset,
    lip_consistent_rows,
    standin_jaw_weight,
    write_flame_2020,
    write_flame_2023,
)

from headcast.fitting.flame_correspondence import (
    FlameCorrespondence,
    correspondence_targets,
    load_flame_correspondence,
    read_flame_landmarks68,
)
from headcast.geometry.mesh import barycentric_interpolate
from headcast.headmodel.base import LinearHeadModel
from headcast.headmodel.flame import FlameModel, FlameTemplate, flame_lbs, load_flame

NUM_ICT_EXPRESSIONS_KEPT = 52  # ICT's 57 shapes without jawOpen, jawLeft, jawRight and the two pupil dilations


@pytest.fixture(scope="module")
def corr() -> FlameCorrespondence:
    return load_flame_correspondence()


@pytest.fixture(scope="module")
def standin_flame(flame_template: FlameTemplate, ict_model: LinearHeadModel, corr: FlameCorrespondence):
    return build_standin_flame(flame_template, ict_model, corr)


@pytest.fixture(scope="module")
def standin_model(standin_flame: SyntheticFlame, tmp_path_factory: pytest.TempPathFactory) -> FlameModel:
    return load_flame(write_flame_2023(tmp_path_factory.mktemp("standin") / "standin.pkl", standin_flame))


def _edges(faces: np.ndarray) -> np.ndarray:
    return np.unique(np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1), axis=0)


def _roughness(displacement: np.ndarray, edges: np.ndarray) -> float:
    """RMS difference of a displacement field across mesh edges over its RMS (√2 for independent vertices)."""
    across = displacement[edges[:, 0]] - displacement[edges[:, 1]]
    return float(np.sqrt(np.mean(np.sum(across**2, axis=1)) / np.mean(np.sum(displacement**2, axis=1))))


def test_loads_in_both_layouts(standin_flame: SyntheticFlame, standin_model: FlameModel, tmp_path: Path) -> None:
    for model in (standin_model, load_flame(write_flame_2020(tmp_path / "generic_model.pkl", standin_flame))):
        assert model.num_vertices == 5023 and model.num_shape == 300 and model.num_expression == 100
        np.testing.assert_allclose(model.shape_basis, standin_flame.shapedirs[..., :300], rtol=0, atol=1e-9)
        np.testing.assert_array_equal(model.lbs_weights, standin_flame.weights)
        assert model.joint_names == ("global", "neck", "jaw", "eye_left", "eye_right")
        assert np.all(model.posedirs == 0)


def test_bases_are_smooth_unlike_the_random_file(standin_model: FlameModel, synthetic_flame: SyntheticFlame) -> None:
    edges = _edges(standin_model.faces)
    # Independent random vertices give √2 ≈ 1.41 (measured 1.42 on the synthetic file); ICT's modes carried over
    # measure 0.10 (identity 0) and 0.13 (expression 0): neighbours move nearly alike.
    assert _roughness(synthetic_flame.shapedirs[..., 0], edges) > 1.3
    assert _roughness(standin_model.shape_basis[..., 0], edges) < 0.2
    assert _roughness(standin_model.expression_basis[..., 0], edges) < 0.2
    assert max(_roughness(standin_model.shape_basis[..., k], edges) for k in range(100)) < 0.6  # 0.46 measured


def test_identity_mode_0_is_ict_s_at_the_table_points(
    standin_model: FlameModel,
    standin_flame: SyntheticFlame,
    flame_template: FlameTemplate,
    ict_model: LinearHeadModel,
    corr: FlameCorrespondence,
) -> None:
    rows = lip_consistent_rows(flame_template, ict_model, corr, standin_flame.weights[:, 2])
    # a handful of lower-lip inner-sheet rows is set aside (10 of 2954), all at the mouth
    assert (~rows).sum() <= 0.01 * corr.num_points
    assert np.all(np.abs(flame_template.vertices[corr.flame_vertex_ids[~rows], 1] + 0.05) < 0.015)

    ict = ict_model.template.astype(np.float64)
    moved = ict + ict_model.identity_basis[0]
    expected = (
        correspondence_targets(moved, ict_model.triangles, corr)
        - correspondence_targets(ict, ict_model.triangles, corr)
    )[rows]
    # back into ICT's frame: d_ict = s R d_flame
    got = (
        corr.alignment_scale * standin_model.shape_basis[corr.flame_vertex_ids[rows], :, 0] @ corr.alignment_rotation.T
    )
    # float32 storage rounds ~2 mm by ~1e-10 m; a transposed or missing rotation (~2°) or scale is off by 0.1–1 mm
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-8)
    assert np.abs(expected).max() > 5e-3  # the mode moves the head by millimetres


def test_unused_components_are_zero_and_expression_components_orthogonal(standin_model: FlameModel) -> None:
    assert np.all(standin_model.shape_basis[..., 100:] == 0)
    assert np.all(standin_model.expression_basis[..., NUM_ICT_EXPRESSIONS_KEPT:] == 0)
    psi = standin_model.expression_basis[..., :NUM_ICT_EXPRESSIONS_KEPT].reshape(-1, NUM_ICT_EXPRESSIONS_KEPT)
    gram = psi.astype(np.float64).T @ psi
    norms = np.sqrt(np.diag(gram))
    assert np.all(np.diff(norms) <= 1e-9)  # by decreasing variance
    assert np.abs(gram / np.outer(norms, norms) - np.eye(len(norms))).max() < 1e-5  # float32 rounding


def test_eyeballs_move_rigidly_with_ict_s(
    standin_model: FlameModel, flame_template: FlameTemplate, ict_model: LinearHeadModel, corr: FlameCorrespondence
) -> None:
    v = flame_template.vertices
    eyeball = np.arange(len(v)) >= EYEBALL_START
    ict_eyeball = ict_model.part_mask("eyeballs")
    for flame_side, ict_side in (
        (v[:, 0] > 0, ict_model.template[:, 0] > 0),
        (v[:, 0] < 0, ict_model.template[:, 0] < 0),
    ):
        basis = standin_model.shape_basis[eyeball & flame_side][..., :100]
        np.testing.assert_array_equal(basis, np.broadcast_to(basis[0], basis.shape))  # one translation per mode
        centroid = ict_model.identity_basis[:, ict_eyeball & ict_side].mean(axis=1)  # (100, 3), ICT's frame
        expected = centroid @ corr.alignment_rotation / corr.alignment_scale
        np.testing.assert_allclose(basis[0].T, expected, rtol=0, atol=1e-8)
    assert np.all(standin_model.expression_basis[eyeball] == 0)  # ICT's expressions do not move its eyeballs


def test_opening_the_jaw_opens_the_mouth(
    standin_model: FlameModel, flame_template: FlameTemplate, flame_cc_by_dir: Path
) -> None:
    marks = read_flame_landmarks68(flame_cc_by_dir / "flame_static_embedding_68.npz")
    pose = np.zeros((2, 5, 3))
    pose[1, 2, 0] = 0.2  # jaw, radians, about +x: opens
    out = flame_lbs(standin_model, np.zeros((2, 100)), np.zeros((2, 100)), pose).vertices
    at = barycentric_interpolate(out, standin_model.faces, marks.face_ids, marks.barycentric)  # (2, 68, 3)
    moved = (at[1] - at[0]) * 1000.0  # mm
    chin, upper_lip, lower_lip, nose_tip = 8, 51, 57, 30  # iBUG-68
    assert moved[lower_lip, 1] < -10.0 and moved[chin, 1] < -10.0  # measured about -15 and -13 mm
    assert np.linalg.norm(moved[upper_lip]) < 2.0 and np.linalg.norm(moved[nose_tip]) < 0.5
    gap = np.linalg.norm(at[:, lower_lip] - at[:, upper_lip], axis=1) * 1000.0
    assert gap[1] - gap[0] > 10.0
    np.testing.assert_array_equal(out[1, EYEBALL_START:], out[0, EYEBALL_START:])  # eyes and skull stay
    jaw = standin_jaw_weight(flame_template)
    assert np.all((jaw >= 0) & (jaw <= 1)) and np.all(jaw[EYEBALL_START:] == 0)


def test_script_writes_the_stand_in(
    tmp_path: Path, request: pytest.FixtureRequest, flame_cc_by_dir: Path, standin_flame: SyntheticFlame
) -> None:
    root = request.config.rootpath
    script = root / "scripts" / "make_standin_flame.py"
    out = tmp_path / "generic_model.pkl"
    done = subprocess.run(
        [sys.executable, str(script), str(out), "--layout", "2020", "--flame-cc-by", str(flame_cc_by_dir)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    model = load_flame(out)
    assert model.layout.arrays == "chumpy" and model.layout.j_regressor == "sparse"
    np.testing.assert_allclose(model.expression_basis, standin_flame.shapedirs[..., 300:], rtol=0, atol=1e-9)
    assert STANDIN_NOTE.encode() in out.read_bytes()  # the file says what it is

    inside = subprocess.run(
        [sys.executable, str(script), str(root / "standin.pkl")], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert inside.returncode == 2 and "inside the repository" in inside.stderr
    assert not (root / "standin.pkl").exists()


def test_ict_mean_template_puts_the_table_vertices_on_ict(
    flame_template: FlameTemplate, ict_model: LinearHeadModel, corr: FlameCorrespondence
) -> None:
    moved = flame_template.vertices + ict_mean_offset(flame_template, ict_model, corr)
    ids = corr.flame_vertex_ids
    in_ict = corr.alignment_scale * moved[ids] @ corr.alignment_rotation.T + corr.alignment_translation
    target = correspondence_targets(ict_model.template.astype(np.float64), ict_model.triangles, corr)
    assert np.abs(in_ict - target).max() < 1e-6  # metres: exactly ICT's surface points
    offset = np.linalg.norm(moved - flame_template.vertices, axis=1)
    assert 0.0005 < np.median(offset) < 0.005  # the two mean heads differ by millimetres, not more
