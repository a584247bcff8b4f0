"""Linear morphable head model: data holder plus the pure blend maths.

``vertices = template + Σ_i α_i · identity_basis[i] + Σ_j w_j · expression_basis[j]``  (metres, model frame).

A skinned model (FLAME: joints, linear blend skinning, pose correctives) fits the same interface by giving
``blend_vertices`` a pose-dependent step; ``HeadParams.joint_rotations`` carries its joint angles and is empty
for ICT FaceKit.
"""

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from headcast.geometry.camera import HeadPose, transform_points

PartName = Literal[
    "face", "head_neck", "mouth_socket", "eye_sockets", "gums_tongue", "teeth", "eyeballs", "eye_blend", "eyelashes"
]


@dataclass(frozen=True, eq=False)
class LinearHeadModel:
    """Buffers of a linear head model. Batch size comes from the inputs, never from the model.

    Attributes:
        name: model id written to params.json, e.g. ``"ict-facekit"``.
        template: ``(V, 3)`` float32 neutral mean head, metres.
        identity_basis: ``(K, V, 3)`` float32 identity modes (1 σ each), metres.
        expression_basis: ``(E, V, 3)`` float32 expression deltas at weight 1, metres.
        expression_names: ``E`` ARKit-style names, e.g. ``"mouthSmile_L"``.
        triangles: ``(T, 3)`` int32 vertex indices, counter-clockwise from outside.
        triangle_uvs: ``(T, 3)`` int32 indices into ``uv``.
        uv: ``(U, 2)`` float32 texture coordinates, origin bottom-left.
        triangle_material: ``(T,)`` int16 index into ``material_names``.
        material_names: the model's material names.
        parts: sub-mesh vertex ranges ``{name: (start, stop)}`` (stop exclusive).
        landmarks68: ``(68,)`` int vertex ids of the iBUG-68 points, iBUG order.
        face_vertices: ``(N,)`` int vertex ids of the face region used for geometry evaluation.
    """

    name: str
    template: NDArray[np.float32]
    identity_basis: NDArray[np.float32]
    expression_basis: NDArray[np.float32]
    expression_names: tuple[str, ...]
    triangles: NDArray[np.int32]
    triangle_uvs: NDArray[np.int32]
    uv: NDArray[np.float32]
    triangle_material: NDArray[np.int16]
    material_names: tuple[str, ...]
    parts: dict[str, tuple[int, int]]
    landmarks68: NDArray[np.int64]
    face_vertices: NDArray[np.int64]

    @property
    def num_vertices(self) -> int:
        """V."""
        return int(self.template.shape[0])

    @property
    def num_identity(self) -> int:
        """K."""
        return int(self.identity_basis.shape[0])

    @property
    def num_expressions(self) -> int:
        """E."""
        return int(self.expression_basis.shape[0])

    def expression_index(self, name: str) -> int:
        """Index of an expression shape by name (KeyError names the known shapes)."""
        try:
            return self.expression_names.index(name)
        except ValueError:
            raise KeyError(f"unknown expression '{name}'; known: {', '.join(self.expression_names)}") from None

    def part_mask(self, *names: str) -> NDArray[np.bool_]:
        """``(V,)`` bool mask of the vertices in the named parts."""
        mask = np.zeros(self.num_vertices, dtype=bool)
        for n in names:
            start, stop = self.parts[n]
            mask[start:stop] = True
        return mask


@dataclass(frozen=True)
class HeadParams:
    """Parameters of one head.

    Attributes:
        identity: ``(K,)`` identity coefficients (σ units).
        expression: ``(E,)`` expression weights in [0, 1], in the model's ``expression_names`` order.
        pose: model-to-camera transform.
        joint_rotations: ``(J, 3)`` axis-angle per joint for skinned models; ``(0, 3)`` for linear models.
    """

    identity: NDArray[np.float64]
    expression: NDArray[np.float64]
    pose: HeadPose
    joint_rotations: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 3)))

    def expression_dict(self, model: LinearHeadModel) -> dict[str, float]:
        """``{shape name: weight}`` in the model's order."""
        return {n: float(w) for n, w in zip(model.expression_names, self.expression, strict=True)}


@dataclass(frozen=True, eq=False)
class HeadMesh:
    """A posed head: the model's topology with vertices in one frame.

    Attributes:
        vertices: ``(V, 3)`` float32, metres, in the model frame (``frame="model"``) or camera frame.
        model: the model the topology, UVs and parts come from.
        frame: which frame ``vertices`` are in.
    """

    vertices: NDArray[np.float32]
    model: LinearHeadModel
    frame: Literal["model", "camera"] = "model"


def blend_vertices(
    model: LinearHeadModel,
    identity: NDArray[np.floating],
    expression: NDArray[np.floating],
    vertex_ids: NDArray[np.integer] | None = None,
) -> NDArray[np.float64]:
    """Linear blend of template, identity and expression bases.

    Args:
        model: the model buffers.
        identity: ``(..., K')`` coefficients with K' ≤ K (the first K' modes are used).
        expression: ``(..., E)`` weights.
        vertex_ids: optional ``(N,)`` subset of vertices to evaluate (fast path for fitting).

    Returns:
        ``(..., V, 3)`` (or ``(..., N, 3)``) float64 vertices in the model frame, metres.
    """
    ids = slice(None) if vertex_ids is None else np.asarray(vertex_ids)
    # The bases are float32; products stay in float32 (no float64 copy of a 20 MB basis), sums in float64.
    a = np.asarray(identity, dtype=np.float32)
    w = np.asarray(expression, dtype=np.float32)
    k = a.shape[-1]
    out = model.template[ids].astype(np.float64)
    if k:
        basis = model.identity_basis[:k] if vertex_ids is None else model.identity_basis[:k][:, ids]
        out = out + np.tensordot(a, basis, axes=([-1], [0]))
    if w.shape[-1]:
        basis = model.expression_basis if vertex_ids is None else model.expression_basis[:, ids]
        out = out + np.tensordot(w, basis, axes=([-1], [0]))
    return out


def pose_head(model: LinearHeadModel, params: HeadParams, frame: Literal["model", "camera"] = "model") -> HeadMesh:
    """Evaluate the full mesh of ``params``; in the camera frame when ``frame="camera"``."""
    v = blend_vertices(model, params.identity, params.expression)
    if frame == "camera":
        v = transform_points(v, params.pose)
    return HeadMesh(v.astype(np.float32), model, frame)
