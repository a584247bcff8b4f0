"""params.json of skinned heads: joint rotations by name (written, read back, checked against the model) and the
``flame`` block, whose FLAME(β, ψ, θ) + translation must be the camera-frame mesh.

The FLAME reference is headcast's own FLAME evaluation (``flame_vertices`` over ``flame_lbs``) on a FlameModel made
of the test model's buffers, so the block is checked against FLAME's formula, not against the writer's maths.
"""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from exporthelp import make_avatar, random_texture, tiny_skinned_model

from headcast.avatar import Avatar
from headcast.export.params import (
    ParamsFileError,
    flame_camera_pose,
    load_params_document,
    read_params,
    write_params,
)
from headcast.fitting.flame_fit import FlameParams, flame_vertices
from headcast.geometry.camera import transform_points
from headcast.headmodel.base import LinearHeadModel, blend_vertices, head_vertices, pose_head, skin_rest_vertices
from headcast.headmodel.flame import FLAME_JOINT_NAMES, FlameFileLayout, FlameModel
from testhelp import ict_with_jaw

# JSON keeps float64 exactly (repr); the mesh is compared in float64 after the float32 basis products.
ROUND_TRIP_ATOL_M = 1e-7
# FLAME's evaluation and head_vertices blend the same float32 bases in a different order: ~1e-9 m apart.
FLAME_ATOL_M = 1e-8
JOINTS = np.array([[0.1, -0.2, 0.05], [0.0, 0.15, 0.0], [0.3, 0.0, -0.05], [0.0, 0.2, 0.1], [-0.1, 0.0, 0.2]])


def _avatar(model: LinearHeadModel, joint_rotations: np.ndarray) -> Avatar:
    return make_avatar(model, np.array([0.5, -1.0]), np.array([0.7, -0.4, 1.25]), random_texture(len(model.uv)),
                       joint_rotations=joint_rotations)


def _as_flame_file(model: LinearHeadModel) -> FlameModel:
    """The test model's buffers in FLAME's layout (what load_flame returns for a FLAME file)."""
    skel = model.skeleton
    assert skel is not None and skel.joint_names == FLAME_JOINT_NAMES
    return FlameModel(
        template=model.template,
        faces=model.triangles,
        shape_basis=np.ascontiguousarray(np.moveaxis(model.identity_basis, 0, 2)),
        expression_basis=np.ascontiguousarray(np.moveaxis(model.expression_basis, 0, 2)),
        posedirs=skel.posedirs,
        j_regressor=skel.j_regressor,
        parents=skel.parents,
        lbs_weights=skel.lbs_weights,
        joint_names=skel.joint_names,
        layout=FlameFileLayout("numpy", "dense"),
    )


def test_joint_rotations_round_trip(tmp_path: Path) -> None:
    avatar = _avatar(tiny_skinned_model(), JOINTS)
    path = write_params(tmp_path / "params.json", avatar)
    raw = json.loads(path.read_text())
    assert list(raw["joint_rotations"]) == list(FLAME_JOINT_NAMES)
    assert raw["joint_rotations"]["jaw"] == [0.3, 0.0, -0.05]
    assert raw["schema_version"] == 1 and "flame" not in raw  # not a model named "flame"
    params, _ = read_params(path, avatar.model)
    np.testing.assert_array_equal(params.joint_rotations, JOINTS)
    for frame in ("model", "camera"):
        np.testing.assert_allclose(pose_head(avatar.model, params, frame=frame).vertices,
                                   pose_head(avatar.model, avatar.fit.params, frame=frame).vertices,
                                   atol=ROUND_TRIP_ATOL_M, rtol=0)


def test_joint_rotations_follow_the_model_order(tmp_path: Path) -> None:
    avatar = _avatar(tiny_skinned_model(), JOINTS)
    path = write_params(tmp_path / "params.json", avatar)
    raw = json.loads(path.read_text())
    raw["joint_rotations"] = dict(reversed(list(raw["joint_rotations"].items())))
    path.write_text(json.dumps(raw))
    np.testing.assert_array_equal(read_params(path, avatar.model)[0].joint_rotations, JOINTS)
    np.testing.assert_array_equal(read_params(path)[0].joint_rotations, JOINTS[::-1])  # no model: the file's order


def test_rest_pose_is_written_as_zeros(tmp_path: Path) -> None:
    avatar = _avatar(tiny_skinned_model(), np.zeros((0, 3)))
    path = write_params(tmp_path / "params.json", avatar)
    assert json.loads(path.read_text())["joint_rotations"] == {n: [0.0, 0.0, 0.0] for n in FLAME_JOINT_NAMES}
    params, _ = read_params(path, avatar.model)
    np.testing.assert_allclose(head_vertices(avatar.model, params), head_vertices(avatar.model, avatar.fit.params),
                               atol=1e-15, rtol=0)


def test_models_without_joints_write_no_new_fields(tmp_path: Path, tiny_avatar: Avatar) -> None:
    raw = json.loads(write_params(tmp_path / "params.json", tiny_avatar).read_text())
    assert "joint_rotations" not in raw and "flame" not in raw
    assert raw["emotion"] is None  # the older optional field keeps its explicit null
    params, _ = read_params(tmp_path / "params.json", tiny_avatar.model)
    assert params.joint_rotations.shape == (0, 3)


def test_file_without_joints_reads_as_the_rest_pose(tmp_path: Path) -> None:
    """A skinned model's file written before joint rotations existed: the joints at rest."""
    avatar = _avatar(tiny_skinned_model(), JOINTS)
    path = write_params(tmp_path / "params.json", avatar)
    raw = json.loads(path.read_text())
    del raw["joint_rotations"]
    path.write_text(json.dumps(raw))
    assert read_params(path, avatar.model)[0].joint_rotations.shape == (0, 3)


