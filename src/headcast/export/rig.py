"""A head rig for the GLB of a model without a skeleton (ICT FaceKit): Neck, Head, LeftEye, RightEye.

Engines turn an avatar's head and eyes by joints (Unity's Humanoid, three.js bones, Blender's armature), so the GLB
of a linear model gets four joints and skin weights made from the model's geometry; the head model itself stays
linear (fitting, rendering and params.json do not see the rig).

Conventions (model frame: metres, +y up, +z forward, the head's left = +x):
    joints, parents first: ``Neck`` (the root: the middle of the neck's cross-section ``NECK_BELOW_THROAT`` under
    the throat point), ``Head`` (child of Neck: the head–neck pivot, the midpoint of the two ears lowered by
    ``HEAD_BELOW_EARS``, near the atlanto-occipital joint), ``LeftEye`` / ``RightEye`` (children of Head: the
    centre of the sphere fitted to each eye's sclera vertices, so a joint rotation turns the eyeball in place).
    Joint positions come from the avatar's rest mesh (identity, fitted expression); skin weights from the model's
    template (identity-independent): every vertex of an eye's sclera and iris follows its eye joint only; every
    other vertex blends Head and Neck by its signed distance to the *jaw–nape line*, the side-view line from the
    throat point (the chin landmark moved by ``THROAT_FROM_CHIN``) to the nape point (``NAPE_BELOW_HEAD`` under the
    Head joint, at the back of the head): ``w_head = smoothstep((s + ½ BLEND_WIDTH) / BLEND_WIDTH)``, ``s`` > 0 above
    the line (towards the skull). The chin, jaw and skull thus turn rigidly and the neck bends over
    ``BLEND_WIDTH``; the shoulders' edge stays with the root.
    Rest rotations are identity: at rest the GLB shows the forward-facing fitted head.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headcast.headmodel.base import LinearHeadModel, MaterialRole, ear_vertices

RIG_JOINT_NAMES = ("Neck", "Head", "LeftEye", "RightEye")
RIG_PARENTS = np.array([-1, 0, 1, 1], dtype=np.int64)
HEAD_JOINT = 1
"""Index of the joint the photo's head pose turns (``Head``)."""

HEAD_BELOW_EARS = 0.025
"""Head joint below the ears' midpoint, metres (the occipital condyles sit about level with the mastoid tips)."""
THROAT_FROM_CHIN = np.array([0.0, -0.025, -0.035])
"""Throat point relative to the chin landmark (iBUG 8), metres: under the jaw, in front of the neck."""
NAPE_BELOW_HEAD = 0.035
"""Nape point below the Head joint, metres, on the back of the neck."""
NECK_BELOW_THROAT = 0.03
"""Neck joint level below the throat point, metres."""
BLEND_WIDTH = 0.06
"""Width of the Head → Neck blend across the jaw–nape line, metres."""
_LEVEL_BAND = 0.005  # half-height of the slice whose middle is the neck joint, metres
_EYE_ROLES: tuple[tuple[MaterialRole, MaterialRole], ...] = (
    ("sclera_left", "iris_left"),
    ("sclera_right", "iris_right"),
)


@dataclass(frozen=True, eq=False)
class HeadRig:
    """The rig of one avatar's head.

    Attributes:
        joint_names: :data:`RIG_JOINT_NAMES`.
        parents: ``(4,)`` parent of each joint, ``-1`` for the root.
        joints: ``(4, 3)`` float64 rest joint positions, metres, model frame.
        weights: ``(V, 4)`` float64 skin weights per model vertex (rows sum to 1).
    """

    joint_names: tuple[str, ...]
    parents: NDArray[np.int64]
    joints: NDArray[np.float64]
    weights: NDArray[np.float64]


def sphere_centre(points: NDArray[np.floating]) -> NDArray[np.float64]:
    """Centre of the least-squares sphere through ``(N, 3)`` points (N ≥ 4, not coplanar).

    ``|p|² = 2 c·p + (r² − |c|²)`` is linear in ``c`` and ``d = r² − |c|²``: one least-squares solve.
    """
    p = np.asarray(points, dtype=np.float64)
    a = np.concatenate([2.0 * p, np.ones((len(p), 1))], axis=1)
    solution, *_ = np.linalg.lstsq(a, np.einsum("ij,ij->i", p, p), rcond=None)
    return solution[:3]


