"""Helpers the avatar and variant routes share: a job's files, one file as a response, the status event stream."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable

from fastapi import Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from headcast.service.api.deps import ApiError
from headcast.service.api.schemas import BUNDLE_FILES, JobStatusBase
from headcast.service.jobs import FINAL_STATUSES, Job
from headcast.service.storage import Storage, bundle_prefix

KEEPALIVE_SECONDS = 15.0
"""An SSE comment is sent after this long without a change (proxies close silent connections)."""


def finished_files(storage: Storage, job: Job) -> list[str]:
    """The downloadable files of a done job, in :data:`BUNDLE_FILES` order (none before it is done)."""
    if job.status != "done":
        return []
    prefix = bundle_prefix(job)
    return [name for name in BUNDLE_FILES if storage.exists(f"{prefix}/{name}")]


def bundle_file(storage: Storage, job: Job, filename: str) -> Response:
    """One file of a finished job: 404 for unknown names, 409 before the job is done."""
    if filename not in BUNDLE_FILES:
        raise ApiError(404, "not_found", f"no file '{filename}'; files: {', '.join(BUNDLE_FILES)}")
    if job.status != "done":
        raise ApiError(409, "not_ready", f"the job is {job.status}, not done")
    key = f"{bundle_prefix(job)}/{filename}"
    disposition = "attachment" if filename.endswith((".zip", ".glb")) else "inline"
    media_type = BUNDLE_FILES[filename]
    path = storage.local_path(key)
    if path is not None:
        return FileResponse(path, media_type=media_type, filename=filename, content_disposition_type=disposition)
    try:
        data = storage.get_bytes(key)
    except FileNotFoundError:
        raise ApiError(404, "not_found", f"this job has no {filename}") from None
    headers = {"Content-Disposition": f'{disposition}; filename="{filename}"'}
    return Response(data, media_type=media_type, headers=headers)


def status_stream(
    status: Callable[[], JobStatusBase | None], poll_seconds: float, request: Request, gone_id: str
) -> StreamingResponse:
    """Server-sent events: one ``status`` event per change of ``status()`` until a final status, or ``deleted``."""
    return StreamingResponse(
        _events(status, poll_seconds, request, gone_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    status: Callable[[], JobStatusBase | None], poll: float, request: Request, gone_id: str
) -> AsyncIterator[str]:
    last = ""
    quiet = 0.0
    while not await request.is_disconnected():
        current = await asyncio.to_thread(status)  # the store may be a network hop away (Redis)
        if current is None:
            yield f"event: deleted\ndata: {json.dumps({'id': gone_id})}\n\n"
            return
        payload = current.model_dump_json()
        if payload != last:
            yield f"event: status\ndata: {payload}\n\n"
            last, quiet = payload, 0.0
        elif quiet >= KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            quiet = 0.0
        if current.status in FINAL_STATUSES:
            return
        await asyncio.sleep(poll)
        quiet += poll
