"""Fit the head model to MediaPipe landmarks: head pose, identity, expression and (skinned models) the jaw joint.

Model (docs/conventions.md): the rest position of landmark i is ``r_i = T_i + A_i α + B_i w`` (model frame, metres;
``T``, ``A``, ``B`` are the template, identity and expression bases interpolated at the landmark's embedded point;
``T`` includes the shapes that are not fitted at their held values, :func:`held_offset` — ICT's gaze shapes move the
lids, and the rendered head has them).
A linear model (ICT FaceKit) uses it as is, ``X_i = r_i``. A skinned model (``model.skeleton``, e.g. FLAME) poses
it by linear blend skinning (:mod:`headcast.fitting.skinned`, :mod:`headcast.headmodel.lbs` conventions)::

    X_i = Σ_j w_ij A_j(θ, J) (r_i + P_i f(θ)),    J = J̄ + 𝒥_α α + 𝒥_w w

with ``w_ij`` and ``P_i`` the skinning weights and pose correctives interpolated at the point, ``A_j`` the skinning
transforms of the joint angles θ, ``f(θ)`` the pose-corrective feature and ``J`` the rest joints regressed from the
shaped mesh — affine in ``(α, w)``, the regressed joint basis precomputed once per fit (shapes that are not fitted
are held in ``J̄``). Only the joints in ``Skeleton.fitted_joints`` (default: the jaw) have free angles θ (axis-angle,
relative to the parent); the others stay at rest, and the root's role is played by the rigid head pose. Then
``P_i = R X_i + t`` in the camera frame, projected by ``u = cx − fx·Px/Pz``, ``v = cy + fy·Py/Pz``. The contour
candidates (silhouette) and the depth term use the skinned points too.

Energy (image terms in units of the detected outer-eye-corner distance ``s``; ρ the robust loss applied to each
residual row, see :mod:`headcast.fitting.solver`)::

    E = Σ_i Σ_{u,v} ρ(ω_i (π(P_i) − q_i) / s)                 fixed landmarks (mesh, upper oval, iris)
      + Σ_c ρ(ω_n n_c·(π(P_c) − q_c) / s) + ρ(ω_t t_c·(…))    jaw contour: across / along the detected contour
      + Σ_i ρ(ω_z (f/d̄ (d_i − mean d) − (z_i − mean z)) / s)  MediaPipe relative depth (weak; d = −Z)
      + λ_α ‖α‖² + λ_w ‖w − w₀‖²                              Gaussian identity prior, expression prior
      + λ_θ ‖θ‖²                                              joint-angle prior (skinned models)

With a learned detector-noise model (``FitSettings.landmark_noise``, :class:`LandmarkNoise`) the landmark terms are
replaced by the error's Gaussian negative log-likelihood: every modelled landmark is a fixed point of the table and
``Σ ρ(r)`` runs over the rows of ``r = W vec(Rᵀ (π(P_i) − q_i + s R μ_i) / s)`` — ``R`` the detected eye line,
``μ`` the detector's mean error and ``W`` the whitening of its covariance (generalised least squares: errors the
detector makes together count once), with the priors in their natural units. Measured on renders of random heads
(``scripts/synthetic_fit_study.py``), MediaPipe's errors are biased and strongly correlated; read as independent,
they turned into shape and left the fit further from the truth than the mean head. With ``noise_role =
"identity"`` (e.g. ``landmark_noise="packaged"``; off by default, see :class:`FitSettings`) this fit gives only the
identity α̂; a second fit with the per-landmark terms
above (jaw-contour sliding, lid weights, MediaPipe's expression start) and the prior ``λ‖α − α̂‖²`` (λ =
``held_identity_prior``, large) then finds pose and expression: the shape comes from the noise model, the eyes,
mouth and jaw line follow this photo's detections. (The learned-noise fit alone is closer to the truth on rendered
heads, 0.90 vs 0.96 mm, but further from the manual landmarks of real photos, ``.tem`` NME 0.0231 vs 0.0206. Taking
the learned mean error off the detections in the second fit as well moved the real photos' ``.tem`` NME to 0.0229:
the mean error learned on renders does not carry over to photos, which is why only the identity is taken.)

The energy is minimised over ``(δ, t, α, w, θ)`` by :func:`headcast.fitting.solver.solve_robust_lm` — an IRLS
Levenberg-Marquardt on the normal equations with the analytic Jacobian below. (``scipy.optimize.least_squares``
gives the same optimum but SVD-factorises the ~1500 × 120 Jacobian at every step: 1–10 s per fit on 2 cores.)
Expression ``w`` of ``expression_kind="weights"`` (ICT's blend-shape weights) is boxed to ``0 ≤ w ≤ 1`` with
``λ_w = FitSettings.expression_prior``; ``"coefficients"`` (FLAME's ψ) are unbounded, start at ``w₀ = 0`` and have
the unit-Gaussian prior ``λ_w = FitSettings.coefficient_prior``. θ is unbounded, ``λ_θ = FitSettings.joint_prior``.

Steps: (1) expression weights ``w₀`` from MediaPipe's blendshape scores (weights only); (2) pose from
``cv2.solvePnP`` on the template's landmarks; (3) ``contour_rounds`` rounds of the joint solve, from θ = 0. Before
each round, each jaw-contour landmark is re-assigned to the vertex of its precomputed surface slice that is
outermost in the image along the contour normal among the slice's visible vertices (those facing the camera, up to
where the slice turns away) — the model's current silhouette ("landmark marching", Zhu et al., CVPR 2015,
*High-fidelity pose and expression normalization*), because the detected jaw line is an occluding contour, not a
fixed skin point.

Rotation is updated as ``R = exp(δ) R₀`` with ``δ`` re-centred every round, so the Jacobian
``∂(exp(δ)Y)/∂δ = −[exp(δ)Y]× J_l(δ)`` (left Jacobian of SO(3)) stays well conditioned. The derivatives of the
skinned points w.r.t. ``(α, w)`` (through the rest point and the joints) and θ (``∂R/∂θ`` through ``J_l(θ)``, plus
the pose correctives) are in :mod:`headcast.fitting.skinned`.
"""

import hashlib
import io
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.fitting.blendshapes import expression_from_mediapipe
from headcast.fitting.correspondence import (
    MP_LEFT_EYE_OUTER,
    MP_RIGHT_EYE_OUTER,
    Correspondence,
    load_correspondence,
    write_reproducible_npz,
)
from headcast.fitting.mediapipe_embedding import LOWER_LID, UPPER_LID
from headcast.fitting.metrics import nme
from headcast.fitting.settings import FitSettings
from headcast.fitting.skinned import regress_joint_basis, skin_points, skin_points_with_jacobian
from headcast.fitting.solver import solve_robust_lm
from headcast.fitting.types import FitResult
from headcast.geometry.camera import Camera, HeadPose, project
from headcast.geometry.mesh import normal_sums
from headcast.geometry.rotation import axis_angle_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import ExpressionKind, HeadParams, LinearHeadModel, Skeleton, blend_vertices
from headcast.headmodel.lbs import regress_joints
from headcast.landmarks.types import Landmarks

