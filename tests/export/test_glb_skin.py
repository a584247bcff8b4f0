"""GLB of a skinned head: joint nodes, inverse bind matrices, JOINTS_0/WEIGHTS_0, baked pose correctives, the
morph targets of a coefficient model, and the Khronos validator (tiny skinned model, ICT FaceKit with a jaw).

The reference is ``head_vertices(model, params)``; the GLB is posed the way glTF 2.0 defines it (morph targets, then
``Σ w · jointWorld · inverseBind``), from the file's own nodes, accessors and quaternions (read with scipy).
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from exporthelp import (
    make_avatar,
    posed_primitive,
    random_texture,
    read_accessor,
    tiny_eye_model,
    tiny_skinned_model,
    validate,
)
from scipy.spatial.transform import Rotation

from headcast.avatar import Avatar
from headcast.export.glb import (
    ENGINE_JOINT_NAMES,
    MAX_INFLUENCES,
    build_gltf,
    morph_target_count,
    quaternion_xyzw,
    skin_influences,
    write_glb,
)
from headcast.export.mesh import material_mask, split_uv_seams
from headcast.export.settings import ExportSettings
from headcast.headmodel.base import LinearHeadModel, head_vertices
from headcast.headmodel.lbs import regress_joints
from headcast.texture.types import UVTexture
from testhelp import ict_with_jaw

# float32 positions, deltas and weights (≈1e-8 m at 10 cm); the skinned sum adds a few such roundings.
SKINNED_ATOL_M = 1e-6
TINY_JOINTS = np.array([[0.1, -0.2, 0.05], [0.0, 0.15, 0.0], [0.3, 0.0, -0.05], [0.0, 0.2, 0.1], [-0.1, 0.0, 0.2]])


def _load(path: Path) -> pygltflib.GLTF2:
    return pygltflib.GLTF2().load_binary(str(path))


def _float32_sum(weights: np.ndarray) -> np.ndarray:
    """Row sums accumulated in float32 one weight after the other, as the Khronos validator adds them."""
    total = np.zeros(len(weights), np.float32)
    for k in range(weights.shape[1]):
        total = (total + weights[:, k]).astype(np.float32)
    return total


def _groups(model: LinearHeadModel) -> list[np.ndarray]:
    """Vertex ids of each exported primitive (the writer's seam split of its material groups)."""
    keep = ~material_mask(model, ("overlay",))
    double = material_mask(model, ("lashes",))
    masks = [m for m in (keep & ~double, keep & double) if m.any()]
    return [split_uv_seams(model.triangles[m], model.triangle_uvs[m]).vertex_ids for m in masks]


def _assert_skin_reproduces_head(gltf: pygltflib.GLTF2, avatar: Avatar, atol: float) -> None:
    expected = head_vertices(avatar.model, avatar.fit.params)
    mesh = gltf.meshes[0]
    for prim, vid in zip(mesh.primitives, _groups(avatar.model), strict=True):
        np.testing.assert_allclose(posed_primitive(gltf, prim, mesh.weights), expected[vid], atol=atol, rtol=0)


# --- pure helpers ---------------------------------------------------------------------------------------------------


def test_skin_influences_keep_the_four_largest_and_sum_to_one() -> None:
    rng = np.random.default_rng(0)
    w = rng.dirichlet(np.ones(6), size=500)
    w[:50] = 0.0
    w[:50, 3] = 1.0  # one joint only
    joints, weights = skin_influences(w)
    assert joints.shape == weights.shape == (500, MAX_INFLUENCES) and weights.dtype == np.float32
    expected = np.sort(w, axis=1)[:, ::-1][:, :4]
    np.testing.assert_allclose(weights, expected / expected.sum(axis=1, keepdims=True), atol=3e-7)
    np.testing.assert_allclose(np.take_along_axis(w, joints, axis=1)[50:], expected[50:], rtol=0, atol=0)
    used = weights > 0
    assert np.all(np.abs(_float32_sum(weights) - 1.0) <= 2e-7 * used.sum(axis=1))  # the validator's tolerance
    assert np.all(joints[~used] == 0)  # unused slots: joint 0, weight 0
    assert np.all(joints[:50, 0] == 3) and np.all(weights[:50, 1:] == 0)
    for row, mask in zip(joints, used, strict=True):
        assert len(set(row[mask].tolist())) == mask.sum()  # no joint twice among the used weights


def test_skin_influences_with_fewer_joints_than_slots() -> None:
    joints, weights = skin_influences(np.array([[0.25, 0.75], [1.0, 0.0]]))
    np.testing.assert_array_equal(joints, [[1, 0, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(weights, np.array([[0.75, 0.25, 0, 0], [1, 0, 0, 0]], np.float32))
    with pytest.raises(ValueError, match="positive skinning weight"):
        skin_influences(np.zeros((1, 2)))


def test_quaternions_match_scipy_and_are_exact_at_zero() -> None:
    rng = np.random.default_rng(1)
    r = np.concatenate([rng.normal(size=(20, 3)), rng.normal(scale=1e-9, size=(3, 3)), np.zeros((1, 3))])
    q = quaternion_xyzw(r)
    ref = Rotation.from_rotvec(r).as_quat()  # (x, y, z, w)
    ref *= np.sign(ref[:, 3:4] * q[:, 3:4] + (ref[:, 3:4] == 0))
    np.testing.assert_allclose(q, ref, atol=1e-15)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-15)
    assert q[-1].tolist() == [0.0, 0.0, 0.0, 1.0]


# --- tiny skinned model ---------------------------------------------------------------------------------------------


@pytest.fixture
def skinned_avatar() -> Avatar:
    model = tiny_skinned_model()
    return make_avatar(model, np.array([0.5, -1.0]), np.array([0.7, 0.4, 0.25]), random_texture(len(model.uv)),
                       joint_rotations=TINY_JOINTS)


def test_skinned_glb_structure(tmp_path: Path, skinned_avatar: Avatar) -> None:
    gltf = _load(write_glb(tmp_path / "a.glb", skinned_avatar))
    model, params = skinned_avatar.model, skinned_avatar.fit.params
    skel = model.skeleton
    assert skel is not None
    head = gltf.nodes[0]
    assert head.mesh == 0 and head.skin == 0
    assert head.translation is None and head.rotation is None and head.matrix is None  # skinned: no own transform
    (skin,) = gltf.skins
    joints = [gltf.nodes[i] for i in skin.joints]
    assert [n.name for n in joints] == [ENGINE_JOINT_NAMES.get(n, n) for n in skel.joint_names]
    assert [n.name for n in joints] == ["Neck", "Head", "Jaw", "LeftEye", "RightEye"]  # what engines look for
    assert skin.skeleton == skin.joints[0] and gltf.scenes[0].nodes == [0, skin.joints[0]]
    for j, node in enumerate(joints):  # the hierarchy is the skeleton's
        assert [skin.joints.index(c) for c in node.children] == np.flatnonzero(skel.parents == j).tolist()
    at_rest = head_vertices(model, replace(params, joint_rotations=np.zeros((0, 3))))
    rest = regress_joints(skel.j_regressor, at_rest[None])[0]
    offsets = rest - np.concatenate([np.zeros((1, 3)), rest[skel.parents[1:]]])
    np.testing.assert_allclose([n.translation for n in joints], offsets, atol=1e-15)
    np.testing.assert_allclose([Rotation.from_quat(n.rotation).as_rotvec() for n in joints], TINY_JOINTS, atol=1e-12)
    ibm = read_accessor(gltf, skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)
    np.testing.assert_allclose(ibm[:, :3, 3], -rest, atol=1e-7)
    np.testing.assert_array_equal(ibm[:, :3, :3], np.broadcast_to(np.eye(3), (5, 3, 3)))
    for prim in gltf.meshes[0].primitives:
        acc = gltf.accessors[prim.attributes.JOINTS_0]
        assert acc.type == "VEC4" and acc.componentType == pygltflib.UNSIGNED_BYTE
        assert gltf.accessors[prim.attributes.WEIGHTS_0].componentType == pygltflib.FLOAT


def test_skinned_glb_at_its_stored_pose_is_the_fitted_head(tmp_path: Path, skinned_avatar: Avatar) -> None:
    """Morph targets, then skinning at the nodes' rotations: head_vertices (pose correctives baked in)."""
    gltf = _load(write_glb(tmp_path / "a.glb", skinned_avatar))
    _assert_skin_reproduces_head(gltf, skinned_avatar, SKINNED_ATOL_M)
    # the positions are the bind pose: the rest mesh plus the correctives, which are not zero at this pose
    model, params = skinned_avatar.model, skinned_avatar.fit.params
    rest = head_vertices(model, replace(params, joint_rotations=np.zeros((0, 3)), expression=np.zeros(3)))
    vid = _groups(model)[0]
    base = read_accessor(gltf, gltf.meshes[0].primitives[0].attributes.POSITION)
    assert np.abs(base - rest[vid]).max() > 1e-4


def test_skinned_glb_at_rest_when_there_are_no_angles(tmp_path: Path, skinned_avatar: Avatar) -> None:
    avatar = replace(skinned_avatar, fit=replace(skinned_avatar.fit, params=replace(
        skinned_avatar.fit.params, joint_rotations=np.zeros((0, 3)))))
    gltf = _load(write_glb(tmp_path / "a.glb", avatar))
    assert all(gltf.nodes[i].rotation == [0.0, 0.0, 0.0, 1.0] for i in gltf.skins[0].joints)
    _assert_skin_reproduces_head(gltf, avatar, SKINNED_ATOL_M)


def test_skinned_glb_rejects_wrong_joint_count(tmp_path: Path, skinned_avatar: Avatar) -> None:
    params = skinned_avatar.fit.params
    with pytest.raises(ValueError, match=r"joint_rotations must be \(5, 3\)"):
        build_gltf(skinned_avatar.model, params.identity, params.expression, skinned_avatar.texture,
                   joint_rotations=np.zeros((2, 3)))


def test_coefficient_model_gets_targets_for_the_first_components(tmp_path: Path) -> None:
    """FLAME-like ψ: the first max_coefficient_targets components are targets (any weight, even < 0 or > 1), the
    fitted values of the others are baked into the positions."""
    model = replace(tiny_skinned_model(), expression_kind="coefficients", expression_names=("psi_00", "psi_01",
                                                                                            "psi_02"))
    settings = ExportSettings(max_coefficient_targets=2)
    assert morph_target_count(model, settings) == 2 and morph_target_count(model, ExportSettings()) == 3
    expression = np.array([-1.5, 2.5, 3.0])
    avatar = make_avatar(model, np.array([0.5, -1.0]), expression, random_texture(len(model.uv)),
                         joint_rotations=TINY_JOINTS)
    gltf = _load(write_glb(tmp_path / "a.glb", avatar, settings))
    mesh = gltf.meshes[0]
    assert mesh.extras["targetNames"] == ["psi_00", "psi_01"] and mesh.weights == [-1.5, 2.5]
    assert [len(p.targets) for p in mesh.primitives] == [2, 2]
    _assert_skin_reproduces_head(gltf, avatar, SKINNED_ATOL_M)


def test_tiny_skinned_glb_passes_khronos_validator(tmp_path: Path, skinned_avatar: Avatar,
                                                   gltf_validator: Path) -> None:
    report = validate(gltf_validator, write_glb(tmp_path / "a.glb", skinned_avatar))
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"]
    assert report["issues"]["numWarnings"] == 0, report["issues"]["messages"]
    assert report["info"]["hasSkins"] and report["info"]["hasMorphTargets"]


def test_eye_only_model_writes_one_primitive(tmp_path: Path, gltf_validator: Path) -> None:
    """A model with only face/head/sclera/iris roles (no lashes, overlay, teeth): every triangle, one primitive."""
    model = tiny_eye_model()
    avatar = make_avatar(model, np.zeros(2), np.zeros(3), random_texture(len(model.uv)))
    path = write_glb(tmp_path / "a.glb", avatar)
    gltf = _load(path)
    (prim,) = gltf.meshes[0].primitives
    assert gltf.accessors[prim.indices].count == 3 * len(model.triangles)
    assert validate(gltf_validator, path)["issues"]["numErrors"] == 0


# --- ICT FaceKit with a jaw -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jaw_avatar(ict_model: LinearHeadModel) -> Avatar:
    """ICT with the test skeleton (global, jaw), the jaw open by 0.25 rad and turned a little, some expression."""
    model = ict_with_jaw(ict_model)
    uv = np.mod(model.uv, 1.0).astype(np.float32)
    flat = UVTexture(np.full((64, 64, 3), (200, 160, 140), np.uint8), uv, np.ones((64, 64), np.float32))
    rng = np.random.default_rng(4)
    expression = np.zeros(model.num_expressions)
    expression[model.expression_index("mouthSmileLeft")] = 0.6
    return make_avatar(model, rng.normal(size=model.num_identity), expression, flat,
                       joint_rotations=np.array([[0.0, 0.0, 0.0], [0.25, 0.03, -0.02]]))


@pytest.fixture(scope="module")
def jaw_glb(tmp_path_factory: pytest.TempPathFactory, jaw_avatar: Avatar) -> Path:
    return write_glb(tmp_path_factory.mktemp("jaw") / "avatar.glb", jaw_avatar)


def test_ict_jaw_glb_reproduces_head_vertices(jaw_glb: Path, jaw_avatar: Avatar) -> None:
    gltf = _load(jaw_glb)
    # plus the sparse targets' documented cut: deltas under morph_epsilon_m are dropped (≤ ε · Σ|w| per vertex)
    dropped = ExportSettings().morph_epsilon_m * np.abs(jaw_avatar.fit.params.expression).sum()
    _assert_skin_reproduces_head(gltf, jaw_avatar, SKINNED_ATOL_M + dropped)
    # the jaw pose shows: the chin is well below where the unposed head has it
    model, params = jaw_avatar.model, jaw_avatar.fit.params
    chin = model.landmarks68[8]
    rest = head_vertices(model, replace(params, joint_rotations=np.zeros((0, 3))))
    assert rest[chin, 1] - head_vertices(model, params)[chin, 1] > 0.01


def test_ict_jaw_glb_passes_khronos_validator(jaw_glb: Path, gltf_validator: Path) -> None:
    report = validate(gltf_validator, jaw_glb)
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"][:10]
    assert report["info"]["hasSkins"] and report["info"]["hasMorphTargets"]
