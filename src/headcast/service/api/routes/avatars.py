"""``/api/avatars``: upload a photo, follow the job, download the bundle's files, delete everything."""

import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import ValidationError

from headcast.service.api.deps import ApiError, BackendDep, JobDep, SettingsDep, StorageDep, hash_token
from headcast.service.api.schemas import AvatarCreated, AvatarOptions, AvatarStatus, ErrorBody
from headcast.service.api.views import bundle_file, finished_files, status_stream
from headcast.service.imagecheck import SUFFIXES, ImageRejected, check_image
from headcast.service.jobs import Job, NewJob
from headcast.service.storage import avatar_prefix

router = APIRouter(prefix="/api/avatars", tags=["avatars"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no bearer token"},
    404: {"model": ErrorBody, "description": "no avatar with this id and token"},
}


def job_status(job: Job, files: list[str] | None = None) -> AvatarStatus:
    """The public view of an avatar job."""
    return AvatarStatus(
        id=job.id,
        status=job.status,
        stage=job.stage,
        progress=job.progress,
        error=job.error,
        error_code=job.error_code,
        options=AvatarOptions.model_validate(job.options),
        files=files or [],
    )


@router.post(
    "",
    status_code=201,
    response_model=AvatarCreated,
    responses={
        413: {"model": ErrorBody, "description": "file or pixel count over the limit"},
        415: {"model": ErrorBody, "description": "not a JPEG, PNG, WebP, BMP or TIFF"},
        422: {"model": ErrorBody, "description": "truncated or corrupt image, or a bad option"},
    },
)
def create_avatar(
    settings: SettingsDep,
    backend: BackendDep,
    photo: Annotated[UploadFile, File(description="a portrait photo")],
    emotion: Annotated[str | None, Form(description="e.g. happiness=0.8,surprise=0.3")] = None,
    hair: Annotated[str, Form(description="auto, none or a hairstyle name")] = "auto",
    hair_color: Annotated[str | None, Form(description="#RRGGBB")] = None,
    faces: Annotated[str, Form(description="largest or error")] = "largest",
) -> AvatarCreated:
    """Queue an avatar for a photo; the answer's token authorises every later request for it."""
    try:
        options = AvatarOptions(emotion=emotion, hair=hair, hair_color=hair_color or None, faces=faces)  # type: ignore[arg-type]
    except ValidationError as err:
        first = err.errors()[0]
        raise ApiError(422, "bad_option", f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    data = photo.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise ApiError(413, "file_too_large", f"the photo is over {settings.max_upload_bytes // 2**20} MB")
    try:
        checked = check_image(data, settings.max_pixels)
    except ImageRejected as err:
        raise ApiError(err.status, err.code, err.message) from None
    job_id = uuid.uuid4().hex
    input_name = "input" + SUFFIXES[checked.format]
    backend.storage.put_bytes(f"{avatar_prefix(job_id)}/{input_name}", data)
    token = secrets.token_urlsafe(32)
    new = NewJob(id=job_id, token_hash=hash_token(token), options=options.model_dump(), queue=settings.queue,
                 input_name=input_name)
    backend.queue.enqueue(backend.store.create(new))
    return AvatarCreated(id=job_id, token=token)


@router.get("/{avatar_id}", response_model=AvatarStatus, responses=ERRORS)
def get_avatar(job: JobDep, storage: StorageDep) -> AvatarStatus:
    """The job's status, stage, progress and, once done, its files."""
    return job_status(job, finished_files(storage, job))


@router.get(
    "/{avatar_id}/events",
    responses={**ERRORS, 200: {"content": {"text/event-stream": {}}, "description": "status events"}},
)
def avatar_events(job: JobDep, backend: BackendDep, settings: SettingsDep, request: Request) -> StreamingResponse:
    """Server-sent events: one ``status`` event (JSON like ``GET /api/avatars/{id}``) per change, until done."""

    def status() -> AvatarStatus | None:
        current = backend.store.get(job.id)
        return None if current is None else job_status(current, finished_files(backend.storage, current))

    return status_stream(status, settings.poll_seconds, request, job.id)


@router.get(
    "/{avatar_id}/{filename}",
    responses={**ERRORS, 409: {"model": ErrorBody, "description": "not done yet"}},
    response_class=FileResponse,
)
def download(job: JobDep, storage: StorageDep, filename: str) -> Response:
    """One file of the finished bundle: avatar.zip, avatar.glb, preview.png, turntable.png or params.json."""
    return bundle_file(storage, job, filename)


@router.delete("/{avatar_id}", status_code=204, responses=ERRORS)
def delete_avatar(job: JobDep, backend: BackendDep) -> Response:
    """Delete the photo, the bundle, the variants and the job (a running job's worker discards its work).

    The rows go first: a worker that publishes files after this checks its row, finds it gone and removes them.
    """
    backend.store.delete(job.id)
    backend.storage.delete_prefix(avatar_prefix(job.id))
    return Response(status_code=204)
