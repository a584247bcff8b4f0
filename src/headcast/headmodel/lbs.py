"""Linear blend skinning with shape and pose-corrective blend shapes (the SMPL-family model FLAME uses).

Convention:
    - Batch first: coefficient, pose and output arrays carry a leading batch ``B``; the model buffers
      (template, bases, regressor, parents, weights) carry none — the batch size comes from the inputs.
    - Lengths in the units of ``v_template`` (metres for every headcast model); angles in radians.
    - Rotations are axis-angle vectors ``(..., 3)`` (angle = norm); matrices act on column vectors, ``x' = R x``.
    - ``pose[b, j]`` rotates joint ``j`` relative to its parent, about the joint's rest position; joint 0 is the
      root (``parents[0] == -1``) and rotates the whole mesh about its own rest position.
    - ``parents[j] < j`` for every ``j ≥ 1``: a parent comes before its children (FLAME's kintree order).
    - Pose-corrective feature: ``(R_j − I)`` for the non-root joints ``j = 1 … J−1``, each flattened row-major,
      concatenated joint after joint (length ``9 (J − 1)``); ``posedirs[v, c, 9 (j − 1) + 3 r + s]`` multiplies
      ``(R_j − I)[r, s]``.
    - Rigid transforms are homogeneous ``4 × 4`` matrices ``[[R, t], [0, 1]]``.

The model (Loper et al., "SMPL", SIGGRAPH Asia 2015, Eq. 1–10; Li et al., "FLAME", SIGGRAPH Asia 2017, Eq. 1–5)::

    v_shaped = T̄ + Σ_k β_k S_k                          blend shapes (FLAME: identity and expression)
    J        = 𝒥 v_shaped                                 joint regression
    v_posed  = v_shaped + Σ_p P_p f_p(θ)                  pose correctives, f(θ) = the feature above (0 at rest)
    G_0      = [R_0 | J_0],  G_j = G_parent(j) [R_j | J_j − J_parent(j)]      kinematic chain
    A_j      = G_j [I | −J_j]                             rest pose → posed pose, for joint j alone
    v        = Σ_j w_vj A_j v_posed                       skinning

The FLAME paper writes the joints as a function of identity alone, J(β); FLAME's file stores identity and
expression in one ``shapedirs`` array, and passing both (as :func:`headcast.headmodel.flame.flame_lbs` does)
regresses the joints from the mesh with the expression offsets included — the common practice among FLAME tools,
so parameters mean the same here as there.

Precision: products with a basis (``shapedirs``, ``posedirs``) are evaluated in the basis' dtype, so a float32
basis is never copied to float64; everything else (rotations, chain, skinning, sums) is float64, and every output is
float64.

Example:
    >>> v = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    >>> out = linear_blend_skinning(
    ...     v, np.zeros((2, 3, 0)), np.zeros((1, 0)), np.zeros((2, 3, 0)), np.full((1, 2), 0.5),
    ...     np.array([-1]), np.ones((2, 1)), np.array([[[0.0, np.pi / 2, 0.0]]]))
    >>> np.round(out.vertices[0], 6) + 0.0
    array([[ 0.5,  0. ,  0.5],
           [-0.5,  1. ,  0.5]])
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Below this angle (radians) Rodrigues' coefficients come from their Taylor series: the truncation error (θ⁶ terms)
# is < 1e-21 there, and the closed forms are used where they are exact to rounding.
_SMALL_ANGLE = 1e-3


@dataclass(frozen=True, eq=False)
class LbsOutput:
    """A skinned mesh, its joints and the per-joint transforms.

    Attributes:
        vertices: ``(B, V, 3)`` float64 posed vertices, units of the template.
        joints: ``(B, J, 3)`` float64 posed joint positions (the translation of each joint's global transform).
        transforms: ``(B, J, 4, 4)`` float64 skinning transforms ``A_j``: the rigid motion that joint ``j`` alone
            applies to a rest-pose point (``x' = A_j x``); ``A_j [J_rest_j, 1] = [joints_j, 1]``.
    """

    vertices: NDArray[np.float64]
    joints: NDArray[np.float64]
    transforms: NDArray[np.float64]


def rodrigues(axis_angle: NDArray[np.floating]) -> NDArray[np.float64]:
    """Rotation matrices from axis-angle vectors, stable and exact at zero.

    ``R = I + a K + b K²`` with ``K = [r]×`` (the cross-product matrix of the unnormalised vector ``r``),
    ``a = sin θ / θ`` and ``b = (1 − cos θ) / θ² = 2 sin²(θ/2) / θ²``, ``θ = |r|``. Below 1e-3 rad, ``a`` and
    ``b`` come from their Taylor series (``1 − θ²/6 + θ⁴/120``, ``1/2 − θ²/24 + θ⁴/720``), so there is no
    division by a small angle and ``r = 0`` gives the identity exactly.

    Args:
        axis_angle: ``(..., 3)`` rotation vectors, radians.

    Returns:
        ``(..., 3, 3)`` float64 rotation matrices.

    Example:
        >>> np.round(rodrigues(np.array([0.0, np.pi / 2, 0.0])) @ [0.0, 0.0, 1.0], 6) + 0.0
        array([1., 0., 0.])
    """
    r = np.asarray(axis_angle, dtype=np.float64)
    if r.shape[-1:] != (3,):
        raise ValueError(f"axis_angle must have shape (..., 3), got {r.shape}")
    theta2 = np.einsum("...i,...i->...", r, r)
    theta = np.sqrt(theta2)
    small = theta < _SMALL_ANGLE
    safe = np.where(small, 1.0, theta)
    a = np.where(small, 1.0 - theta2 / 6.0 + theta2 * theta2 / 120.0, np.sin(safe) / safe)
    half = np.sin(safe / 2.0) / safe
    b = np.where(small, 0.5 - theta2 / 24.0 + theta2 * theta2 / 720.0, 2.0 * half * half)
    k = _skew(r)
    eye = np.broadcast_to(np.eye(3), k.shape)
    return eye + a[..., None, None] * k + b[..., None, None] * (k @ k)


def _skew(r: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(..., 3)`` → ``(..., 3, 3)`` cross-product matrices, ``skew(r) @ x == r × x``."""
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    zero = np.zeros_like(x)
    return np.stack(
        [np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1), np.stack([-y, x, zero], -1)],
        axis=-2,
    )


def pose_feature(rotations: NDArray[np.floating]) -> NDArray[np.float64]:
    """Pose-corrective feature: ``(R_j − I)`` of the non-root joints, flattened row-major, joint after joint.

    Args:
        rotations: ``(B, J, 3, 3)`` joint rotations relative to their parents (joint 0 = root, not used).

    Returns:
        ``(B, 9 (J − 1))`` float64; zero at the rest pose.
    """
    rot = np.asarray(rotations, dtype=np.float64)
    if rot.ndim != 4 or rot.shape[-2:] != (3, 3):
        raise ValueError(f"rotations must have shape (B, J, 3, 3), got {rot.shape}")
    return (rot[:, 1:] - np.eye(3)).reshape(rot.shape[0], -1)


def regress_joints(j_regressor: NDArray[np.floating], vertices: NDArray[np.floating]) -> NDArray[np.float64]:
    """Joint positions as fixed linear combinations of vertices, ``J = 𝒥 v``.

    Args:
        j_regressor: ``(J, V)`` regressor (each row usually sums to 1).
        vertices: ``(B, V, 3)`` vertices.

    Returns:
        ``(B, J, 3)`` float64 joint positions, units of ``vertices``.
    """
    reg = np.asarray(j_regressor, dtype=np.float64)
    v = np.asarray(vertices, dtype=np.float64)
    if reg.ndim != 2 or v.ndim != 3 or v.shape[1:] != (reg.shape[1], 3):
        raise ValueError(f"j_regressor (J, V) and vertices (B, V, 3) do not match: {reg.shape} and {v.shape}")
    return np.einsum("jv,bvc->bjc", reg, v)


def blend_shapes(
    v_template: NDArray[np.floating], shapedirs: NDArray[np.floating], betas: NDArray[np.floating]
) -> NDArray[np.float64]:
    """``v_shaped = T̄ + Σ_k β_k S_k``.

    Args:
        v_template: ``(V, 3)`` rest template.
        shapedirs: ``(V, 3, K)`` blend shapes (offset per unit coefficient, units of the template).
        betas: ``(B, K)`` coefficients.

    Returns:
        ``(B, V, 3)`` float64 vertices. The product is taken in ``shapedirs``' dtype (see the module docstring).
    """
    template = np.asarray(v_template, dtype=np.float64)
    dirs = np.asarray(shapedirs)
    coeffs = np.asarray(betas)
    if template.ndim != 2 or template.shape[1] != 3:
        raise ValueError(f"v_template must have shape (V, 3), got {template.shape}")
    if dirs.shape[:2] != template.shape or dirs.ndim != 3:
        raise ValueError(f"shapedirs must have shape (V, 3, K) = {(*template.shape, 'K')}, got {dirs.shape}")
    if coeffs.ndim != 2 or coeffs.shape[1] != dirs.shape[2]:
        raise ValueError(f"betas must have shape (B, K) with K = {dirs.shape[2]}, got {coeffs.shape}")
    offsets = np.tensordot(coeffs.astype(dirs.dtype, copy=False), dirs, axes=([1], [2]))
    return template[None] + offsets


def validate_parents(parents: NDArray[np.integer] | tuple[int, ...]) -> NDArray[np.int64]:
    """Check a kinematic tree: ``parents[0] == -1`` and ``0 ≤ parents[j] < j`` for ``j ≥ 1``.

    Args:
        parents: ``(J,)`` parent index of every joint.

    Returns:
        ``(J,)`` int64 copy.

    Raises:
        ValueError: not a tree in that order.
    """
    p = np.asarray(parents, dtype=np.int64)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"parents must have shape (J,), got {p.shape}")
    if p[0] != -1 or np.any(p[1:] < 0) or np.any(p[1:] >= np.arange(1, p.size)):
        raise ValueError(f"parents must be -1 for the root and precede each child (parents[j] < j), got {p.tolist()}")
    return p


