"""FLAME training targets for the emotion network: the generated ICT FaceKit examples transferred to a FLAME file.

The emotion network's own targets are ICT FaceKit expression weights and neck/global tendencies
(:mod:`headcast.emotion.generator`). A FLAME network (the reference thesis' output: 50 expression coefficients ψ and
6 pose values θ, global rotation 3 + jaw 3) is trained on the same examples moved to FLAME by fitting FLAME to each
example's ICT mesh through the packaged ICT↔FLAME table (:mod:`headcast.fitting.flame_correspondence`):

1. **Reference** (once per FLAME file, :func:`flame_reference`): β and the joints fitted to ICT's *mean neutral*
   head (ψ = 0; as stage 1 of :func:`headcast.fitting.flame_fit.fit_flame_to_ict`), then, with β held, ψ₀ and the
   jaw fitted to the same mesh exactly as every example is fitted below — so a neutral example's fit *is* the
   reference and its target is exactly zero.
2. **Examples** (:func:`transfer_examples`): ICT's mean identity with the generator's expression weights; with β
   held and the global and neck joints held at the reference, ψ (50), the jaw rotation and the translation are fitted
   (``fit_flame_to_mesh(..., fixed_shape=β, initial_pose=θ_ref)``, free joints ``("jaw",)``: ICT's expression
   shapes do not turn the head).
3. **Targets**, zero-anchored like the network (``N × 56``)::

       ψ_target    = ψ_fit − ψ₀                                  (50, FLAME's σ units)
       global      = log(exp(g) · exp(n))                         (3, axis-angle rad; the generated global g and
                                                                   neck n tendencies, composed as apply.py does)
       jaw         = log(R(θ_ref,jaw)ᵀ · R(θ_fit,jaw))             (3, axis-angle rad, in the jaw's own frame)

   The fit's translation change is not a target (the thesis' layout has none; ICT's expressions do not move the
   head): it is kept in :class:`FlameTransfer` and reported (``translation_drift_m``).

Convention:
    Metres, radians, headcast's model frame (which is FLAME's; docs/conventions.md). Intensities ``(N, 7)`` in
    :data:`~headcast.emotion.types.EMOTIONS` order. Cost: one fit per example, ≈ 0.1 s on one core with the
    synthetic test file (measured: docs/emotion.md, "FLAME"); neutral rows are not fitted.
"""

import time
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from headcast.emotion.generator import GeneratorSettings, generate_examples
from headcast.emotion.model import OutputLayout, expression_layout
from headcast.emotion.types import EMOTIONS
from headcast.fitting.flame_correspondence import FlameCorrespondence, correspondence_targets
from headcast.fitting.flame_fit import FlameFitSettings, FlameParams, fit_flame_to_mesh
from headcast.geometry.rotation import axis_angle_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import LinearHeadModel, blend_vertices
from headcast.headmodel.flame import FlameModel


@dataclass(frozen=True)
class FlameTransferSettings:
    """How the examples are moved to FLAME.

    Attributes:
        fit: counts and priors of the fits (``num_shape`` β of the reference, ``num_expression`` ψ of every fit; the
            thesis' 50). Its ``free_joints`` are those of the reference's shape fit.
        example_joints: joints fitted per example (and in the reference's second stage); the others stay at the
            reference.
    """

    fit: FlameFitSettings = field(default_factory=FlameFitSettings)
    example_joints: tuple[str, ...] = ("jaw",)


@dataclass(frozen=True, eq=False)
class FlameReference:
    """FLAME on ICT's mean neutral head, the zero of every target.

    Attributes:
        params: β ``(S',)``, ψ₀ ``(E',)``, θ_ref ``(5, 3)`` and translation ``(3,)`` (metres).
        shape_fit_m: mean distance of the β fit (ψ = 0) to ICT's neutral mesh, metres.
        fit_m: mean distance of the reference (β, ψ₀) to ICT's neutral mesh, metres.
    """

    params: FlameParams
    shape_fit_m: float
    fit_m: float


