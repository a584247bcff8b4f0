"""``/api/avatars/{id}/variants``: the same head with another hairstyle, hair colour or emotion.

Made from the avatar's stored fit (no new photo, no re-fit) and cached by options. A variant is done as soon as the
files the page's viewer loads are there; its pictures and zip are made by a follow-up job queued on their first
download (:mod:`headcast.service.bundles`), which answers 503 with ``Retry-After`` until they are ready.
"""

import re

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, StreamingResponse

from headcast.service.api.deps import ApiError, BackendDep, CatalogueVersionDep, JobDep, SettingsDep
from headcast.service.api.routes.avatars import ERRORS
from headcast.service.api.schemas import ErrorBody, VariantCreated, VariantOptions, VariantStatus
from headcast.service.api.views import bundle_file, finished_files, status_stream
from headcast.service.backend import Backend
from headcast.service.bundles import ON_REQUEST_FILES, forget_bundle, missing_files, request_bundle
from headcast.service.catalogue import read_index
from headcast.service.jobs import Job, JobExistsError, NewJob
from headcast.service.storage import bundle_prefix, variant_job_id, variant_public_id

router = APIRouter(prefix="/api/avatars/{avatar_id}/variants", tags=["variants"])

_VARIANT_ERRORS = {
    **ERRORS,
    404: {"model": ErrorBody, "description": "no avatar with this id and token, or no such variant"},
}
_VARIANT_ID = re.compile(r"[0-9a-f]{20}")
RETRY_AFTER_SECONDS = 1
"""What a download of a file still being made says in ``Retry-After`` (the pictures and zip take a few seconds)."""


def variant_status(job: Job, files: list[str] | None = None, on_request: list[str] | None = None) -> VariantStatus:
    """The public view of a variant job."""
    return VariantStatus(
        id=variant_public_id(job),
        avatar=job.parent or "",
        status=job.status,
        stage=job.stage,
        progress=job.progress,
        error=job.error,
        error_code=job.error_code,
        options=VariantOptions.model_validate(job.options),
        files=files or [],
        on_request=on_request or [],
    )


def _status(backend: Backend, job: Job) -> VariantStatus:
    """The variant's status with its files: those ready, and those made on their first download."""
    later = missing_files(backend.storage, job) if job.status == "done" else []
    return variant_status(job, finished_files(backend.storage, job), later)


def _variant(backend: Backend, avatar: Job, variant_id: str) -> Job:
    job = backend.store.get(variant_job_id(avatar.id, variant_id)) if _VARIANT_ID.fullmatch(variant_id) else None
    if job is None or job.kind != "variant" or job.parent != avatar.id:
        raise ApiError(404, "not_found", "this avatar has no such variant")
    return job


@router.post(
    "",
    status_code=202,
    response_model=VariantCreated,
    responses={
        **ERRORS,
        409: {"model": ErrorBody, "description": "the avatar is not done"},
        422: {"model": ErrorBody, "description": "a bad option or an unknown hairstyle"},
    },
)
def create_variant(
    avatar: JobDep, options: VariantOptions, backend: BackendDep, catalogue_version: CatalogueVersionDep
) -> VariantCreated:
    """Ask for the avatar with other hair, hair colour or emotion.

    Equal options give the same variant id: a done variant is answered from the cache, a queued or running one is
    shared, a failed one is queued again.
    """
    if avatar.status != "done":
        raise ApiError(409, "not_ready", f"the avatar is {avatar.status}; variants need a finished avatar")
    index = read_index(backend, catalogue_version)
    if index is not None and options.hair not in ("auto", "none") and options.hair not in {
            s.name for s in index.styles}:
        raise ApiError(422, "bad_option", f"unknown hairstyle '{options.hair}'; see /api/hairstyles")
    variant_id = options.variant_id()
    new = NewJob(id=variant_job_id(avatar.id, variant_id), token_hash=avatar.token_hash, kind="variant",
                 parent=avatar.id, queue=avatar.queue, options=options.model_dump())
    for _ in range(3):
        try:
            job = backend.store.create(new)
        except JobExistsError:
            existing = backend.store.get(new.id)
            if existing is None:  # deleted between the two calls: try again
                continue
            if existing.status != "failed":
                return VariantCreated(variant=variant_id, status=existing.status, cached=True)
            backend.store.delete(new.id)  # a failure may have been passing (a lost worker): try once more
            continue
        backend.queue.enqueue(job)
        return VariantCreated(variant=variant_id, status=job.status, cached=False)
    raise ApiError(409, "conflict", "the variant changed while it was requested; try again")


@router.get("/{variant_id}", response_model=VariantStatus, responses=_VARIANT_ERRORS)
def get_variant(avatar: JobDep, variant_id: str, backend: BackendDep) -> VariantStatus:
    """The variant's status, stage, progress and, once done, its files."""
    return _status(backend, _variant(backend, avatar, variant_id))


@router.get(
    "/{variant_id}/events",
    responses={**_VARIANT_ERRORS, 200: {"content": {"text/event-stream": {}}, "description": "status events"}},
)
def variant_events(
    avatar: JobDep, variant_id: str, backend: BackendDep, settings: SettingsDep, request: Request
) -> StreamingResponse:
    """Server-sent events: one ``status`` event (JSON like ``GET .../variants/{vid}``) per change, until done."""
    job_id = _variant(backend, avatar, variant_id).id

    def status() -> VariantStatus | None:
        current = backend.store.get(job_id)
        return None if current is None else _status(backend, current)

    return status_stream(status, settings.poll_seconds, request, variant_id)


@router.get(
    "/{variant_id}/{filename}",
    responses={
        **_VARIANT_ERRORS,
        409: {"model": ErrorBody, "description": "not done yet"},
        500: {"model": ErrorBody, "description": "the pictures and zip could not be made (asking again retries)"},
        503: {"model": ErrorBody, "description": "a picture or the zip is being made: try again after Retry-After"},
    },
    response_class=FileResponse,
)
def download_variant(avatar: JobDep, variant_id: str, filename: str, backend: BackendDep) -> Response:
    """One file of the finished variant: avatar.glb, avatar.zip, preview.png, turntable.png or params.json.

    The GLB and params.json are there as soon as the variant is done; the first download of the zip or a picture
    queues the job that makes them and answers 503 with ``Retry-After`` until they are ready.
    """
    job = _variant(backend, avatar, variant_id)
    if filename in ON_REQUEST_FILES and job.status == "done" and not backend.storage.exists(
            f"{bundle_prefix(job)}/{filename}"):
        follow = request_bundle(backend, job)
        if follow.status == "failed":
            forget_bundle(backend, job)
            raise ApiError(500, "files_failed", f"{filename} could not be made ({follow.error}); ask again to retry")
        if follow.status != "done":
            raise ApiError(503, "not_ready", f"{filename} is being made ({follow.status}); try again in a moment",
                           {"Retry-After": str(RETRY_AFTER_SECONDS)})
    return bundle_file(backend.storage, job, filename)
