"""Linear morphable head model: data holder plus the pure blend maths.

``vertices = template + Σ_i α_i · identity_basis[i] + Σ_j w_j · expression_basis[j]``  (metres, model frame).

A skinned model (FLAME: joints, linear blend skinning, pose correctives) carries a :class:`Skeleton`; its rest
mesh is the same linear blend, and :func:`head_vertices` adds the pose step (``headcast.headmodel.lbs``) for the
joint angles in ``HeadParams.joint_rotations`` (empty for ICT FaceKit, which has no joints).

Two kinds of expression parameters (``LinearHeadModel.expression_kind``): ``"weights"`` are blend-shape weights in
[0, 1] with canonical (ARKit) names (ICT FaceKit); ``"coefficients"`` are unbounded components with a unit Gaussian
prior and no names (FLAME's ψ).
"""

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from headcast.geometry.camera import HeadPose, transform_points
from headcast.headmodel.lbs import linear_blend_skinning
from headcast.headmodel.warp import OutlineWarp, warp_offsets

ANCHOR_ABOVE_EYES = 0.5
"""Face vertices up to this many eye distances above the eye corners are anchors (the forehead above may follow
the skull)."""

PartName = Literal[
    "face", "head_neck", "mouth_socket", "eye_sockets", "gums_tongue", "teeth", "eyeballs", "eye_blend", "eyelashes"
]
"""Regions of a head mesh, by what they are (a model lists the ones it has, as vertex ids):

``face`` the front skin (forehead to chin, ear to ear); ``head_neck`` the rest of the outer skin (skull, ears, neck);
``mouth_socket`` the inside of the lips and cheeks; ``eye_sockets`` the skin around and behind the eyeballs;
``gums_tongue``; ``teeth``; ``eyeballs``; ``eye_blend`` the shells over the eye corners; ``eyelashes``."""

MaterialRole = Literal[
    "face", "head", "gums_tongue", "teeth", "sclera_left", "sclera_right", "iris_left", "iris_right", "lashes",
    "overlay",
]
"""What a material is for, whatever the model calls it (a model maps each role to its own material names):

``face`` the skin textured from the photo; ``head`` the rest of the skin (skull, neck, ears' backs, the sockets);
``gums_tongue``; ``teeth``; ``sclera_left`` / ``sclera_right`` and ``iris_left`` / ``iris_right`` the eyeballs'
surfaces, left = the head's left (+x); ``lashes`` alpha-tested eyelash cards; ``overlay`` transparent shells (tear
film, eye-corner blend, occlusion) that opaque renderers and exporters leave out."""

ARKIT_EXPRESSIONS: tuple[str, ...] = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "cheekPuff",
    "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight",
    "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight",
    "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel",
    "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight", "mouthPucker",
    "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft",
    "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "noseSneerLeft", "noseSneerRight", "tongueOut",
)  # fmt: skip
"""Apple's 52 ``ARFaceAnchor.BlendShapeLocation`` names as MediaPipe spells its blendshape categories (MediaPipe
scores all but ``tongueOut``). ``Left``/``Right`` are the subject's own left/right, i.e. the head's +x / −x side
(docs/conventions.md); ``jawLeft``, ``jawRight``, ``mouthLeft`` and ``mouthRight`` are directions (towards the
subject's left/right), not sides."""

EXTRA_EXPRESSIONS: tuple[str, ...] = (
    "browInnerUpLeft", "browInnerUpRight", "cheekPuffLeft", "cheekPuffRight", "cheekRaiserLeft", "cheekRaiserRight",
    "pupilDilateLeft", "pupilDilateRight",
)  # fmt: skip
"""Canonical names for shapes ARKit lacks, spelled ARKit's way: the two halves of ARKit's unsided ``browInnerUp``
and ``cheekPuff`` (a model that splits them; the ARKit name then drives both), ``cheekRaiser*`` (FACS AU 6 on
one side) and ``pupilDilate*`` (pupil dilation)."""

CANONICAL_EXPRESSIONS: frozenset[str] = frozenset(ARKIT_EXPRESSIONS + EXTRA_EXPRESSIONS)
"""Every name a model may give one of its expression shapes in ``LinearHeadModel.expression_arkit``."""

