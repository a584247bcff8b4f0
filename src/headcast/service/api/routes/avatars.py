"""``/api/avatars``: upload a photo, follow the job, download the bundle's files, delete everything."""

import asyncio
import json
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import ValidationError

from headcast.service.api.deps import ApiError, JobDep, SettingsDep, StoreDep, hash_token
from headcast.service.api.schemas import BUNDLE_FILES, AvatarCreated, AvatarOptions, AvatarStatus, ErrorBody
from headcast.service.imagecheck import SUFFIXES, ImageRejected, check_image
from headcast.service.jobs import FINAL_STATUSES, Job, JobStore

router = APIRouter(prefix="/api/avatars", tags=["avatars"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no bearer token"},
    404: {"model": ErrorBody, "description": "no avatar with this id and token"},
}
_KEEPALIVE_SECONDS = 15.0


def job_status(job: Job, files: list[str] | None = None) -> AvatarStatus:
    """The public view of a job row."""
    return AvatarStatus(
        id=job.id,
        status=job.status,
        stage=job.stage,
        progress=job.progress,
        error=job.error,
        error_code=job.error_code,
        options=AvatarOptions(**job.options),
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
    store: StoreDep,
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
    job_dir = settings.job_dir(job_id)
    job_dir.mkdir(parents=True)
    input_name = "input" + SUFFIXES[checked.format]
    (job_dir / input_name).write_bytes(data)
    token = secrets.token_urlsafe(32)
    store.create(hash_token(token), options.model_dump(), input_name, job_id=job_id)
    return AvatarCreated(id=job_id, token=token)


@router.get("/{avatar_id}", response_model=AvatarStatus, responses=_ERRORS)
def get_avatar(job: JobDep, settings: SettingsDep) -> AvatarStatus:
    """The job's status, stage, progress and, once done, its files."""
    bundle = settings.job_dir(job.id) / "bundle"
    files = [n for n in BUNDLE_FILES if (bundle / n).is_file()] if job.status == "done" else []
    return job_status(job, files)


@router.get(
    "/{avatar_id}/events",
    responses={**_ERRORS, 200: {"content": {"text/event-stream": {}}, "description": "status events"}},
)
async def avatar_events(job: JobDep, store: StoreDep, settings: SettingsDep, request: Request) -> StreamingResponse:
    """Server-sent events: one ``status`` event (JSON like ``GET /api/avatars/{id}``) per change, until done."""
    return StreamingResponse(
        _status_events(job.id, store, settings.poll_seconds, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _status_events(job_id: str, store: JobStore, poll: float, request: Request) -> AsyncIterator[str]:
    last = ""
    quiet = 0.0
    while not await request.is_disconnected():
        job = store.get(job_id)
        if job is None:
            yield f"event: deleted\ndata: {json.dumps({'id': job_id})}\n\n"
            return
        payload = job_status(job).model_dump_json()
        if payload != last:
            yield f"event: status\ndata: {payload}\n\n"
            last, quiet = payload, 0.0
        elif quiet >= _KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            quiet = 0.0
        if job.status in FINAL_STATUSES:
            return
        await asyncio.sleep(poll)
        quiet += poll


@router.get(
    "/{avatar_id}/{filename}",
    responses={**_ERRORS, 409: {"model": ErrorBody, "description": "not done yet"}},
    response_class=FileResponse,
)
def download(job: JobDep, settings: SettingsDep, filename: str) -> FileResponse:
    """One file of the finished bundle: avatar.zip, avatar.glb, preview.png, turntable.png or params.json."""
    if filename not in BUNDLE_FILES:
        raise ApiError(404, "not_found", f"no file '{filename}'; files: {', '.join(BUNDLE_FILES)}")
    if job.status != "done":
        raise ApiError(409, "not_ready", f"the avatar is {job.status}, not done")
    path = settings.job_dir(job.id) / "bundle" / filename
    if not path.is_file():
        raise ApiError(404, "not_found", f"this avatar has no {filename}")
    disposition = "attachment" if filename.endswith((".zip", ".glb")) else "inline"
    return FileResponse(
        path, media_type=BUNDLE_FILES[filename], filename=filename, content_disposition_type=disposition
    )


@router.delete("/{avatar_id}", status_code=204, responses=_ERRORS)
def delete_avatar(job: JobDep, settings: SettingsDep, store: StoreDep) -> Response:
    """Delete the photo, the bundle and the job row (a running job's worker discards its work)."""
    store.delete(job.id)
    shutil.rmtree(settings.job_dir(job.id), ignore_errors=True)
    return Response(status_code=204)
