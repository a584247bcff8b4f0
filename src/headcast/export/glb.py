"""Binary glTF 2.0 (GLB) writer: a textured head with named morph targets, fitted expression baked in.

Convention:
    Positions in metres in the neutral **model frame** (+y up, +z forward — glTF's own frame), identity
    applied. The morph targets are those of :mod:`headcast.export.morphs` — for ICT FaceKit the 52 ARKit shapes
    under their exact names (``eyeBlinkLeft`` … ``tongueOut``), the 15 Oculus visemes (``viseme_sil`` …) and the
    model's extra shapes — named in ``mesh.extras.targetNames`` (read by three.js, Blender and Unity), each a fixed
    combination of the model's expression shapes; ``mesh.extras.targetSources`` says which model shapes set each
    target (``{target: {shape: gain}}``). The fitted expression is written as target weights in ``mesh.weights``
    and what they cannot show (the difference of ICT's left and right ``browInnerUp``/``cheekPuff`` halves; for
    FLAME the coefficients past ``ExportSettings.max_coefficient_targets``) is baked into the positions, so a viewer
    shows ``positions + Σ u_t · target_t`` = the fitted head (glTF allows any float morph weight, so negative and
    > 1 coefficients are written as they are). UVs are the texture atlas coordinates flipped to glTF's top-left
    origin (``v' = 1 − v``); vertices are split at UV seams. Targets are sparse accessors holding only the vertices
    that move.

Rig of a linear model (ICT FaceKit; ``ExportSettings.head_rig``):
    The joints ``Neck → Head → LeftEye, RightEye`` of :mod:`headcast.export.rig` (positions from the avatar's rest
    mesh, skin weights from the template), all at rest (identity rotations): the GLB shows the forward-facing
    fitted head, and engines turn the head and eyes by the joints. The photo's head pose (``HeadParams.pose``'s
    rotation) is the ``Head`` joint's rotation in the one-key animation ``photo_pose``
    (:func:`photo_pose_rotation`), not baked. Everything else as below.

Skin (a model with a :class:`~headcast.headmodel.base.Skeleton`, e.g. FLAME):
    The head node is skinned (glTF ``skin``; the node has no transform of its own, as glTF asks of skinned
    meshes). One node per joint, named by ``Skeleton.joint_names`` (FLAME's as engines name them,
    :data:`ENGINE_JOINT_NAMES`), in the skeleton's hierarchy (children of their
    parent joint; the root joint is a scene root): ``translation`` = the rest joint position relative to the
    parent's (the root's: relative to the model origin), ``rotation`` = the fitted ``HeadParams.joint_rotations``
    as a unit quaternion ``(x, y, z, w)``. Rest joints are regressed from the shaped rest mesh with the fitted
    expression (``headcast.headmodel.lbs``), so ``inverseBindMatrices`` are the translations by ``−J_j``. Every
    vertex has ``JOINTS_0`` / ``WEIGHTS_0``: its four largest skinning weights, renormalised to sum to 1 (float),
    with unsigned-byte joint indices (unsigned short past 256 joints) and joint 0 in unused slots. The positions are
    the **bind pose**: the shaped rest mesh plus the pose correctives at the fitted joint rotations — glTF has no
    pose-corrective blend shapes, so they are baked in for the fitted pose and stay fixed when a viewer turns a
    joint, and the joints stay where the fitted expression put them when a viewer changes a morph weight. At the
    stored rotations a glTF viewer (morph targets, then skinning) shows ``head_vertices(model, params)`` up to
    float32 storage and the four-influence cut (exact for a skeleton whose vertices have at most four joints).
    The head pose (model → camera) is not applied: the mesh stays in the model frame, like an unskinned head.

Layout: node 0 the head (one mesh, one primitive per material group: single-sided skin, eyes, teeth, mouth;
double-sided lashes, when the model has them), node 1 the hair when there is hair (a child of the ``Head`` joint
when there are joints, its positions in that joint's frame, so it turns with the head), then the joints. The head
primitive uses the atlas (PNG, or JPEG for ``web``); the lash primitive is alpha-blended (``BLEND``) with its own
RGBA PNG of single lashes (:mod:`headcast.texture.lashes`) over the model's own lash-tile UVs, so any glTF renderer
draws lashes, not the opaque dark band the atlas' flat lash cell gave.
"""

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pygltflib as gl
from numpy.typing import NDArray

import headcast
from headcast.avatar import Avatar
from headcast.export.compress import compress_glb
from headcast.export.images import jpeg_bytes, png_bytes
from headcast.export.mesh import SeamSplit, material_mask, safe_normals, split_uv_seams
from headcast.export.morphs import MorphSet, morph_set, shown_weights, target_sources
from headcast.export.rig import HEAD_JOINT, has_eye_joints
from headcast.export.rig import head_rig as make_head_rig
from headcast.export.settings import ExportSettings
from headcast.geometry.mesh import morphed_normals, normal_sums, vertex_normals
from headcast.geometry.rotation import axis_angle_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import LinearHeadModel, rest_vertices
from headcast.headmodel.lbs import kinematic_chain, pose_feature, regress_joints, rodrigues
from headcast.headmodel.warp import OutlineWarp
from headcast.texture.lashes import lash_texture
from headcast.texture.types import UVTexture