ExpressionKind = Literal["weights", "coefficients"]
"""``"weights"``: blend-shape weights in [0, 1]; ``"coefficients"``: unbounded, unit-Gaussian components."""

_T = TypeVar("_T")


@dataclass(frozen=True, eq=False)
class Skeleton:
    """Joints and linear blend skinning of a skinned head model (``headcast.headmodel.lbs`` conventions).

    Attributes:
        joint_names: ``J`` names, parents first (FLAME: global, neck, jaw, eye_left, eye_right).
        parents: ``(J,)`` int64 parent of each joint, ``-1`` for the root.
        j_regressor: ``(J, V)`` float64 joint regressor (joints from the shaped rest mesh).
        lbs_weights: ``(V, J)`` float64 skinning weights.
        posedirs: ``(V, 3, 9 (J − 1))`` float32 pose-corrective blend shapes.
        fitted_joints: joints whose rotation the landmark fit solves for (the others stay at rest; the global one
            is the head pose).
    """

    joint_names: tuple[str, ...]
    parents: NDArray[np.int64]
    j_regressor: NDArray[np.float64]
    lbs_weights: NDArray[np.float64]
    posedirs: NDArray[np.float32]
    fitted_joints: tuple[str, ...] = ("jaw",)

    @property
    def num_joints(self) -> int:
        """J."""
        return len(self.joint_names)

    def joint_index(self, name: str) -> int:
        """Index of a joint by name (KeyError names the known joints)."""
        if name not in self.joint_names:
            raise KeyError(f"unknown joint '{name}'; known: {', '.join(self.joint_names)}")
        return self.joint_names.index(name)


@dataclass(frozen=True)
class AtlasCell:
    """Where one material's UV tile goes in the model's square texture atlas.

    Attributes:
        tile_u0: left edge of the material's UV tile in model UVs (the tile spans ``[tile_u0, tile_u0 +
            tile_width] × [0, 1]``).
        tile_width: width of the model tile in UV units (1, or 2 for a double-width tile).
        rect: ``(u0, v0, u1, v1)`` cell in atlas coordinates, bottom-left origin.
    """

    tile_u0: float
    tile_width: float
    rect: tuple[float, float, float, float]


class ModelMemo:
    """Values derived from one model (atlas maps, export topology, ...), built on first use and kept with it.

    The memo is a field of the model it belongs to, so it lives and dies with that model: no module-level table,
    no ``id()`` that a later object can reuse. Keys are chosen by the stage that stores a value (a tuple that starts
    with the stage's own name and holds every other input the value depends on). Thread-safe; two threads that
    miss at once may both build a value, and the first one stored is kept.
    """

    def __init__(self) -> None:
        self._values: dict[Hashable, object] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], _T]) -> _T:
        """The value stored under ``key``; ``build()`` is called and stored when there is none."""
        with self._lock:
            if key in self._values:
                return self._values[key]  # type: ignore[return-value]
        value = build()
        with self._lock:
            return self._values.setdefault(key, value)  # type: ignore[return-value]

    def clear(self) -> None:
        """Forget every stored value (benchmarks time cold runs with it)."""
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def __reduce__(self) -> tuple[type["ModelMemo"], tuple[()]]:
        # a pickled or copied model starts with an empty memo (derived values are rebuilt, the lock is not shared)
        return (ModelMemo, ())


