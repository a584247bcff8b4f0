"""Fitting FLAME to 3D points on its vertices, and to an ICT FaceKit head through the fixed correspondence.

Convention:
    Metres, radians, headcast's model frame (docs/conventions.md), which is FLAME's own frame. ``FlameParams`` use
    FLAME's conventions: ``shape`` β and ``expression`` ψ in units of each component (the first ``S'``/``E'``
    components of the file's 300/100), ``pose`` θ ``(5, 3)`` axis-angle per joint in FLAME's joint order
    (global, neck, jaw, eye_left, eye_right; each relative to its parent, about its rest position — the
    ``headcast.headmodel.lbs`` Convention), ``translation`` added to every vertex after skinning, metres.

Method. For a fixed pose θ, FLAME's skinned vertices are affine in the blend-shape coefficients ``c = (β, ψ)``:
the shaped mesh and its regressed joints are linear in ``c``, the joints' rotations depend on θ alone, and each
joint's skinning translation ``A_j = G_j [I | −J_j]`` is linear in the rest joints (the chain
``t_0 = J_0``, ``t_j = t_parent + R_parent (J_j − J_parent)`` is). So::

    v_n(c, t; θ) = Σ_k A_nk(θ) c_k + b_n(θ) + t,   A_nk = M_n S_nk + Σ_j w_nj τ_jk,   M_n = Σ_j w_nj R_j(θ)

(``S_nk`` the blend shape of vertex ``n``, ``τ_jk`` joint ``j``'s skinning translation for the joints of ``S_k``
alone, ``b_n`` the same for the template plus the pose-corrective offsets). The energy::

    E = Σ_n ŵ_n |v_n − y_n|²  [mm²]  +  λ_β |β|² + λ_ψ |ψ|²  +  λ_θ |θ_neck, θ_jaw|²      (ŵ = w / Σ w)

is minimised by variable projection (Golub & Pereyra 1973): ``(c, t)`` is a ridge-regression solve for any θ,
and scipy's ``least_squares`` (trust-region reflective, finite-difference Jacobian) optimises the free joints'
rotations over the reduced residual, whose ``(c, t)`` are re-solved at every evaluation. The jaw is a joint: its
rotation reaches the mesh through the skinning weights and the pose correctives. Start: the global rotation of a
rigid (Umeyama) alignment of the template to the targets, every other joint at rest, then the linear solve.

:func:`fit_flame_to_ict` transfers an ICT FaceKit head: β from ICT's *neutral* identity mesh (β and the joints,
ψ = 0), then ψ and the joints from the expressive mesh with β held — so identity stays in β and the expression
goes to ψ and the jaw.
"""

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares
from threadpoolctl import threadpool_limits

from headcast.fitting.embedding import umeyama
from headcast.fitting.flame_correspondence import FlameCorrespondence, correspondence_targets
from headcast.geometry.rotation import matrix_to_axis_angle
from headcast.headmodel.base import HeadParams, LinearHeadModel, blend_vertices
from headcast.headmodel.flame import FLAME_JOINT_NAMES, FlameModel, flame_lbs
from headcast.headmodel.lbs import pose_feature, rodrigues

_FD_STEP = 1e-6  # radians: forward differences of the skinned points in the Jacobian
_MM = 1000.0  # residuals in millimetres: the priors' units below are mm² per unit coefficient / radian


@dataclass(frozen=True)
class FlameParams:
    """FLAME parameters of one head (FLAME's conventions; the module docstring).

    Attributes:
        shape: ``(S',)`` β, the first ``S'`` identity components.
        expression: ``(E',)`` ψ, the first ``E'`` expression components.
        pose: ``(5, 3)`` θ axis-angle, radians: global, neck, jaw, eye_left, eye_right.
        translation: ``(3,)`` metres, added after skinning.
    """

    shape: NDArray[np.float64]
    expression: NDArray[np.float64]
    pose: NDArray[np.float64]
    translation: NDArray[np.float64]

    def __post_init__(self) -> None:
        if np.shape(self.pose) != (len(FLAME_JOINT_NAMES), 3) or np.shape(self.translation) != (3,):
            raise ValueError(f"pose must be (5, 3) and translation (3,), got {np.shape(self.pose)}, "
                             f"{np.shape(self.translation)}")
        if np.ndim(self.shape) != 1 or np.ndim(self.expression) != 1:
            raise ValueError("shape and expression must be 1-D")