def kinematic_chain(
    rotations: NDArray[np.floating], joints: NDArray[np.floating], parents: NDArray[np.integer]
) -> NDArray[np.float64]:
    """Global rigid transform of every joint: ``G_0 = [R_0 | J_0]``, ``G_j = G_parent [R_j | J_j − J_parent]``.

    Args:
        rotations: ``(B, J, 3, 3)`` rotations relative to the parent joint.
        joints: ``(B, J, 3)`` rest-pose joint positions.
        parents: ``(J,)`` parent indices (see :func:`validate_parents`).

    Returns:
        ``(B, J, 4, 4)`` float64 transforms from each joint's local frame (origin at the joint, axes of the rest
        pose rotated by the chain) to the model frame; the translation column is the posed joint position.
    """
    rot = np.asarray(rotations, dtype=np.float64)
    jnt = np.asarray(joints, dtype=np.float64)
    par = validate_parents(parents)
    if rot.ndim != 4 or rot.shape[1:] != (par.size, 3, 3) or jnt.shape != (rot.shape[0], par.size, 3):
        raise ValueError(
            f"rotations (B, J, 3, 3), joints (B, J, 3) and parents (J,) do not match: "
            f"{rot.shape}, {jnt.shape}, {par.shape}"
        )
    offsets = jnt.copy()
    offsets[:, 1:] -= jnt[:, par[1:]]
    local = np.zeros((*rot.shape[:2], 4, 4))
    local[..., :3, :3] = rot
    local[..., :3, 3] = offsets
    local[..., 3, 3] = 1.0
    chain = [local[:, 0]]
    for j in range(1, par.size):
        chain.append(chain[par[j]] @ local[:, j])
    return np.stack(chain, axis=1)


