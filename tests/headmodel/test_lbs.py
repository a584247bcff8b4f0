"""Linear blend skinning against a plain per-vertex reference, and its conventions on analytic cases.

Tolerances (metres; the rigs below span ~0.2 m, offsets are millimetres):

- float64 buffers: 1e-12. Reference and implementation do the same float64 maths in a different order (loops vs
  einsum/tensordot, 4×4 products along the chain); rounding stays below 1e-15 per operation on values of order
  0.1, and a few dozen operations per vertex keep the difference far below 1e-12.
- float32 bases (how FlameModel stores them): 2e-6. The basis products are taken in float32 (relative error ~6e-8
  per term on offsets up to ~1 cm, 7 + 36 terms) and the float32 buffers themselves are rounded (template to ~1e-8 m).
"""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from headcast.geometry.rotation import axis_angle_to_matrix
from headcast.headmodel.lbs import (
    kinematic_chain,
    linear_blend_skinning,
    pose_feature,
    regress_joints,
    rodrigues,
    skinning_transforms,
    validate_parents,
)

TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 2e-6}
PARENTS = np.array([-1, 0, 1, 1, 1])  # FLAME's tree: global → neck → jaw, neck → both eyes
N_VERTS, N_JOINTS, N_BETAS = 40, 5, 7


def make_rig(seed: int = 0, dtype: type = np.float64) -> dict[str, np.ndarray]:
    """A small random rig: a ~0.2 m point cloud, mm blend shapes, convex weights, a regressor averaging vertices."""
    rng = np.random.default_rng(seed)
    template = rng.uniform(-0.1, 0.1, (N_VERTS, 3))
    regressor = rng.uniform(0.0, 1.0, (N_JOINTS, N_VERTS)) * (rng.uniform(size=(N_JOINTS, N_VERTS)) < 0.3)
    regressor /= regressor.sum(1, keepdims=True)
    weights = rng.uniform(0.0, 1.0, (N_VERTS, N_JOINTS)) ** 3
    weights /= weights.sum(1, keepdims=True)
    return {
        "v_template": template.astype(dtype),
        "shapedirs": rng.normal(scale=3e-3, size=(N_VERTS, 3, N_BETAS)).astype(dtype),
        "posedirs": rng.normal(scale=1e-3, size=(N_VERTS, 3, 9 * (N_JOINTS - 1))).astype(dtype),
        "j_regressor": regressor.astype(dtype),
        "parents": PARENTS,
        "lbs_weights": weights.astype(dtype),
    }


def random_params(batch: int, seed: int = 1, angle: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, N_BETAS)), rng.uniform(-angle, angle, (batch, N_JOINTS, 3))