@dataclass(frozen=True)
class FlameFitSettings:
    """What the fit solves for and how strongly it is held.

    Attributes:
        num_shape: β components fitted (DECA fits 100).
        num_expression: ψ components fitted (DECA fits 50, as does the thesis' emotion network).
        shape_prior: λ_β, mm² per unit² of β (weak: 1σ costs as much as 0.03 mm RMS of misfit at the default).
        expression_prior: λ_ψ, mm² per unit² of ψ.
        pose_prior: λ_θ, mm² per rad² on the neck and jaw rotations (the global one is free).
        free_joints: joints whose rotation is fitted (the eyes move only the eyeballs, which have no targets).
        max_evaluations: residual evaluations of the pose refinement.
        blas_threads: BLAS threads during the fit (its matrices are small: more threads only contend, as in the
            pipeline's ``PipelineSettings.blas_threads``).
    """

    num_shape: int = 100
    num_expression: int = 50
    shape_prior: float = 1e-3
    expression_prior: float = 1e-3
    pose_prior: float = 1e-2
    free_joints: tuple[str, ...] = ("global", "neck", "jaw")
    max_evaluations: int = 400
    blas_threads: int = 1


@dataclass(frozen=True, eq=False)
class FlameFit:
    """A FLAME fit and how well it fits.

    Attributes:
        params: the fitted parameters.
        distances_m: ``(N,)`` distance of each fitted vertex to its target, metres.
        mean_distance_m: weighted mean of ``distances_m`` (the weights given to the fit).
        evaluations: residual evaluations per stage.
    """

    params: FlameParams
    distances_m: NDArray[np.float64]
    mean_distance_m: float
    evaluations: dict[str, int] = field(default_factory=dict)


def flame_vertices(model: FlameModel, params: FlameParams) -> NDArray[np.float64]:
    """``(V, 3)`` float64 FLAME mesh of ``params`` in the model frame, metres (translation included)."""
    out = flame_lbs(model, params.shape[None], params.expression[None], params.pose[None])
    return out.vertices[0] + params.translation


@dataclass(frozen=True, eq=False)
class _Prepared:
    """The model buffers restricted to the fitted vertices, float64, with the joints of every blend shape."""

    template: NDArray[np.float64]  # (N, 3)
    basis: NDArray[np.float64]  # (N, 3, K)
    posedirs: NDArray[np.float64]  # (N, 3, P)
    weights: NDArray[np.float64]  # (N, J)
    joints_template: NDArray[np.float64]  # (J, 3)
    joints_basis: NDArray[np.float64]  # (J, 3, K)
    parents: NDArray[np.int64]


def _prepare(model: FlameModel, ids: NDArray[np.int64], num_shape: int, num_expression: int) -> _Prepared:
    basis = np.concatenate((model.shape_basis[..., :num_shape], model.expression_basis[..., :num_expression]), 2)
    return _Prepared(
        template=model.template[ids].astype(np.float64),
        basis=basis[ids].astype(np.float64),
        posedirs=model.posedirs[ids].astype(np.float64),
        weights=model.lbs_weights[ids],
        joints_template=model.j_regressor @ model.template.astype(np.float64),
        joints_basis=np.einsum("jv,vck->jck", model.j_regressor, basis, optimize=True),
        parents=model.parents,
    )