NUM_MESH = 468
_OPENCV_FROM_OPENGL = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True, eq=False)
class PointBasis:
    """The linear model evaluated at N points: ``X = mean + identity·α + expression·w`` (the rest pose).

    Attributes:
        mean: ``(N, 3)`` template points, metres.
        identity: ``(N, 3, K)`` identity basis at the points.
        expression: ``(N, 3, E)`` expression basis at the points (the fitted subset of shapes).
        lbs_weights: ``(N, J)`` skinning weights at the points (a skinned model's), else None.
        posedirs: ``(N, 3, 9 (J − 1))`` pose-corrective basis at the points (a skinned model's), else None.
    """

    mean: NDArray[np.float64]
    identity: NDArray[np.float64]
    expression: NDArray[np.float64]
    lbs_weights: NDArray[np.float64] | None = None
    posedirs: NDArray[np.float64] | None = None

    def evaluate(self, alpha: NDArray[np.floating], weights: NDArray[np.floating]) -> NDArray[np.float64]:
        """``(N, 3)`` rest points for identity ``α`` (K,) and expression weights ``w`` (E,)."""
        return self.mean + self.identity @ np.asarray(alpha) + self.expression @ np.asarray(weights)

    def take(self, rows: NDArray[np.integer]) -> "PointBasis":
        """The basis of a subset of the points."""
        return PointBasis(
            self.mean[rows],
            self.identity[rows],
            self.expression[rows],
            None if self.lbs_weights is None else self.lbs_weights[rows],
            None if self.posedirs is None else self.posedirs[rows],
        )


def point_basis(
    model: LinearHeadModel,
    face_ids: NDArray[np.integer],
    barycentric: NDArray[np.floating],
    num_identity: int,
    expression_ids: NDArray[np.integer],
    held: NDArray[np.floating] | None = None,
) -> PointBasis:
    """Interpolate the model's bases at surface points ``(triangle, barycentric)``.

    A skinned model's skinning weights and pose correctives are interpolated with the same barycentric weights.

    Args:
        model: the head model.
        face_ids: ``(N,)`` triangle ids into ``model.triangles``.
        barycentric: ``(N, 3)`` weights.
        num_identity: first K identity modes.
        expression_ids: ``(E,)`` expression shapes to include.
        held: ``(E_all,)`` values of all the model's shapes, or None; the shapes not in ``expression_ids`` are then
            folded into ``mean`` at these values (:func:`held_offset`), so the points are where the head is drawn.
    """
    corners = np.asarray(model.triangles)[np.asarray(face_ids)]  # (N, 3)
    bary = np.asarray(barycentric, dtype=np.float64)
    mean = np.einsum("nkc,nk->nc", model.template[corners].astype(np.float64), bary)
    if held is not None:
        offset = held_offset(model, corners.reshape(-1), expression_ids, held).reshape(*corners.shape, 3)
        mean = mean + np.einsum("nkc,nk->nc", offset, bary)
    ident = np.einsum("mnkc,nk->ncm", model.identity_basis[:num_identity][:, corners].astype(np.float64), bary)
    expr = np.einsum(
        "mnkc,nk->ncm", model.expression_basis[np.asarray(expression_ids)][:, corners].astype(np.float64), bary
    )
    skel = model.skeleton
    if skel is None:
        return PointBasis(mean, ident, expr)
    weights = np.einsum("nkj,nk->nj", np.asarray(skel.lbs_weights, dtype=np.float64)[corners], bary)
    posedirs = np.einsum("nkcp,nk->ncp", skel.posedirs[corners].astype(np.float64), bary)
    return PointBasis(mean, ident, expr, weights, posedirs)


def held_offset(
    model: LinearHeadModel,
    vertex_ids: NDArray[np.integer],
    expression_ids: NDArray[np.integer],
    held: NDArray[np.floating],
) -> NDArray[np.float64]:
    """``(N, 3)`` displacement of vertices by the shapes that are not fitted, ``Σ_{e ∉ expression_ids} w_e B_e``.

    Held shapes still shape the drawn head: ICT's gaze shapes (``eyeLook*``, held at MediaPipe's scores) move the
    lids with the eyeballs — ``eyeLookDown`` lowers the upper lid by 7 mm at weight 1, ``eyeLookUp`` raises it by
    3 mm — so a fit that leaves them out of its points fits lids the render does not show.

    Args:
        model: the head model.
        vertex_ids: ``(N,)`` vertices.
        expression_ids: ``(E,)`` the fitted shapes.
        held: ``(E_all,)`` values of all shapes (only the others are read).
    """
    others = np.setdiff1d(np.arange(model.num_expressions), np.asarray(expression_ids))
    values = np.asarray(held, dtype=np.float64)[others]
    live = others[values != 0.0]
    if not len(live):
        return np.zeros((len(np.asarray(vertex_ids)), 3))
    basis = model.expression_basis[live][:, np.asarray(vertex_ids)].astype(np.float64)  # (H, N, 3)
    return np.einsum("hnc,h->nc", basis, values[values != 0.0])


def vertex_basis(
    model: LinearHeadModel,
    vertex_ids: NDArray[np.integer],
    num_identity: int,
    expression_ids: NDArray[np.integer],
    held: NDArray[np.floating] | None = None,
) -> PointBasis:
    """The model's bases at vertices ``(N,)`` (with a skinned model's skinning weights and pose correctives).

    ``held`` ``(E_all,)``: as in :func:`point_basis`, the shapes not fitted are folded into ``mean`` at these values.
    """
    v = np.asarray(vertex_ids)
    skel = model.skeleton
    offset = 0.0 if held is None else held_offset(model, v, expression_ids, held)
    return PointBasis(
        model.template[v].astype(np.float64) + offset,
        np.moveaxis(model.identity_basis[:num_identity][:, v].astype(np.float64), 0, -1),
        np.moveaxis(model.expression_basis[np.asarray(expression_ids)][:, v].astype(np.float64), 0, -1),
        None if skel is None else np.asarray(skel.lbs_weights, dtype=np.float64)[v],
        None if skel is None else skel.posedirs[v].astype(np.float64),
    )


@dataclass(frozen=True, eq=False)
class SkinnedJoints:
    """A skinned model's joints during one fit.

    Attributes:
        skeleton: the model's skeleton (skinning weights, pose correctives, tree).
        joints: the J rest joints as a :class:`PointBasis` over the joints, ``J = mean + identity·α + expression·w``
            (``mean`` includes the expression shapes that are not fitted, at their held values), metres.
        fitted: ``(F,)`` ids of the joints solved for (``Skeleton.fitted_joints``); the others stay at rest.
    """

    skeleton: Skeleton
    joints: PointBasis
    fitted: NDArray[np.int64]

    def rotations(self, theta: NDArray[np.floating]) -> NDArray[np.float64]:
        """``(J, 3)`` axis-angle of every joint: the fitted ones from ``theta`` ``(3 F,)``, zeros elsewhere."""
        out = np.zeros((self.skeleton.num_joints, 3))
        out[self.fitted] = np.asarray(theta, dtype=np.float64).reshape(-1, 3)
        return out


def skinned_joints(
    model: LinearHeadModel,
    num_identity: int,
    expression_ids: NDArray[np.integer],
    expression: NDArray[np.floating],
) -> SkinnedJoints:
    """The rest joints of a skinned model as an affine function of the fitted coefficients (once per fit).

    The regressor is linear in the shaped mesh, so ``J = 𝒥 (T + Σ_{e held} w_e B_e) + (𝒥 A) α + (𝒥 B) w``, the
    shapes that are not fitted held at their values in ``expression``.

    Args:
        model: a model with a skeleton.
        num_identity: K, the identity modes fitted.
        expression_ids: ``(E,)`` the expression shapes fitted.
        expression: ``(E_all,)`` values of all the model's shapes (the held ones are read).

    Returns:
        The joints' basis ``(J, 3)``, ``(J, 3, K)``, ``(J, 3, E)`` (metres per unit) and the fitted joint ids.

    Raises:
        ValueError: the model has no skeleton, or its root is among the fitted joints (the head pose moves the
            whole head).
    """
    skel = model.skeleton
    if skel is None:
        raise ValueError(f"head model '{model.name}' has no skeleton")
    fitted = np.array([skel.joint_index(n) for n in skel.fitted_joints], dtype=np.int64).reshape(-1)
    if np.any(np.asarray(skel.parents)[fitted] < 0):
        raise ValueError(f"the root joint '{skel.joint_names[0]}' cannot be fitted: the head pose plays its role")
    ids = np.asarray(expression_ids)
    held = np.setdiff1d(np.arange(model.num_expressions), ids)
    reg = skel.j_regressor
    expr_all = regress_joint_basis(reg, model.expression_basis)
    mean = regress_joint_basis(reg, model.template[None])[:, :, 0]
    if held.size:
        mean = mean + expr_all[:, :, held] @ np.asarray(expression, dtype=np.float64)[held]
    ident = regress_joint_basis(reg, model.identity_basis[:num_identity])
    return SkinnedJoints(skel, PointBasis(mean, ident, expr_all[:, :, ids]), fitted)


