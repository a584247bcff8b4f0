"""The gateway application: :func:`create_app` wires settings, the job store, routes and (optionally) workers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

import headcast
from headcast.service.api.deps import ApiError
from headcast.service.api.routes import avatars, web
from headcast.service.config import ServiceSettings
from headcast.service.jobs import JobStore

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


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The gateway; with ``settings.workers > 0`` its lifespan also runs that many embedded worker processes."""
    settings = ServiceSettings() if settings is None else settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = None
        if settings.workers > 0:
            from headcast.service.embedded import WorkerPool

            pool = WorkerPool(settings)
            pool.start()
        app.state.pool = pool
        try:
            yield
        finally:
            if pool is not None:
                pool.stop()

    app = FastAPI(
        title="headcast",
        version=headcast.__version__,
        description="One portrait photo in, a textured 3D head avatar out.",
        lifespan=lifespan,
        docs_url="/docs" if settings.docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
    )
    app.state.settings = settings
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    app.state.store = JobStore(settings.db_path)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status, headers=exc.headers)

    app.add_middleware(UploadLimit, max_bytes=settings.max_upload_bytes)
    app.include_router(avatars.router)
    app.include_router(web.router)
    return app
