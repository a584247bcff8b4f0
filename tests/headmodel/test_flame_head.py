"""FLAME as the pipeline's head model (``headcast.fitting.flame_head``) and ``headcast make --head-model flame``.

Built on the synthetic FLAME file of ``conftest.py`` (FLAME's topology and layout, made-up bases): the UV layout,
parts and landmark table depend on the topology, the template and the skinning weights only.
"""

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from headcast.cli.main import main
from headcast.fitting.correspondence import load_correspondence
from headcast.fitting.flame_correspondence import load_flame_correspondence
from headcast.fitting.flame_head import FlameHead, flame_head_model
from headcast.geometry.mesh import barycentric_interpolate
from headcast.headmodel.flame import load_flame
from headcast.texture.atlas import atlas_uv

REPO = Path(__file__).resolve().parents[2]
VALIDATOR = REPO / "tools" / "node" / "validate.mjs"


@pytest.fixture(scope="module")
def flame_head(flame_files: dict[str, Path], ict_model) -> FlameHead:
    return flame_head_model(load_flame(flame_files["2023"]), ict_model, load_flame_correspondence(),
                            load_correspondence())


def test_model_interface(flame_head: FlameHead) -> None:
    m = flame_head.model
    assert (m.name, m.num_vertices, len(m.triangles)) == ("flame", 5023, 9976)
    assert (m.num_identity, m.num_expressions, m.expression_kind) == (100, 50, "coefficients")
    assert m.skeleton is not None and m.skeleton.joint_names == ("global", "neck", "jaw", "eye_left", "eye_right")
    assert m.skeleton.fitted_joints == ("jaw",)
    assert m.has_material("face", "head", "sclera_left", "sclera_right")
    assert not m.has_material("teeth") and not m.has_part("teeth")
    # the parts cover every vertex once; the eyeballs are the two 546-vertex spheres
    ids = np.concatenate([m.parts[p] for p in ("face", "head_neck", "eyeballs")])
    assert np.array_equal(np.sort(ids), np.arange(m.num_vertices))
    assert len(m.parts["eyeballs"]) == 1092 and m.parts["eyeballs"].min() == 3931
    assert 2500 < len(m.parts["face"]) < 3931


def test_uv_layout_follows_the_materials(flame_head: FlameHead) -> None:
    m = flame_head.model
    uv = m.uv[m.triangle_uvs]  # (T, 3, 2) model UVs
    for mat, name in enumerate(m.material_names):
        cell = m.uv_atlas[name]
        sel = uv[m.triangle_material == mat]
        # every corner lies in its material's tile: no triangle stretches across the atlas
        assert np.all(sel[..., 0] >= cell.tile_u0 - 1e-5) and np.all(sel[..., 0] <= cell.tile_u0 + cell.tile_width)
    a = atlas_uv(m, 1024)[m.triangle_uvs]
    area = (a[:, 1, 0] - a[:, 0, 0]) * (a[:, 2, 1] - a[:, 0, 1]) - (a[:, 2, 0] - a[:, 0, 0]) * (a[:, 1, 1] - a[:, 0, 1])
    skin = m.material_mask("face", "head")
    # orientation kept (UV triangles counter-clockwise like the mesh) almost everywhere on the skin
    assert np.mean(area[skin] > 0) > 0.9
    # a face texel is used by one triangle: the face chart's UV area is close to the sum of its triangles'
    face = m.material_mask("face")
    assert np.abs(area[face]).sum() < 1.15 * np.abs(area[face].sum())


