"""The gateway application: :func:`create_app` wires settings, the backend, routes and (optionally) workers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

import headcast
from headcast.service.api.deps import ApiError
from headcast.service.api.docs import add_api_docs
from headcast.service.api.routes import avatars, hairstyles, tracking, variants, web
from headcast.service.backend import open_backend
from headcast.service.catalogue import catalogue_version, ensure_catalogue
from headcast.service.config import ServiceSettings

if TYPE_CHECKING:
    from headcast.service.embedded import WorkerTarget

_MULTIPART_SLACK = 64 * 1024  # form boundaries and the other fields around the photo


class UploadLimit:
    """Refuse a request body announced larger than the photo limit before it is read (413)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry: answer 413 early, else pass the request on."""
        if scope["type"] == "http" and scope["method"] == "POST":
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_bytes + _MULTIPART_SLACK:
                mb = self.max_bytes // 2**20
                body = {"code": "file_too_large", "message": f"the upload is over {mb} MB"}
                await JSONResponse(body, status_code=413)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(settings: ServiceSettings | None = None, worker_target: "WorkerTarget | None" = None) -> FastAPI:
    """The gateway; with ``settings.workers > 0`` its lifespan also runs that many worker processes.

    ``settings.broker`` picks the backend (:func:`headcast.service.backend.open_backend`): None keeps jobs in the
    SQLite table, a ``redis://`` URL keeps them in Redis and sends them through Dramatiq. At start-up the job that
    writes the hairstyle list is queued unless the list exists.

    Args:
        settings: the service settings (from ``HEADCAST_SERVICE_*`` variables when None).
        worker_target: what each worker process runs (:data:`~headcast.service.embedded.WorkerTarget`); needed when
            ``settings.workers > 0``. ``headcast serve`` passes :func:`headcast.service.entry.worker_process`
            (:func:`headcast.service.entry.service_app`).

    Raises:
        ValueError: ``settings.workers > 0`` without a ``worker_target``.
    """
    settings = ServiceSettings() if settings is None else settings
    if settings.workers > 0 and worker_target is None:
        raise ValueError(f"settings.workers = {settings.workers} needs the processes' worker_target "
                         "(headcast.service.entry.service_app passes it)")
    backend = open_backend(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ensure_catalogue(backend, settings)
        pool = None
        if settings.workers > 0 and worker_target is not None:
            from headcast.service.embedded import WorkerPool

            pool = WorkerPool(settings, worker_target)
            pool.start()
        app.state.pool = pool
        try:
            yield
        finally:
            if pool is not None:
                pool.stop()
            backend.close()

    app = FastAPI(
        title="headcast",
        version=headcast.__version__,
        description="One portrait photo in, a textured 3D head avatar out.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's own /docs loads Swagger UI from a CDN; add_api_docs serves a local copy
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
    )
    if app.openapi_url is not None:
        add_api_docs(app, app.openapi_url)
    app.state.settings = settings
    app.state.backend = backend
    app.state.store = backend.store
    app.state.catalogue_version = catalogue_version()

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"] if part != "body")
        code = "bad_option" if first["loc"][:1] == ("body",) else "bad_request"
        return JSONResponse({"code": code, "message": f"{where}: {first['msg']}"}, status_code=422)

    app.add_middleware(UploadLimit, max_bytes=settings.max_upload_bytes)
    app.include_router(avatars.router)
    app.include_router(variants.router)
    app.include_router(hairstyles.router)
    app.include_router(web.router)
    app.include_router(tracking.router)
    return app