if TYPE_CHECKING:
    from headcast.hair.gltf import StrandGeometry

_USHORT_LIMIT = 65535  # 65535 itself is the primitive-restart value: keep ushort indices below it
_UBYTE_JOINTS = 256  # joint indices fit an unsigned byte up to this many joints
MAX_INFLUENCES = 4
"""Joints per vertex in ``JOINTS_0`` / ``WEIGHTS_0`` (one glTF attribute set)."""
_VECTOR_TYPES = {2: gl.VEC2, 3: gl.VEC3, 4: gl.VEC4}


@dataclass(frozen=True, eq=False)
class _Group:
    """Triangles exported as one primitive."""

    material: str
    double_sided: bool
    split: SeamSplit


class _BinaryChunk:
    """Accumulates the GLB binary chunk; each buffer view starts on a 4-byte boundary."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.length = 0
        self.views: list[gl.BufferView] = []

    def add(self, data: bytes, target: int | None = None) -> int:
        pad = (-self.length) % 4
        if pad:
            self.parts.append(b"\0" * pad)
            self.length += pad
        self.views.append(
            gl.BufferView(buffer=0, byteOffset=self.length, byteLength=len(data), target=target)
        )
        self.parts.append(data)
        self.length += len(data)
        return len(self.views) - 1

    def blob(self) -> bytes:
        data = b"".join(self.parts)
        return data + b"\0" * ((-len(data)) % 4)


class _Builder:
    """Appends accessors to a glTF document whose binary data goes into one ``_BinaryChunk``."""

    def __init__(self) -> None:
        self.chunk = _BinaryChunk()
        self.accessors: list[gl.Accessor] = []

    def _push(self, accessor: gl.Accessor) -> int:
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def vec(self, values: NDArray[np.float32], with_bounds: bool, vertex_attribute: bool = True) -> int:
        """Add a dense float VEC2/VEC3/VEC4 accessor ``(N, C)``: a vertex attribute, or e.g. animation keys."""
        v = np.ascontiguousarray(values, dtype=np.float32)
        view = self.chunk.add(v.tobytes(), gl.ARRAY_BUFFER if vertex_attribute else None)
        return self._push(
            gl.Accessor(
                bufferView=view,
                componentType=gl.FLOAT,
                count=len(v),
                type=_VECTOR_TYPES[v.shape[1]],
                min=_bounds(v.min(axis=0)) if with_bounds else None,
                max=_bounds(v.max(axis=0)) if with_bounds else None,
            )
        )

    def scalar(self, values: NDArray[np.float32]) -> int:
        """Add a dense float SCALAR vertex attribute ``(N,)`` (custom ``_`` attributes)."""
        v = np.ascontiguousarray(values, dtype=np.float32)
        view = self.chunk.add(v.tobytes(), gl.ARRAY_BUFFER)
        return self._push(gl.Accessor(bufferView=view, componentType=gl.FLOAT, count=len(v), type=gl.SCALAR))

    def scalar_with_bounds(self, values: NDArray[np.float32]) -> int:
        """Add a float SCALAR accessor with min/max (animation key times need them), not a vertex attribute."""
        v = np.ascontiguousarray(values, dtype=np.float32)
        view = self.chunk.add(v.tobytes())
        return self._push(gl.Accessor(bufferView=view, componentType=gl.FLOAT, count=len(v), type=gl.SCALAR,
                                      min=_bounds(v.min(keepdims=True)), max=_bounds(v.max(keepdims=True))))

    def joints(self, joints: NDArray[np.integer], num_joints: int) -> int:
        """Add a ``JOINTS_0`` attribute ``(N, 4)``: UNSIGNED_BYTE indices up to 256 joints, else UNSIGNED_SHORT."""
        small = num_joints <= _UBYTE_JOINTS
        v = np.ascontiguousarray(joints, dtype=np.uint8 if small else np.uint16)
        view = self.chunk.add(v.tobytes(), gl.ARRAY_BUFFER)
        return self._push(
            gl.Accessor(
                bufferView=view,
                componentType=gl.UNSIGNED_BYTE if small else gl.UNSIGNED_SHORT,
                count=len(v),
                type=gl.VEC4,
            )
        )

    def matrices(self, matrices: NDArray[np.floating]) -> int:
        """Add ``(N, 4, 4)`` matrices (acting on column vectors) as a MAT4 accessor, stored column-major."""
        m = np.ascontiguousarray(np.swapaxes(np.asarray(matrices, dtype=np.float32), 1, 2))
        view = self.chunk.add(m.tobytes())
        return self._push(gl.Accessor(bufferView=view, componentType=gl.FLOAT, count=len(m), type=gl.MAT4))

    def indices(self, triangles: NDArray[np.integer], num_vertices: int) -> int:
        """Add triangle indices ``(T, 3)`` as UNSIGNED_SHORT when they fit, else UNSIGNED_INT."""
        small = num_vertices < _USHORT_LIMIT
        flat = np.ascontiguousarray(triangles, dtype=np.uint16 if small else np.uint32).ravel()
        view = self.chunk.add(flat.tobytes(), gl.ELEMENT_ARRAY_BUFFER)
        return self._push(
            gl.Accessor(
                bufferView=view,
                componentType=gl.UNSIGNED_SHORT if small else gl.UNSIGNED_INT,
                count=len(flat),
                type=gl.SCALAR,
            )
        )

    def delta(self, target: "_SparseTarget") -> int:
        """Add a morph-target VEC3 accessor for a thresholded ``_SparseTarget``.

        Stored sparse (no base buffer view: zeros plus the moving rows) unless dense is smaller.
        """
        n, keep, values = target.count, target.rows, target.values
        bounds = {"min": target.low, "max": target.high}
        small = n < _USHORT_LIMIT
        if len(keep) == 0:
            return self._push(
                gl.Accessor(byteOffset=None, componentType=gl.FLOAT, count=n, type=gl.VEC3, **bounds)
            )
        if len(keep) * (12 + (2 if small else 4)) >= 12 * n:
            effective = np.zeros((n, 3), dtype=np.float32)
            effective[keep] = values
            view = self.chunk.add(effective.tobytes(), gl.ARRAY_BUFFER)
            return self._push(
                gl.Accessor(bufferView=view, componentType=gl.FLOAT, count=n, type=gl.VEC3, **bounds)
            )
        index_view = self.chunk.add(keep.astype(np.uint16 if small else np.uint32).tobytes())
        value_view = self.chunk.add(values.tobytes())
        sparse = gl.Sparse(
            count=len(keep),
            indices=gl.AccessorSparseIndices(
                bufferView=index_view, componentType=gl.UNSIGNED_SHORT if small else gl.UNSIGNED_INT
            ),
            values=gl.AccessorSparseValues(bufferView=value_view),
        )
        accessor = gl.Accessor(
            byteOffset=None, componentType=gl.FLOAT, count=n, type=gl.VEC3, sparse=sparse, **bounds
        )
        return self._push(accessor)


@dataclass(frozen=True, eq=False)
class _SparseTarget:
    """One morph-target attribute after thresholding: ``count`` rows, of which ``rows`` are non-zero."""

    count: int
    rows: NDArray[np.int64]
    values: NDArray[np.float32]
    low: list[float]
    high: list[float]

    @classmethod
    def from_deltas(cls, deltas: NDArray[np.floating], epsilon: float) -> "_SparseTarget":
        """Rows of ``(N, 3)`` deltas shorter than ``epsilon`` become zero."""
        d = np.ascontiguousarray(deltas, dtype=np.float32)
        keep = np.flatnonzero(np.linalg.norm(d, axis=1) >= epsilon)
        values = d[keep]
        zero = np.zeros((1, 3), dtype=np.float32)
        low = np.concatenate([values, zero]).min(axis=0) if len(keep) < len(d) else values.min(axis=0)
        high = np.concatenate([values, zero]).max(axis=0) if len(keep) < len(d) else values.max(axis=0)
        return cls(len(d), keep, values, _bounds(low), _bounds(high))


_GroupsAndTargets = tuple[list[_Group], list[list[tuple[_SparseTarget, _SparseTarget | None]]]]


def _groups_and_targets(model: LinearHeadModel, settings: ExportSettings) -> _GroupsAndTargets:
    """Primitives and their morph targets, kept in ``model.memo`` per settings (see :func:`_build_groups`)."""
    return model.memo.get(("export.glb", settings), lambda: _build_groups(model, settings))


def glb_morphs(model: LinearHeadModel, settings: ExportSettings) -> MorphSet:
    """The GLB's morph targets (:func:`headcast.export.morphs.morph_set`), kept in ``model.memo``."""
    return model.memo.get(
        ("export.morphs", settings.max_coefficient_targets),
        lambda: morph_set(model, settings.max_coefficient_targets),
    )