def test_landmarks_sit_where_icts_do(flame_head: FlameHead, ict_model) -> None:
    corr, ict_corr = flame_head.correspondence, load_correspondence()
    assert corr.num_landmarks == 478 and np.allclose(corr.barycentric.sum(axis=1), 1.0)
    ours = barycentric_interpolate(flame_head.on_ict, flame_head.model.triangles, corr.face_ids, corr.barycentric)
    theirs = barycentric_interpolate(ict_model.template.astype(np.float64), ict_model.triangles, ict_corr.face_ids,
                                     ict_corr.barycentric)
    dist = np.linalg.norm(ours - theirs, axis=1)
    assert np.median(dist[:468]) < 0.001 and np.percentile(dist[:468], 95) < 0.004
    eyeball = np.isin(flame_head.model.triangles[corr.face_ids[468:]], flame_head.model.parts["eyeballs"]).all(axis=1)
    assert eyeball.all()  # the iris landmarks on the eyeballs
    cand = corr.contour_candidates
    assert cand.shape == ict_corr.contour_candidates.shape and np.all(cand[:, 0] >= 0)


def _validate(path: Path) -> dict:
    if shutil.which("node") is None or not (VALIDATOR.parent / "node_modules" / "gltf-validator").is_dir():
        if os.environ.get("HEADCAST_REQUIRE_GLTF_VALIDATOR") == "1":
            pytest.fail("HEADCAST_REQUIRE_GLTF_VALIDATOR=1 but the glTF validator is not installed")
        pytest.skip("glTF validator not installed (npm ci --prefix tools/node)")
    proc = subprocess.run(["node", str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=300,
                          check=False)
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_make_with_the_flame_head(flame_files: dict[str, Path], portraits_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    photo = portraits_dir / "london_003_neutral.jpg"
    code = main(["make", str(photo), "-o", str(out), "--head-model", "flame", "--flame-model",
                 str(flame_files["2020"]), "--hair", "none"])
    assert code == 0
    params = json.loads((out / "params.json").read_text())
    flame = json.loads((out / "flame_params.json").read_text())
    assert params["model"] == "flame"
    assert flame["fit"] is None and len(flame["expression"]) == 50
    assert flame["shape"] == pytest.approx(params["identity"])  # β is the fitted identity itself
    pose = np.array(flame["pose"])
    assert pose.shape == (5, 3) and np.all(pose[[0, 1, 3, 4]] == 0)  # only the jaw is fitted (head pose apart)
    with zipfile.ZipFile(out / "avatar.zip") as zf:
        assert "flame_params.json" in zf.namelist()
    # the photo is baked into the face cell of the project's UV layout
    tex = np.asarray(Image.open(out / "texture.png").convert("RGB"), dtype=np.float64)
    face_cell = tex[: tex.shape[0] // 2, : tex.shape[1] // 2]
    # not a flat fill: the photo's eyes, brows and lips make some 64² blocks busy (a filled skin's blocks have a
    # standard deviation of ~3.5 levels, its grain; a photo-textured face's reach ~35 on ICT's layout)
    luma = face_cell.mean(axis=2)
    blocks = luma[: luma.shape[0] // 64 * 64, : luma.shape[1] // 64 * 64].reshape(luma.shape[0] // 64, 64, -1, 64)
    busiest = blocks.std(axis=(1, 3)).max()
    assert busiest > 15, busiest
    report = _validate(out / "avatar.glb")
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"][:5]


def test_missing_flame_file_names_where_to_get_it(tmp_path: Path, portraits_dir: Path, capsys) -> None:
    code = main(["make", str(portraits_dir / "london_003_neutral.jpg"), "-o", str(tmp_path / "out"),
                 "--head-model", "flame", "--flame-model", str(tmp_path / "nope.pkl")])
    assert code == 5
    err = capsys.readouterr().err
    assert "flame.is.tue.mpg.de" in err and "non-commercial" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_emotion_on_a_flame_head(flame_files: dict[str, Path], portraits_dir: Path, ict_model) -> None:
    from headcast.emotion.flame_net import FlameEmotionSettings, train_flame_emotion
    from headcast.emotion.generator import GeneratorSettings
    from headcast.emotion.train import TrainSettings
    from headcast.options import Options
    from headcast.pipeline import HeadModelSettings, Pipeline, PipelineSettings

    settings = PipelineSettings(head=HeadModelSettings("flame", flame_files["2023"]))
    photo = portraits_dir / "london_003_neutral.jpg"
    with Pipeline.load(settings) as pipeline:
        assert pipeline.flame is not None
        tiny = FlameEmotionSettings(examples=GeneratorSettings(num_examples=6, grid_steps=2),
                                    train=TrainSettings(hidden=(8,), steps=20, batch_size=8))
        pipeline.flame_emotion_model, _ = train_flame_emotion(pipeline.flame.model, ict_model,
                                                              pipeline.flame.correspondence, tiny)
        own = pipeline.make(photo, Options(hair="none"))
        neutral = pipeline.pose(own, Options(hair="none", emotion="neutral"))
        happy = pipeline.pose(own, Options(hair="none", emotion="happiness=1"))
    assert np.abs(own.fit.params.expression).max() > 0  # the photo's own ψ
    assert not np.any(neutral.fit.params.expression) and not np.any(neutral.fit.params.joint_rotations)
    assert np.abs(happy.fit.params.expression).max() > 0  # the network's ψ on the neutral face
    np.testing.assert_array_equal(happy.fit.params.identity, own.fit.params.identity)


def test_landmark_fit_recovers_a_known_flame_head(flame_template, ict_model, tmp_path: Path) -> None:
    """Landmarks of a FLAME head with known β, ψ, jaw and pose (the ICT-mean stand-in): the fit finds them."""
    from dataclasses import replace

    from standin import build_standin_flame, write_flame_2023

    from headcast.fitting.fit import fit_head
    from headcast.fitting.settings import FitSettings
    from headcast.geometry.camera import HeadPose, camera_from_fov
    from headcast.geometry.rotation import euler_yxz_to_matrix, matrix_to_axis_angle
    from headcast.headmodel.base import HeadParams, head_vertices
    from testhelp import synthetic_landmarks

    table = load_flame_correspondence()
    path = write_flame_2023(tmp_path / "standin.pkl", build_standin_flame(flame_template, ict_model, table, True))
    head = flame_head_model(load_flame(path), ict_model, table, load_correspondence())
    model, corr = head.model, head.correspondence
    rng = np.random.default_rng(7)
    identity = np.zeros(model.num_identity)
    identity[:20] = rng.normal(scale=0.7, size=20)
    expression = np.zeros(model.num_expressions)
    expression[:8] = rng.normal(scale=0.6, size=8)
    joints = np.zeros((5, 3))
    joints[2] = (0.12, 0.0, 0.0)  # jaw open
    rot = euler_yxz_to_matrix(np.deg2rad(15.0), np.deg2rad(-5.0), 0.0)
    truth = HeadParams(identity, expression, HeadPose(matrix_to_axis_angle(rot), np.array([0.0, 0.02, -0.55])),
                       joints)
    landmarks, _ = synthetic_landmarks(model, corr, truth, 1000)
    settings = replace(FitSettings(), contour_mode="fixed", num_identity=40)
    fit = fit_head(landmarks, model, camera_from_fov(1000, 1000, settings.fov_deg), settings, corr)
    assert fit.nme < 0.004
    jaw = fit.params.joint_rotations[2]
    assert abs(jaw[0] - 0.12) < 0.03 and np.abs(jaw[1:]).max() < 0.03
    assert np.abs(fit.params.joint_rotations[[0, 1, 3, 4]]).max() == 0.0  # only the jaw is fitted
    # the face: closer to the truth than FLAME's mean head at the same jaw is
    face = model.face_vertices
    got = head_vertices(model, fit.params)[face]
    want = head_vertices(model, truth)[face]
    mean = head_vertices(model, replace(truth, identity=np.zeros_like(identity),
                                        expression=np.zeros_like(expression)))[face]

    def centred(v: np.ndarray) -> np.ndarray:
        return v - v.mean(axis=0)

    err = np.median(np.linalg.norm(centred(got) - centred(want), axis=1))
    base = np.median(np.linalg.norm(centred(mean) - centred(want), axis=1))
    assert err < 0.6 * base, (err, base)
