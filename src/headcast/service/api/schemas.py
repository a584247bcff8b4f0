"""Request and response schemas of the avatar API (kept apart: what clients send vs what they get back)."""

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from headcast.options import canonical_emotion, parse_emotion_text
from headcast.service.jobs import JobStatus

BUNDLE_FILES: dict[str, str] = {
    "avatar.zip": "application/zip",
    "avatar.glb": "model/gltf-binary",
    "preview.png": "image/png",
    "turntable.png": "image/png",
    "params.json": "application/json",
}
"""Downloadable files of a finished avatar or variant and their media types."""


HAIR_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"
COLOR_PATTERN = r"^#?[0-9a-fA-F]{6}$"


class AvatarOptions(BaseModel):
    """Options sent with the photo (form fields) and stored with the job.

    Checked here with the same numpy-free parsers the worker's :class:`headcast.options.Options` uses.
    """

    emotion: str | None = Field(default=None, max_length=200, examples=["happiness=0.8,surprise=0.3"])
    hair: str = Field(default="auto", pattern=HAIR_PATTERN, description="auto, none or a style name")
    hair_color: str | None = Field(default=None, pattern=COLOR_PATTERN, examples=["#8B5A2B"])
    faces: Literal["largest", "error"] = "largest"

    @field_validator("emotion")
    @classmethod
    def _emotion_syntax(cls, text: str | None) -> str | None:
        if text is None or not text.strip():
            return None
        parse_emotion_text(text)
        return text


class VariantOptions(BaseModel):
    """What a variant changes on a finished avatar (the photo, fit and texture stay).

    Normalised on input (``hair_color`` lower-case with ``#``, ``emotion`` in :func:`canonical_emotion` form), so
    equal settings give equal variant ids.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    hair: str = Field(default="auto", pattern=HAIR_PATTERN, description="auto, none or a style of /api/hairstyles")
    hair_color: str | None = Field(default=None, pattern=COLOR_PATTERN, examples=["#8B5A2B"],
                                   description="#RRGGBB; null: the photo's hair colour")
    emotion: str | None = Field(default=None, max_length=200, examples=["happiness=0.8,surprise=0.3"],
                                description="null: the photo's own expression; neutral: no emotion")

    @field_validator("hair_color")
    @classmethod
    def _normal_color(cls, text: str | None) -> str | None:
        return None if text is None else "#" + text.removeprefix("#").lower()

    @field_validator("emotion")
    @classmethod
    def _normal_emotion(cls, text: str | None) -> str | None:
        return canonical_emotion(text)

    def variant_id(self) -> str:
        """20 hex digits of SHA-256 over the normalised options: the same options always give the same id."""
        canonical = json.dumps(self.model_dump(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:20]


class AvatarCreated(BaseModel):
    """Answer to an upload: the job id and its bearer token (shown once; only its hash is stored)."""

    id: str
    token: str


class JobStatusBase(BaseModel):
    """Where a job is (shared by avatars and variants)."""

    id: str
    status: JobStatus
    stage: str = Field(description="queued, starting, reconstructing, loading, hair, emotion, rendering, done, failed")
    progress: float = Field(ge=0.0, le=1.0)
    error: str | None = None
    error_code: str | None = Field(default=None, description="no_face, multiple_faces, input_image, bad_option, ...")
    files: list[str] = Field(default_factory=list, description="files ready to download (once done)")


class AvatarStatus(JobStatusBase):
    """Where an avatar's job is."""

    options: AvatarOptions


class VariantStatus(JobStatusBase):
    """Where a variant's job is; ``id`` is the variant id.

    A done variant has the files the page's viewer loads (``avatar.glb``, ``params.json``) at once; its pictures
    and zip are made when first downloaded (``on_request``).
    """

    avatar: str = Field(description="the avatar's id")
    options: VariantOptions
    on_request: list[str] = Field(
        default_factory=list,
        description="files of the done variant made when first downloaded: until they are ready (a few seconds) "
                    "their download answers 503 with Retry-After",
    )


class VariantCreated(BaseModel):
    """Answer to a variant request: its id, where its job is, and whether an existing variant was reused."""

    variant: str
    status: JobStatus
    cached: bool = Field(description="true: these options were asked for before; no new job was queued")


class Hairstyle(BaseModel):
    """One style of the library (``hair`` value of an upload or a variant)."""

    name: str
    tags: list[str]
    thumbnail: str = Field(description="URL of its PNG picture")


class ErrorBody(BaseModel):
    """Every error the API raises on purpose."""

    code: str
    message: str