def test_reader_checks_the_joints(tmp_path: Path, tiny_avatar: Avatar) -> None:
    avatar = _avatar(tiny_skinned_model(), JOINTS)
    path = write_params(tmp_path / "params.json", avatar)
    raw = json.loads(path.read_text())
    raw["joint_rotations"]["elbow"] = raw["joint_rotations"].pop("jaw")
    path.write_text(json.dumps(raw))
    with pytest.raises(ParamsFileError, match="elbow"):
        read_params(path, avatar.model)
    raw = json.loads(write_params(tmp_path / "b.json", tiny_avatar).read_text())  # a model without joints
    raw["joint_rotations"] = {"jaw": [0.1, 0.0, 0.0]}
    (tmp_path / "b.json").write_text(json.dumps(raw))
    with pytest.raises(ParamsFileError, match="joints: none"):
        read_params(tmp_path / "b.json", tiny_avatar.model)


# --- the flame block ------------------------------------------------------------------------------------------------


def test_flame_block_is_flame_in_the_camera_frame(tmp_path: Path) -> None:
    """FLAME(β, ψ, θ) + translation (FLAME's own evaluation) = the camera-frame mesh, also with a turned root."""
    model = tiny_skinned_model(name="flame")
    avatar = _avatar(model, JOINTS)
    raw = json.loads(write_params(tmp_path / "params.json", avatar).read_text())["flame"]
    params = avatar.fit.params
    assert raw["joint_names"] == list(FLAME_JOINT_NAMES)
    assert raw["shape"] == params.identity.tolist() and raw["expression"] == params.expression.tolist()
    assert raw["pose"] == raw["full_pose"][0] + raw["full_pose"][2]  # global then jaw
    np.testing.assert_array_equal(raw["full_pose"][1:], JOINTS[1:])  # the other joints keep their rotations
    flame = FlameParams(np.array(raw["shape"]), np.array(raw["expression"]), np.array(raw["full_pose"]),
                        np.array(raw["translation"]))
    camera_mesh = transform_points(head_vertices(model, params), params.pose)
    np.testing.assert_allclose(flame_vertices(_as_flame_file(model), flame), camera_mesh, atol=FLAME_ATOL_M, rtol=0)
    assert load_params_document(tmp_path / "params.json").flame is not None


def test_flame_translation_is_the_head_pose_about_the_root_joint() -> None:
    """At a rest root, θ_global is the head rotation and translation = t + R J0 − J0 (J0 the root joint)."""
    from headcast.geometry.rotation import axis_angle_to_matrix
    from headcast.headmodel.lbs import regress_joints

    model = tiny_skinned_model(name="flame")
    rotations = JOINTS.copy()
    rotations[0] = 0.0
    params = _avatar(model, rotations).fit.params
    pose, translation = flame_camera_pose(model, params)
    root = regress_joints(model.skeleton.j_regressor, blend_vertices(model, params.identity, params.expression)[None])
    r = axis_angle_to_matrix(params.pose.rotation)
    np.testing.assert_allclose(pose[0], params.pose.rotation, atol=1e-12)
    np.testing.assert_allclose(translation, params.pose.translation + r @ root[0, 0] - root[0, 0], atol=1e-15)


def test_flame_block_of_a_head_with_fewer_joints(tmp_path: Path, ict_model: LinearHeadModel) -> None:
    """ICT with the test jaw skeleton (global, jaw) named "flame": FLAME's neck and eyes at rest; the block still
    puts the model's own skinning at (β, ψ, θ) + translation on the camera-frame mesh."""
    model = replace(ict_with_jaw(ict_model), name="flame")
    rng = np.random.default_rng(7)
    expression = np.zeros(model.num_expressions)
    expression[model.expression_index("jawOpen")] = 0.3
    avatar = make_avatar(model, rng.normal(size=model.num_identity), expression, random_texture(len(model.uv)),
                         joint_rotations=np.array([[0.05, -0.1, 0.02], [0.2, 0.01, 0.0]]))
    path = write_params(tmp_path / "params.json", avatar)
    block = load_params_document(path).flame
    assert block is not None
    full = np.array(block.full_pose)
    assert np.all(full[[1, 3, 4]] == 0.0)
    flame_mesh = skin_rest_vertices(model, blend_vertices(model, np.array(block.shape), np.array(block.expression)),
                                    full[[0, 2]]) + np.array(block.translation)
    params = avatar.fit.params
    np.testing.assert_allclose(flame_mesh, transform_points(head_vertices(model, params), params.pose),
                               atol=1e-9, rtol=0)
    again, _ = read_params(path, model)
    np.testing.assert_array_equal(again.joint_rotations, params.joint_rotations)


def test_flame_block_needs_flame_joints() -> None:
    model = tiny_skinned_model(joint_names=("global", "jaw", "elbow"), parents=(-1, 0, 0), name="flame")
    with pytest.raises(ValueError, match="not FLAME's"):
        flame_camera_pose(model, _avatar(model, np.zeros((3, 3))).fit.params)


def test_reader_rejects_an_inconsistent_flame_block(tmp_path: Path) -> None:
    path = write_params(tmp_path / "params.json", _avatar(tiny_skinned_model(name="flame"), JOINTS))
    raw = json.loads(path.read_text())
    raw["flame"]["pose"][4] += 0.1
    path.write_text(json.dumps(raw))
    with pytest.raises(ParamsFileError, match=r"flame\.pose"):
        read_params(path)
