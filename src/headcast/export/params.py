"""``params.json``: the fitted parameters, camera and landmarks of one avatar — schema, writer and reader.

Convention (docs/conventions.md):
    Lengths in metres, angles in radians (axis-angle), model frame +x the head's left, +y up, +z forward.
    ``head_pose`` maps model to camera, ``X_cam = R · X_model + t``; ``camera.extrinsics`` is the same 4×4
    world-to-camera matrix with world = model frame. The camera is OpenGL style (looks down −z). Every pixel
    quantity (intrinsics, ``landmarks68_2d``, ``image``) refers to the input photo's own pixels after EXIF
    rotation, before any internal downscale; origin at the top-left corner, v down.

The schema is a pydantic model (``AvatarParams``); ``schema_version`` changes when a field changes meaning.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

import headcast
from headcast.avatar import Avatar
from headcast.errors import HeadcastError
from headcast.export.jsondoc import load_document, write_document
from headcast.geometry.camera import Camera, HeadPose, pose_matrix
from headcast.headmodel.base import HeadParams, LinearHeadModel

SCHEMA_VERSION: Literal[1] = 1
CONVENTIONS = (
    "metres, radians; model frame +x head's left, +y up, +z forward; X_cam = R·X_model + t; OpenGL camera "
    "looking down -z; pixels of the input photo, origin top-left, v down (headcast docs/conventions.md)"
)
_MATRIX_TOLERANCE = 1e-6  # |matrix − pose_matrix(rotation, translation)| allowed when reading

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


class FitDoc(_Schema):
    """Fit quality: normalised mean landmark error and solver iterations per stage."""

    nme: float
    iterations: dict[str, int] = Field(default_factory=dict)


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

    @model_validator(mode="after")
    def _extrinsics_match_pose(self) -> "AvatarParams":
        if not np.allclose(self.camera.extrinsics, self.head_pose.matrix, atol=_MATRIX_TOLERANCE, rtol=0.0):
            raise ValueError("camera.extrinsics must equal head_pose.matrix (world = model frame)")
        return self

    def head_params(self, model: LinearHeadModel | None = None) -> HeadParams:
        """:class:`HeadParams` of the document.

        Args:
            model: when given, the document must be for this model (same id and expression names); the
                expression vector is then in the model's order. Without it, the file's order is used.

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
        )

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
        fit=FitDoc(nme=float(fit.nme), iterations=dict(fit.iterations)),
        timings={k: float(v) for k, v in (avatar.timings if timings is None else timings).items()},
        warnings=list(avatar.warnings),
        emotion=None if avatar.emotion is None else EmotionDoc(
            detected=avatar.emotion.detected.as_dict(),
            shown=avatar.emotion.shown.as_dict(),
            resting_expression={n: float(w) for n, w in zip(avatar.model.expression_names, avatar.emotion.resting,
                                                            strict=True)},
        ),
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