def reference_lbs(rig: dict[str, np.ndarray], betas: np.ndarray, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The model written out per vertex and per joint in float64, with scipy's rotations (an independent Rodrigues)."""
    t = rig["v_template"].astype(np.float64)
    s = rig["shapedirs"].astype(np.float64)
    p = rig["posedirs"].astype(np.float64)
    reg = rig["j_regressor"].astype(np.float64)
    w = rig["lbs_weights"].astype(np.float64)
    n_v, n_j = w.shape
    verts = np.zeros((len(betas), n_v, 3))
    joints = np.zeros((len(betas), n_j, 3))
    for b in range(len(betas)):
        shaped = np.array([t[v] + sum(s[v, :, k] * betas[b, k] for k in range(s.shape[2])) for v in range(n_v)])
        rest = np.array([sum(reg[j, v] * shaped[v] for v in range(n_v)) for j in range(n_j)])
        rot = [Rotation.from_rotvec(pose[b, j]).as_matrix() for j in range(n_j)]
        feature = np.concatenate([(rot[j] - np.eye(3)).reshape(-1) for j in range(1, n_j)])
        posed = np.array([shaped[v] + p[v] @ feature for v in range(n_v)])
        world = []
        for j in range(n_j):
            local = np.eye(4)
            local[:3, :3] = rot[j]
            local[:3, 3] = rest[j] if j == 0 else rest[j] - rest[PARENTS[j]]
            world.append(local if j == 0 else world[PARENTS[j]] @ local)
        for j in range(n_j):
            joints[b, j] = world[j][:3, 3]
        for v in range(n_v):
            acc = np.zeros(3)
            for j in range(n_j):
                a = world[j].copy()
                a[:3, 3] -= world[j][:3, :3] @ rest[j]
                acc += w[v, j] * (a[:3, :3] @ posed[v] + a[:3, 3])
            verts[b, v] = acc
    return verts, joints


def run(rig: dict[str, np.ndarray], betas: np.ndarray, pose: np.ndarray):
    return linear_blend_skinning(
        rig["v_template"],
        rig["shapedirs"],
        betas,
        rig["posedirs"],
        rig["j_regressor"],
        rig["parents"],
        rig["lbs_weights"],
        pose,
    )


# --- against the reference ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch", [1, 3, 8])
def test_matches_the_per_vertex_reference(batch: int, dtype: type) -> None:
    rig = make_rig(dtype=dtype)
    betas, pose = random_params(batch)
    out = run(rig, betas, pose)
    ref_v, ref_j = reference_lbs(rig, betas, pose)
    tol = TOLERANCE[np.dtype(dtype)]
    assert out.vertices.shape == (batch, N_VERTS, 3) and out.vertices.dtype == np.float64
    assert out.joints.shape == (batch, N_JOINTS, 3) and out.transforms.shape == (batch, N_JOINTS, 4, 4)
    np.testing.assert_allclose(out.vertices, ref_v, rtol=0, atol=tol)
    np.testing.assert_allclose(out.joints, ref_j, rtol=0, atol=tol)
    # the pose moved the mesh by centimetres, so agreeing to `tol` is not agreeing by accident
    assert np.abs(out.vertices - rig["v_template"]).max() > 1e-2


def test_batch_rows_are_independent() -> None:
    rig = make_rig()
    betas, pose = random_params(4)
    together = run(rig, betas, pose)
    for b in range(4):
        alone = run(rig, betas[b : b + 1], pose[b : b + 1])
        np.testing.assert_allclose(together.vertices[b], alone.vertices[0], rtol=0, atol=1e-15)
        np.testing.assert_allclose(together.transforms[b], alone.transforms[0], rtol=0, atol=1e-15)


def test_transforms_carry_rest_joints_to_posed_joints() -> None:
    rig = make_rig()
    betas, pose = random_params(3)
    out = run(rig, betas, pose)
    shaped = rig["v_template"] + np.einsum("vck,bk->bvc", rig["shapedirs"], betas)
    rest = regress_joints(rig["j_regressor"], shaped)
    moved = np.einsum("bjrc,bjc->bjr", out.transforms[..., :3, :3], rest) + out.transforms[..., :3, 3]
    np.testing.assert_allclose(moved, out.joints, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(out.transforms[..., 3, :], np.broadcast_to([0.0, 0.0, 0.0, 1.0], (3, 5, 4)))


# --- analytic cases -------------------------------------------------------------------------------------------------


def test_zero_pose_and_coefficients_give_the_template() -> None:
    rig = make_rig()
    out = run(rig, np.zeros((2, N_BETAS)), np.zeros((2, N_JOINTS, 3)))
    # not bit-exact: the chain forms J_parent + (J_j − J_parent), which rounds at the 1e-17 level
    np.testing.assert_allclose(out.vertices, np.broadcast_to(rig["v_template"], (2, N_VERTS, 3)), rtol=0, atol=1e-15)
    np.testing.assert_allclose(out.transforms, np.broadcast_to(np.eye(4), (2, N_JOINTS, 4, 4)), rtol=0, atol=1e-15)
    np.testing.assert_allclose(out.joints[0], rig["j_regressor"] @ rig["v_template"], rtol=0, atol=1e-15)


def test_a_global_rotation_moves_every_vertex_rigidly() -> None:
    rig = make_rig()
    betas = np.random.default_rng(3).normal(size=(1, N_BETAS))
    pose = np.zeros((1, N_JOINTS, 3))
    pose[0, 0] = [0.3, -1.1, 0.4]
    out = run(rig, betas, pose)
    rest = run(rig, betas, np.zeros_like(pose))  # the shaped mesh: the root's rotation adds no pose correctives
    root = rest.joints[0, 0]
    r = Rotation.from_rotvec(pose[0, 0]).as_matrix()
    np.testing.assert_allclose(out.vertices[0], (rest.vertices[0] - root) @ r.T + root, rtol=0, atol=1e-12)
    dist = np.linalg.norm(out.vertices[0][:, None] - out.vertices[0][None], axis=-1)
    dist_rest = np.linalg.norm(rest.vertices[0][:, None] - rest.vertices[0][None], axis=-1)
    np.testing.assert_allclose(dist, dist_rest, rtol=0, atol=1e-12)


def test_a_jaw_rotation_moves_only_jaw_weighted_vertices() -> None:
    rig = make_rig()
    rig["posedirs"] = np.zeros_like(rig["posedirs"])  # skinning alone: correctives would move every vertex a little
    weights = rig["lbs_weights"].copy()
    weights[::2, 2] = 0.0  # half the vertices do not follow the jaw at all
    rig["lbs_weights"] = weights / weights.sum(1, keepdims=True)
    pose = np.zeros((1, N_JOINTS, 3))
    pose[0, 2] = [0.25, 0.0, 0.0]  # open the jaw: about +x
    out = run(rig, np.zeros((1, N_BETAS)), pose)
    jaw = rig["j_regressor"][2] @ rig["v_template"]
    r = Rotation.from_rotvec(pose[0, 2]).as_matrix()
    expected = rig["v_template"] + rig["lbs_weights"][:, 2:3] * ((rig["v_template"] - jaw) @ (r - np.eye(3)).T)
    np.testing.assert_allclose(out.vertices[0], expected, rtol=0, atol=1e-12)
    still = rig["lbs_weights"][:, 2] == 0.0
    assert still.sum() == N_VERTS // 2
    np.testing.assert_allclose(out.vertices[0, still], rig["v_template"][still], rtol=0, atol=1e-15)
    assert np.linalg.norm(out.vertices[0, ~still] - rig["v_template"][~still], axis=1).min() > 0.0


def test_pose_correctives_are_added_before_skinning_in_the_feature_order() -> None:
    rig = make_rig()
    rig["lbs_weights"] = np.eye(N_JOINTS)[np.zeros(N_VERTS, dtype=int)]  # everything on the root: no skinning motion
    pose = np.zeros((1, N_JOINTS, 3))
    pose[0, 3] = [0.0, 0.0, np.pi / 2]  # joint 3 only
    out = run(rig, np.zeros((1, N_BETAS)), pose)
    r_minus_i = np.array([[-1.0, -1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])  # R_z(90°) − I, row-major
    feature = np.zeros(9 * (N_JOINTS - 1))
    feature[9 * 2 : 9 * 3] = r_minus_i.reshape(-1)  # joint 3 is the third non-root joint
    expected = rig["v_template"] + rig["posedirs"] @ feature
    np.testing.assert_allclose(out.vertices[0], expected, rtol=0, atol=1e-12)


def test_pose_feature_is_r_minus_identity_of_non_root_joints_row_major() -> None:
    rot = np.broadcast_to(np.eye(3), (2, 3, 3, 3)).copy()
    rot[:, 0] = Rotation.from_rotvec([1.0, 2.0, 3.0]).as_matrix()  # the root: not in the feature
    rot[1, 2] = Rotation.from_rotvec([0.0, 0.0, np.pi / 2]).as_matrix()
    feature = pose_feature(rot)
    assert feature.shape == (2, 18)
    np.testing.assert_array_equal(feature[0], np.zeros(18))
    np.testing.assert_allclose(feature[1, 9:], [-1, -1, 0, 1, -1, 0, 0, 0, 0], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(feature[1, :9], np.zeros(9))


def test_a_child_joint_follows_its_parent() -> None:
    joints = np.array([[[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [-1.0, 1.0, 0.0]]])
    rot = np.broadcast_to(np.eye(3), (1, 5, 3, 3)).copy()
    rot[0, 1] = rodrigues(np.array([0.0, np.pi / 2, 0.0]))  # turn the neck 90° about +y
    chain = kinematic_chain(rot, joints, PARENTS)
    posed = chain[0, :, :3, 3]
    # the neck stays; jaw (0, 0, +1 from the neck) swings to +x, the eyes (±1, 0, 0 from the neck) to ∓z
    np.testing.assert_allclose(posed, [[0, 0, 0], [0, 1, 0], [1, 1, 0], [0, 1, -1], [0, 1, 1]], rtol=0, atol=1e-15)
    a = skinning_transforms(chain, joints)
    np.testing.assert_allclose(a[0, 2, :3, :3], rot[0, 1], rtol=0, atol=1e-15)  # the jaw inherits the neck's turn


# --- Rodrigues ------------------------------------------------------------------------------------------------------


def test_rodrigues_is_a_rotation_and_matches_independent_implementations() -> None:
    rng = np.random.default_rng(7)
    vecs = rng.normal(size=(2, 50, 3)) * rng.uniform(0.0, 3.0 * np.pi, (2, 50, 1))
    r = rodrigues(vecs)
    assert r.shape == (2, 50, 3, 3)
    np.testing.assert_allclose(r @ np.swapaxes(r, -1, -2), np.broadcast_to(np.eye(3), r.shape), rtol=0, atol=1e-14)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(r, Rotation.from_rotvec(vecs.reshape(-1, 3)).as_matrix().reshape(r.shape), atol=1e-14)
    np.testing.assert_allclose(r, axis_angle_to_matrix(vecs), rtol=0, atol=1e-14)


def test_rodrigues_is_exact_at_zero_and_stable_near_it() -> None:
    np.testing.assert_array_equal(rodrigues(np.zeros(3)), np.eye(3))
    np.testing.assert_array_equal(rodrigues(np.zeros((4, 3))), np.broadcast_to(np.eye(3), (4, 3, 3)))
    tiny = np.array([3e-10, -1e-10, 2e-10])  # R = I + [r]× to first order; second order is ~1e-20
    skew = np.array([[0, -tiny[2], tiny[1]], [tiny[2], 0, -tiny[0]], [-tiny[1], tiny[0], 0]])
    np.testing.assert_allclose(rodrigues(tiny), np.eye(3) + skew, rtol=0, atol=1e-19)
    axis = np.array([0.6, 0.0, 0.8])
    for angle in (1e-3 * (1 - 1e-12), 1e-3 * (1 + 1e-12), 1e-6, 5e-4, 2e-3):  # both sides of the series switch
        expected = Rotation.from_rotvec(angle * axis).as_matrix()
        np.testing.assert_allclose(rodrigues(angle * axis), expected, rtol=0, atol=2.3e-16)  # one ulp of 1.0


def test_rodrigues_direction_convention() -> None:
    quarter_y = rodrigues(np.array([0.0, np.pi / 2, 0.0]))
    np.testing.assert_allclose(quarter_y @ [0.0, 0.0, 1.0], [1.0, 0.0, 0.0], atol=1e-15)  # +z → +x (yaw left)


# --- shape checks ---------------------------------------------------------------------------------------------------


def test_parents_must_be_a_tree_in_order() -> None:
    np.testing.assert_array_equal(validate_parents((-1, 0, 1, 1, 1)), PARENTS)
    for bad in ((0, 0, 1), (-1, 2, 1), (-1, -1, 0), (-1, 0, 2)):
        with pytest.raises(ValueError, match="parents"):
            validate_parents(bad)


def test_mismatched_shapes_are_named() -> None:
    rig = make_rig()
    betas, pose = random_params(2)
    with pytest.raises(ValueError, match=r"pose must have shape \(B, J, 3\)"):
        run(rig, betas, pose[:, :4])
    with pytest.raises(ValueError, match="same B"):
        run(rig, betas[:1], pose)
    with pytest.raises(ValueError, match="betas must have shape"):
        run(rig, betas[:, :3], pose)
    rig["posedirs"] = rig["posedirs"][..., :27]
    with pytest.raises(ValueError, match="posedirs must have shape"):
        run(rig, betas, pose)
    with pytest.raises(ValueError, match=r"axis_angle must have shape"):
        rodrigues(np.zeros((2, 4)))
