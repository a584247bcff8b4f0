"""Request and response schemas of the avatar API (kept apart: what clients send vs what they get back)."""

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from headcast.service.jobs import JobStatus

EMOTION_NAMES = ("happiness", "sadness", "anger", "fear", "surprise", "disgust", "contempt")
"""``headcast.emotion.EMOTIONS``, repeated here so the gateway need not import numpy (a test keeps them equal)."""

BUNDLE_FILES: dict[str, str] = {
    "avatar.zip": "application/zip",
    "avatar.glb": "model/gltf-binary",
    "preview.png": "image/png",
    "turntable.png": "image/png",
    "params.json": "application/json",
}
"""Downloadable files of a finished job and their media types."""


class AvatarOptions(BaseModel):
    """Options sent with the photo (form fields) and stored with the job.

    The worker parses them again with the pipeline's own parsers; this is the early, cheap check.
    """

    emotion: str | None = Field(default=None, max_length=200, examples=["happiness=0.8,surprise=0.3"])
    hair: str = Field(default="auto", pattern=r"^[A-Za-z0-9_\-]{1,64}$", description="auto, none or a style name")
    hair_color: str | None = Field(default=None, pattern=r"^#?[0-9a-fA-F]{6}$", examples=["#8B5A2B"])
    faces: Literal["largest", "error"] = "largest"

    @field_validator("emotion")
    @classmethod
    def _emotion_syntax(cls, text: str | None) -> str | None:
        if text is None or not text.strip():
            return None
        seen: set[str] = set()
        for raw in text.split(","):
            item = raw.strip().lower()
            if not item or item == "neutral":
                continue
            name, sep, number = (part.strip() for part in item.partition("="))
            if name not in EMOTION_NAMES:
                raise ValueError(f"unknown emotion '{name}'; known: {', '.join(EMOTION_NAMES)}")
            if name in seen:
                raise ValueError(f"'{name}' given twice")
            seen.add(name)
            try:
                value = float(number) if sep else 1.0
            except ValueError:
                raise ValueError(f"'{item}': '{number}' is not a number") from None
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"'{item}': intensities must be in [0, 1]")
        return text


class AvatarCreated(BaseModel):
    """Answer to an upload: the job id and its bearer token (shown once; only its hash is stored)."""

    id: str
    token: str


class AvatarStatus(BaseModel):
    """Where a job is."""

    id: str
    status: JobStatus
    stage: str
    progress: float = Field(ge=0.0, le=1.0)
    error: str | None = None
    error_code: str | None = Field(default=None, description="no_face, multiple_faces, input_image, ...")
    options: AvatarOptions
    files: list[str] = Field(default_factory=list, description="downloadable files once done")


class ErrorBody(BaseModel):
    """Every error the API raises on purpose."""

    code: str
    message: str