@dataclass(frozen=True, eq=False)
class FlameTransfer:
    """Examples moved to FLAME (batch first).

    Attributes:
        intensities: ``(N, 7)`` emotion intensities.
        ict_expression: ``(N, E_ict)`` the generator's ICT expression weights.
        targets: ``(N, E' + 6)`` ψ − ψ₀ (E' = 50), global tendency (3, rad), jaw change (3, rad) — module
            docstring; the order of :func:`headcast.emotion.flame_net.flame_layout`.
        expression: ``(N, E')`` fitted ψ.
        pose: ``(N, 5, 3)`` fitted θ (global and neck are the reference's).
        translation: ``(N, 3)`` fitted translation, metres.
        fit_m: ``(N,)`` mean distance of each fit to its ICT mesh, metres (neutral rows: the reference's).
        translation_drift_m: ``(N,)`` how far each fit's translation moved from the reference's, metres (not a
            target: see the module docstring).
        fitted: ``(N,)`` whether the row was fitted (neutral rows take the reference).
        seconds: wall time of the fits.
    """

    intensities: NDArray[np.float64]
    ict_expression: NDArray[np.float64]
    targets: NDArray[np.float64]
    expression: NDArray[np.float64]
    pose: NDArray[np.float64]
    translation: NDArray[np.float64]
    fit_m: NDArray[np.float64]
    translation_drift_m: NDArray[np.float64]
    fitted: NDArray[np.bool_]
    seconds: float

    @property
    def num_fitted(self) -> int:
        """Rows fitted (not neutral)."""
        return int(self.fitted.sum())


def ict_layout(ict_model: LinearHeadModel) -> OutputLayout:
    """The ICT layout the generator's targets are made in (expression weights, neck, global)."""
    return expression_layout(ict_model.expression_names, ict_model.expression_arkit_names)


def sample_examples(settings: GeneratorSettings,
                    ict_model: LinearHeadModel) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The generator's examples (its sampling, its prototype targets; mean identity).

    Returns:
        ``(intensities (N, 7), ICT expression weights (N, E_ict), head tendency (N, 3))``; the tendency is
        ``log(exp(g) exp(n))`` of the generated global ``g`` and neck ``n`` rotations (axis-angle, radians).
    """
    layout = ict_layout(ict_model)
    data = generate_examples(replace(settings, num_identity=0, identity_gain=()), layout)
    sl = layout.slices()
    rot = axis_angle_to_matrix(data.targets[:, sl["global"]]) @ axis_angle_to_matrix(data.targets[:, sl["neck"]])
    return data.inputs[:, : len(EMOTIONS)], data.targets[:, sl["expression"]], matrix_to_axis_angle(rot)


def ict_points(ict_model: LinearHeadModel, corr: FlameCorrespondence,
               expression: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(N, P, 3)`` ICT surface points of FLAME's corresponded vertices for ``(N, E_ict)`` weights (mean identity)."""
    w = np.atleast_2d(np.asarray(expression, dtype=np.float64))
    ident = np.zeros(ict_model.num_identity)
    meshes = np.stack([blend_vertices(ict_model, ident, row) for row in w])
    return correspondence_targets(meshes, ict_model.triangles, corr)


def flame_reference(flame: FlameModel, ict_model: LinearHeadModel, corr: FlameCorrespondence,
                    settings: FlameTransferSettings | None = None) -> FlameReference:
    """FLAME fitted to ICT's mean neutral head: β (ψ = 0), then ψ₀ and the example joints with β held."""
    settings = FlameTransferSettings() if settings is None else settings
    corr.check_model(ict_model)
    points = ict_points(ict_model, corr, np.zeros(ict_model.num_expressions))[0]
    ids = corr.flame_vertex_ids
    shape_fit = fit_flame_to_mesh(flame, ids, points, settings=replace(settings.fit, num_expression=0))
    neutral = fit_flame_to_mesh(flame, ids, points, settings=replace(settings.fit, free_joints=settings.example_joints),
                                fixed_shape=shape_fit.params.shape, initial_pose=shape_fit.params.pose)
    return FlameReference(neutral.params, shape_fit.mean_distance_m, neutral.mean_distance_m)