def _build_groups(model: LinearHeadModel, settings: ExportSettings) -> _GroupsAndTargets:
    """Primitives and their morph targets; identity-independent, so computed once per model and settings.

    Position deltas are combinations of the model's expression basis (exact for every identity;
    :mod:`headcast.export.morphs`). Normal deltas are computed on the mean head: the change of a vertex normal under
    an expression barely depends on the identity, and computing it per avatar cost ~0.8 s.
    """
    groups = _groups(model, settings)
    morphs = glb_morphs(model, settings)
    keep_tris = model.triangles[~material_mask(model, settings.exclude_roles)]
    template = model.template.astype(np.float64)
    sums = normal_sums(template, keep_tris)
    base_normals = vertex_normals(template, keep_tris)
    per_group: list[list[tuple[_SparseTarget, _SparseTarget | None]]] = [[] for _ in groups]
    normal_epsilon = settings.web_normal_epsilon if settings.quality == "web" else settings.normal_epsilon
    for t in range(len(morphs.names)):
        delta = morphs.delta(model, t)
        normals = morphed_normals(template, keep_tris, delta, sums) if settings.normal_targets else None
        for g, group in enumerate(groups):
            vid = group.split.vertex_ids
            pos = _SparseTarget.from_deltas(delta[vid], settings.morph_epsilon_m)
            nrm = (
                None
                if normals is None
                else _SparseTarget.from_deltas(normals[vid] - base_normals[vid], normal_epsilon)
            )
            per_group[g].append((pos, nrm))
    return groups, per_group


