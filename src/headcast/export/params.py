"""``params.json``: the fitted parameters, camera and landmarks of one avatar — schema, writer and reader.

Convention (docs/conventions.md):
    Lengths in metres, angles in radians (axis-angle), model frame +x the head's left, +y up, +z forward.
    ``head_pose`` maps model to camera, ``X_cam = R · X_model + t``; ``camera.extrinsics`` is the same 4×4
    world-to-camera matrix with world = model frame. The camera is OpenGL style (looks down −z). Every pixel
    quantity (intrinsics, ``landmarks68_2d``, ``image``) refers to the input photo's own pixels after EXIF
    rotation, before any internal downscale; origin at the top-left corner, v down.

Skinned head models (a :class:`~headcast.headmodel.base.Skeleton`) add ``joint_rotations``: the fitted
``HeadParams.joint_rotations`` by joint name, axis-angle in radians, each relative to its parent and about its rest
position (``headcast.headmodel.lbs``), in the skeleton's joint order. The mesh of the file is
``head_vertices(model, params)`` in the model frame, moved by ``head_pose`` into the camera frame.

A FLAME head (model ``"flame"``) also gets ``flame``: the same head in FLAME's own parameters, such that FLAME's
model evaluated at ``(β, ψ, θ)`` plus ``translation`` is the **camera-frame** mesh. ``head_pose`` rotates about the
model origin (``X_cam = R X + t``) while FLAME's global joint rotates about the root joint's rest position ``J0``
(regressed from the shaped rest mesh, expression included), so the head pose is folded into θ's global rotation and
a translation: ``θ_global = log(R · R_0)`` (``R_0`` the head's own root rotation, usually the identity) and
``translation = t + R J0 − J0``. Why: skinning with root rotation ``R_0`` puts every vertex at ``R_0 y + J0``, where
``y`` (the rest of the chain, relative to the root joint) does not depend on ``R_0`` — the other joints' rotations
are relative to their parents and the pose correctives use only theirs — so
``R (R_0 y + J0) + t = (R R_0) y + J0 + (t + R J0 − J0)``. The other joints keep their rotations.

``lighting`` (when the texture stage estimated it, ``TextureSettings.delight``): the photo's lighting as
second-order spherical-harmonic radiance coefficients in the **camera frame** (``headcast.texture.lighting``: real
orthonormal basis, order ``(l, m) = (0,0), (1,−1), (1,0), (1,1), (2,−2), (2,−1), (2,0), (2,1), (2,2)``; shading
of a white Lambertian surface of normal ``n`` = ``Σ Â_l/π · L_lm · Y_lm(n)``, scaled to mean 1 over the fitted
skin), the same coefficients in the model frame (``coefficients_model``: the light relative to the head as
photographed, what a viewer that orbits the head lights the albedo texture with), the dominant direction towards
the light in both frames, how much of the skin's variation it explains, the per-channel shading exponents, the
range the shading was clamped to, and how much of it was divided out of the texture (0: the texture keeps the
photo's shading; 1: the face is an albedo). headcast's own renders light the texture with exactly this
(``headcast.render.views.albedo_light``): channel ``c`` times ``clamp(s(n), lo, hi) ** (strength · k_c)``.

The schema is a pydantic model (``AvatarParams``); ``schema_version`` changes when a field changes meaning. Fields
added later are optional and left out of files that do not use them (``joint_rotations`` and ``flame`` are absent
for ICT FaceKit), so older files read as before.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

import headcast
from headcast.avatar import Avatar
from headcast.errors import HeadcastError
from headcast.export.jsondoc import load_document, write_document
from headcast.fitting.flame_head import FLAME_HEAD_NAME
from headcast.fitting.types import RefineReport
from headcast.geometry.camera import Camera, HeadPose, pose_matrix
from headcast.geometry.rotation import axis_angle_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import HeadParams, LinearHeadModel, rest_vertices
from headcast.headmodel.flame import FLAME_JOINT_NAMES
from headcast.headmodel.lbs import regress_joints
from headcast.headmodel.warp import OutlineWarp
from headcast.texture.lighting import ShLighting, rotate_lighting

SCHEMA_VERSION: Literal[1] = 1
CONVENTIONS = (
    "metres, radians; model frame +x head's left, +y up, +z forward; X_cam = R·X_model + t; OpenGL camera "
    "looking down -z; pixels of the input photo, origin top-left, v down (headcast docs/conventions.md)"
)
_MATRIX_TOLERANCE = 1e-6  # |matrix − pose_matrix(rotation, translation)| allowed when reading
# optional fields added after schema 1's first files
_OMITTED_WHEN_ABSENT = ("joint_rotations", "flame", "lighting", "outline_warp")

Vec3 = tuple[float, float, float]
Row4 = tuple[float, float, float, float]
Mat4 = tuple[Row4, Row4, Row4, Row4]
Point2 = tuple[float, float]


class ParamsFileError(HeadcastError):
    """A params.json file is unreadable, invalid, or belongs to another head model."""


class _Schema(BaseModel):
    model_config = ConfigDict(frozen=True, allow_inf_nan=False, extra="forbid")


class Software(_Schema):
    """What wrote the file."""

    name: Literal["headcast"] = "headcast"
    version: str


class PoseDoc(_Schema):
    """Model-to-camera head pose: ``rotation`` axis-angle (rad), ``translation`` (m), their 4×4 ``matrix``."""

    rotation: Vec3
    translation: Vec3
    matrix: Mat4

    @model_validator(mode="after")
    def _matrix_matches(self) -> "PoseDoc":
        expected = pose_matrix(np.array(self.rotation), np.array(self.translation))
        if not np.allclose(np.array(self.matrix), expected, atol=_MATRIX_TOLERANCE, rtol=0.0):
            raise ValueError("head_pose.matrix does not match rotation and translation")
        return self

    @classmethod
    def from_pose(cls, pose: HeadPose) -> "PoseDoc":
        """Document of a :class:`HeadPose`."""
        return cls(
            rotation=_vec3(pose.rotation), translation=_vec3(pose.translation), matrix=_mat4(pose.matrix)
        )

    def to_pose(self) -> HeadPose:
        """The :class:`HeadPose` (float64 arrays)."""
        return HeadPose(
            np.array(self.rotation, dtype=np.float64), np.array(self.translation, dtype=np.float64)
        )


class Intrinsics(_Schema):
    """Pinhole intrinsics in pixels of the input photo (``width`` × ``height``)."""

    fx: float = Field(gt=0)
    fy: float = Field(gt=0)
    cx: float
    cy: float
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class CameraDoc(_Schema):
    """Camera intrinsics and the 4×4 world-to-camera ``extrinsics`` (world = model frame)."""

    intrinsics: Intrinsics
    extrinsics: Mat4


class ImageDoc(_Schema):
    """The input photo: its size (pixels, after EXIF rotation) and the internal processing scale."""

    source: str | None
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    processing_scale: float = Field(gt=0, le=1)


class RefineDoc(_Schema):
    """What the skull-outline refinement did (:mod:`headcast.fitting.refine`)."""

    rays_used: int = Field(ge=0, description="rays whose photo outline is bare skin (0: the fit was not changed)")
    rays: int = Field(ge=0, description="rays cast over the top of the head")
    outline_before: float | None = Field(description="median |model - photo| outline offset, outer-eye distances")
    outline_after: float | None = Field(description="the same after the refinement")
    identity_change: float = Field(description="norm of the identity change, sigma units")
    reason: str = Field(default="", description="why nothing was refined")


class WarpDoc(_Schema):
    """The outline warp of the rest mesh (:mod:`headcast.headmodel.warp`), model frame, metres and radians."""

    centre: Vec3 = Field(description="the warp plane's centre (between the outer eye corners)")
    axis: Vec3 = Field(description="unit normal of the plane (towards the photo's camera)")
    up: Vec3 = Field(description="unit up direction in the plane")
    angles: list[float] = Field(description="increasing ray angles from up, radians")
    shifts: list[float] = Field(description="radial shift of the silhouette per angle, metres (+ outward)")
    inner: float = Field(ge=0.0, lt=1.0, description="no shift below this fraction of the silhouette radius")
    anchor_near: float = Field(ge=0.0, description="no shift within this distance of the fitted face, metres")
    anchor_far: float = Field(gt=0.0, description="full shift beyond this distance of the fitted face, metres")
    ear_shifts: tuple[float, float] = Field(
        default=(0.0, 0.0), description="outward shift of the model's +x and -x ear, metres")
    ear_sigma: float = Field(default=0.012, gt=0.0, description="sigma of the ears' Gaussian weights, metres")

    @model_validator(mode="after")
    def _valid(self) -> "WarpDoc":
        try:
            self.to_warp()
        except ValueError as e:
            raise ValueError(f"outline_warp: {e}") from e
        return self

    @classmethod
    def from_warp(cls, warp: OutlineWarp) -> "WarpDoc":
        """The document of a warp."""
        return cls(centre=_vec3(warp.centre), axis=_vec3(warp.axis), up=_vec3(warp.up),
                   angles=[float(a) for a in warp.angles], shifts=[float(x) for x in warp.shifts],
                   inner=float(warp.inner), anchor_near=float(warp.anchor_near), anchor_far=float(warp.anchor_far),
                   ear_shifts=(float(warp.ear_shifts[0]), float(warp.ear_shifts[1])), ear_sigma=float(warp.ear_sigma))

    def to_warp(self) -> OutlineWarp:
        """The warp of the document (raises ValueError for invalid numbers)."""
        return OutlineWarp(centre=np.array(self.centre), axis=np.array(self.axis), up=np.array(self.up),
                           angles=np.array(self.angles, dtype=np.float64),
                           shifts=np.array(self.shifts, dtype=np.float64),
                           inner=self.inner, anchor_near=self.anchor_near, anchor_far=self.anchor_far,
                           ear_shifts=np.array(self.ear_shifts, dtype=np.float64), ear_sigma=self.ear_sigma)


class FitDoc(_Schema):
    """Fit quality: normalised mean landmark error and solver iterations per stage."""

    nme: float
    iterations: dict[str, int] = Field(default_factory=dict)
    refine: RefineDoc | None = Field(default=None, description="the skull-outline refinement; absent when it did "
                                                               "not run")


class EmotionDoc(_Schema):
    """The emotion the avatar shows and the person's resting face (:class:`headcast.emotion.types.EmotionState`).

    A viewer shows emotion ``s`` as ``clip(resting_expression + net(s), 0, 1)`` with the network of
    ``/api/emotion/model.json`` (docs/emotion.md), and turns the head by the pose tendency of ``s`` relative to
    ``shown``.
    """

    detected: dict[str, float] = Field(description="emotion intensities detected on the photo, each in [0, 1]")
    shown: dict[str, float] = Field(description="emotion intensities the exported expression shows")
    resting_expression: dict[str, float] = Field(
        description="expression weights of the resting face (fitted − network(detected)), unclipped, model order"
    )


class FlameDoc(_Schema):
    """The head in FLAME's parameters, camera frame: FLAME(β, ψ, θ) + ``translation`` = the camera-frame mesh.

    FLAME's joint order (``joint_names``); a joint the head's skeleton lacks is at rest (zero). How the head pose
    becomes θ's global rotation and the translation: the module docstring.
    """

    joint_names: tuple[str, ...] = FLAME_JOINT_NAMES
    shape: list[float] = Field(description="beta: identity coefficients of FLAME's first components")
    expression: list[float] = Field(description="psi: expression coefficients of FLAME's first components")
    pose: tuple[float, float, float, float, float, float] = Field(
        description="theta as FLAME's 6-vector: global rotation (3) then jaw (3), axis-angle, radians")
    full_pose: Annotated[list[Vec3], Field(min_length=5, max_length=5)] = Field(
        description="theta per joint (joint_names order), axis-angle radians, each relative to its parent")
    translation: Vec3 = Field(description="metres, added to every vertex after skinning (camera frame)")

    @model_validator(mode="after")
    def _consistent(self) -> "FlameDoc":
        if self.joint_names != FLAME_JOINT_NAMES:
            raise ValueError(f"flame.joint_names must be FLAME's {', '.join(FLAME_JOINT_NAMES)}")
        jaw = self.full_pose[FLAME_JOINT_NAMES.index("jaw")]
        if self.pose != (*self.full_pose[0], *jaw):
            raise ValueError("flame.pose must be full_pose's global rotation then its jaw rotation")
        return self


class LightingDoc(_Schema):
    """The photo's lighting estimated on the face's skin (module docstring): SH radiance, camera frame."""

    frame: Literal["camera"] = "camera"
    coefficients: Annotated[list[float], Field(min_length=9, max_length=9)] = Field(
        description="L_lm, real orthonormal SH, (l,m) = (0,0),(1,-1),(1,0),(1,1),(2,-2),(2,-1),(2,0),(2,1),(2,2); "
                    "shading s(n) = sum(A_l/pi * L_lm * Y_lm(n)), mean 1 over the fitted skin")
    direction: Vec3 = Field(description="unit vector towards the dominant light (band 1), camera frame")
    direction_model: Vec3 = Field(description="the same direction in the model frame (R^T · direction)")
    coefficients_model: Annotated[list[float], Field(min_length=9, max_length=9)] | None = Field(
        default=None,
        description="the same lighting in the model frame (the head as photographed: s(n_model) = s(R n_model)); "
                    "light an albedo texture with these in a viewer that orbits the head; absent in older files")
    shading_range: tuple[float, float] | None = Field(
        default=None,
        description="(lo, hi): the shading was clamped to this range where it was divided out; absent in older "
                    "files")
    explained: float = Field(description="fraction of the skin colours' variance the shading explains (R^2)")
    channel_exponents: Vec3 = Field(description="red, green, blue are shaded by s(n) ** k_c")
    delight_strength: float = Field(ge=0, le=1, description="how much of this shading the texture had divided out")

    def estimate(self) -> ShLighting:
        """The lighting as the texture stage had it (camera frame), to relight the bundle's texture.

        An older file without ``shading_range`` gives an unbounded range ``(0, inf)``.
        """
        lo, hi = self.shading_range if self.shading_range is not None else (0.0, float("inf"))
        return ShLighting(np.asarray(self.coefficients, np.float64), shading_range=(lo, hi),
                          explained=self.explained, channel_exponents=np.asarray(self.channel_exponents, np.float64))


class AvatarParams(_Schema):
    """The whole ``params.json`` document."""

    schema_version: Literal[1] = SCHEMA_VERSION
    software: Software
    conventions: str = CONVENTIONS
    model: str = Field(description="head model id, e.g. 'ict-facekit'")
    identity: list[float] = Field(description="identity coefficients, σ units")
    expression: dict[str, float] = Field(description="expression shape name -> weight, model order")
    head_pose: PoseDoc
    camera: CameraDoc
    image: ImageDoc
    landmarks68_2d: Annotated[list[Point2], Field(min_length=68, max_length=68)]
    fit: FitDoc
    timings: dict[str, float] = Field(default_factory=dict, description="wall seconds per stage")
    warnings: list[str] = Field(default_factory=list)
    emotion: EmotionDoc | None = Field(default=None, description="shown/detected emotion and resting face")
    joint_rotations: dict[str, Vec3] | None = Field(
        default=None,
        description="skinned head models: joint name -> axis-angle (radians) relative to the parent joint, about "
                    "its rest position, in the skeleton's order; absent for models without joints")
    flame: FlameDoc | None = Field(
        default=None, description="a FLAME head in FLAME's beta/psi/theta and a camera-frame translation")
    lighting: LightingDoc | None = Field(
        default=None, description="the photo's lighting estimated on the face (SH, camera frame); absent when "
                                  "the texture stage did not estimate it")
    outline_warp: WarpDoc | None = Field(
        default=None, description="the outline warp added to the rest mesh before expression (the fitted skull "
                                  "outline beyond the identity modes); absent when there is none")

    @model_validator(mode="after")
    def _extrinsics_match_pose(self) -> "AvatarParams":
        if not np.allclose(self.camera.extrinsics, self.head_pose.matrix, atol=_MATRIX_TOLERANCE, rtol=0.0):
            raise ValueError("camera.extrinsics must equal head_pose.matrix (world = model frame)")
        return self

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # the optional fields added to schema 1 are left out when absent (files of models without joints are as
        # before); the older optional fields keep their explicit null
        data: dict[str, object] = handler(self)
        for key in _OMITTED_WHEN_ABSENT:
            if key in data and data[key] is None:
                del data[key]
        return data

    def head_params(self, model: LinearHeadModel | None = None) -> HeadParams:
        """:class:`HeadParams` of the document.

        Args:
            model: when given, the document must be for this model (same id, expression and joint names); the
                expression vector and the joint rotations are then in the model's order. Without it, the file's
                order is used.

        Returns:
            The parameters; ``joint_rotations`` is ``(J, 3)`` when the file has them, else ``(0, 3)`` (the rest
            pose of a skinned model, or a model without joints).

        Raises:
            ParamsFileError: the document is for another model.
        """
        names = list(self.expression)
        if model is not None:
            if self.model != model.name:
                raise ParamsFileError(f"params.json is for head model '{self.model}', not '{model.name}'")
            if set(names) != set(model.expression_names) or len(names) != model.num_expressions:
                raise ParamsFileError(f"params.json expression names do not match model '{model.name}'")
            if len(self.identity) > model.num_identity:
                raise ParamsFileError(
                    f"params.json has {len(self.identity)} identity coefficients; the model has "
                    f"{model.num_identity}"
                )
            names = list(model.expression_names)
        return HeadParams(
            identity=np.array(self.identity, dtype=np.float64),
            expression=np.array([self.expression[n] for n in names], dtype=np.float64),
            pose=self.head_pose.to_pose(),
            joint_rotations=self._joint_rotations(model),
            warp=None if self.outline_warp is None else self.outline_warp.to_warp(),
        )

    def _joint_rotations(self, model: LinearHeadModel | None) -> NDArray[np.float64]:
        """``(J, 3)`` float64 rotations of ``joint_rotations`` in the model's joint order (the file's without one)."""
        if self.joint_rotations is None:
            return np.zeros((0, 3))
        names = list(self.joint_rotations)
        if model is not None:
            skel = model.skeleton
            if skel is None or sorted(names) != sorted(skel.joint_names):
                known = "none" if skel is None else ", ".join(skel.joint_names)
                raise ParamsFileError(f"params.json joints {', '.join(names)} do not match model '{model.name}' "
                                      f"(joints: {known})")
            names = list(skel.joint_names)
        return np.array([self.joint_rotations[n] for n in names], dtype=np.float64).reshape(-1, 3)

    def camera_model(self) -> Camera:
        """The :class:`Camera` (input-photo pixels)."""
        c = self.camera.intrinsics
        return Camera(c.fx, c.fy, c.cx, c.cy, c.width, c.height)


def _vec3(v: np.ndarray) -> Vec3:
    a = np.asarray(v, dtype=np.float64).reshape(3)
    return float(a[0]), float(a[1]), float(a[2])


def _mat4(m: np.ndarray) -> Mat4:
    a = np.asarray(m, dtype=np.float64).reshape(4, 4)
    rows = [(float(r[0]), float(r[1]), float(r[2]), float(r[3])) for r in a]
    return rows[0], rows[1], rows[2], rows[3]


def fitted_joint_rotations(model: LinearHeadModel, params: HeadParams) -> NDArray[np.float64]:
    """``(J, 3)`` float64 joint rotations of a skinned model (zeros for ``(0, 3)``: the rest pose).

    Raises:
        ValueError: the model has no skeleton, or ``params`` has a different number of joints.
    """
    skel = model.skeleton
    if skel is None:
        raise ValueError(f"head model '{model.name}' has no skeleton")
    rot = np.asarray(params.joint_rotations, dtype=np.float64)
    if rot.size == 0:
        return np.zeros((skel.num_joints, 3))
    if rot.shape != (skel.num_joints, 3):
        raise ValueError(f"joint_rotations must be ({skel.num_joints}, 3) for this model, got {rot.shape}")
    return rot


def flame_camera_pose(
    model: LinearHeadModel, params: HeadParams
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """FLAME's θ and translation that put FLAME(β, ψ, θ) on the camera-frame mesh of ``params``.

    ``θ_global = log(R · R_0)``, ``translation = t + R J0 − J0`` with ``(R, t)`` the head pose, ``R_0`` the root
    joint's own rotation and ``J0`` the root joint regressed from the shaped rest mesh (module docstring); the
    other joints keep their rotations (relative to their parents).

    Args:
        model: a skinned model whose joints are FLAME's (joint 0, the root, is ``global``); joints FLAME has and the
            model lacks are at rest.
        params: fitted parameters.

    Returns:
        ``(pose, translation)``: ``(5, 3)`` float64 axis-angle in :data:`FLAME_JOINT_NAMES` order, radians, and
        ``(3,)`` float64 metres.

    Raises:
        ValueError: the model has no skeleton, its root is not FLAME's ``global`` or it has joints FLAME lacks.
    """
    skel = model.skeleton
    if skel is None:
        raise ValueError(f"head model '{model.name}' has no skeleton")
    rot = fitted_joint_rotations(model, params)
    foreign = [n for n in skel.joint_names if n not in FLAME_JOINT_NAMES]
    if foreign or skel.joint_names[0] != FLAME_JOINT_NAMES[0]:
        raise ValueError(f"joints {', '.join(skel.joint_names)} are not FLAME's {', '.join(FLAME_JOINT_NAMES)} "
                         f"(root '{FLAME_JOINT_NAMES[0]}' first)")
    rest = rest_vertices(model, params.identity, params.expression, params.warp)
    root = regress_joints(skel.j_regressor[:1], rest[None])[0, 0]
    head_rot = axis_angle_to_matrix(params.pose.rotation)
    pose = np.zeros((len(FLAME_JOINT_NAMES), 3))
    for j, name in enumerate(skel.joint_names):
        pose[FLAME_JOINT_NAMES.index(name)] = rot[j]
    pose[0] = matrix_to_axis_angle(head_rot @ axis_angle_to_matrix(rot[0]))
    translation = np.asarray(params.pose.translation, dtype=np.float64) + head_rot @ root - root
    return pose, translation


def flame_document(model: LinearHeadModel, params: HeadParams) -> FlameDoc:
    """The ``flame`` block of a FLAME head (:func:`flame_camera_pose`; β = identity, ψ = expression)."""
    pose, translation = flame_camera_pose(model, params)
    jaw = pose[FLAME_JOINT_NAMES.index("jaw")]
    return FlameDoc(
        shape=[float(x) for x in params.identity],
        expression=[float(x) for x in params.expression],
        pose=(*_vec3(pose[0]), *_vec3(jaw)),
        full_pose=[_vec3(r) for r in pose],
        translation=_vec3(translation),
    )


def _refine_doc(report: RefineReport | None) -> RefineDoc | None:
    if report is None:
        return None
    finite = lambda v: float(v) if np.isfinite(v) else None  # noqa: E731 - NaN is "not measured"
    return RefineDoc(rays_used=report.rays_used, rays=report.rays, outline_before=finite(report.outline_before),
                     outline_after=finite(report.outline_after), identity_change=float(report.identity_change),
                     reason=report.reason)


def params_document(avatar: Avatar, timings: Mapping[str, float] | None = None) -> AvatarParams:
    """Build the ``params.json`` document of an avatar.

    Pixel quantities are converted from the processed image (``Photo.pixels``) back to the input photo's
    pixels by ``1 / Photo.scale``.

    Args:
        avatar: the avatar.
        timings: wall seconds per stage; defaults to ``avatar.timings``.
    """
    photo, fit = avatar.photo, avatar.fit
    scale = float(photo.scale)
    width, height = photo.original_size if min(photo.original_size) > 0 else (photo.width, photo.height)
    cam = fit.camera
    landmarks = np.asarray(fit.landmarks68_2d, dtype=np.float64).reshape(68, 2) / scale
    pose = PoseDoc.from_pose(fit.params.pose)
    model = avatar.model
    joints = None
    if model.skeleton is not None:
        rotations = fitted_joint_rotations(model, fit.params)
        joints = {n: _vec3(r) for n, r in zip(model.skeleton.joint_names, rotations, strict=True)}
    flame = None
    if model.name == FLAME_HEAD_NAME and model.skeleton is not None:
        flame = flame_document(model, fit.params)
    lighting = None
    est = avatar.texture.lighting
    if est is not None:
        direction = est.direction
        rotation = axis_angle_to_matrix(fit.params.pose.rotation)
        lighting = LightingDoc(
            coefficients=[float(c) for c in est.coefficients],
            direction=_vec3(direction),
            direction_model=_vec3(rotation.T @ direction),
            coefficients_model=[float(c) for c in rotate_lighting(est, rotation).coefficients],
            shading_range=(float(est.shading_range[0]), float(est.shading_range[1]))
            if np.all(np.isfinite(est.shading_range)) else None,
            explained=float(est.explained),
            channel_exponents=_vec3(est.channel_exponents),
            delight_strength=float(avatar.texture.delight_strength),
        )
    return AvatarParams(
        software=Software(version=headcast.__version__),
        model=avatar.model.name,
        identity=[float(a) for a in fit.params.identity],
        expression=fit.params.expression_dict(avatar.model),
        head_pose=pose,
        camera=CameraDoc(
            intrinsics=Intrinsics(
                fx=cam.fx / scale,
                fy=cam.fy / scale,
                cx=cam.cx / scale,
                cy=cam.cy / scale,
                width=width,
                height=height,
            ),
            extrinsics=pose.matrix,
        ),
        image=ImageDoc(
            source=photo.source.name if photo.source is not None else None,
            width=int(width),
            height=int(height),
            processing_scale=scale,
        ),
        landmarks68_2d=[(float(u), float(v)) for u, v in landmarks],
        fit=FitDoc(nme=float(fit.nme), iterations=dict(fit.iterations), refine=_refine_doc(avatar.refine)),
        timings={k: float(v) for k, v in (avatar.timings if timings is None else timings).items()},
        warnings=list(avatar.warnings),
        emotion=None if avatar.emotion is None else EmotionDoc(
            detected=avatar.emotion.detected.as_dict(),
            shown=avatar.emotion.shown.as_dict(),
            resting_expression={n: float(w) for n, w in zip(avatar.model.expression_names, avatar.emotion.resting,
                                                            strict=True)},
        ),
        joint_rotations=joints,
        flame=flame,
        lighting=lighting,
        outline_warp=None if fit.params.warp is None else WarpDoc.from_warp(fit.params.warp),
    )


def write_params(path: Path | str, avatar: Avatar, timings: Mapping[str, float] | None = None) -> Path:
    """Write ``params.json`` (UTF-8, indented); return its path. ``timings`` default: ``avatar.timings``."""
    return write_document(path, params_document(avatar, timings))


def load_params_document(path: Path | str) -> AvatarParams:
    """Read and validate a ``params.json``.

    Raises:
        ParamsFileError: missing file, not JSON, or not this schema (the message lists the bad fields).
    """
    return load_document(path, AvatarParams, ParamsFileError, "params.json")


def read_params(path: Path | str, model: LinearHeadModel | None = None) -> tuple[HeadParams, Camera]:
    """Read ``params.json`` into the fitted :class:`HeadParams` and the photo's :class:`Camera`.

    Args:
        path: the file.
        model: when given, checks the file is for this model and orders the expression like the model.

    Returns:
        ``(params, camera)``; ``pose_head(model, params)`` rebuilds the fitted mesh.
    """
    doc = load_params_document(path)
    return doc.head_params(model), doc.camera_model()