def jaw_change(reference_jaw: NDArray[np.floating], jaw: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(..., 3)`` ``log(R(reference)ᵀ R(jaw))``: the jaw rotation relative to the reference, in its own frame."""
    ref = axis_angle_to_matrix(np.asarray(reference_jaw, dtype=np.float64))
    rot = axis_angle_to_matrix(np.asarray(jaw, dtype=np.float64))
    return matrix_to_axis_angle(np.swapaxes(ref, -1, -2) @ rot)


def transfer_examples(intensities: NDArray[np.floating], ict_expression: NDArray[np.floating],
                      tendency: NDArray[np.floating], flame: FlameModel, ict_model: LinearHeadModel,
                      corr: FlameCorrespondence, reference: FlameReference,
                      settings: FlameTransferSettings | None = None) -> FlameTransfer:
    """Fit FLAME (ψ, jaw, translation; β and the other joints held) to each example's ICT mesh.

    Args:
        intensities: ``(N, 7)`` the examples' intensities (all-zero rows are not fitted: the reference).
        ict_expression: ``(N, E_ict)`` their ICT expression weights.
        tendency: ``(N, 3)`` their head tendency (axis-angle, radians), copied into the targets.
        flame: the FLAME buffers.
        ict_model: ICT FaceKit (the table's model).
        corr: the ICT↔FLAME table.
        reference: :func:`flame_reference` of the same file and settings.
        settings: the fits' settings.

    Returns:
        The fits and the ``(N, E' + 6)`` targets (module docstring).
    """
    settings = FlameTransferSettings() if settings is None else settings
    s = np.asarray(intensities, dtype=np.float64)
    w = np.asarray(ict_expression, dtype=np.float64)
    ref = reference.params
    n = len(s)
    expression = np.repeat(ref.expression[None], n, axis=0)
    pose = np.repeat(ref.pose[None], n, axis=0)
    translation = np.repeat(ref.translation[None], n, axis=0)
    fit_m = np.full(n, reference.fit_m)
    fitted = np.any(s > 0.0, axis=1)
    fit_settings = replace(settings.fit, free_joints=settings.example_joints)
    start = time.perf_counter()
    for i in np.flatnonzero(fitted):
        fit = fit_flame_to_mesh(flame, corr.flame_vertex_ids, ict_points(ict_model, corr, w[i])[0],
                                settings=fit_settings, fixed_shape=ref.shape, initial_pose=ref.pose)
        expression[i], pose[i], translation[i] = fit.params.expression, fit.params.pose, fit.params.translation
        fit_m[i] = fit.mean_distance_m
    seconds = time.perf_counter() - start
    jaw = flame.joint_index("jaw")
    targets = np.concatenate([expression - ref.expression, np.asarray(tendency, dtype=np.float64),
                              jaw_change(ref.pose[jaw], pose[:, jaw])], axis=1)
    targets[~fitted] = 0.0
    drift = np.linalg.norm(translation - ref.translation, axis=1)
    return FlameTransfer(s, w, targets, expression, pose, translation, fit_m, drift, fitted, seconds)


def generated_transfer(examples: GeneratorSettings, flame: FlameModel, ict_model: LinearHeadModel,
                       corr: FlameCorrespondence, reference: FlameReference,
                       settings: FlameTransferSettings | None = None) -> FlameTransfer:
    """:func:`sample_examples` of ``examples`` moved to FLAME by :func:`transfer_examples`."""
    s, w, tendency = sample_examples(examples, ict_model)
    return transfer_examples(s, w, tendency, flame, ict_model, corr, reference, settings)
