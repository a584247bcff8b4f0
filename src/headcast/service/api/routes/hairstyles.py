"""``/api/hairstyles``: the hairstyle library and its thumbnails (public; files written by a worker)."""

import re

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse

from headcast.service.api.deps import ApiError, BackendDep, CatalogueVersionDep
from headcast.service.api.schemas import ErrorBody, Hairstyle
from headcast.service.catalogue import catalogue_job_id, read_index, thumbnail_job_id, thumbnail_key

router = APIRouter(prefix="/api/hairstyles", tags=["hairstyles"])

RETRY_AFTER_SECONDS = 5
_NAME = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_NOT_YET = {"model": ErrorBody, "description": "not made yet: a worker is preparing it (see Retry-After)"}


def _not_yet(what: str, job_error: str | None = None) -> ApiError:
    why = f"the last attempt failed: {job_error}; it is retried when the server restarts" if job_error else (
        "a worker is preparing it; try again in a few seconds (is a worker running?)")
    return ApiError(503, "not_ready", f"{what} is not ready: {why}", {"Retry-After": str(RETRY_AFTER_SECONDS)})


@router.get("", response_model=list[Hairstyle], responses={503: _NOT_YET})
def list_hairstyles(backend: BackendDep, version: CatalogueVersionDep, response: Response) -> list[Hairstyle]:
    """The library's styles (the ``hair`` values of uploads and variants besides ``auto`` and ``none``)."""
    index = read_index(backend, version)
    if index is None:
        job = backend.store.get(catalogue_job_id(version))
        raise _not_yet("the hairstyle list", job.error if job is not None and job.status == "failed" else None)
    response.headers["Cache-Control"] = "public, max-age=300"
    return [
        Hairstyle(name=s.name, tags=list(s.tags), thumbnail=f"/api/hairstyles/{s.name}/thumbnail.png")
        for s in index.styles
    ]


@router.get(
    "/{name}/thumbnail.png",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/png": {}}, "description": "the style on a plain head, front and 3/4 views"},
        404: {"model": ErrorBody, "description": "no such style, or it has no picture"},
        503: _NOT_YET,
    },
)
def hairstyle_thumbnail(name: str, backend: BackendDep, version: CatalogueVersionDep) -> Response:
    """One style's picture."""
    index = read_index(backend, version) if _NAME.fullmatch(name) else None
    if index is None and _NAME.fullmatch(name):
        raise _not_yet("the hairstyle list")
    if index is None or name not in {s.name for s in index.styles}:
        raise ApiError(404, "not_found", f"no hairstyle '{name}'")
    key = thumbnail_key(version, name)
    headers = {"Cache-Control": "public, max-age=3600"}
    path = backend.storage.local_path(key)
    if path is not None:
        return FileResponse(path, media_type="image/png", headers=headers)
    if backend.storage.exists(key):
        return Response(backend.storage.get_bytes(key), media_type="image/png", headers=headers)
    if not index.thumbnails:
        raise ApiError(404, "not_found", "thumbnails are turned off on this server")
    job = backend.store.get(thumbnail_job_id(version, name))
    if job is not None and job.status == "failed":
        raise ApiError(404, "not_found", f"no picture of '{name}': {job.error}")
    raise _not_yet(f"the picture of '{name}'")