def prepare_glb_export(model: LinearHeadModel, settings: ExportSettings) -> None:
    """Compute the identity-independent morph-target data now (start-up) instead of in the first export."""
    _groups_and_targets(model, settings)


def morph_target_count(model: LinearHeadModel, settings: ExportSettings) -> int:
    """How many morph targets the GLB has (:mod:`headcast.export.morphs`).

    ARKit's 52, the 15 visemes and the model's other shapes for a model with canonical names; otherwise one per
    blend-shape weight, or the first ``settings.max_coefficient_targets`` coefficients.
    """
    return len(glb_morphs(model, settings).names)


def bind_pose_vertices(
    model: LinearHeadModel,
    identity: NDArray[np.floating],
    rest_expression: NDArray[np.floating],
    joint_rotations: NDArray[np.floating] | None,
    warp: OutlineWarp | None = None,
) -> NDArray[np.float64]:
    """Positions the GLB stores: the rest blend with what the morph targets do not show, plus pose correctives.

    ``template + Σ α_i·identity_i + Σ_j r_j·expression_j`` with ``r`` the part of the fitted expression the
    target weights leave out (:func:`headcast.export.morphs.shown_weights`), plus, for a skinned model, the
    pose-corrective offsets ``Σ_p P_p f_p(θ)`` at ``joint_rotations`` (``headcast.headmodel.lbs``: zero at the rest
    pose).

    Args:
        model: the head model.
        identity: ``(K',)`` identity coefficients, K' ≤ K.
        rest_expression: ``(E,)`` the expression baked into the positions.
        joint_rotations: ``(J, 3)`` axis-angle per joint, radians; None for a model without a skeleton.
        warp: the avatar's outline warp (``HeadParams.warp``), baked into the positions; None: none.

    Returns:
        ``(V, 3)`` float64 model-frame vertices, metres.
    """
    base = rest_vertices(model, identity, np.asarray(rest_expression, dtype=np.float64), warp)
    skel = model.skeleton
    if skel is None or joint_rotations is None:
        return base
    feature = pose_feature(rodrigues(joint_rotations)[None])  # (1, 9 (J − 1))
    corrective = np.tensordot(feature.astype(skel.posedirs.dtype), skel.posedirs, axes=([1], [2]))[0]
    return base + corrective


def skin_influences(lbs_weights: NDArray[np.floating]) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """The :data:`MAX_INFLUENCES` largest skinning weights of each vertex, renormalised as glTF requires.

    glTF's rules (and the Khronos validator's): weights are non-negative and sum to 1 (checked in float32, to
    2e-7 per used weight), a joint appears at most once per vertex among the non-zero weights, and an unused slot
    (weight 0) has joint 0. The float32 sum is made 1 by giving the rounding residue to the largest weight.

    Args:
        lbs_weights: ``(N, J)`` skinning weights, non-negative, each row with a positive sum.

    Returns:
        ``(joints, weights)``: ``(N, 4)`` int64 joint indices and ``(N, 4)`` float32 weights, largest first.
    """
    w = np.clip(np.asarray(lbs_weights, dtype=np.float64), 0.0, None)
    n = w.shape[0]
    order = np.argsort(-w, axis=1, kind="stable")[:, :MAX_INFLUENCES]
    joints = np.zeros((n, MAX_INFLUENCES), dtype=np.int64)
    weights = np.zeros((n, MAX_INFLUENCES), dtype=np.float64)
    joints[:, : order.shape[1]] = order
    weights[:, : order.shape[1]] = np.take_along_axis(w, order, axis=1)
    total = weights.sum(axis=1, keepdims=True)
    if np.any(total <= 0.0):
        raise ValueError("every vertex needs a positive skinning weight")
    out = (weights / total).astype(np.float32)
    residue = np.float32(1.0) - out.sum(axis=1, dtype=np.float32)
    out[:, 0] += residue
    joints[out == 0.0] = 0
    return joints, out