def _rotations(prep: _Prepared, pose: NDArray[np.floating]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Relative and global ``(J, 3, 3)`` joint rotations of ``pose`` ``(J, 3)``."""
    rel = rodrigues(np.asarray(pose, dtype=np.float64))
    glob = [rel[0]]
    for j in range(1, len(prep.parents)):
        glob.append(glob[prep.parents[j]] @ rel[j])
    return rel, np.stack(glob)


def _skin_translations(parents: NDArray[np.int64], rot: NDArray[np.float64], joints: NDArray[np.float64]) -> (
    NDArray[np.float64]
):
    """``(J, 3, ...)`` rest joints → ``(J, 3, ...)`` skinning translations ``t_j − R_j J_j`` (linear in the joints).

    ``t_0 = J_0``, ``t_j = t_parent + R_parent (J_j − J_parent)``: the posed joints of the chain.
    """
    posed = [joints[0]]
    for j in range(1, len(parents)):
        p = parents[j]
        posed.append(posed[p] + np.tensordot(rot[p], joints[j] - joints[p], axes=1))
    return np.stack(posed) - np.einsum("jab,jb...->ja...", rot, joints)


def skin_points(
    prep: _Prepared, pose: NDArray[np.floating], rest: NDArray[np.float64], joints: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``(N, 3)`` skinned positions of the fitted vertices from their shaped rest positions (no translation).

    Args:
        prep: buffers from :func:`_prepare`.
        pose: ``(J, 3)`` axis-angle per joint, radians.
        rest: ``(N, 3)`` shaped rest positions of the fitted vertices (template + blend shapes).
        joints: ``(J, 3)`` rest joints regressed from the whole shaped mesh.
    """
    rel, rot = _rotations(prep, pose)
    blended = np.einsum("nj,jab->nab", prep.weights, rot)
    corrective = prep.posedirs @ pose_feature(rel[None])[0]
    moved = np.einsum("nab,nb->na", blended, rest + corrective)
    return moved + prep.weights @ _skin_translations(prep.parents, rot, joints)


def affine_in_coefficients(
    prep: _Prepared, pose: NDArray[np.floating]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``A (N, 3, K)`` and ``b (N, 3)`` with ``v = A c + b`` the skinned vertices at ``pose`` (no translation).

    Args:
        prep: buffers from :func:`_prepare`.
        pose: ``(J, 3)`` axis-angle per joint, radians.
    """
    _, rot = _rotations(prep, pose)
    blended = np.einsum("nj,jab->nab", prep.weights, rot)  # (N, 3, 3)
    a = np.matmul(blended, prep.basis)
    a += np.einsum("nj,jak->nak", prep.weights, _skin_translations(prep.parents, rot, prep.joints_basis),
                   optimize=True)
    return a, skin_points(prep, pose, prep.template, prep.joints_template)


@dataclass(frozen=True, eq=False)
class _Solved:
    """The ridge solve at one pose: unknowns, residual and the factors the Jacobian reuses."""

    coeffs: NDArray[np.float64]  # (K,) all coefficients (a held β first)
    free_coeffs: NDArray[np.float64]  # (K',) the solved ones
    translation: NDArray[np.float64]  # (3,) metres
    data: NDArray[np.float64]  # (N, 3) weighted residual, mm
    design: NDArray[np.float64]  # (3N, K' + 3) weighted design matrix [A | I], mm per unit
    hessian: NDArray[np.float64]  # (K' + 3, K' + 3) designᵀ design + priors


def _solve_at(
    prep: _Prepared, pose: NDArray[np.float64], held_shape: NDArray[np.float64] | None, targets: NDArray[np.float64],
    scale: NDArray[np.float64], prior: NDArray[np.float64],
) -> _Solved:
    """Ridge solve of ``min Σ ŵ |A c + b + t − y|² + Σ λ c²`` (mm) at ``pose``; ``scale = 1000 √ŵ`` ``(N, 1)``."""
    a, b = affine_in_coefficients(prep, pose)
    if held_shape is not None:
        b = b + a[..., : len(held_shape)] @ held_shape
        a = a[..., len(held_shape) :]
    n, _, k = a.shape
    design = np.concatenate((a, np.broadcast_to(np.eye(3), (n, 3, 3))), axis=2) * scale[:, :, None]
    design = design.reshape(3 * n, k + 3)
    hessian = design.T @ design
    hessian[np.arange(k), np.arange(k)] += prior
    z = np.asarray(np.linalg.solve(hessian, design.T @ ((targets - b) * scale).reshape(-1)), dtype=np.float64)
    c, t = z[:k], z[k:]
    data: NDArray[np.float64] = (np.einsum("nak,k->na", a, c) + b + t - targets) * scale
    coeffs: NDArray[np.float64] = c if held_shape is None else np.concatenate((held_shape, c))
    return _Solved(coeffs, c, t, data, design, hessian)


def fit_flame_to_mesh(
    model: FlameModel,
    vertex_ids: NDArray[np.integer],
    targets: NDArray[np.floating],
    weights: NDArray[np.floating] | None = None,
    settings: FlameFitSettings | None = None,
    *,
    fixed_shape: NDArray[np.floating] | None = None,
    initial_pose: NDArray[np.floating] | None = None,
) -> FlameFit:
    """FLAME parameters whose vertices ``vertex_ids`` lie on ``targets`` (regularised least squares).

    Args:
        model: the FLAME buffers.
        vertex_ids: ``(N,)`` FLAME vertex ids with a target.
        targets: ``(N, 3)`` where those vertices should be, model frame, metres.
        weights: ``(N,)`` non-negative weights (default all 1; normalised to sum 1).
        settings: counts and priors.
        fixed_shape: ``(S',)`` β to hold fixed (then only ψ, θ and the translation are fitted).
        initial_pose: ``(5, 3)`` θ to start from (default: a rigid alignment's global rotation, the rest 0).

    Returns:
        The fit: parameters, per-point distances and their weighted mean.
    """
    settings = FlameFitSettings() if settings is None else settings
    ids = np.asarray(vertex_ids, dtype=np.int64)
    y = np.asarray(targets, dtype=np.float64)
    if y.shape != (len(ids), 3):
        raise ValueError(f"targets must be (N, 3) for N = {len(ids)} vertex ids, got {y.shape}")
    w = np.ones(len(ids)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != ids.shape or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be (N,), non-negative, not all zero")
    w = w / w.sum()
    sqrt_w = np.sqrt(w)
    n_shape = settings.num_shape if fixed_shape is None else len(fixed_shape)
    n_expr = settings.num_expression
    if n_shape > model.num_shape or n_expr > model.num_expression:
        raise ValueError(f"at most {model.num_shape} shape and {model.num_expression} expression components")
    prep = _prepare(model, ids, n_shape, n_expr)
    free = np.array([model.joint_index(name) for name in settings.free_joints], dtype=np.int64)
    held_shape = None if fixed_shape is None else np.asarray(fixed_shape, dtype=np.float64)
    prior = np.concatenate((np.full(0 if held_shape is not None else n_shape, settings.shape_prior),
                            np.full(n_expr, settings.expression_prior)))
    pose_prior_rows = np.array([name != "global" for name in settings.free_joints])

    if initial_pose is None:
        _, rot, _ = umeyama(prep.template, y, w)
        pose0 = np.zeros((model.num_joints, 3))
        pose0[model.joint_index("global")] = matrix_to_axis_angle(rot)
    else:
        pose0 = np.array(initial_pose, dtype=np.float64)

    k_free = len(prior)
    n_free = 3 * len(free)
    prior_cols = np.flatnonzero(np.repeat(pose_prior_rows, 3))
    scale = (_MM * sqrt_w)[:, None]
    cache: dict[bytes, _Solved] = {}

    def full_pose(x: NDArray[np.float64]) -> NDArray[np.float64]:
        pose = pose0.copy()
        pose[free] = x.reshape(-1, 3)
        return pose

    def solved(x: NDArray[np.float64]) -> _Solved:
        """The linear solve at the pose ``x`` (cached: ``least_squares`` asks for residuals, then the Jacobian)."""
        key = x.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = _solve_at(prep, full_pose(x), held_shape, y, scale, prior)
        return cache[key]

    def residuals(x: NDArray[np.float64]) -> NDArray[np.float64]:
        st = solved(x)
        return np.concatenate((st.data.reshape(-1), np.sqrt(prior) * st.free_coeffs,
                               np.sqrt(settings.pose_prior) * x[prior_cols]))

    def jacobian(x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Kaufman's variable-projection Jacobian: the pose derivative with the linear unknowns re-solved."""
        st = solved(x)
        pose = full_pose(x)
        rest = prep.template + prep.basis @ st.coeffs
        joints = prep.joints_template + prep.joints_basis @ st.coeffs
        base = skin_points(prep, pose, rest, joints)
        d = np.empty((y.size, n_free))
        for i in range(n_free):
            step = x.copy()
            step[i] += _FD_STEP
            d[:, i] = ((skin_points(prep, full_pose(step), rest, joints) - base) * scale).reshape(-1) / _FD_STEP
        dz = -np.linalg.solve(st.hessian, st.design.T @ d)  # how the re-solved (c, t) follow the pose
        jac = np.zeros((y.size + k_free + len(prior_cols), n_free))
        jac[: y.size] = d + st.design @ dz
        jac[y.size : y.size + k_free] = np.sqrt(prior)[:, None] * dz[:k_free]
        jac[y.size + k_free + np.arange(len(prior_cols)), prior_cols] = np.sqrt(settings.pose_prior)
        return jac

    with threadpool_limits(limits=settings.blas_threads, user_api="blas"):
        result = least_squares(residuals, pose0[free].reshape(-1), jac=jacobian, method="trf", x_scale=0.1,
                               max_nfev=settings.max_evaluations)
        final = solved(result.x)
    params = FlameParams(shape=final.coeffs[:n_shape].copy(), expression=final.coeffs[n_shape:].copy(),
                         pose=full_pose(result.x), translation=final.translation.copy())
    dist = np.linalg.norm(flame_vertices(model, params)[ids] - y, axis=1)
    return FlameFit(params, dist, float(w @ dist), {"pose": int(result.nfev)})


def fit_flame_to_ict(
    flame: FlameModel,
    ict_model: LinearHeadModel,
    head: HeadParams,
    corr: FlameCorrespondence,
    settings: FlameFitSettings | None = None,
) -> FlameFit:
    """FLAME parameters of an ICT FaceKit head (its identity and expression; the head pose is not used).

    Two fits in ICT's model frame: β and the joints to the neutral mesh of ``head.identity`` (ψ = 0), then ψ and
    the joints to the mesh of ``head.identity`` and ``head.expression`` with β held (the module docstring).

    Args:
        flame: the FLAME buffers.
        ict_model: the ICT FaceKit model the table was made for.
        head: the ICT head's identity and expression (``avatar.fit.params``).
        corr: the ICT↔FLAME table.
        settings: counts and priors.

    Returns:
        The second fit (its ``distances_m`` are to the expressive head); ``evaluations`` of both stages.
    """
    settings = FlameFitSettings() if settings is None else settings
    corr.check_model(ict_model)
    ids = corr.flame_vertex_ids
    neutral = blend_vertices(ict_model, head.identity, np.zeros(ict_model.num_expressions))
    posed = blend_vertices(ict_model, head.identity, head.expression)
    shape_fit = fit_flame_to_mesh(flame, ids, correspondence_targets(neutral, ict_model.triangles, corr),
                                  settings=replace(settings, num_expression=0))
    expression_fit = fit_flame_to_mesh(flame, ids, correspondence_targets(posed, ict_model.triangles, corr),
                                       settings=settings, fixed_shape=shape_fit.params.shape,
                                       initial_pose=shape_fit.params.pose)
    evaluations = {"shape": shape_fit.evaluations["pose"], "expression": expression_fit.evaluations["pose"]}
    return replace(expression_fit, evaluations=evaluations)
