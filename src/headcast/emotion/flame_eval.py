"""Held-out evaluation of a FLAME emotion network, in millimetres on the mesh.

On examples the network was not trained on (another generator seed; :func:`held_out_transfer`), each fitted row is
compared three ways (mean per-vertex distance, mm, averaged over the rows):

* ``net_vs_fit``: the FLAME mesh of the network's output (reference β, ψ₀ + e(s), reference pose with the jaw turned
  by j(s), reference translation) against the FLAME mesh of the transferred fit (its ψ, jaw and translation), over
  FLAME's skin vertices (not the eyeballs); ``net_vs_target`` the same with the fit placed at the reference
  translation — what the network is trained to reproduce (the fit's translation change is not a target,
  :mod:`headcast.emotion.flame_targets`), so the difference of the two is the drift's share;
* ``net_vs_ict``: the same network mesh against the ICT mesh the example came from, at the table's corresponded
  vertices — what a user sees, bounded below by ``fit_vs_ict`` (the transfer's own error; FLAME cannot follow ICT
  more closely than the fit does);
* ``*_motion_error``: the same at the corresponded vertices for the *expression motion* alone — each FLAME mesh
  minus neutral FLAME (the reference) against the ICT mesh minus ICT's neutral head — which leaves out the static
  mismatch of the two neutral heads (``zero_vs_ict``) that no expression can remove;
* the ``zero_*`` baselines: a network that outputs nothing (the reference, neutral FLAME) against the same;
  ``ict_motion`` how far the ICT expression moves the corresponded points (the zero baseline of the motion error).

The head tendency (global rotation) turns the whole head and is in neither mesh: it is scored separately as the
angle between the network's and the target's rotation (degrees), and the jaw likewise.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headcast.emotion.flame_targets import (
    FlameReference,
    FlameTransfer,
    FlameTransferSettings,
    generated_transfer,
    ict_points,
)
from headcast.emotion.generator import GeneratorSettings
from headcast.emotion.model import EmotionMLP, mlp_forward
from headcast.fitting.flame_correspondence import FLAME_EYEBALL_START, FlameCorrespondence
from headcast.geometry.rotation import axis_angle_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import LinearHeadModel
from headcast.headmodel.flame import FlameModel, flame_lbs

_CHUNK = 32  # meshes per flame_lbs call (memory: chunk × 5023 × 3 × 150 float64)


def held_out_examples(num_examples: int = 100, seed: int = 1) -> GeneratorSettings:
    """Generator settings of a held-out set: another seed, no single-emotion grid (the training set has it)."""
    return GeneratorSettings(num_examples=num_examples, seed=seed, grid_steps=0)


@dataclass(frozen=True)
class FlameEmotionEvaluation:
    """Held-out errors of a FLAME emotion network (module docstring); distances in mm, angles in degrees.

    Attributes:
        examples: fitted (non-neutral) held-out rows scored.
        net_vs_fit_mm: network mesh vs the transferred fit's mesh, FLAME skin.
        net_vs_target_mm: network mesh vs the fit's mesh at the reference translation (the learned target), skin.
        zero_vs_fit_mm: neutral FLAME vs the fit's mesh, FLAME skin (the zero-output baseline).
        zero_vs_target_mm: neutral FLAME vs the fit's mesh at the reference translation, skin.
        net_vs_ict_mm: network mesh vs the ICT mesh, corresponded vertices.
        fit_vs_ict_mm: the fit vs the ICT mesh, corresponded vertices (the transfer's floor).
        zero_vs_ict_mm: neutral FLAME vs the ICT mesh, corresponded vertices.
        net_motion_error_mm: network mesh − neutral FLAME vs ICT mesh − ICT neutral, corresponded vertices.
        fit_motion_error_mm: the fit's mesh − neutral FLAME vs the same (the transfer's floor).
        ict_motion_mm: ICT expression mesh vs ICT's neutral head, corresponded points (zero baseline of the two).
        global_error_deg: mean angle between the network's and the target head tendency.
        jaw_error_deg: mean angle between the network's and the fit's jaw change.
        translation_drift_mm: mean translation change of the fits (in ``*_vs_fit``, not learned).
    """

    examples: int
    net_vs_fit_mm: float
    net_vs_target_mm: float
    zero_vs_fit_mm: float
    zero_vs_target_mm: float
    net_vs_ict_mm: float
    fit_vs_ict_mm: float
    zero_vs_ict_mm: float
    net_motion_error_mm: float
    fit_motion_error_mm: float
    ict_motion_mm: float
    global_error_deg: float
    jaw_error_deg: float
    translation_drift_mm: float


def flame_meshes(flame: FlameModel, shape: NDArray[np.floating], expression: NDArray[np.floating],
                 pose: NDArray[np.floating], translation: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(N, V, 3)`` FLAME meshes, metres.

    Args:
        flame: the buffers.
        shape: ``(S',)`` β, shared by all meshes.
        expression: ``(N, E')`` ψ.
        pose: ``(N, 5, 3)`` θ, axis-angle radians.
        translation: ``(N, 3)`` metres.
    """
    out = []
    for start in range(0, len(expression), _CHUNK):
        psi = np.asarray(expression[start : start + _CHUNK], dtype=np.float64)
        beta = np.repeat(np.asarray(shape, dtype=np.float64)[None], len(psi), axis=0)
        lbs = flame_lbs(flame, beta, psi, np.asarray(pose[start : start + _CHUNK]))
        out.append(lbs.vertices + np.asarray(translation[start : start + _CHUNK])[:, None, :])
    return np.concatenate(out) if out else np.zeros((0, flame.num_vertices, 3))