@dataclass(frozen=True, eq=False)
class LinearHeadModel:
    """Buffers of a linear head model. Batch size comes from the inputs, never from the model.

    Attributes:
        name: model id written to params.json, e.g. ``"ict-facekit"``.
        template: ``(V, 3)`` float32 neutral mean head, metres.
        identity_basis: ``(K, V, 3)`` float32 identity modes (1 σ each), metres.
        expression_basis: ``(E, V, 3)`` float32 expression deltas at weight 1, metres.
        expression_names: ``E`` the model's own shape names (only its adapter spells them; export writes them).
        triangles: ``(T, 3)`` int32 vertex indices, counter-clockwise from outside.
        triangle_uvs: ``(T, 3)`` int32 indices into ``uv``.
        uv: ``(U, 2)`` float32 texture coordinates, origin bottom-left.
        triangle_material: ``(T,)`` int16 index into ``material_names``.
        material_names: the model's own material names (only its adapter spells them).
        parts: ``{part: (N,) sorted int64 vertex ids}`` of the :data:`PartName` regions the model has.
        landmarks68: ``(68,)`` int vertex ids of the iBUG-68 points, iBUG order.
        face_vertices: ``(N,)`` int vertex ids of the face region used for geometry evaluation.
        material_roles: ``{role: material names}``: what each material is for (:data:`MaterialRole`); every
            material has exactly one role.
        uv_atlas: ``{material name: AtlasCell}``: the UV layout, where each material's tile goes in the atlas.
        expression_arkit: ``{model shape name: canonical name}`` (:data:`ARKIT_EXPRESSIONS` or
            :data:`EXTRA_EXPRESSIONS`); stages look shapes up by canonical name (:meth:`expression_ids`). A shape
            without an entry cannot be asked for by name.
        skeleton: joints and skinning of a skinned model (:class:`Skeleton`); None for a purely linear one.
        expression_kind: what the expression parameters are (:data:`ExpressionKind`).
        memo: values derived from this model, kept with it (:class:`ModelMemo`; not a constructor argument).
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
    parts: Mapping[str, NDArray[np.int64]]
    landmarks68: NDArray[np.int64]
    face_vertices: NDArray[np.int64]
    material_roles: Mapping[MaterialRole, tuple[str, ...]] = field(default_factory=dict)
    uv_atlas: Mapping[str, AtlasCell] = field(default_factory=dict)
    expression_arkit: Mapping[str, str] = field(default_factory=dict)
    skeleton: Skeleton | None = None
    expression_kind: ExpressionKind = "weights"
    memo: ModelMemo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # a fresh memo for every model, dataclasses.replace included (init=False fields are not copied)
        object.__setattr__(self, "memo", ModelMemo())
        seen: dict[str, str] = {}
        for role, names in self.material_roles.items():
            for n in names:
                if n in seen:
                    raise ValueError(f"material '{n}' has two roles: '{seen[n]}' and '{role}'")
                seen[n] = role
        unknown = sorted(set(self.expression_arkit) - set(self.expression_names))
        foreign = sorted(set(self.expression_arkit.values()) - CANONICAL_EXPRESSIONS)
        if unknown or foreign:
            raise ValueError(f"expression_arkit: shapes the model lacks {unknown}, non-canonical names {foreign}")
        if len(set(self.expression_arkit.values())) != len(self.expression_arkit):
            raise ValueError("expression_arkit gives two shapes the same canonical name")

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

    @property
    def expression_arkit_names(self) -> tuple[str, ...]:
        """``(E,)`` the canonical name of each shape, in ``expression_names`` order (``""`` for an unnamed shape)."""
        return tuple(self.expression_arkit.get(n, "") for n in self.expression_names)

    def has_expression(self, name: str) -> bool:
        """Whether the canonical (ARKit) name ``name`` drives at least one of the model's shapes."""
        try:
            self.expression_ids(name)
        except KeyError:
            return False
        return True

    def expression_ids(self, *names: str) -> tuple[int, ...]:
        """Indices of the shapes the canonical (ARKit) names drive, in order.

        A name the model has is its one shape; an unsided ARKit name whose two halves the model has instead
        (``browInnerUp`` → ``browInnerUpLeft``, ``browInnerUpRight``) is both halves, left first. KeyError for a
        name the model has neither way.
        """
        canonical = self.expression_arkit_names
        out: list[int] = []
        for name in names:
            if name and name in canonical:
                out.append(canonical.index(name))
            elif name + "Left" in canonical and name + "Right" in canonical:
                out += [canonical.index(name + "Left"), canonical.index(name + "Right")]
            else:
                known = ", ".join(n for n in canonical if n)
                raise KeyError(f"head model '{self.name}' has no expression '{name}'; it has: {known}")
        return tuple(out)

    def expression_index(self, name: str) -> int:
        """Index of the one shape with canonical (ARKit) name ``name``, e.g. ``"eyeBlinkLeft"``.

        KeyError for a name the model lacks, and for one it splits in two (use :meth:`expression_ids`).
        """
        ids = self.expression_ids(name)
        if len(ids) != 1:
            raise KeyError(f"head model '{self.name}' splits expression '{name}' into {len(ids)} shapes")
        return ids[0]

    def has_part(self, *names: str) -> bool:
        """Whether the model has every one of the named parts."""
        return all(n in self.parts for n in names)

    def part_mask(self, *names: str) -> NDArray[np.bool_]:
        """``(V,)`` bool mask of the vertices in the named parts (KeyError for a part the model lacks)."""
        mask = np.zeros(self.num_vertices, dtype=bool)
        for n in names:
            mask[self.parts[n]] = True
        return mask

    def material_ids(self, *roles: MaterialRole) -> tuple[int, ...]:
        """Indices into ``material_names`` of the materials with the given roles (absent materials are skipped)."""
        ids = []
        for role in roles:
            ids += [self.material_names.index(n) for n in self.material_roles.get(role, ()) if n in self.material_names]
        return tuple(ids)

    def has_material(self, *roles: MaterialRole) -> bool:
        """Whether the model has a material for every one of the given roles."""
        return all(self.material_ids(r) for r in roles)

    def material_mask(self, *roles: MaterialRole) -> NDArray[np.bool_]:
        """``(T,)`` bool: triangles whose material has one of the given roles (unknown roles match nothing)."""
        return np.isin(self.triangle_material, self.material_ids(*roles))

    def material_role(self, material: int) -> MaterialRole:
        """The role of material index ``material`` (KeyError when the model gave it none)."""
        name = self.material_names[material]
        for role, names in self.material_roles.items():
            if name in names:
                return role
        raise KeyError(f"material '{name}' has no role; roles: {dict(self.material_roles)}")

    def atlas_cells(self, role: MaterialRole) -> tuple[AtlasCell, ...]:
        """Atlas cells of the materials with ``role``, in ``material_roles`` order (KeyError without a cell)."""
        return tuple(self.uv_atlas[self.material_names[m]] for m in self.material_ids(role))

    def atlas_cell(self, role: MaterialRole) -> AtlasCell:
        """The atlas cell of the one material with ``role`` (ValueError when there is none or several)."""
        cells = self.atlas_cells(role)
        if len(cells) != 1:
            raise ValueError(f"the model has {len(cells)} materials with role '{role}', not one")
        return cells[0]