def skinning_transforms(global_transforms: NDArray[np.floating], joints: NDArray[np.floating]) -> NDArray[np.float64]:
    """``A_j = G_j [I | −J_j]``: the motion joint ``j`` applies to rest-pose points.

    Args:
        global_transforms: ``(B, J, 4, 4)`` from :func:`kinematic_chain`.
        joints: ``(B, J, 3)`` rest-pose joint positions.

    Returns:
        ``(B, J, 4, 4)`` float64.
    """
    g = np.asarray(global_transforms, dtype=np.float64)
    jnt = np.asarray(joints, dtype=np.float64)
    out = g.copy()
    out[..., :3, 3] = g[..., :3, 3] - np.einsum("bjrc,bjc->bjr", g[..., :3, :3], jnt)
    return out


def skin_vertices(
    vertices: NDArray[np.floating], lbs_weights: NDArray[np.floating], transforms: NDArray[np.floating]
) -> NDArray[np.float64]:
    """``v' = Σ_j w_vj A_j v``: blend the joints' transforms per vertex and apply them.

    Args:
        vertices: ``(B, V, 3)`` rest-pose vertices (pose correctives already added).
        lbs_weights: ``(V, J)`` skinning weights (rows usually sum to 1).
        transforms: ``(B, J, 4, 4)`` skinning transforms from :func:`skinning_transforms`.

    Returns:
        ``(B, V, 3)`` float64 posed vertices.
    """
    v = np.asarray(vertices, dtype=np.float64)
    w = np.asarray(lbs_weights, dtype=np.float64)
    a = np.asarray(transforms, dtype=np.float64)
    if v.ndim != 3 or w.shape != (v.shape[1], a.shape[1]) or a.shape[0] != v.shape[0]:
        raise ValueError(
            f"vertices (B, V, 3), lbs_weights (V, J) and transforms (B, J, 4, 4) do not match: "
            f"{v.shape}, {w.shape}, {a.shape}"
        )
    blended = np.einsum("vj,bjrc->bvrc", w, a[:, :, :3, :])  # (B, V, 3, 4)
    return np.einsum("bvrc,bvc->bvr", blended[..., :3], v) + blended[..., 3]