@dataclass(frozen=True, eq=False)
class PosedPoints:
    """Model points of the current parameters and their derivatives.

    Attributes:
        points: ``(N, 3)`` points in the model frame (skinned for a skinned model), metres.
        basis: their derivatives w.r.t. identity (``identity``, ``(N, 3, K)``) and expression (``expression``,
            ``(N, 3, E)``); for a linear model the :class:`PointBasis` itself.
        rotations: ``(N, 3, 3 F)`` derivatives w.r.t. the fitted joints' axis-angle vectors; None for a linear model.
    """

    points: NDArray[np.float64]
    basis: PointBasis
    rotations: NDArray[np.float64] | None = None


def pose_points(
    basis: PointBasis,
    alpha: NDArray[np.floating],
    weights: NDArray[np.floating],
    theta: NDArray[np.floating],
    skin: SkinnedJoints | None,
    with_jacobian: bool = True,
) -> PosedPoints:
    """The model's points for ``(α, w, θ)``: the rest blend, skinned when ``skin`` is given.

    Skinned: ``X = Σ_j w_j A_j (r + P f(θ))`` (:mod:`headcast.fitting.skinned`) with ``r`` the rest blend at the
    point and the joints ``J(α, w)`` of ``skin``.

    Args:
        basis: the model at N points (with skinning data when ``skin`` is given).
        alpha: ``(K,)`` identity coefficients.
        weights: ``(E,)`` expression values of the fitted shapes.
        theta: ``(3 F,)`` axis-angle of the fitted joints, radians (empty for a linear model).
        skin: the skinned model's joints, or None for a linear model.
        with_jacobian: also the derivatives (skinned: else ``basis`` is returned as is and ``rotations`` is None).

    Returns:
        the points and their derivatives.
    """
    if skin is None:
        return PosedPoints(basis.evaluate(alpha, weights), basis)
    if basis.lbs_weights is None or basis.posedirs is None:
        raise ValueError("the point basis has no skinning data (built from a model without a skeleton?)")
    rest = basis.evaluate(alpha, weights)
    joints = skin.joints.evaluate(alpha, weights)
    rotations = skin.rotations(theta)
    parents = skin.skeleton.parents
    if not with_jacobian:
        return PosedPoints(skin_points(rest, basis.lbs_weights, basis.posedirs, joints, parents, rotations), basis)
    left = np.array([so3_left_jacobian(r) for r in rotations[skin.fitted]]).reshape(-1, 3, 3)
    out = skin_points_with_jacobian(
        rest,
        np.concatenate([basis.identity, basis.expression], axis=2),
        basis.lbs_weights,
        basis.posedirs,
        joints,
        np.concatenate([skin.joints.identity, skin.joints.expression], axis=2),
        parents,
        rotations,
        skin.fitted,
        left,
    )
    k = basis.identity.shape[2]
    derivatives = PointBasis(out.points, out.coefficients[:, :, :k], out.coefficients[:, :, k:])
    return PosedPoints(out.points, derivatives, out.rotations)


# ------------------------------------------------------------------------------------------------ detector noise


@dataclass(frozen=True, eq=False)
class LandmarkNoise:
    """A learned Gaussian model of the detector's landmark error, for :attr:`FitSettings.landmark_noise`.

    *Convention:* the error of landmark i is ``e_i = (q_i − π(X_i)) / s`` — detected minus the table's point on the
    true head, projected — expressed in the **eye-line frame** (x along the detected outer eye corners, from the
    subject's right eye, landmark 33, to the left, 263; y turned by +90° from it, i.e. image-down for an upright
    face) and divided by their distance ``s``. The errors of the L modelled landmarks (``landmark_ids``) are
    stacked landmark-major (``2 i + axis``). Model: ``e ~ N(μ, Σ)``, ``Σ = Fᵀ F + diag(d)``. Landmarks left out
    (e.g. the irises, which move with a gaze the head model does not have) are left out of the fit: the marginal
    of a Gaussian is its sub-vector.

    The fit subtracts ``μ`` from the detections and multiplies the stacked residuals by ``W = C⁻¹`` with
    ``C Cᵀ = Σ`` (Cholesky), so the landmark term is the negative log-likelihood ``½ ‖W (e − μ)‖²`` up to a
    constant — generalised least squares: errors the detector makes together (a smooth shift of a whole region, a
    pattern that comes with head turn) count once, not once per landmark.

    Attributes:
        table_digest: :func:`correspondence_digest` of the landmark table the errors were measured against (the
            model describes the detector relative to that table's points only).
        landmark_ids: ``(L,)`` increasing MediaPipe ids of the modelled landmarks.
        mean: ``(L, 2)`` mean error ``μ``.
        factors: ``(K, 2 L)`` covariance factors ``F``.
        diagonal: ``(2 L,)`` independent variances ``d`` (> 0).
        samples: how many detections it was learned from.
    """

    table_digest: str
    landmark_ids: NDArray[np.int64]
    mean: NDArray[np.float64]
    factors: NDArray[np.float64]
    diagonal: NDArray[np.float64]
    samples: int

    @property
    def num_landmarks(self) -> int:
        """L."""
        return int(self.mean.shape[0])

    def covariance(self) -> NDArray[np.float64]:
        """``(2 L, 2 L)`` ``Σ = Fᵀ F + diag(d)``."""
        return self.factors.T @ self.factors + np.diag(self.diagonal)

    def whitening(self) -> NDArray[np.float64]:
        """``(2 L, 2 L)`` lower-triangular ``W = C⁻¹`` with ``C Cᵀ = Σ``, so ``Wᵀ W = Σ⁻¹``."""
        chol = np.linalg.cholesky(self.covariance())
        return np.asarray(np.linalg.solve(chol, np.eye(len(chol))))


def correspondence_digest(corr: Correspondence) -> str:
    """A short sha256 of a landmark table's points (triangle ids and barycentric weights, as stored: int32/float32)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(corr.face_ids, dtype=np.int32).tobytes())
    h.update(np.ascontiguousarray(corr.barycentric, dtype=np.float32).tobytes())
    return h.hexdigest()[:16]


def eye_line_rotation(points: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(2, 2)`` rotation R whose first column is the unit image direction from landmark 33 to 263.

    An image vector ``d`` has eye-line-frame coordinates ``Rᵀ d`` (:class:`LandmarkNoise` convention).

    Args:
        points: ``(478, ≥2)`` detected landmark pixels.
    """
    q = np.asarray(points, dtype=np.float64)
    a = q[MP_LEFT_EYE_OUTER, :2] - q[MP_RIGHT_EYE_OUTER, :2]
    c, s = a / max(float(np.linalg.norm(a)), 1e-12)
    return np.array([[c, -s], [s, c]])


