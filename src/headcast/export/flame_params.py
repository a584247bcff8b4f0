"""``flame_params.json``: FLAME parameters of a headcast (ICT FaceKit) head — schema, writer, reader, bundle step.

Written by ``headcast make … --flame-model PATH`` beside the bundle and into ``avatar.zip``, so FLAME-based tools
can use a headcast reconstruction. The parameters are fitted to the avatar's exported ICT head (identity and the
expression shown, model frame) through the packaged ICT↔FLAME correspondence
(:mod:`headcast.fitting.flame_correspondence`, :func:`headcast.fitting.flame_fit.fit_flame_to_ict`).

Convention (FLAME's, which is headcast's model frame, docs/conventions.md):
    ``shape`` β and ``expression`` ψ: coefficients of the first ``len(shape)`` identity and ``len(expression)``
    expression components of the FLAME file named in ``flame_model`` (its sha256: a different release gives a
    different head for the same numbers). ``pose`` θ: ``5 × 3`` axis-angle vectors in radians, joint order
    ``global, neck, jaw, eye_left, eye_right`` (``eye_left`` = the head's own left, +x), each relative to its
    parent, about its rest position. ``translation``: metres, added to every vertex after skinning. The FLAME
    mesh then lies on the ICT head in headcast's model frame (metres, +x the head's left, +y up, +z forward); the
    head pose (model → camera) is ``params.json``'s ``head_pose``. ``fit``: distances from FLAME's corresponded
    vertices to their ICT surface points, millimetres.
"""

import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

import headcast
from headcast.assets.resolver import AssetSettings, sha256_file
from headcast.avatar import Avatar
from headcast.errors import HeadcastError
from headcast.export.bundle import ZIP_NAME, BundleFile, BundleManifest, write_zip
from headcast.export.jsondoc import load_document, write_document
from headcast.fitting.flame_correspondence import (
    FLAME_CORRESPONDENCE_FILE,
    FlameCorrespondence,
    load_flame_correspondence,
)
from headcast.fitting.flame_fit import FlameFit, FlameFitSettings, FlameParams, fit_flame_to_ict
from headcast.headmodel.base import HeadParams
from headcast.headmodel.flame import FLAME_JOINT_NAMES, FlameModel, load_flame, resolve_flame_model

FLAME_PARAMS_NAME = "flame_params.json"
SCHEMA_VERSION: Literal[1] = 1
CONVENTIONS = (
    "FLAME's: shape (beta) and expression (psi) coefficients of the named FLAME file's first components; pose "
    "(theta) axis-angle radians per joint, order global, neck, jaw, eye_left, eye_right, each relative to its "
    "parent; translation metres, added after skinning; headcast's model frame (metres, +x head's left, +y up, "
    "+z forward), which is FLAME's; fit distances in millimetres"
)

Vec3 = tuple[float, float, float]


class FlameParamsFileError(HeadcastError):
    """A flame_params.json file is unreadable or invalid."""


class _Schema(BaseModel):
    model_config = ConfigDict(frozen=True, allow_inf_nan=False, extra="forbid")


class FlameModelDoc(_Schema):
    """The FLAME file the parameters belong to."""

    file: str = Field(description="file name of the user's FLAME model (e.g. generic_model.pkl, flame2023.pkl)")
    sha256: str = Field(pattern="^[0-9a-f]{64}$")


class FlameFitDoc(_Schema):
    """How well FLAME fits the ICT head: distances of the corresponded vertices, millimetres."""

    source_model: str = Field(description="the head model fitted to, e.g. 'ict-facekit'")
    correspondence: str = Field(description="the packaged ICT↔FLAME table")
    points: int = Field(gt=0)
    mean_distance_mm: float = Field(ge=0)
    median_distance_mm: float = Field(ge=0)
    p95_distance_mm: float = Field(ge=0)
    evaluations: dict[str, int] = Field(default_factory=dict)


class FlameParamsDoc(_Schema):
    """The whole ``flame_params.json`` document."""

    schema_version: Literal[1] = SCHEMA_VERSION
    software: dict[str, str]
    conventions: str = CONVENTIONS
    flame_model: FlameModelDoc
    joint_names: tuple[str, ...] = FLAME_JOINT_NAMES
    shape: list[float] = Field(description="beta")
    expression: list[float] = Field(description="psi")
    pose: Annotated[list[Vec3], Field(min_length=5, max_length=5)] = Field(description="theta, radians")
    translation: Vec3 = Field(description="metres")
    fit: FlameFitDoc | None = Field(
        default=None, description="the transfer fit to another head model; absent when the head is FLAME itself")

    @model_validator(mode="after")
    def _flame_joints(self) -> "FlameParamsDoc":
        if self.joint_names != FLAME_JOINT_NAMES:
            raise ValueError(f"joint_names must be FLAME's {', '.join(FLAME_JOINT_NAMES)}")
        return self

    def params(self) -> FlameParams:
        """The :class:`FlameParams` of the document (float64 arrays)."""
        return FlameParams(
            shape=np.array(self.shape, dtype=np.float64),
            expression=np.array(self.expression, dtype=np.float64),
            pose=np.array(self.pose, dtype=np.float64),
            translation=np.array(self.translation, dtype=np.float64),
        )


def _vec3(v: np.ndarray) -> Vec3:
    a = np.asarray(v, dtype=np.float64).reshape(3)
    return float(a[0]), float(a[1]), float(a[2])


