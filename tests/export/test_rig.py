"""The head rig of a linear model's GLB (headcast.export.rig): joints where anatomy puts them, weights that turn the
head and eyes rigidly and leave the neck's base, and the GLB's skin, hair parenting and photo-pose animation."""

from dataclasses import replace

import numpy as np
import pygltflib
import pytest
from exporthelp import make_avatar, read_accessor
from scipy.spatial.transform import Rotation

from headcast.export.glb import build_gltf, photo_pose_rotation
from headcast.export.rig import RIG_JOINT_NAMES, head_rig, rig_weights, smoothstep, sphere_centre
from headcast.export.settings import ExportSettings
from headcast.hair.gltf import StrandGeometry
from headcast.headmodel.base import LinearHeadModel
from headcast.headmodel.lbs import kinematic_chain, rodrigues, skin_vertices, skinning_transforms
from headcast.texture.types import UVTexture


def _ids(model: LinearHeadModel, *roles: str) -> np.ndarray:
    return np.unique(model.triangles[model.material_mask(*roles)])


def test_sphere_centre_recovers_a_sphere() -> None:
    rng = np.random.default_rng(0)
    d = rng.normal(size=(200, 3))
    points = np.array([0.03, -0.01, 0.08]) + 0.0158 * d / np.linalg.norm(d, axis=1, keepdims=True)
    assert np.allclose(sphere_centre(points), [0.03, -0.01, 0.08], atol=1e-9)


def test_smoothstep_ends_and_middle() -> None:
    assert smoothstep(np.array([-1.0, 0.0, 0.5, 1.0, 2.0])).tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]


def test_joints_sit_where_the_anatomy_is(ict_model: LinearHeadModel) -> None:
    t = ict_model.template.astype(np.float64)
    rig = head_rig(ict_model, t)
    assert rig.joint_names == RIG_JOINT_NAMES == ("Neck", "Head", "LeftEye", "RightEye")
    assert rig.parents.tolist() == [-1, 0, 1, 1]
    neck, head, left, right = rig.joints
    for eye, role in ((left, "sclera_left"), (right, "sclera_right")):
        radius = np.linalg.norm(t[_ids(ict_model, role)] - eye, axis=1)
        assert np.ptp(radius) < 0.004 and 0.014 < np.median(radius) < 0.017  # a sphere about the centre
    assert left[0] > 0.02 and right[0] < -0.02 and abs(left[0] + right[0]) < 1e-3
    eyes_y = (left[1] + right[1]) / 2
    assert head[0] == 0.0 and neck[0] == 0.0
    assert neck[1] < head[1] < eyes_y  # neck below the skull's pivot, which is below the eyes
    assert head[2] < left[2] - 0.05  # the pivot is well behind the eyes (near the ears)


def test_weights_turn_eyes_and_skull_and_leave_the_neck_base(ict_model: LinearHeadModel) -> None:
    t = ict_model.template.astype(np.float64)
    w = rig_weights(ict_model)
    assert w.shape == (ict_model.num_vertices, 4)
    assert np.allclose(w.sum(axis=1), 1.0) and w.min() >= 0.0
    left, right = _ids(ict_model, "sclera_left", "iris_left"), _ids(ict_model, "sclera_right", "iris_right")
    assert np.all(w[left, 2] == 1.0) and np.all(w[right, 3] == 1.0)
    chin = ict_model.landmarks68[8]
    top = np.argmax(t[:, 1])
    assert w[chin, 1] == 1.0 and w[top, 1] == 1.0  # the jaw and the skull turn rigidly
    bottom = t[:, 1] < t[:, 1].min() + 0.01
    assert np.all(w[bottom, 0] == 1.0)  # the cut at the neck's base stays with the root
    back = (np.abs(t[:, 0]) < 0.003) & (t[:, 2] < -0.03)  # the back of the neck and head, bottom to top
    order = np.argsort(t[back, 1])
    assert np.all(np.diff(w[back, 1][order]) >= -1e-9)  # the Head weight only grows going up the neck


def test_a_turned_head_moves_eyes_and_skull_rigidly(ict_model: LinearHeadModel) -> None:
    t = ict_model.template.astype(np.float64)
    rig = head_rig(ict_model, t)
    pose = np.zeros((1, 4, 3))
    pose[0, 1] = [0.3, 0.5, 0.0]  # the Head joint: down and to the left
    chain = kinematic_chain(rodrigues(pose), rig.joints[None], rig.parents)
    posed = skin_vertices(t[None], rig.weights, skinning_transforms(chain, rig.joints[None]))[0]
    turn = rodrigues(pose[0, 1])
    rigid = rig.weights[:, 1] + rig.weights[:, 2] + rig.weights[:, 3] == 1.0
    expected = (t[rigid] - rig.joints[1]) @ turn.T + rig.joints[1]
    assert np.abs(posed[rigid] - expected).max() < 1e-9
    bottom = t[:, 1] < t[:, 1].min() + 0.01
    assert np.abs(posed[bottom] - t[bottom]).max() < 1e-12