def quaternion_xyzw(axis_angle: NDArray[np.floating]) -> NDArray[np.float64]:
    """Unit quaternions ``(x, y, z, w)`` (glTF's order) of axis-angle vectors.

    ``q = (sin(θ/2) · r/θ, cos(θ/2))`` with ``θ = |r|``; ``sin(θ/2)/θ = ½ sinc(θ/2π)`` is exact at ``r = 0``.

    Args:
        axis_angle: ``(..., 3)`` rotation vectors, radians.

    Returns:
        ``(..., 4)`` float64 unit quaternions.
    """
    r = np.asarray(axis_angle, dtype=np.float64)
    theta = np.linalg.norm(r, axis=-1, keepdims=True)
    return np.concatenate([0.5 * np.sinc(theta / (2.0 * np.pi)) * r, np.cos(theta / 2.0)], axis=-1)


ENGINE_JOINT_NAMES = {"global": "Neck", "neck": "Head", "jaw": "Jaw", "eye_left": "LeftEye", "eye_right": "RightEye"}
"""GLB joint names of a FLAME skeleton's joints: the names engines look for (the rig's, :mod:`headcast.export.rig`).
FLAME's root turns the head and neck about the neck's base, its ``neck`` joint the head alone."""


@dataclass(frozen=True, eq=False)
class _Skin:
    """What the GLB's skin is made of.

    Attributes:
        joint_names: ``J`` names of the GLB's joint nodes, parents first.
        parents: ``(J,)`` parent of each joint, ``-1`` for the root.
        joints: ``(J, 3)`` float64 rest joint positions, metres.
        rotations: ``(J, 3)`` fitted axis-angle per joint, relative to the parent, radians.
        influences: ``(V, 4)`` joint indices and ``(V, 4)`` float32 weights of every model vertex.
        pose_joint: the joint whose rotation turns the head as in the photo (the ``photo_pose`` animation).
    """

    joint_names: tuple[str, ...]
    parents: NDArray[np.int64]
    joints: NDArray[np.float64]
    rotations: NDArray[np.float64]
    influences: tuple[NDArray[np.int64], NDArray[np.float32]]
    pose_joint: int


def _skin(
    model: LinearHeadModel,
    identity: NDArray[np.floating],
    expression: NDArray[np.floating],
    joint_rotations: NDArray[np.floating] | None,
    warp: OutlineWarp | None = None,
    head_rig: bool = True,
) -> _Skin | None:
    """The GLB's skin, or None.

    A skinned model's skeleton at ``joint_rotations`` (zero rotations: the rest pose); for a linear model the rig
    of :mod:`headcast.export.rig` at rest, when ``head_rig`` and the model has eyes to place it on.
    """
    skel = model.skeleton
    rest = rest_vertices(model, identity, expression, warp)
    if skel is None:
        if not head_rig or not has_eye_joints(model):
            return None
        rig = make_head_rig(model, rest)
        influences = model.memo.get(("export.glb.rig",), lambda: skin_influences(rig.weights))
        rot = np.zeros((len(rig.joint_names), 3))
        return _Skin(rig.joint_names, rig.parents, rig.joints, rot, influences, HEAD_JOINT)
    rot = np.zeros((skel.num_joints, 3))
    if joint_rotations is not None and np.size(joint_rotations):
        rot = np.asarray(joint_rotations, dtype=np.float64)
    if rot.shape != (skel.num_joints, 3):
        raise ValueError(f"joint_rotations must be ({skel.num_joints}, 3) for this model, got {rot.shape}")
    joints = regress_joints(skel.j_regressor, rest[None])[0]
    influences = model.memo.get(("export.glb.skin",), lambda: skin_influences(skel.lbs_weights))
    names = tuple(ENGINE_JOINT_NAMES.get(n, n) for n in skel.joint_names)
    return _Skin(names, skel.parents, joints, rot, influences, 0)


def _joint_nodes(skin: _Skin, first: int) -> list[gl.Node]:
    """One node per joint (node ``first + j`` is joint ``j``): rest offset from the parent and fitted rotation."""
    parents = skin.parents
    offsets = skin.joints.copy()
    offsets[1:] -= skin.joints[parents[1:]]
    quats = quaternion_xyzw(skin.rotations)
    return [
        gl.Node(
            name=name,
            translation=[float(x) for x in offsets[j]],
            rotation=[float(x) for x in quats[j]],
            children=[first + int(c) for c in np.flatnonzero(parents == j)],
        )
        for j, name in enumerate(skin.joint_names)
    ]


def _hair_joint(skin: _Skin) -> int:
    """The joint the hair node hangs from: ``Head`` when the skin has one, else the root."""
    return skin.joint_names.index("Head") if "Head" in skin.joint_names else 0


def _joint_frame(skin: _Skin, joint: int) -> NDArray[np.float64]:
    """``(4, 4)`` joint-to-model transform of ``joint`` at the skin's rotations (its node's world matrix)."""
    chain = kinematic_chain(rodrigues(skin.rotations)[None], skin.joints[None], skin.parents)
    return chain[0, joint]