@dataclass(frozen=True)
class HeadParams:
    """Parameters of one head.

    Attributes:
        identity: ``(K,)`` identity coefficients (σ units).
        expression: ``(E,)`` expression weights in [0, 1] (``expression_kind="weights"``) or coefficients, in the
            model's ``expression_names`` order.
        pose: model-to-camera transform (for a skinned model: of the whole skinned mesh; its root joint is the
            rest pose).
        joint_rotations: ``(J, 3)`` axis-angle per joint (``Skeleton.joint_names`` order, each relative to its
            parent) for skinned models; ``(0, 3)`` for linear models and for a skinned one at rest.
        warp: the outline warp of the rest mesh (:mod:`headcast.headmodel.warp`), or None.
    """

    identity: NDArray[np.float64]
    expression: NDArray[np.float64]
    pose: HeadPose
    joint_rotations: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 3)))
    warp: OutlineWarp | None = None

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


def skin_vertices(model: LinearHeadModel) -> NDArray[np.int64]:
    """The model's skin vertices (its ``face`` and ``head_neck`` parts; every vertex for a model without them)."""
    names = [n for n in ("face", "head_neck") if model.has_part(n)]
    if not names:
        return np.arange(model.num_vertices, dtype=np.int64)
    return np.nonzero(model.part_mask(*names))[0].astype(np.int64)