def _avatar(ict_model: LinearHeadModel):
    uv = np.mod(ict_model.uv, 1.0).astype(np.float32)
    texture = UVTexture(np.full((64, 64, 3), (200, 160, 140), np.uint8), uv, np.ones((64, 64), np.float32))
    return make_avatar(ict_model, np.zeros(ict_model.num_identity), np.zeros(ict_model.num_expressions), texture)


def test_glb_skin_hair_and_photo_pose(ict_model: LinearHeadModel) -> None:
    avatar = _avatar(ict_model)
    params = avatar.fit.params
    hair_points = np.array([[0.0, 0.15, 0.0], [0.01, 0.14, -0.05], [0.02, 0.10, -0.09]], np.float32)
    strands = StrandGeometry(1, hair_points, np.full((3, 3), 0.2, np.float32), np.array([0, 1, 1, 2], np.uint32),
                             None, {})
    gltf = build_gltf(ict_model, params.identity, params.expression, avatar.texture, strands=strands,
                      photo_pose=params.pose.rotation)
    gltf.set_binary_blob(gltf.binary_blob())
    (skin,) = gltf.skins
    names = [gltf.nodes[j].name for j in skin.joints]
    assert names == ["Neck", "Head", "LeftEye", "RightEye"]
    assert gltf.nodes[0].skin == 0
    rig = head_rig(ict_model, ict_model.template.astype(np.float64))
    world = np.cumsum([gltf.nodes[skin.joints[j]].translation for j in (0, 1)], axis=0)
    assert np.allclose(world, rig.joints[:2], atol=1e-6)  # Neck, then Head = Neck + its offset
    ibm = np.swapaxes(read_accessor(gltf, skin.inverseBindMatrices).reshape(-1, 4, 4), 1, 2)
    assert np.allclose(ibm[:, :3, 3], -rig.joints, atol=1e-6) and np.allclose(ibm[:, :3, :3], np.eye(3))
    # the hair hangs from the Head joint, in its frame: the same place in the model frame
    head_node = gltf.nodes[skin.joints[1]]
    (hair,) = [k for k, n in enumerate(gltf.nodes) if n.name == "hair"]
    assert hair in head_node.children and hair not in gltf.scenes[0].nodes
    stored = read_accessor(gltf, gltf.meshes[1].primitives[0].attributes.POSITION)
    assert np.allclose(stored + rig.joints[1], hair_points, atol=1e-6)
    # the photo's head rotation as a one-key animation of the Head joint
    (animation,) = gltf.animations
    assert animation.name == "photo_pose"
    (channel,) = animation.channels
    assert channel.target.node == skin.joints[1] and channel.target.path == "rotation"
    quat = read_accessor(gltf, animation.samplers[0].output)[0]
    expected = Rotation.from_rotvec(params.pose.rotation).as_quat()  # (x, y, z, w)
    assert abs(abs(float(np.dot(quat, expected))) - 1.0) < 1e-6
    assert all(gltf.nodes[j].rotation == [0.0, 0.0, 0.0, 1.0] for j in skin.joints)  # the rest faces forward


def test_photo_pose_composes_with_the_joint_rotation() -> None:
    joint, pose = np.array([0.0, 0.0, 0.2]), np.array([0.1, -0.3, 0.0])
    q = photo_pose_rotation(joint, pose)
    expected = (Rotation.from_rotvec(pose) * Rotation.from_rotvec(joint)).as_quat()
    assert abs(abs(float(np.dot(q, expected))) - 1.0) < 1e-9


def test_without_the_rig_the_head_is_unskinned(ict_model: LinearHeadModel) -> None:
    avatar = _avatar(ict_model)
    params = avatar.fit.params
    gltf = build_gltf(ict_model, params.identity, params.expression, avatar.texture,
                      ExportSettings(head_rig=False), photo_pose=params.pose.rotation)
    assert not gltf.skins and not gltf.animations and gltf.nodes[0].skin is None
    assert gltf.meshes[0].primitives[0].attributes.JOINTS_0 is None


@pytest.mark.parametrize("roles", [("lashes",), ()])
def test_lash_material_is_alpha_blended_with_its_own_texture(ict_model: LinearHeadModel, roles: tuple) -> None:
    avatar = _avatar(ict_model)
    params = avatar.fit.params
    settings = replace(ExportSettings(), double_sided_roles=roles)
    gltf = build_gltf(ict_model, params.identity, params.expression, avatar.texture, settings)
    materials = {m.name: m for m in gltf.materials}
    if not roles:
        assert "lashes" not in materials and len(gltf.images) == 1
        return
    lashes = materials["lashes"]
    assert lashes.alphaMode == pygltflib.BLEND and lashes.doubleSided
    assert gltf.textures[lashes.pbrMetallicRoughness.baseColorTexture.index].source == 1
    assert gltf.images[1].mimeType == "image/png" and materials["head"].alphaMode == pygltflib.OPAQUE