def flame_params_document(fit: FlameFit, model_file: str, model_sha256: str, source_model: str) -> FlameParamsDoc:
    """The document of a fit.

    Args:
        fit: the FLAME fit.
        model_file: the FLAME file's name.
        model_sha256: its sha256 (hex).
        source_model: the head model it was fitted to (``LinearHeadModel.name``).
    """
    p = fit.params
    mm = fit.distances_m * 1000.0
    return FlameParamsDoc(
        software={"name": "headcast", "version": headcast.__version__},
        flame_model=FlameModelDoc(file=model_file, sha256=model_sha256),
        shape=[float(x) for x in p.shape],
        expression=[float(x) for x in p.expression],
        pose=[_vec3(r) for r in p.pose],
        translation=_vec3(p.translation),
        fit=FlameFitDoc(
            source_model=source_model,
            correspondence=FLAME_CORRESPONDENCE_FILE,
            points=len(mm),
            mean_distance_mm=fit.mean_distance_m * 1000.0,
            median_distance_mm=float(np.median(mm)),
            p95_distance_mm=float(np.percentile(mm, 95)),
            evaluations=dict(fit.evaluations),
        ),
    )


def write_flame_params(path: Path | str, document: FlameParamsDoc) -> Path:
    """Write ``flame_params.json`` (UTF-8, indented); return its path."""
    return write_document(path, document)


def load_flame_params_document(path: Path | str) -> FlameParamsDoc:
    """Read and validate a ``flame_params.json``.

    Raises:
        FlameParamsFileError: missing file, not JSON, or not this schema (the message lists the bad fields).
    """
    return load_document(path, FlameParamsDoc, FlameParamsFileError, "flame_params.json")


def read_flame_params(path: Path | str) -> FlameParams:
    """The :class:`FlameParams` of a ``flame_params.json``.

    ``headcast.fitting.flame_fit.flame_vertices(load_flame(file), params)`` rebuilds the mesh with the FLAME file
    the document names.
    """
    return load_flame_params_document(path).params()


# --- the bundle step ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FlameExport:
    """What ``--flame-model`` needs, loaded once per run.

    Attributes:
        model: the user's FLAME buffers.
        path: the FLAME file.
        sha256: its sha256 (hex), recorded in every ``flame_params.json``.
        correspondence: the packaged ICT↔FLAME table.
        settings: fit settings.
    """

    model: FlameModel
    path: Path
    sha256: str
    correspondence: FlameCorrespondence
    settings: FlameFitSettings


def load_flame_export(
    flame_model: Path | str | None, assets: AssetSettings | None = None, settings: FlameFitSettings | None = None
) -> FlameExport:
    """Find, check and load the user's FLAME file (``--flame-model PATH``, else ``<assets>/flame/…``) and the table.

    Raises:
        AssetError: the file is missing (the message names the MPI-IS site and the licence), or not FLAME.
    """
    path = resolve_flame_model(flame_model, assets)
    return FlameExport(load_flame(path), path, sha256_file(path), load_flame_correspondence(),
                       FlameFitSettings() if settings is None else settings)


def append_to_zip(manifest: BundleManifest, path: Path) -> BundleManifest:
    """Add ``path`` (a file in the bundle folder) to ``avatar.zip`` and the manifest (replacing a same-named one)."""
    name = path.name
    files = tuple(f for f in manifest.files if f.name != name)
    archive = manifest.directory / ZIP_NAME
    with zipfile.ZipFile(archive, "r") as zf:
        present = name in zf.namelist()
    if present:  # zip files cannot drop a member: rewrite the archive
        files = (*files, BundleFile.at(path))
        return replace(manifest, files=files, archive=write_zip(archive, files))
    with zipfile.ZipFile(archive, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.write(path, arcname=name)
    return replace(manifest, files=(*files, BundleFile.at(path)), archive=BundleFile.at(archive))


def own_flame_params_document(params: HeadParams, model_file: str, model_sha256: str) -> FlameParamsDoc:
    """The document of a head that *is* FLAME (``--head-model flame``): its own β, ψ and joint rotations.

    The head pose stays in params.json (``head_pose``), so θ's global rotation and the translation are zero here
    and the FLAME mesh is the avatar's mesh in the model frame.
    """
    pose = params.joint_rotations if params.joint_rotations.size else np.zeros((len(FLAME_JOINT_NAMES), 3))
    if pose.shape != (len(FLAME_JOINT_NAMES), 3):
        raise ValueError(f"a FLAME head has {len(FLAME_JOINT_NAMES)} joint rotations, got {pose.shape}")
    return FlameParamsDoc(
        software={"name": "headcast", "version": headcast.__version__},
        flame_model=FlameModelDoc(file=model_file, sha256=model_sha256),
        shape=[float(x) for x in params.identity],
        expression=[float(x) for x in params.expression],
        pose=[_vec3(r) for r in pose],
        translation=(0.0, 0.0, 0.0),
    )


def write_flame_bundle_file(avatar: Avatar, flame: FlameExport, manifest: BundleManifest) -> BundleManifest:
    """Write ``flame_params.json`` beside the bundle and into its zip.

    For a FLAME head the avatar's own parameters; for another head (ICT FaceKit) FLAME fitted to its exported mesh
    through the ICT↔FLAME table.

    Args:
        avatar: the avatar whose bundle ``manifest`` describes (its ``fit.params``: identity and the expression
            the exports show).
        flame: the loaded FLAME file and table.
        manifest: what :meth:`headcast.pipeline.Pipeline.write` wrote.

    Returns:
        The manifest with ``flame_params.json`` added.
    """
    if avatar.model.name == flame.model.name:
        doc = own_flame_params_document(avatar.fit.params, flame.path.name, flame.sha256)
    else:
        fit = fit_flame_to_ict(flame.model, avatar.model, avatar.fit.params, flame.correspondence, flame.settings)
        doc = flame_params_document(fit, flame.path.name, flame.sha256, avatar.model.name)
    path = write_flame_params(manifest.directory / FLAME_PARAMS_NAME, doc)
    return append_to_zip(manifest, path)