def face_anchor_vertices(model: LinearHeadModel, stride: int) -> NDArray[np.int64]:
    """The vertices that keep the fitted face in place.

    Every ``stride``-th vertex of the model's face part below the outer eye corners' height plus
    :data:`ANCHOR_ABOVE_EYES` eye distances (the region the landmarks fit and NoW measures).
    """
    face = model.part_mask("face") if model.has_part("face") else np.ones(model.num_vertices, dtype=bool)
    eyes = model.template[[model.landmarks68[36], model.landmarks68[45]]]
    span = float(np.linalg.norm(eyes[0] - eyes[1]))
    below = model.template[:, 1] < float(eyes[:, 1].mean()) + ANCHOR_ABOVE_EYES * span
    return np.nonzero(face & below)[0][::stride].astype(np.int64)


def anchor_freedom(model: LinearHeadModel, near: float, far: float) -> NDArray[np.float64]:
    """``(V,)`` ``w_f``: 0 within ``near`` metres of a face anchor (template positions), 1 beyond ``far``."""

    def build() -> NDArray[np.float64]:
        anchors = model.template[face_anchor_vertices(model, 1)]
        dist, _ = cKDTree(anchors).query(model.template)
        return np.clip((dist - near) / (far - near), 0.0, 1.0)

    return model.memo.get(("headmodel.base.freedom", near, far), build)


EAR_DEPTH = 0.01
"""Skin within this lateral distance (metres) of the widest point by the ear is the ear (:func:`ear_axes`)."""

EAR_ROOT = 0.016
"""The ear's root lies this far (metres) inside its widest point: vertices there do not follow its shift."""

EAR_BELOW_NOSE = 0.04
"""The ear is looked for from this far below the nose base (metres) up to above the eyes (:func:`ear_axes`)."""


def ear_axes(model: LinearHeadModel) -> NDArray[np.float64]:
    """``(2, 2, 3)`` the +x and −x ear's axis in the template: its lowest and highest point.

    The ear is the skin that reaches within :data:`EAR_DEPTH` of the widest skin point on its side between
    :data:`EAR_BELOW_NOSE` below the nose base and :data:`ANCHOR_ABOVE_EYES` eye distances above the outer eye
    corners (the head's widest point there is the ear's rim).
    """

    def build() -> NDArray[np.float64]:
        t = model.template.astype(np.float64)
        skin = skin_vertices(model)
        eyes = t[[model.landmarks68[36], model.landmarks68[45]]]
        span = float(np.linalg.norm(eyes[0] - eyes[1]))
        low = float(t[model.landmarks68[33], 1]) - EAR_BELOW_NOSE
        high = float(eyes[:, 1].mean()) + ANCHOR_ABOVE_EYES * span
        band = skin[(t[skin, 1] >= low) & (t[skin, 1] <= high)]
        if len(band) == 0:
            band = skin
        out = np.zeros((2, 2, 3))
        for k, sign in enumerate((1.0, -1.0)):
            lateral = sign * t[band, 0]
            ear = t[band[lateral >= lateral.max() - EAR_DEPTH]]
            centre = ear.mean(axis=0)
            out[k, 0] = [centre[0], ear[:, 1].min(), centre[2]]
            out[k, 1] = [centre[0], ear[:, 1].max(), centre[2]]
        return out

    return model.memo.get(("headmodel.base.ear_axes",), build)


def ear_vertices(model: LinearHeadModel) -> NDArray[np.int64]:
    """``(2,)`` the template vertex nearest the middle of the +x and −x ear's axis (:func:`ear_axes`)."""

    def build() -> NDArray[np.int64]:
        middle = ear_axes(model).mean(axis=1)
        _, ids = cKDTree(model.template).query(middle)
        return np.asarray(ids, dtype=np.int64)

    return model.memo.get(("headmodel.base.ears",), build)