def _photo_pose_animation(
    builder: _Builder, skin: _Skin, first: int, pose_rotation: NDArray[np.floating]
) -> gl.Animation:
    """One-key ``photo_pose`` animation: the pose joint turned as in the photo (:func:`photo_pose_rotation`)."""
    time = builder.scalar_with_bounds(np.zeros(1, dtype=np.float32))
    quat = builder.vec(
        np.asarray([photo_pose_rotation(skin.rotations[skin.pose_joint], pose_rotation)], dtype=np.float32),
        with_bounds=False,
        vertex_attribute=False,
    )
    return gl.Animation(
        name="photo_pose",
        samplers=[gl.AnimationSampler(input=time, output=quat, interpolation="STEP")],
        channels=[gl.AnimationChannel(
            sampler=0, target=gl.AnimationChannelTarget(node=first + skin.pose_joint, path="rotation")
        )],
    )


def photo_pose_rotation(skin_rotation: NDArray[np.floating], pose_rotation: NDArray[np.floating]) -> list[float]:
    """Quaternion ``(x, y, z, w)`` of the pose joint that shows the head as photographed: ``R_photo · R_joint``.

    ``pose_rotation`` is the head pose's model-to-camera rotation (axis-angle); the model frame and glTF's share
    axes (+y up, +z towards a frontal camera), so a frontal photo gives the joint's own rotation.
    """
    turn = axis_angle_to_matrix(pose_rotation) @ axis_angle_to_matrix(skin_rotation)
    return [float(x) for x in quaternion_xyzw(matrix_to_axis_angle(turn))]


def _bounds(values: NDArray[np.float32]) -> list[float]:
    """Exact float32 bounds as JSON numbers (the validator compares them bit for bit)."""
    return [float(x) for x in np.asarray(values, dtype=np.float32)]


def _groups(model: LinearHeadModel, settings: ExportSettings) -> list[_Group]:
    keep = ~material_mask(model, settings.exclude_roles)
    double = keep & material_mask(model, settings.double_sided_roles)
    groups = []
    double_name = "lashes" if tuple(settings.double_sided_roles) == ("lashes",) else "double_sided"
    for name, mask, two_sided in (("head", keep & ~double, False), (double_name, double, True)):
        if mask.any():
            split = split_uv_seams(model.triangles[mask], model.triangle_uvs[mask])
            groups.append(_Group(name, two_sided, split))
    return groups