def learn_landmark_noise(
    errors: NDArray[np.floating],
    corr: Correspondence,
    landmark_ids: NDArray[np.integer] | None = None,
    shrinkage: float = 0.003,
    energy: float = 0.99999,
) -> LandmarkNoise:
    """Fit :class:`LandmarkNoise` to measured errors (mean and a shrunk sample covariance).

    ``Σ = (1 − γ) S + γ diag(S)`` with ``S`` the sample covariance of the H error vectors: a fixed shrinkage towards
    the diagonal keeps ``Σ`` positive definite and its smallest directions from being trusted too much (γ = 0.003
    was the best of 0.1 … 0.001 on the synthetic experiment's development seed, with 600-1500 training heads). It
    is stored as the eigenvectors of ``(1 − γ) S`` that hold ``energy`` of its trace, scaled, plus the diagonal of
    everything else.

    Args:
        errors: ``(H, 478, 2)`` detector errors in the eye-line frame over the eye distance (class docstring).
        corr: the table the errors were measured against.
        landmark_ids: the landmarks to model (default: all).
        shrinkage: ``γ`` in (0, 1].
        energy: share of ``trace((1 − γ) S)`` kept in the factors.

    Returns:
        The model, learned from H samples.

    Raises:
        ValueError: the errors do not cover the table's landmarks, fewer than two samples, or γ out of range.
    """
    e = np.asarray(errors, dtype=np.float64)
    if e.ndim != 3 or e.shape[1:] != (corr.num_landmarks, 2) or len(e) < 2:
        raise ValueError(f"expected (H >= 2, {corr.num_landmarks}, 2) errors, got {e.shape}")
    if not 0.0 < shrinkage <= 1.0:
        raise ValueError(f"shrinkage must be in (0, 1], got {shrinkage}")
    ids = np.arange(corr.num_landmarks) if landmark_ids is None else np.unique(np.asarray(landmark_ids, np.int64))
    if len(ids) == 0 or ids[0] < 0 or ids[-1] >= corr.num_landmarks:
        raise ValueError(f"landmark ids must be in [0, {corr.num_landmarks})")
    e = e[:, ids]
    mean = e.mean(axis=0)
    x = (e - mean).reshape(len(e), -1)
    cov = x.T @ x / len(x)
    vals, vecs = np.linalg.eigh((1.0 - shrinkage) * cov)
    vals, vecs = np.clip(vals[::-1], 0.0, None), vecs[:, ::-1]
    keep = int(np.searchsorted(np.cumsum(vals), energy * vals.sum()) + 1) if vals.sum() > 0 else 0
    factors = (vecs[:, :keep] * np.sqrt(vals[:keep])).T
    rest = (1.0 - shrinkage) * np.diag(cov) - (factors**2).sum(axis=0)
    diagonal = shrinkage * np.diag(cov) + np.clip(rest, 0.0, None)
    diagonal = np.maximum(diagonal, 1e-12)
    return LandmarkNoise(correspondence_digest(corr), ids, mean, factors, diagonal, len(e))


def save_landmark_noise(noise: LandmarkNoise, path: Path) -> None:
    """Write a noise model as a byte-reproducible ``.npz`` (float32 arrays, fixed member order and timestamps)."""
    arrays: dict[str, NDArray[np.generic]] = {
        "table_digest": np.array(noise.table_digest),
        "landmark_ids": noise.landmark_ids.astype(np.int32),
        "mean": noise.mean.astype(np.float32),
        "factors": noise.factors.astype(np.float32),
        "diagonal": noise.diagonal.astype(np.float32),
        "samples": np.array(noise.samples, dtype=np.int64),
    }
    write_reproducible_npz(path, arrays)


def load_landmark_noise(path: Path | str | io.BytesIO) -> LandmarkNoise:
    """Read a noise model written by :func:`save_landmark_noise` (a path or the file's bytes)."""
    with np.load(path if isinstance(path, io.BytesIO) else Path(path), allow_pickle=False) as z:
        return LandmarkNoise(
            table_digest=str(z["table_digest"]),
            landmark_ids=z["landmark_ids"].astype(np.int64),
            mean=z["mean"].astype(np.float64),
            factors=z["factors"].astype(np.float64),
            diagonal=z["diagonal"].astype(np.float64),
            samples=int(z["samples"]),
        )


@lru_cache(maxsize=4)
def _cached_noise(path: str, mtime_ns: int) -> tuple[LandmarkNoise, NDArray[np.float64]]:
    noise = load_landmark_noise(path)
    return noise, noise.whitening()


NOISE_FILE = "mediapipe_landmark_noise.npz"
"""The packaged noise model (``headcast/fitting/data``), learned against the packaged ICT FaceKit table."""


@lru_cache(maxsize=1)
def load_packaged_noise() -> tuple[LandmarkNoise, NDArray[np.float64]]:
    """The packaged noise model (:data:`NOISE_FILE`) and its whitening (read once)."""
    data = resources.files("headcast.fitting").joinpath("data", NOISE_FILE).read_bytes()
    noise = load_landmark_noise(io.BytesIO(data))
    return noise, noise.whitening()


def _noise_for_fit(
    source: Path | str, corr: Correspondence
) -> tuple[LandmarkNoise, NDArray[np.float64]] | None:
    """The noise model ``source`` names and its whitening (cached), checked against ``corr``.

    ``"packaged"``: the packaged model where ``corr`` is the table it was learned against, else None (e.g. a FLAME
    head's table: its landmarks are fitted with the per-landmark terms). A file learned against another table is an
    error.
    """
    if source == "packaged":
        packaged = load_packaged_noise()
        return packaged if packaged[0].table_digest == correspondence_digest(corr) else None
    p = Path(source).resolve()
    noise, whitening = _cached_noise(str(p), p.stat().st_mtime_ns)
    if noise.landmark_ids[-1] >= corr.num_landmarks or noise.table_digest != correspondence_digest(corr):
        raise ValueError(
            f"landmark noise model {p} was learned against another landmark table "
            f"({noise.table_digest}, not {correspondence_digest(corr)}): relearn it"
        )
    return noise, whitening