def linear_blend_skinning(
    v_template: NDArray[np.floating],
    shapedirs: NDArray[np.floating],
    betas: NDArray[np.floating],
    posedirs: NDArray[np.floating],
    j_regressor: NDArray[np.floating],
    parents: NDArray[np.integer],
    lbs_weights: NDArray[np.floating],
    pose: NDArray[np.floating],
) -> LbsOutput:
    """Shape, pose-correct and skin a template (the full model of the module docstring).

    Args:
        v_template: ``(V, 3)`` rest template, metres.
        shapedirs: ``(V, 3, K)`` blend shapes (FLAME: identity then expression), metres per unit coefficient.
        betas: ``(B, K)`` blend-shape coefficients.
        posedirs: ``(V, 3, 9 (J − 1))`` pose-corrective blend shapes, metres per unit of the pose feature.
        j_regressor: ``(J, V)`` joint regressor.
        parents: ``(J,)`` kinematic tree, ``parents[0] == -1``, ``parents[j] < j``.
        lbs_weights: ``(V, J)`` skinning weights.
        pose: ``(B, J, 3)`` axis-angle rotation of every joint relative to its parent, radians.

    Returns:
        The posed vertices, posed joints and skinning transforms (float64).

    Raises:
        ValueError: the shapes do not fit together (the message names them).
    """
    par = validate_parents(parents)
    theta = np.asarray(pose, dtype=np.float64)
    coeffs = np.asarray(betas)
    corr = np.asarray(posedirs)
    n_joints = par.size
    if theta.ndim != 3 or theta.shape[1:] != (n_joints, 3):
        raise ValueError(f"pose must have shape (B, J, 3) with J = {n_joints}, got {theta.shape}")
    if coeffs.ndim != 2 or coeffs.shape[0] != theta.shape[0]:
        raise ValueError(f"betas (B, K) and pose (B, J, 3) need the same B, got {coeffs.shape} and {theta.shape}")
    v_shaped = blend_shapes(v_template, shapedirs, coeffs)
    n_verts = v_shaped.shape[1]
    if corr.shape != (n_verts, 3, 9 * (n_joints - 1)):
        raise ValueError(f"posedirs must have shape {(n_verts, 3, 9 * (n_joints - 1))}, got {corr.shape}")
    if np.shape(lbs_weights) != (n_verts, n_joints):
        raise ValueError(f"lbs_weights must have shape {(n_verts, n_joints)}, got {np.shape(lbs_weights)}")
    if np.shape(j_regressor) != (n_joints, n_verts):
        raise ValueError(f"j_regressor must have shape {(n_joints, n_verts)}, got {np.shape(j_regressor)}")

    rest_joints = regress_joints(j_regressor, v_shaped)
    rotations = rodrigues(theta)
    feature = pose_feature(rotations)
    v_posed = v_shaped + np.tensordot(feature.astype(corr.dtype, copy=False), corr, axes=([1], [2]))
    chain = kinematic_chain(rotations, rest_joints, par)
    transforms = skinning_transforms(chain, rest_joints)
    vertices = skin_vertices(v_posed, lbs_weights, transforms)
    return LbsOutput(vertices=vertices, joints=chain[..., :3, 3].copy(), transforms=transforms)