def smoothstep(x: NDArray[np.floating]) -> NDArray[np.float64]:
    """``3t² − 2t³`` of ``t = clip(x, 0, 1)``."""
    t = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _eye_vertices(model: LinearHeadModel) -> tuple[tuple[NDArray[np.int64], NDArray[np.int64]], ...]:
    """Per eye (left, right): the sclera's vertex ids and the sclera-and-iris vertex ids."""
    out = []
    for sclera, iris in _EYE_ROLES:
        sclera_ids = np.unique(model.triangles[model.material_mask(sclera)]).astype(np.int64)
        out.append((sclera_ids, np.unique(model.triangles[model.material_mask(sclera, iris)]).astype(np.int64)))
    return tuple(out)


def has_eye_joints(model: LinearHeadModel) -> bool:
    """Whether the model has the sclera and iris materials the eye joints are made from."""
    return all(model.has_material(*roles) for roles in _EYE_ROLES)


def _landmarks(vertices: NDArray[np.float64], model: LinearHeadModel) -> tuple[NDArray[np.float64], ...]:
    """Head joint, throat point, nape point and neck joint of one mesh (see the module docstring)."""
    head = vertices[ear_vertices(model)].mean(axis=0) - np.array([0.0, HEAD_BELOW_EARS, 0.0])
    head[0] = 0.0
    throat = vertices[model.landmarks68[8]] + THROAT_FROM_CHIN
    throat[0] = 0.0
    level = head[1] - NAPE_BELOW_HEAD
    band = vertices[np.abs(vertices[:, 1] - level) < _LEVEL_BAND]
    nape = np.array([0.0, level, band[:, 2].min() if len(band) else head[2]])
    neck_level = throat[1] - NECK_BELOW_THROAT
    ring = vertices[np.abs(vertices[:, 1] - neck_level) < _LEVEL_BAND]
    middle_z = 0.5 * (ring[:, 2].min() + ring[:, 2].max()) if len(ring) else head[2]
    neck = np.array([0.0, neck_level, middle_z])
    return head, throat, nape, neck


def rig_weights(model: LinearHeadModel) -> NDArray[np.float64]:
    """``(V, 4)`` skin weights on the model's template (see the module docstring), kept in ``model.memo``."""

    def build() -> NDArray[np.float64]:
        t = model.template.astype(np.float64)
        _, throat, nape, _ = _landmarks(t, model)
        along = nape[1:] - throat[1:]
        normal = np.array([along[1], -along[0]]) / np.linalg.norm(along)  # (y, z), pointing up
        if normal[0] < 0:
            normal = -normal
        s = (t[:, 1:] - throat[1:]) @ normal
        head = smoothstep((s + 0.5 * BLEND_WIDTH) / BLEND_WIDTH)
        weights = np.zeros((len(t), len(RIG_JOINT_NAMES)))
        weights[:, 0] = 1.0 - head
        weights[:, HEAD_JOINT] = head
        if has_eye_joints(model):
            for j, (_, ids) in enumerate(_eye_vertices(model), start=2):
                weights[ids] = 0.0
                weights[ids, j] = 1.0
        return weights

    return model.memo.get(("export.rig.weights",), build)


def head_rig(model: LinearHeadModel, rest: NDArray[np.floating]) -> HeadRig:
    """The rig of the rest mesh ``rest`` (``(V, 3)`` metres: the avatar's identity and expression, no pose).

    Raises:
        ValueError: the model has no eye materials to place the eye joints on.
    """
    if not has_eye_joints(model):
        raise ValueError("the head model has no sclera/iris materials; the eye joints cannot be placed")
    r = np.asarray(rest, dtype=np.float64)
    head, _, _, neck = _landmarks(r, model)
    eyes = [sphere_centre(r[sclera]) for sclera, _ in _eye_vertices(model)]
    joints = np.stack([neck, head, *eyes])
    return HeadRig(RIG_JOINT_NAMES, RIG_PARENTS.copy(), joints, rig_weights(model))
