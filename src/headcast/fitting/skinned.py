"""Linear blend skinning of surface points and its derivatives: the skinned landmark model of the fitter.

Convention:
    As :mod:`headcast.headmodel.lbs`: metres, radians, model frame; joint rotations are axis-angle vectors, each
    relative to its parent joint and about the joint's rest position; the pose-corrective feature ``f(θ)`` is
    ``(R_j − I)`` of the non-root joints, flattened row-major, joint after joint (``9 (J − 1)`` values).

Model. A point n of the surface (a vertex, or a barycentric combination of a triangle's corners, whose skinning
weights and pose correctives are combined with the same barycentric weights) has a rest position ``r_n(c)`` affine in
the M blend coefficients ``c`` (identity, expression), skinning weights ``w_nj`` and a pose-corrective basis ``P_n``
(3 × 9 (J − 1)). The joints are regressed from the shaped rest mesh, so they are affine in ``c`` too::

    y_n = r_n + P_n f(θ)                                    pose-corrected rest point
    J   = J̄ + 𝒥_c c                                         rest joints (J, 3)
    X_n = Σ_j w_nj A_j y_n = M̄_n y_n + Σ_j w_nj τ_j         A_j = [M_j | τ_j] = G_j [I | −J_j],  M̄_n = Σ_j w_nj M_j

with the kinematic chain ``G_0 = [R_0 | J_0]``, ``G_j = G_p [R_j | J_j − J_p]`` (p the parent of j); Loper et al.,
"SMPL", SIGGRAPH Asia 2015, Eq. 1–10.

Derivatives (the chain rule, written out):

* blend coefficients: ``∂X_n/∂c = M̄_n ∂r_n/∂c + Σ_j w_nj ∂τ_j/∂c``. For fixed rotations the skinning
  translations are linear in the rest joints (``t_0 = J_0``, ``t_j = t_p + M_p (J_j − J_p)``, ``τ_j = t_j − M_j J_j``)
  and the same recursion maps ``∂J/∂c`` to ``∂τ/∂c``.
* rotation ``θ_k`` of joint k: ``exp(θ_k + ε) ≈ exp(J_l(θ_k) ε) exp(θ_k)`` (``J_l`` the left Jacobian of SO(3))
  turns every joint of k's subtree about k's posed position ``p_k`` by the model-frame angle
  ``Ω = M_p J_l(θ_k) ε`` (``M_p = I`` for the root), and changes k's corrective feature by
  ``vec([J_l(θ_k) ε]× R_k)``. Hence::

      ∂X_n/∂θ_k = −[Z_nk]× M_p J_l(θ_k) + M̄_n P_nk D_k,   Z_nk = Σ_{j ∈ subtree(k)} w_nj (A_j y_n − p_k),
      D_k[:, i] = vec([J_l(θ_k) e_i]× R_k)

  with ``P_nk`` the 9 columns of ``P_n`` that multiply joint k's feature (none for the root).
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headcast.headmodel.lbs import kinematic_chain, pose_feature, rodrigues, skinning_transforms, validate_parents


@dataclass(frozen=True, eq=False)
class SkinnedPoints:
    """Skinned points and their derivatives (the module docstring).

    Attributes:
        points: ``(N, 3)`` posed points ``X``, model frame, metres.
        coefficients: ``(N, 3, M)`` ``∂X/∂c``, metres per unit coefficient.
        rotations: ``(N, 3, 3 F)`` ``∂X/∂θ`` of the F fitted joints (three axis-angle components each), metres per
            radian.
    """

    points: NDArray[np.float64]
    coefficients: NDArray[np.float64]
    rotations: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class _Forward:
    rotations: NDArray[np.float64]  # (J, 3, 3) R_j relative to the parent
    corrected: NDArray[np.float64]  # (N, 3) y
    chain: NDArray[np.float64]  # (J, 4, 4) G_j
    transforms: NDArray[np.float64]  # (J, 4, 4) A_j
    per_joint: NDArray[np.float64]  # (J, N, 3) A_j y_n
    points: NDArray[np.float64]  # (N, 3) X


def _forward(
    rest: NDArray[np.floating],
    weights: NDArray[np.floating],
    posedirs: NDArray[np.floating],
    joints: NDArray[np.floating],
    parents: NDArray[np.integer],
    rotations: NDArray[np.floating],
) -> _Forward:
    rot = rodrigues(np.asarray(rotations, dtype=np.float64))
    jnt = np.asarray(joints, dtype=np.float64)[None]
    feature = pose_feature(rot[None])[0]
    corrected = np.asarray(rest, dtype=np.float64) + np.asarray(posedirs, dtype=np.float64) @ feature
    chain = kinematic_chain(rot[None], jnt, parents)
    transforms = skinning_transforms(chain, jnt)[0]
    per_joint = np.einsum("jab,nb->jna", transforms[:, :3, :3], corrected) + transforms[:, None, :3, 3]
    points = np.einsum("nj,jna->na", np.asarray(weights, dtype=np.float64), per_joint)
    return _Forward(rot, corrected, chain[0], transforms, per_joint, points)


def skin_points(
    rest: NDArray[np.floating],
    weights: NDArray[np.floating],
    posedirs: NDArray[np.floating],
    joints: NDArray[np.floating],
    parents: NDArray[np.integer],
    rotations: NDArray[np.floating],
) -> NDArray[np.float64]:
    """Pose-correct and skin rest points: ``X_n = Σ_j w_nj A_j (r_n + P_n f(θ))``.

    Args:
        rest: ``(N, 3)`` rest points ``r``, metres.
        weights: ``(N, J)`` skinning weights at the points.
        posedirs: ``(N, 3, 9 (J − 1))`` pose-corrective basis at the points, metres per unit of the feature.
        joints: ``(J, 3)`` rest joint positions (regressed from the same shaped mesh), metres.
        parents: ``(J,)`` kinematic tree (``headcast.headmodel.lbs.validate_parents``).
        rotations: ``(J, 3)`` axis-angle of every joint relative to its parent, radians.

    Returns:
        ``(N, 3)`` float64 posed points, model frame, metres.
    """
    return _forward(rest, weights, posedirs, joints, parents, rotations).points


def skin_points_with_jacobian(
    rest: NDArray[np.floating],
    rest_jacobian: NDArray[np.floating],
    weights: NDArray[np.floating],
    posedirs: NDArray[np.floating],
    joints: NDArray[np.floating],
    joints_jacobian: NDArray[np.floating],
    parents: NDArray[np.integer],
    rotations: NDArray[np.floating],
    fitted: NDArray[np.integer],
    left_jacobians: NDArray[np.floating],
) -> SkinnedPoints:
    """Skinned points (as :func:`skin_points`) and their analytic derivatives (the module docstring).

    Args:
        rest: ``(N, 3)`` rest points ``r(c)``, metres.
        rest_jacobian: ``(N, 3, M)`` ``∂r/∂c``.
        weights: ``(N, J)`` skinning weights at the points.
        posedirs: ``(N, 3, 9 (J − 1))`` pose-corrective basis at the points.
        joints: ``(J, 3)`` rest joints ``J(c)``, metres.
        joints_jacobian: ``(J, 3, M)`` ``∂J/∂c``.
        parents: ``(J,)`` kinematic tree.
        rotations: ``(J, 3)`` axis-angle of every joint relative to its parent, radians.
        fitted: ``(F,)`` ids of the joints whose rotations are differentiated, in the order of the output columns.
        left_jacobians: ``(F, 3, 3)`` ``J_l(θ_k)`` of the fitted joints' rotation vectors
            (:func:`headcast.fitting.fit.so3_left_jacobian`).

    Returns:
        points ``(N, 3)``, ``∂X/∂c`` ``(N, 3, M)`` and ``∂X/∂θ`` ``(N, 3, 3 F)``, float64.
    """
    par = validate_parents(parents)
    w = np.asarray(weights, dtype=np.float64)
    pd = np.asarray(posedirs, dtype=np.float64)
    d_joints = np.asarray(joints_jacobian, dtype=np.float64)
    fwd = _forward(rest, w, pd, joints, par, rotations)
    rot_global = fwd.transforms[:, :3, :3]  # M_j (the chain's rotations; A_j keeps them)

    # blend coefficients: through the rest point and through the joints (skinning translations)
    d_t = np.empty_like(d_joints)
    d_t[0] = d_joints[0]
    for j in range(1, par.size):
        p = par[j]
        d_t[j] = d_t[p] + rot_global[p] @ (d_joints[j] - d_joints[p])
    d_tau = d_t - rot_global @ d_joints  # (J, 3, M)
    blended = np.einsum("nj,jab->nab", w, rot_global)  # M̄_n
    d_coeff = blended @ np.asarray(rest_jacobian, dtype=np.float64)
    d_coeff += (w @ d_tau.reshape(par.size, -1)).reshape(d_coeff.shape)

    # joint rotations: the subtree turns about the joint, and the joint's own corrective changes
    fit_ids = np.asarray(fitted, dtype=np.int64)
    jls = np.asarray(left_jacobians, dtype=np.float64).reshape(len(fit_ids), 3, 3)
    d_rot = np.zeros((len(w), 3, 3 * len(fit_ids)))
    for col, (k, jl) in enumerate(zip(fit_ids, jls, strict=True)):
        in_subtree = np.zeros(par.size, dtype=bool)
        in_subtree[k] = True
        for j in range(k + 1, par.size):
            in_subtree[j] = in_subtree[par[j]]
        pivot = fwd.chain[k, :3, 3]
        w_sub = w[:, in_subtree]
        z = np.einsum("nj,jna->na", w_sub, fwd.per_joint[in_subtree]) - w_sub.sum(axis=1)[:, None] * pivot
        axes = (rot_global[par[k]] if par[k] >= 0 else np.eye(3)) @ jl  # column i: Ω for ε = e_i
        block = np.stack([np.cross(axes[:, i], z) for i in range(3)], axis=-1)  # Ω × Z
        if k > 0:
            # D[:, i] = vec([J_l e_i]× R_k), row-major; ([ω]× R)[:, s] = ω × R[:, s]
            d_feature = np.stack([np.cross(jl[:, i], fwd.rotations[k].T).T.reshape(9) for i in range(3)], axis=-1)
            block += blended @ (pd[:, :, 9 * (k - 1) : 9 * k] @ d_feature)
        d_rot[:, :, 3 * col : 3 * col + 3] = block
    return SkinnedPoints(points=fwd.points, coefficients=d_coeff, rotations=d_rot)


def regress_joint_basis(j_regressor: NDArray[np.floating], basis: NDArray[np.floating]) -> NDArray[np.float64]:
    """Joints of each blend shape: ``(𝒥 S_m)`` for shapes ``S_m`` (``J = 𝒥 v`` is linear in the vertices).

    Only the vertices the regressor uses are read (regressors are sparse), in float64.

    Args:
        j_regressor: ``(J, V)`` joint regressor.
        basis: ``(M, V, 3)`` blend shapes (offsets per unit coefficient), metres.

    Returns:
        ``(J, 3, M)`` float64 joint offsets per unit coefficient, metres.
    """
    reg = np.asarray(j_regressor, dtype=np.float64)
    cols = np.flatnonzero(np.any(reg != 0.0, axis=0))
    shapes = np.asarray(basis)[:, cols].astype(np.float64)
    return np.einsum("jv,mvc->jcm", reg[:, cols], shapes)