def ear_weights(model: LinearHeadModel, sigma: float) -> NDArray[np.float64]:
    """``(2, V)`` how much each vertex follows the +x and −x ear's shift (template positions).

    A lateral ramp — 0 at :data:`EAR_ROOT` inside the ear's widest point, 1 there (a smoothstep: the ear turns out
    about its root) — times a Gaussian (σ = ``sigma`` metres) of the distance to the ear's axis (:func:`ear_axes`)
    across the side view (y, z; the head's width left out).
    """

    def build() -> NDArray[np.float64]:
        t = model.template.astype(np.float64)
        out = np.zeros((2, len(t)))
        for k, (sign, (a, b)) in enumerate(zip((1.0, -1.0), ear_axes(model), strict=True)):
            rim = sign * a[0] + EAR_DEPTH / 2
            ramp = np.clip((sign * t[:, 0] - (rim - EAR_ROOT)) / EAR_ROOT, 0.0, 1.0)
            yz, a2, b2 = t[:, 1:], a[1:], b[1:]
            ab = b2 - a2
            s = np.clip((yz - a2) @ ab / max(float(ab @ ab), 1e-12), 0.0, 1.0)
            d = np.linalg.norm(yz - (a2 + s[:, None] * ab), axis=1)
            out[k] = ramp * ramp * (3.0 - 2.0 * ramp) * np.exp(-0.5 * (d / sigma) ** 2)
        return out

    return model.memo.get(("headmodel.base.ear_weights", sigma), build)


def rest_vertices(
    model: LinearHeadModel,
    identity: NDArray[np.floating],
    expression: NDArray[np.floating],
    warp: OutlineWarp | None,
) -> NDArray[np.float64]:
    """``(V, 3)`` the shaped rest mesh: :func:`blend_vertices` plus the outline warp of the identity's neutral mesh.

    The warp is evaluated on the expression-free mesh, so an expression moves a warped head as it moves the
    unwarped one.
    """
    rest = blend_vertices(model, identity, expression)
    if warp is None:
        return rest
    neutral = rest if not np.any(expression) else blend_vertices(model, identity, np.zeros_like(expression))
    freedom = anchor_freedom(model, warp.anchor_near, warp.anchor_far)
    ears = ear_vertices(model)
    return rest + warp_offsets(neutral, warp, skin_vertices(model), freedom, ears, ear_weights(model, warp.ear_sigma))


def skin_rest_vertices(
    model: LinearHeadModel, rest: NDArray[np.floating], joint_rotations: NDArray[np.floating]
) -> NDArray[np.float64]:
    """Pose a shaped rest mesh by the model's skeleton: pose correctives, then linear blend skinning.

    Args:
        model: a model with a skeleton (the rest mesh is returned as float64 when it has none, or for no angles).
        rest: ``(V, 3)`` shaped rest vertices (:func:`blend_vertices`), metres.
        joint_rotations: ``(J, 3)`` axis-angle per joint (or ``(0, 3)``: the rest pose).

    Returns:
        ``(V, 3)`` float64 posed vertices in the model frame (joints regressed from ``rest``).
    """
    v = np.asarray(rest, dtype=np.float64)
    rot = np.asarray(joint_rotations, dtype=np.float64)
    skel = model.skeleton
    if skel is None or rot.size == 0:
        return v
    if rot.shape != (skel.num_joints, 3):
        raise ValueError(f"joint_rotations must be ({skel.num_joints}, 3) for this model, got {rot.shape}")
    out = linear_blend_skinning(v, np.zeros((len(v), 3, 0)), np.zeros((1, 0)), skel.posedirs, skel.j_regressor,
                                skel.parents, skel.lbs_weights, rot[None])
    return out.vertices[0]


def head_vertices(model: LinearHeadModel, params: HeadParams) -> NDArray[np.float64]:
    """``(V, 3)`` float64 vertices of ``params`` in the model frame.

    The linear blend of :func:`blend_vertices` with the outline warp (:func:`rest_vertices`), skinned
    (:func:`skin_rest_vertices`) when the model has a skeleton and ``params`` has joint angles.
    """
    rest = rest_vertices(model, params.identity, params.expression, params.warp)
    return skin_rest_vertices(model, rest, params.joint_rotations)


def pose_head(model: LinearHeadModel, params: HeadParams, frame: Literal["model", "camera"] = "model") -> HeadMesh:
    """Evaluate the full mesh of ``params``; in the camera frame when ``frame="camera"``."""
    v = head_vertices(model, params)
    if frame == "camera":
        v = transform_points(v, params.pose)
    return HeadMesh(v.astype(np.float32), model, frame)