def build_gltf(
    model: LinearHeadModel,
    identity: NDArray[np.floating],
    expression: NDArray[np.floating],
    texture: UVTexture,
    settings: ExportSettings | None = None,
    texture_png: bytes | None = None,
    strands: "StrandGeometry | None" = None,
    joint_rotations: NDArray[np.floating] | None = None,
    warp: OutlineWarp | None = None,
    photo_pose: NDArray[np.floating] | None = None,
) -> gl.GLTF2:
    """Build the glTF document (binary blob set) of one head; see the module docstring for the frame and the skin.

    Args:
        model: head model (topology, UVs, bases, materials, skeleton).
        identity: ``(K',)`` identity coefficients (σ units), K' ≤ K.
        expression: ``(E,)`` fitted expression; the morph-target components are written as ``mesh.weights``, the
            others (coefficient models only) baked into the positions.
        texture: atlas image and per-model-UV atlas coordinates (bottom-left origin).
        settings: export settings; defaults to ``ExportSettings()``.
        texture_png: ``texture.image`` already encoded as PNG (saves encoding it twice in a bundle); unused when
            ``settings.quality`` is ``"web"``, whose texture is a JPEG of ``settings.web_texture_size``².
        strands: hair geometry (``headcast.hair.gltf.strand_geometry``), added as a second node and mesh ``hair``
            with its own material (base colour from ``COLOR_0``); None writes the head alone.
        joint_rotations: ``(J, 3)`` fitted axis-angle per joint (``HeadParams.joint_rotations``) of a skinned model;
            None or ``(0, 3)``: the rest pose. Ignored for a model without a skeleton.
        warp: the outline warp of the rest mesh (``HeadParams.warp``; :mod:`headcast.headmodel.warp`), baked into
            the positions (the morph targets are its deltas, unchanged); None: none.
        photo_pose: ``(3,)`` the photo's model-to-camera head rotation (``HeadParams.pose.rotation``), written as
            the ``photo_pose`` animation of the head-turning joint (:func:`photo_pose_rotation`) when the GLB has
            joints; None: no animation.

    Returns:
        A ``pygltflib.GLTF2`` ready for ``save_binary``.
    """
    settings = ExportSettings() if settings is None else settings
    weights = np.asarray(expression, dtype=np.float64)
    if weights.shape != (model.num_expressions,):
        raise ValueError(f"expression has shape {weights.shape}, expected ({model.num_expressions},)")
    if texture.uv.shape[0] != model.uv.shape[0]:
        raise ValueError(f"texture has {texture.uv.shape[0]} UVs, the model {model.uv.shape[0]}")

    morphs = glb_morphs(model, settings)
    shown, rest_expression = shown_weights(morphs, weights)
    skin = _skin(model, identity, weights, joint_rotations, warp, settings.head_rig)
    base = bind_pose_vertices(  # (V, 3) float64, metres
        model, identity, rest_expression, None if skin is None else skin.rotations, warp
    )
    keep_tris = model.triangles[~material_mask(model, settings.exclude_roles)]
    base_normals = vertex_normals(base, keep_tris)
    groups, targets_per_group = _groups_and_targets(model, settings)

    builder = _Builder()
    materials: list[gl.Material] = []
    primitives: list[gl.Primitive] = []
    lashes = _lash_image(model, texture, groups, settings)
    for group, group_targets in zip(groups, targets_per_group, strict=True):
        vid, split = group.split.vertex_ids, group.split
        own_tile = group.material == "lashes" and lashes is not None
        atlas_uv = np.mod(model.uv[split.uv_ids], 1.0) if own_tile else texture.uv[split.uv_ids]
        atlas_uv = atlas_uv.astype(np.float32)
        gltf_uv = np.stack([atlas_uv[:, 0], 1.0 - atlas_uv[:, 1]], axis=1)
        attributes = gl.Attributes(
            POSITION=builder.vec(base[vid].astype(np.float32), with_bounds=True),
            NORMAL=builder.vec(safe_normals(base_normals[vid]), with_bounds=False),
            TEXCOORD_0=builder.vec(gltf_uv, with_bounds=False),
        )
        if skin is not None:
            joint_ids, joint_weights = skin.influences
            attributes.JOINTS_0 = builder.joints(joint_ids[vid], len(skin.joint_names))
            attributes.WEIGHTS_0 = builder.vec(joint_weights[vid], with_bounds=False)
        targets = []
        for pos, nrm in group_targets:
            target = gl.Attributes(POSITION=builder.delta(pos))
            if nrm is not None:
                target.NORMAL = builder.delta(nrm)
            targets.append(target)
        materials.append(
            gl.Material(
                name=group.material,
                pbrMetallicRoughness=gl.PbrMetallicRoughness(
                    baseColorTexture=gl.TextureInfo(index=1 if own_tile else 0),
                    metallicFactor=0.0,
                    roughnessFactor=settings.roughness,
                ),
                doubleSided=group.double_sided,
                alphaMode=gl.BLEND if own_tile else gl.OPAQUE,
            )
        )
        primitives.append(
            gl.Primitive(
                attributes=attributes,
                indices=builder.indices(split.triangles, len(vid)),
                material=len(materials) - 1,
                targets=targets,
                mode=gl.TRIANGLES,
            )
        )

    extra_meshes, extra_nodes = [], []
    if strands is not None:
        materials.append(
            gl.Material(
                name="hair",
                pbrMetallicRoughness=gl.PbrMetallicRoughness(metallicFactor=0.0, roughnessFactor=0.6),
                doubleSided=True,
            )
        )
        hair_frame = np.eye(4) if skin is None else _joint_frame(skin, _hair_joint(skin))
        hair_positions = (strands.positions - hair_frame[:3, 3]) @ hair_frame[:3, :3]  # into the joint's frame
        hair_attrs = gl.Attributes(
            POSITION=builder.vec(hair_positions.astype(np.float32), with_bounds=True),
            COLOR_0=builder.vec(strands.colors, with_bounds=False),
            NORMAL=None if strands.normals is None else builder.vec(
                (strands.normals @ hair_frame[:3, :3]).astype(np.float32), with_bounds=False),
            **{name: builder.scalar(values) for name, values in strands.custom.items()},
        )
        hair_indices = builder.indices(strands.indices.reshape(-1, 1), len(strands.positions))
        extra_meshes.append(
            gl.Mesh(name="hair", primitives=[
                gl.Primitive(attributes=hair_attrs, indices=hair_indices, material=len(materials) - 1,
                             mode=strands.mode)
            ])
        )
        extra_nodes.append(gl.Node(name="hair", mesh=1))

    joint_nodes: list[gl.Node] = []
    skins: list[gl.Skin] = []
    animations: list[gl.Animation] = []
    if skin is not None:
        first = 1 + len(extra_nodes)
        joint_nodes = _joint_nodes(skin, first)
        if extra_nodes:  # the hair turns with the head
            joint_nodes[_hair_joint(skin)].children = [*joint_nodes[_hair_joint(skin)].children, 1]
        if photo_pose is not None:
            animations.append(_photo_pose_animation(builder, skin, first, photo_pose))
        unbind = np.broadcast_to(np.eye(4), (len(skin.joints), 4, 4)).copy()
        unbind[:, :3, 3] = -skin.joints
        skins.append(gl.Skin(
            name="skeleton",
            inverseBindMatrices=builder.matrices(unbind),
            joints=list(range(first, first + len(joint_nodes))),
            skeleton=first,
        ))

    image_bytes, mime = _texture_image(texture, settings, texture_png)
    images = [gl.Image(bufferView=builder.chunk.add(image_bytes), mimeType=mime, name="texture")]
    if lashes is not None:
        images.append(gl.Image(bufferView=builder.chunk.add(lashes), mimeType="image/png", name="lashes"))
    blob = builder.chunk.blob()
    roots = [0, *([1 + len(extra_nodes)] if joint_nodes else range(1, 1 + len(extra_nodes)))]
    gltf = gl.GLTF2(
        asset=gl.Asset(
            version="2.0", generator=f"headcast {headcast.__version__}", extras={"model": model.name}
        ),
        scene=0,
        scenes=[gl.Scene(nodes=roots)],
        nodes=[gl.Node(name="head", mesh=0, skin=0 if skins else None), *extra_nodes, *joint_nodes],
        skins=skins,
        animations=animations,
        meshes=[
            gl.Mesh(
                name="head",
                primitives=primitives,
                weights=[float(w) for w in shown],
                extras={"targetNames": list(morphs.names), "targetSources": target_sources(model, morphs)},
            ),
            *extra_meshes,
        ],
        materials=materials,
        textures=[gl.Texture(source=i, sampler=0) for i in range(len(images))],
        samplers=[
            gl.Sampler(
                magFilter=gl.LINEAR,
                minFilter=gl.LINEAR_MIPMAP_LINEAR,
                wrapS=gl.CLAMP_TO_EDGE,
                wrapT=gl.CLAMP_TO_EDGE,
            )
        ],
        images=images,
        accessors=builder.accessors,
        bufferViews=builder.chunk.views,
        buffers=[gl.Buffer(byteLength=len(blob))],
    )
    gltf.set_binary_blob(blob)
    return gltf