def skew(v: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(..., 3, 3)`` cross-product matrices ``[v]×`` with ``[v]× u = v × u`` for ``v`` of shape ``(..., 3)``."""
    v = np.asarray(v, dtype=np.float64)
    z = np.zeros(v.shape[:-1])
    return np.stack(
        [
            np.stack([z, -v[..., 2], v[..., 1]], -1),
            np.stack([v[..., 2], z, -v[..., 0]], -1),
            np.stack([-v[..., 1], v[..., 0], z], -1),
        ],
        -2,
    )


def so3_left_jacobian(phi: NDArray[np.floating]) -> NDArray[np.float64]:
    """Left Jacobian of SO(3): ``exp(φ + ε) ≈ exp(J_l(φ) ε) exp(φ)``.

    ``J_l(φ) = I + (1 − cos θ)/θ² [φ]× + (θ − sin θ)/θ³ [φ]×²`` with ``θ = ‖φ‖`` (series near 0).

    Args:
        phi: ``(3,)`` rotation vector, radians.

    Returns:
        ``(3, 3)``.
    """
    p = np.asarray(phi, dtype=np.float64)
    theta = float(np.linalg.norm(p))
    k = skew(p)
    if theta < 1e-6:
        return np.eye(3) + 0.5 * k + k @ k / 6.0
    return np.eye(3) + (1 - np.cos(theta)) / theta**2 * k + (theta - np.sin(theta)) / theta**3 * (k @ k)


def projection_jacobian(points_cam: NDArray[np.floating], camera: Camera) -> NDArray[np.float64]:
    """``(N, 2, 3)`` derivative of :func:`headcast.geometry.camera.project` w.r.t. camera-frame points ``(N, 3)``.

    With ``u = cx − fx X/Z`` and ``v = cy + fy Y/Z``: ``∂u/∂(X, Y, Z) = (−fx/Z, 0, fx X/Z²)``,
    ``∂v/∂(X, Y, Z) = (0, fy/Z, −fy Y/Z²)``.
    """
    p = np.asarray(points_cam, dtype=np.float64)
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    j = np.zeros((len(p), 2, 3))
    j[:, 0, 0] = -camera.fx / z
    j[:, 0, 2] = camera.fx * x / z**2
    j[:, 1, 1] = camera.fy / z
    j[:, 1, 2] = -camera.fy * y / z**2
    return j


def initial_pose(model_points: NDArray[np.floating], image_points: NDArray[np.floating], camera: Camera) -> HeadPose:
    """Head pose from 2D-3D correspondences with ``cv2.solvePnP`` (EPnP, then Levenberg-Marquardt refinement).

    OpenCV's camera looks down +z with y down; the pose is converted to the OpenGL camera frame with
    ``D = diag(1, −1, −1)``: ``R = D R_cv``, ``t = D t_cv``.

    Args:
        model_points: ``(N, 3)`` model-frame points, metres (N ≥ 6).
        image_points: ``(N, 2)`` their pixels.
        camera: intrinsics.
    """
    obj = np.ascontiguousarray(model_points, dtype=np.float64)
    img = np.ascontiguousarray(image_points, dtype=np.float64)
    k = camera.matrix
    ok, rvec, tvec = cv2.solvePnP(obj, img, k, None, flags=cv2.SOLVEPNP_EPNP)
    if ok:
        ok, rvec, tvec = cv2.solvePnP(
            obj, img, k, None, rvec, tvec, useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE
        )
    r_cv = np.asarray(cv2.Rodrigues(rvec)[0], dtype=np.float64) if ok else np.eye(3)
    t_cv = np.asarray(tvec, dtype=np.float64).reshape(3) if ok else np.array([0.0, 0.0, 1.0])
    if not ok or t_cv[2] <= 0:  # degenerate: a frontal head at a plausible distance
        width = float(np.ptp(img[:, 0])) or 1.0
        depth = camera.fx * float(np.ptp(obj[:, 0])) / width
        center = img.mean(axis=0)
        r_cv = _OPENCV_FROM_OPENGL.copy()
        t_cv = np.array(
            [(center[0] - camera.cx) * depth / camera.fx, (center[1] - camera.cy) * depth / camera.fy, depth]
        )
    rot = _OPENCV_FROM_OPENGL @ r_cv
    return HeadPose(matrix_to_axis_angle(rot), _OPENCV_FROM_OPENGL @ t_cv)


@dataclass(frozen=True, eq=False)
class _Terms:
    """Fixed data of one solver round (see the module docstring for the energy)."""

    fixed: PointBasis  # fixed landmarks
    fixed_target: NDArray[np.float64]  # (F, 2)
    fixed_weight: NDArray[np.float64]  # (F,)
    contour: PointBasis
    contour_target: NDArray[np.float64]  # (C, 2)
    contour_normal: NDArray[np.float64]  # (C, 2)
    contour_tangent: NDArray[np.float64]  # (C, 2)
    depth_rows: NDArray[np.int64]  # rows of `fixed` used by the depth term
    depth: PointBasis  # `fixed` restricted to depth_rows
    depth_target: NDArray[np.float64]  # (D,) z − mean z, pixels
    depth_scale: float  # f / d̄, pixels per metre
    rotation0: NDArray[np.float64]  # (3, 3)
    camera: Camera
    scale: float  # outer-eye distance, pixels
    w0: NDArray[np.float64]
    settings: FitSettings
    skin: SkinnedJoints | None = None  # a skinned model's joints (x ends with the fitted joints' angles)
    expression_kind: ExpressionKind = "weights"  # "weights": 0 ≤ w ≤ 1, prior to w₀; "coefficients": free, to 0
    whitening: NDArray[np.float64] | None = None  # (2F, 2F) LandmarkNoise whitening of the fixed rows, or None
    frame: NDArray[np.float64] | None = None  # (2, 2) eye-line rotation (LandmarkNoise convention), with whitening
    identity_centre: NDArray[np.float64] | None = None  # (K,) centre of the identity prior (None: 0)


def _split(x: NDArray[np.float64], k: int, n_w: int) -> tuple[NDArray[np.float64], ...]:
    """``x = (δ, t, α, w, θ)``: rotation update, translation, identity, expression, fitted joint angles."""
    return x[:3], x[3:6], x[6 : 6 + k], x[6 + k : 6 + k + n_w], x[6 + k + n_w :]


def scalar_jacobian_rows(
    basis: PointBasis,
    rot: NDArray[np.float64],
    rx: NDArray[np.float64],
    jl: NDArray[np.float64],
    c: NDArray[np.float64],
    joints: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Jacobian rows ``(N, 6 + K + E [+ 3 F])`` of scalars ``f_i = c_i · P_i`` w.r.t. ``(δ, t, α, w [, θ])``.

    With ``P_i = exp(δ) R₀ X_i + t`` and ``X_i = T_i + A_i α + B_i w``:
    ``∂f/∂δ = (R X_i × c_i)ᵀ J_l(δ)``, ``∂f/∂t = c_i``, ``∂f/∂α = (Rᵀ c_i)ᵀ A_i``, ``∂f/∂w = (Rᵀ c_i)ᵀ B_i``;
    for skinned points ``A_i``, ``B_i`` are ``∂X_i/∂α``, ``∂X_i/∂w`` and ``∂f/∂θ = (Rᵀ c_i)ᵀ ∂X_i/∂θ``.

    Args:
        basis: model at the N points (``identity``, ``expression``: the derivatives ``∂X/∂α``, ``∂X/∂w``).
        rot: ``(3, 3)`` current rotation ``R = exp(δ) R₀``.
        rx: ``(N, 3)`` rotated model points ``R X_i``.
        jl: ``(3, 3)`` left Jacobian ``J_l(δ)``.
        c: ``(N, 3)`` coefficient vectors (e.g. a row of the projection Jacobian).
        joints: ``(N, 3, 3 F)`` ``∂X/∂θ`` of a skinned model's fitted joints (None: no joint columns).
    """
    cr = c @ rot  # (N, 3) = (Rᵀ c)ᵀ
    d_rot = np.cross(rx, c) @ jl
    d_id = np.einsum("nj,njk->nk", cr, basis.identity)
    d_ex = np.einsum("nj,njk->nk", cr, basis.expression)
    if joints is None:
        return np.concatenate([d_rot, c, d_id, d_ex], axis=1)
    d_joint = np.einsum("nj,njk->nk", cr, joints)
    return np.concatenate([d_rot, c, d_id, d_ex, d_joint], axis=1)


def _residuals_and_jacobian(
    x: NDArray[np.float64], terms: _Terms, with_jacobian: bool = True
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """Residuals ``(m,)`` (robust data rows first, then the priors) and, if asked, the ``(m, n)`` Jacobian."""
    s = terms.settings
    k = terms.fixed.identity.shape[2]
    delta, t, alpha, w, theta = _split(x, k, len(terms.w0))
    rot = axis_angle_to_matrix(delta) @ terms.rotation0
    jl = so3_left_jacobian(delta)
    inv = 1.0 / terms.scale
    res: list[NDArray[np.float64]] = []
    jac: list[NDArray[np.float64]] = []

    # fixed landmarks: u and v rows
    fixed = pose_points(terms.fixed, alpha, w, theta, terms.skin, with_jacobian)
    rx = fixed.points @ rot.T
    pc = rx + t
    juv = projection_jacobian(pc, terms.camera)
    duv = project(pc, terms.camera) - terms.fixed_target
    if terms.whitening is None:
        wf = terms.fixed_weight * inv
        for axis in (0, 1):
            res.append(wf * duv[:, axis])
            if with_jacobian:
                rows_uv = scalar_jacobian_rows(fixed.basis, rot, rx, jl, juv[:, axis, :], fixed.rotations)
                jac.append(wf[:, None] * rows_uv)
    else:  # learned noise: eye-line frame (e = Rᵀ d, i.e. rows d @ R), stacked landmark-major, whitened
        frame = terms.frame if terms.frame is not None else np.eye(2)
        res.append(terms.whitening @ (inv * (duv @ frame)).reshape(-1))
        if with_jacobian:
            juv_frame = np.einsum("nak,ab->nbk", juv, frame)  # (F, 2, 3): ∂(Rᵀ π)/∂P
            per_axis = [
                scalar_jacobian_rows(fixed.basis, rot, rx, jl, juv_frame[:, b, :], fixed.rotations) for b in (0, 1)
            ]
            jac.append(terms.whitening @ (inv * np.stack(per_axis, axis=1).reshape(2 * len(duv), -1)))

    # jaw contour: across- and along-contour components
    if len(terms.contour_target):
        contour = pose_points(terms.contour, alpha, w, theta, terms.skin, with_jacobian)
        rxc = contour.points @ rot.T
        pcc = rxc + t
        juvc = projection_jacobian(pcc, terms.camera)
        dc = project(pcc, terms.camera) - terms.contour_target
        for direction, weight in (
            (terms.contour_normal, s.contour_weight),
            (terms.contour_tangent, s.contour_tangent_weight),
        ):
            res.append(weight * inv * np.einsum("nc,nc->n", dc, direction))
            if with_jacobian:
                c = np.einsum("nc,ncj->nj", direction, juvc)
                jac.append(weight * inv * scalar_jacobian_rows(contour.basis, rot, rxc, jl, c, contour.rotations))

    # MediaPipe relative depth (weak): f/d̄ · (d_i − mean d) vs z_i − mean z, with d = −Z
    if s.depth_weight > 0 and len(terms.depth_rows):
        rows = terms.depth_rows
        d = -pc[rows, 2]
        gain = s.depth_weight * inv * terms.depth_scale
        res.append(gain * (d - d.mean()) - s.depth_weight * inv * terms.depth_target)
        if with_jacobian:
            c = np.zeros((len(rows), 3))
            c[:, 2] = -1.0
            if fixed.rotations is None:
                jd = scalar_jacobian_rows(terms.depth, rot, rx[rows], jl, c)
            else:
                jd = scalar_jacobian_rows(fixed.basis.take(rows), rot, rx[rows], jl, c, fixed.rotations[rows])
            jac.append(gain * (jd - jd.mean(axis=0)))

    # priors (quadratic)
    expression_prior = s.coefficient_prior if terms.expression_kind == "coefficients" else s.expression_prior
    sa, sw = np.sqrt(s.identity_prior), np.sqrt(expression_prior)
    res.append(sa * (alpha if terms.identity_centre is None else alpha - terms.identity_centre))
    res.append(sw * (w - terms.w0))
    if theta.size:
        res.append(np.sqrt(s.joint_prior) * theta)
    if not with_jacobian:
        return np.concatenate(res), None
    m = x.size
    j_a = np.zeros((k, m))
    j_a[:, 6 : 6 + k] = sa * np.eye(k)
    j_w = np.zeros((len(w), m))
    j_w[:, 6 + k : 6 + k + len(w)] = sw * np.eye(len(w))
    jac.extend([j_a, j_w])
    if theta.size:
        j_t = np.zeros((theta.size, m))
        j_t[:, 6 + k + len(w) :] = np.sqrt(s.joint_prior) * np.eye(theta.size)
        jac.append(j_t)
    return np.concatenate(res), np.concatenate(jac, axis=0)


def _solve(x0: NDArray[np.float64], terms: _Terms, max_iterations: int) -> tuple[NDArray[np.float64], int]:
    """One robust round (:func:`headcast.fitting.solver.solve_robust_lm`); returns ``x`` and the steps taken."""
    k = terms.fixed.identity.shape[2]
    n_w = len(terms.w0)
    n_theta = x0.size - 6 - k - n_w
    if terms.expression_kind == "coefficients":
        lower = np.full(x0.size, -np.inf)
        upper = np.full(x0.size, np.inf)
    else:
        lower = np.concatenate([np.full(6 + k, -np.inf), np.zeros(n_w), np.full(n_theta, -np.inf)])
        upper = np.concatenate([np.full(6 + k, np.inf), np.ones(n_w), np.full(n_theta, np.inf)])
    data_rows = 2 * len(terms.fixed_target) + 2 * len(terms.contour_target)
    if terms.settings.depth_weight > 0:
        data_rows += len(terms.depth_rows)

    def residuals(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return _residuals_and_jacobian(x, terms, with_jacobian=False)[0]

    def jacobian(x: NDArray[np.float64]) -> NDArray[np.float64]:
        jmat = _residuals_and_jacobian(x, terms)[1]
        assert jmat is not None
        return jmat

    result = solve_robust_lm(
        residuals,
        jacobian,
        x0,
        lower,
        upper,
        robust_rows=data_rows,
        loss=terms.settings.loss,
        scale=terms.settings.loss_scale,
        max_iterations=max_iterations,
    )
    return result.x, result.iterations


def contour_directions(
    points: NDArray[np.floating], oval: NDArray[np.integer], contour: NDArray[np.integer]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Unit outward normals and tangents ``(C, 2)`` of a closed 2D oval at its ``contour`` members.

    The tangent at oval point j is ``q_{j+1} − q_{j−1}`` (normalised); the normal is the tangent turned by 90°,
    flipped to point away from the oval's centroid.

    Args:
        points: ``(N, ≥2)`` landmark pixels.
        oval: ``(F,)`` landmark ids of the closed loop, in order.
        contour: ``(C,)`` landmark ids (members of ``oval``).
    """
    q = np.asarray(points, dtype=np.float64)[:, :2]
    loop = np.asarray(oval)
    pos = {int(i): n for n, i in enumerate(loop)}
    centre = q[loop].mean(axis=0)
    normals, tangents = [], []
    for lm in np.asarray(contour):
        n = pos[int(lm)]
        tan = q[loop[(n + 1) % len(loop)]] - q[loop[n - 1]]
        tan = tan / max(float(np.linalg.norm(tan)), 1e-12)
        nrm = np.array([tan[1], -tan[0]])
        if nrm @ (q[lm] - centre) < 0:
            nrm = -nrm
        normals.append(nrm)
        tangents.append(tan)
    return np.array(normals).reshape(-1, 2), np.array(tangents).reshape(-1, 2)


def silhouette_vertices(
    model: LinearHeadModel,
    candidates: NDArray[np.integer],
    normals: NDArray[np.floating],
    identity: NDArray[np.floating],
    expression: NDArray[np.floating],
    pose: HeadPose,
    camera: Camera,
    joint_rotations: NDArray[np.floating] | None = None,
    rest_joints: NDArray[np.floating] | None = None,
) -> NDArray[np.int64]:
    """Per contour landmark, the visible slice vertex outermost in the image along the contour normal.

    A slice runs from inside the face outwards. Its visible part is the run of vertices facing the camera
    (``n · (−P) > 0`` for the vertex normal n and camera-frame position P) from the first such vertex up to the first
    one facing away: past that the slice turns under the chin or behind the jaw, and vertices beyond it (the neck
    below a frontal chin) project further out but are hidden, so they are not the occluding contour a detector sees
    (on renders of random heads the detector's chin point lay a fifth of the eye distance inside that hidden
    "outermost" vertex). A row with no vertex facing the camera keeps all its candidates.

    Args:
        model: head model.
        candidates: ``(C, M)`` vertex ids, −1 padded, each row ordered from inside to outside
            (``Correspondence.contour_candidates``).
        normals: ``(C, 2)`` outward image normals of the detected contour.
        identity: ``(K,)`` identity coefficients.
        expression: ``(E_all,)`` weights of all model shapes.
        pose: current head pose.
        camera: intrinsics.
        joint_rotations: ``(J, 3)`` axis-angle per joint of a skinned model (the candidates are skinned); None or
            ``(0, 3)``: the rest pose.
        rest_joints: ``(J, 3)`` the rest joints of ``identity`` and ``expression``, metres, if already known (else
            regressed from the blended mesh).

    Returns:
        ``(C,)`` vertex ids: ``argmax_m n_c · π(R X_m + t)`` over the visible candidates of row c.
    """
    cand = np.asarray(candidates)
    valid = cand >= 0
    ids = np.where(valid, cand, cand.max())
    flat = ids.reshape(-1)
    # the candidates and the triangles around them (for vertex normals), posed
    tris = np.asarray(model.triangles)
    ring = tris[np.isin(tris, flat).any(axis=1)]
    sub, local = np.unique(ring, return_inverse=True)
    verts = blend_vertices(model, identity, expression, vertex_ids=sub)
    skel = model.skeleton
    if skel is not None and joint_rotations is not None and np.size(joint_rotations):
        if rest_joints is None:
            rest_joints = regress_joints(skel.j_regressor, blend_vertices(model, identity, expression)[None])[0]
        verts = skin_points(
            verts, skel.lbs_weights[sub], skel.posedirs[sub], rest_joints, skel.parents, joint_rotations
        )
    at = np.searchsorted(sub, flat)
    rot = axis_angle_to_matrix(pose.rotation)
    cam = verts[at] @ rot.T + pose.translation
    facing_normal = normal_sums(verts, local.reshape(-1, 3))[at] @ rot.T
    facing = (np.einsum("nc,nc->n", facing_normal, -cam) > 0).reshape(cand.shape) & valid
    # visible: from the first candidate facing the camera up to the first one after it facing away
    pos = np.arange(cand.shape[1])[None, :]
    first = np.where(facing.any(axis=1), np.argmax(facing, axis=1), 0)[:, None]
    away = valid & ~facing & (pos > first)
    stop = np.where(away.any(axis=1), np.argmax(away, axis=1), cand.shape[1])[:, None]
    visible = valid & (pos >= first) & (pos < stop)
    visible = np.where(facing.any(axis=1)[:, None], visible, valid)
    uv = project(cam, camera).reshape(*cand.shape, 2)
    score = np.einsum("cmk,ck->cm", uv, np.asarray(normals, dtype=np.float64))
    score = np.where(visible, score, -np.inf)
    return ids[np.arange(len(cand)), np.argmax(score, axis=1)].astype(np.int64)


def fit_head(
    landmarks: Landmarks,
    model: LinearHeadModel,
    camera: Camera,
    settings: FitSettings,
    correspondence: Correspondence | None = None,
) -> FitResult:
    """Fit pose, identity and expression of ``model`` to detected landmarks (see the module docstring).

    Args:
        landmarks: MediaPipe landmarks in the pixels of the image ``camera`` describes.
        model: the head model (metres); a skinned one (``model.skeleton``) also gets its
            ``Skeleton.fitted_joints`` rotations fitted, a ``"coefficients"`` one unbounded expression coefficients.
        camera: intrinsics, e.g. ``camera_from_fov(W, H, settings.fov_deg)``.
        settings: weights, priors, loss and iteration limits.
        correspondence: landmark embedding on ``model`` (default: the packaged ICT FaceKit table).

    Returns:
        the fitted parameters (a skinned model's ``joint_rotations`` ``(J, 3)``: the fitted joints filled, zeros
        elsewhere), the model's landmarks projected into the photo (skinned; for jaw-contour landmarks in slide
        mode: the silhouette vertices they were matched to) and their NME against the detector.

    Raises:
        ValueError: landmarks of the wrong shape, a camera for another image size, a table for another model, or a
            skeleton whose root is among its fitted joints.
    """
    corr = load_correspondence() if correspondence is None else correspondence
    corr.check_model(model)
    learned = None if settings.landmark_noise is None else _noise_for_fit(settings.landmark_noise, corr)
    if learned is None:
        return _fit(landmarks, model, camera, settings, corr)
    natural = replace(
        settings,
        identity_prior=settings.noise_identity_prior,
        expression_prior=settings.noise_expression_prior,
        loss_scale=settings.noise_loss_scale,
    )
    shaped = _fit(landmarks, model, camera, natural, corr, learned)
    if settings.noise_role == "all":
        return shaped
    if settings.noise_role == "depth":
        # the image-plane shape of the per-landmark fit (what this photo's features show), the depth of the
        # learned-noise fit (what the detector's biased depth and correlated errors cannot give)
        plain = _fit(landmarks, model, camera, settings, corr)
        rot = axis_angle_to_matrix(plain.params.pose.rotation)
        blended = depth_blended_identity(
            model, plain.params.identity, shaped.params.identity, rot[2], model.face_vertices
        )
        return _fit(landmarks, model, camera, _held(settings), corr, held_identity=blended)
    # "identity": the learned-noise fit gives the shape; pose, expression, lids and jaw line come from the
    # per-landmark terms with the identity held there (prior centred on it, weight held_identity_prior)
    return _fit(landmarks, model, camera, _held(settings), corr, held_identity=shaped.params.identity)


def _held(settings: FitSettings) -> FitSettings:
    """The settings of the second, held-identity fit."""
    return replace(settings, identity_prior=settings.held_identity_prior,
                   expression_prior=settings.held_expression_prior, lid_weight=settings.held_lid_weight)


def depth_blended_identity(
    model: LinearHeadModel,
    plane_identity: NDArray[np.floating],
    depth_identity: NDArray[np.floating],
    view_axis: NDArray[np.floating],
    vertex_ids: NDArray[np.integer],
) -> NDArray[np.float64]:
    """The identity whose shape takes its image-plane extent from one fit and its depth from another.

    With ``A`` the identity basis at ``vertex_ids`` and ``P = v vᵀ`` the projector on the unit view axis ``v``
    (model frame), the target offsets are ``t = A α_p + P A (α_d − α_p)`` — ``α_p``'s shape moved along the view
    axis to ``α_d``'s depth — and the result is their least-squares fit ``argmin_α ‖A α − t‖²`` over the
    ``len(α_p)`` modes (both identities are padded or cut to that length).

    Args:
        model: the head model.
        plane_identity: ``(K,)`` identity whose image-plane shape (across the view axis) is kept.
        depth_identity: ``(K',)`` identity whose depth (along the view axis) is kept.
        view_axis: ``(3,)`` the camera's optical axis in the model frame (any sign or length).
        vertex_ids: the vertices compared (e.g. ``model.face_vertices``).

    Returns:
        ``(K,)`` float64 identity coefficients.
    """
    k = len(plane_identity)
    a_p = np.asarray(plane_identity, np.float64)
    a_d = np.zeros(k)
    n = min(k, len(depth_identity))
    a_d[:n] = np.asarray(depth_identity, np.float64)[:n]
    v = np.asarray(view_axis, np.float64)
    v = v / np.linalg.norm(v)
    basis = model.identity_basis[:k][:, np.asarray(vertex_ids)].astype(np.float64)  # (K, N, 3)
    flat = basis.reshape(k, -1).T  # (3N, K)
    along = np.einsum("knc,c->kn", basis, v)  # (K, N): each mode's depth per vertex
    target = flat @ a_p + (np.einsum("kn,k->n", along, a_d - a_p)[:, None] * v).reshape(-1)
    solution, *_ = np.linalg.lstsq(flat, target, rcond=None)
    return np.asarray(solution, np.float64)


def _fit(
    landmarks: Landmarks,
    model: LinearHeadModel,
    camera: Camera,
    settings: FitSettings,
    corr: Correspondence,
    noise_model: tuple[LandmarkNoise, NDArray[np.float64]] | None = None,
    held_identity: NDArray[np.float64] | None = None,
) -> FitResult:
    """:func:`fit_head` with a table, an optional learned noise model (and its whitening), an optional held identity."""
    noise, whitening = (None, None) if noise_model is None else noise_model
    if landmarks.points.shape != (corr.num_landmarks, 3):
        raise ValueError(f"expected ({corr.num_landmarks}, 3) landmark points, got {landmarks.points.shape}")
    if (camera.width, camera.height) != tuple(landmarks.image_size):
        raise ValueError(f"camera is for a {camera.width}×{camera.height} image, landmarks for {landmarks.image_size}")
    k = min(settings.num_identity, model.num_identity)
    if model.expression_kind == "coefficients":  # unnamed components: all fitted, from 0
        expr_ids = np.arange(model.num_expressions)
        w_all0 = np.zeros(model.num_expressions)
    else:
        unfitted = settings.unfitted_expression_prefixes
        expr_ids = np.array([i for i, n in enumerate(model.expression_arkit_names) if not n.startswith(unfitted)])
        w_all0 = (
            expression_from_mediapipe(landmarks.blendshape_names, landmarks.blendshapes, model)
            if settings.expression_init == "mediapipe"
            else np.zeros(model.num_expressions)
        )
    w0 = w_all0[expr_ids]
    n_w = len(w0)
    skin = None if model.skeleton is None else skinned_joints(model, k, expr_ids, w_all0)
    n_theta = 0 if skin is None else 3 * len(skin.fitted)
    q = np.asarray(landmarks.points, dtype=np.float64)
    scale = float(np.linalg.norm(q[MP_RIGHT_EYE_OUTER, :2] - q[MP_LEFT_EYE_OUTER, :2])) or 1.0

    # the held shapes (gaze) are part of the drawn head: fold them into the points' rest positions
    basis = point_basis(model, corr.face_ids, corr.barycentric, k, expr_ids, held=w_all0)
    # with a learned noise model its landmarks are fixed points of the table (it describes the detector's jaw line
    # relative to those points too), with the detector's mean error taken off the detections; the others are unused
    contour = np.asarray(corr.contour) if noise is None else np.zeros(0, dtype=np.int64)
    is_contour = np.zeros(corr.num_landmarks, dtype=bool)
    is_contour[contour] = True
    fixed_ids = np.nonzero(~is_contour)[0] if noise is None else noise.landmark_ids
    weight = np.ones(corr.num_landmarks)
    frame = eye_line_rotation(q)
    target = q[:, :2].copy()
    if noise is None:
        weight[np.setdiff1d(corr.face_oval, contour)] = settings.oval_weight
        weight[NUM_MESH:] = settings.iris_weight
        weight[list(UPPER_LID + LOWER_LID)] = settings.lid_weight
    else:
        target[fixed_ids] -= scale * noise.mean @ frame.T
    depth_rows = np.nonzero(fixed_ids < NUM_MESH)[0]
    z = q[fixed_ids[depth_rows], 2]
    normals, tangents = contour_directions(q, corr.face_oval, contour)

    mesh_fixed = fixed_ids[fixed_ids < NUM_MESH]
    alpha0 = np.zeros(k) if held_identity is None else np.asarray(held_identity, np.float64)[:k]
    pose = initial_pose(basis.take(mesh_fixed).evaluate(alpha0, w0), target[mesh_fixed], camera)
    rotation0 = axis_angle_to_matrix(pose.rotation)
    x = np.concatenate([np.zeros(3), pose.translation, alpha0, w0, np.zeros(n_theta)])
    contour_basis = basis.take(contour)
    fixed_basis = basis.take(fixed_ids)
    iterations: dict[str, int] = {}
    for rnd in range(max(1, settings.contour_rounds)):
        _, _, alpha, w, theta = _split(x, k, n_w)
        if settings.contour_mode == "slide" and len(contour):
            w_all = w_all0.copy()
            w_all[expr_ids] = w
            cur = HeadPose(matrix_to_axis_angle(rotation0), x[3:6])
            chosen = silhouette_vertices(
                model,
                corr.contour_candidates,
                normals,
                alpha,
                w_all,
                cur,
                camera,
                joint_rotations=None if skin is None else skin.rotations(theta),
                rest_joints=None if skin is None else skin.joints.evaluate(alpha, w),
            )
            contour_basis = vertex_basis(model, chosen, k, expr_ids, held=w_all0)
        fixed_now = pose_points(fixed_basis, alpha, w, theta, skin, with_jacobian=False).points
        depth_now = float(np.mean(-(fixed_now @ rotation0.T + x[3:6])[:, 2]))
        terms = _Terms(
            fixed=fixed_basis,
            fixed_target=target[fixed_ids],
            fixed_weight=weight[fixed_ids],
            contour=contour_basis,
            contour_target=target[contour],
            contour_normal=normals,
            contour_tangent=tangents,
            depth_rows=depth_rows,
            depth=fixed_basis.take(depth_rows),
            depth_target=z - z.mean(),
            depth_scale=camera.fx / max(depth_now, 1e-6),
            rotation0=rotation0,
            camera=camera,
            scale=scale,
            w0=w0,
            settings=settings,
            skin=skin,
            expression_kind=model.expression_kind,
            whitening=whitening,
            frame=frame,
            identity_centre=None if held_identity is None else alpha0,
        )
        budget = settings.max_iterations if rnd == 0 else settings.refine_iterations
        x, steps = _solve(x, terms, budget)
        iterations[f"round{rnd}"] = steps
        rotation0 = axis_angle_to_matrix(x[:3]) @ rotation0
        x[:3] = 0.0

    alpha = x[6 : 6 + k].copy()
    expression = w_all0.copy()
    expression[expr_ids] = x[6 + k : 6 + k + n_w]
    theta = x[6 + k + n_w :].copy()
    final_pose = HeadPose(matrix_to_axis_angle(rotation0), x[3:6].copy())
    joint_rotations = np.zeros((0, 3)) if skin is None else skin.rotations(theta)
    params = HeadParams(identity=alpha, expression=expression, pose=final_pose, joint_rotations=joint_rotations)

    w_fit = expression[expr_ids]
    points = pose_points(basis, alpha, w_fit, theta, skin, with_jacobian=False).points
    points[contour] = pose_points(contour_basis, alpha, w_fit, theta, skin, with_jacobian=False).points
    lm_2d = project(points @ rotation0.T + final_pose.translation, camera)
    v68 = blend_vertices(model, alpha, expression, vertex_ids=model.landmarks68)
    if skin is not None:
        skel, ids68 = skin.skeleton, model.landmarks68
        joints = skin.joints.evaluate(alpha, w_fit)
        v68 = skin_points(v68, skel.lbs_weights[ids68], skel.posedirs[ids68], joints, skel.parents, joint_rotations)
    lm68_2d = project(v68 @ rotation0.T + final_pose.translation, camera)
    error = nme(lm_2d, q[:, :2], MP_LEFT_EYE_OUTER, MP_RIGHT_EYE_OUTER)
    return FitResult(
        params=params, camera=camera, landmarks_2d=lm_2d, landmarks68_2d=lm68_2d, nme=error, iterations=iterations
    )
