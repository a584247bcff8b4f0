"""The API docs page ``/docs``: Swagger UI from files in this package, nothing from a CDN.

FastAPI's built-in ``/docs`` page loads Swagger UI's script, style sheet and favicon from the internet; the gateway
turns it off (``docs_url=None``) and :func:`add_api_docs` serves the same page with local URLs instead:
``/static/swagger-ui/`` is Swagger UI's prebuilt files, copied from the npm package ``swagger-ui-dist`` (pinned in
``web/package-lock.json``) by ``npm run --prefix web build`` (``web/build.mjs``) and packed into the wheel beside the
3D viewer bundle. ReDoc stays off (``redoc_url=None``): a second renderer of the same document is not worth a second
bundle.
"""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI_URL = "/static/swagger-ui"
"""Where Swagger UI's files are served (a :class:`StaticFiles` mount of ``headcast/service/static/swagger-ui``)."""

SWAGGER_UI_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")
"""The files the page loads; all of them exist once ``npm run --prefix web build`` has run."""

BUILD_COMMAND = "npm ci --prefix web && npm run --prefix web build"
"""What builds them (in the headcast checkout)."""


def swagger_ui_dir() -> Path | None:
    """The packaged Swagger UI folder, or None when its files were not built."""
    folder = files("headcast.service") / "static" / "swagger-ui"
    if not all((folder / name).is_file() for name in SWAGGER_UI_FILES):
        return None
    return Path(str(folder))  # a regular package installed as files: its resources are real paths


def add_api_docs(app: FastAPI, openapi_url: str) -> None:
    """Serve ``GET /docs`` (Swagger UI reading ``openapi_url``) and Swagger UI's files on ``app``.

    Without the built files ``/docs`` answers 503 with a page that says how to build them (and where the OpenAPI
    document is); the check is made once, here, so a build made later needs a restart of the server.
    """
    folder = swagger_ui_dir()
    if folder is not None:
        app.mount(SWAGGER_UI_URL, StaticFiles(directory=folder), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        if folder is None:
            return HTMLResponse(_not_built_page(openapi_url), status_code=503)
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{SWAGGER_UI_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI_URL}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
            oauth2_redirect_url=None,
            # no request to validator.swagger.io (Swagger UI's online validator badge)
            swagger_ui_parameters={"validatorUrl": None},
        )


def _not_built_page(openapi_url: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>API docs not built</title></head>\n'
        "<body><h1>API docs: Swagger UI's files were not built</h1>\n"
        "<p>This headcast was installed without the web page's generated files. In the headcast checkout run "
        f"<code>{BUILD_COMMAND}</code> and restart <code>headcast serve</code> (a wheel built by "
        "<code>pip wheel .</code> or <code>python -m build</code> contains them).</p>\n"
        f'<p>The API description itself is served at <a href="{openapi_url}">{openapi_url}</a>.</p>\n'
        "</body></html>\n"
    )