def _lash_image(model: LinearHeadModel, texture: UVTexture, groups: list[_Group], settings: ExportSettings
                ) -> bytes | None:
    """PNG of the lash cards' RGBA tile (:mod:`headcast.texture.lashes`), or None.

    The colour is the one the atlas gave the lashes; None when the GLB has no ``lashes`` primitive or the model no
    lash cards.
    """
    if not any(g.material == "lashes" for g in groups):
        return None
    lash_uv = texture.uv[np.unique(model.triangle_uvs[model.material_mask("lashes")])]
    h, w = texture.image.shape[:2]
    cols = np.clip((lash_uv[:, 0] * w).astype(int), 0, w - 1)
    rows = np.clip(((1.0 - lash_uv[:, 1]) * h).astype(int), 0, h - 1)
    colour = np.median(texture.image[rows, cols, :3].astype(np.float64), axis=0) / 255.0
    web = settings.quality == "web"
    rgba = lash_texture(model, colour, settings.web_lash_texture_size if web else settings.lash_texture_size)
    return None if rgba is None else png_bytes(rgba, 9 if web else settings.png_compress_level)


def _texture_image(texture: UVTexture, settings: ExportSettings, texture_png: bytes | None) -> tuple[bytes, str]:
    """The GLB's texture bytes and MIME type: the atlas as PNG (``full``) or a smaller JPEG (``web``)."""
    if settings.quality == "web":
        return jpeg_bytes(texture.image, settings.web_texture_size, settings.web_jpeg_quality), "image/jpeg"
    png = png_bytes(texture.image, settings.png_compress_level) if texture_png is None else texture_png
    return png, "image/png"


def write_glb(
    path: Path | str, avatar: Avatar, settings: ExportSettings | None = None, texture_png: bytes | None = None
) -> Path:
    """Write the avatar's head as a GLB (see the module docstring) at ``settings.quality``; returns the path.

    A ``web`` GLB is built uncompressed next to ``path`` and then compressed into ``path`` by
    :func:`headcast.export.compress.compress_glb` (Node.js); the uncompressed file is removed either way.

    Raises:
        OptionalComponentError: ``web`` quality without Node.js or the built compressor.
        RuntimeError: the compressor failed.
    """
    settings = ExportSettings() if settings is None else settings
    path = Path(path)
    params = avatar.fit.params
    hair = None
    if avatar.hair is not None and avatar.hair.num_strands:
        from headcast.hair.gltf import GLB_LINE_STRANDS, strand_geometry

        ribbons = settings.hair_primitive == "ribbons"
        hair = strand_geometry(avatar.hair, settings.hair_primitive,
                               max_strands=settings.hair_ribbon_strands if ribbons else GLB_LINE_STRANDS,
                               ribbon_width=settings.hair_ribbon_width)
        if settings.quality == "web":  # the position along the strand: for research tools, not for viewers
            hair = replace(hair, custom={k: v for k, v in hair.custom.items() if k != "_STRAND_T"})
    gltf = build_gltf(
        avatar.model, params.identity, params.expression, avatar.texture, settings, texture_png, strands=hair,
        joint_rotations=params.joint_rotations, warp=params.warp, photo_pose=params.pose.rotation,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    if settings.quality == "full":
        gltf.save_binary(str(path))
        return path
    raw = path.with_name(f".{path.name}.uncompressed")
    try:
        gltf.save_binary(str(raw))
        compress_glb(raw, path, settings)
    finally:
        raw.unlink(missing_ok=True)
    return path