def _angle_deg(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(N,)`` angle of ``exp(a)ᵀ exp(b)``, degrees."""
    rel = np.swapaxes(axis_angle_to_matrix(a), -1, -2) @ axis_angle_to_matrix(b)
    return np.asarray(np.degrees(np.linalg.norm(matrix_to_axis_angle(rel), axis=-1)), dtype=np.float64)


def evaluate_flame_emotion(net: EmotionMLP, flame: FlameModel, ict_model: LinearHeadModel, corr: FlameCorrespondence,
                           reference: FlameReference, held_out: FlameTransfer) -> FlameEmotionEvaluation:
    """Score ``net`` on ``held_out`` (examples it was not trained on; the module docstring).

    Args:
        net: the FLAME network.
        flame: the FLAME buffers it was trained for.
        ict_model: ICT FaceKit.
        corr: the ICT↔FLAME table.
        reference: the reference the targets are relative to (same file and transfer settings as the training).
        held_out: transferred held-out examples (:func:`held_out_transfer`).
    """
    rows = np.flatnonzero(held_out.fitted)
    s = held_out.intensities[rows]
    n_expr = held_out.expression.shape[1]
    sl = net.layout.slices()
    out = mlp_forward(net, s)
    ref = reference.params
    jaw = flame.joint_index("jaw")
    n = len(rows)
    net_pose = np.repeat(ref.pose[None], n, axis=0)
    jaw_rot = axis_angle_to_matrix(ref.pose[jaw]) @ axis_angle_to_matrix(out[:, sl["jaw"]])
    net_pose[:, jaw] = matrix_to_axis_angle(jaw_rot)
    ref_t = np.repeat(ref.translation[None], n, axis=0)
    net_mesh = flame_meshes(flame, ref.shape, ref.expression + out[:, sl["expression"]][:, :n_expr], net_pose, ref_t)
    fit_mesh = flame_meshes(flame, ref.shape, held_out.expression[rows], held_out.pose[rows],
                            held_out.translation[rows])
    target_mesh = flame_meshes(flame, ref.shape, held_out.expression[rows], held_out.pose[rows], ref_t)
    zero_mesh = flame_meshes(flame, ref.shape, ref.expression[None], ref.pose[None], ref.translation[None])
    skin = np.arange(min(FLAME_EYEBALL_START, flame.num_vertices))
    ids = corr.flame_vertex_ids
    ict = ict_points(ict_model, corr, held_out.ict_expression[rows])
    ict_neutral = ict_points(ict_model, corr, np.zeros(ict_model.num_expressions))

    def mean_mm(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
        return float(np.linalg.norm(a - b, axis=-1).mean() * 1000.0) if n else 0.0

    targets = held_out.targets[rows]
    n_out = targets.shape[1] - 6
    return FlameEmotionEvaluation(
        examples=n,
        net_vs_fit_mm=mean_mm(net_mesh[:, skin], fit_mesh[:, skin]),
        net_vs_target_mm=mean_mm(net_mesh[:, skin], target_mesh[:, skin]),
        zero_vs_fit_mm=mean_mm(zero_mesh[:, skin], fit_mesh[:, skin]),
        zero_vs_target_mm=mean_mm(zero_mesh[:, skin], target_mesh[:, skin]),
        net_vs_ict_mm=mean_mm(net_mesh[:, ids], ict),
        fit_vs_ict_mm=mean_mm(fit_mesh[:, ids], ict),
        zero_vs_ict_mm=mean_mm(zero_mesh[:, ids], ict),
        net_motion_error_mm=mean_mm(net_mesh[:, ids] - zero_mesh[:, ids], ict - ict_neutral),
        fit_motion_error_mm=mean_mm(fit_mesh[:, ids] - zero_mesh[:, ids], ict - ict_neutral),
        ict_motion_mm=mean_mm(ict_neutral, ict),
        global_error_deg=float(_angle_deg(out[:, sl["global"]], targets[:, n_out : n_out + 3]).mean()) if n else 0.0,
        jaw_error_deg=float(_angle_deg(out[:, sl["jaw"]], targets[:, n_out + 3 :]).mean()) if n else 0.0,
        translation_drift_mm=float(held_out.translation_drift_m[rows].mean() * 1000.0) if n else 0.0,
    )


def held_out_transfer(flame: FlameModel, ict_model: LinearHeadModel, corr: FlameCorrespondence,
                      reference: FlameReference, examples: GeneratorSettings | None = None,
                      settings: FlameTransferSettings | None = None) -> FlameTransfer:
    """Held-out examples (default :func:`held_out_examples`) moved to FLAME like the training set."""
    examples = held_out_examples() if examples is None else examples
    return generated_transfer(examples, flame, ict_model, corr, reference, settings)
