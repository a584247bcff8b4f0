"""The web page at ``/``, its static files (packaged in ``headcast/service/static``) and the emotion network.

The page's scripts are built from ``web/src`` by ``npm run --prefix web build`` (not kept in git); where they were
never built, ``/`` answers 503 with a short page that says so and gives the command, and the API works as usual.

The network's JSON is read as bytes from the ``headcast`` package folder: the gateway never imports
``headcast.emotion`` (numpy) to serve it (tests/service/test_browser_routes.py checks ``sys.modules``).
"""

import hashlib
import html
from functools import lru_cache
from importlib.resources import files
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, Response

from headcast.service.api.deps import ApiError, SettingsDep
from headcast.service.api.docs import BUILD_COMMAND

router = APIRouter()

_STATIC = files("headcast.service") / "static"
_EMOTION_DATA = files("headcast") / "emotion" / "data"
_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
PAGE_SCRIPTS = ("app.js", "emotion.js")
"""Built files the page cannot start without (``web/build.mjs``); ``viewer.js`` is optional (no 3D view)."""
_EMOTION_FILES: dict[str, str] = {"base": "emotion_mlp.json", "identity": "emotion_mlp_identity.json"}
"""Network variant → packaged file (``headcast.emotion.model.packaged_model_name``, repeated: no numpy here)."""

PAGE_SECURITY_HEADERS: dict[str, str] = {
    # Same-origin scripts and styles only; blob: for the fetched GLB's texture, the photo preview and downloads.
    # 'wasm-unsafe-eval' lets the viewer compile three.js's meshopt decoder (WebAssembly, shipped inside viewer.js)
    # for the `web` GLBs; it allows no eval() of JavaScript.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; "
        "connect-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
"""Headers of the page: the share link carries the token in the fragment, so no foreign script may read it."""


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The page; the upload limits are written into its ``<meta>`` tags for the client-side checks.

    Checked on every request, so a build made while the server runs is picked up by reloading the page.
    """
    missing = [name for name in PAGE_SCRIPTS if not (_STATIC / name).is_file()]
    if missing:
        return HTMLResponse(_not_built_page(missing, request.app.openapi_url), status_code=503,
                            headers={**PAGE_SECURITY_HEADERS, "Cache-Control": "no-store"})
    page = (_STATIC / "index.html").read_text(encoding="utf-8")
    page = page.replace("%MAX_UPLOAD_BYTES%", str(settings.max_upload_bytes))
    page = page.replace("%MAX_PIXELS%", str(settings.max_pixels))
    return HTMLResponse(page, headers={**PAGE_SECURITY_HEADERS, "Cache-Control": "no-cache"})


def _not_built_page(missing: list[str], openapi_url: str | None) -> str:
    """What ``/`` shows without the page's scripts: which files, the command that builds them, where the API is."""
    files_text = ", ".join(f"<code>static/{html.escape(name)}</code>" for name in missing)
    api = f'described at <a href="{openapi_url}">{openapi_url}</a>' if openapi_url else "documented in the README"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>headcast — web page not built</title>\n"
        '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">\n'
        "</head>\n<body><main>\n"
        "<h1>headcast: the web bundle was not built</h1>\n"
        f"<p>This headcast has no page scripts ({files_text} missing): they are built from <code>web/</code> with "
        "npm and are not kept in git. In the headcast checkout run</p>\n"
        f"<pre><code>{html.escape(BUILD_COMMAND)}</code></pre>\n"
        "<p>and reload this page (<code>scripts/install.sh</code> does the same; a wheel built by <code>pip wheel "
        ".</code> or <code>python -m build</code> contains the files).</p>\n"
        f"<p>The API works without them: <code>POST /api/avatars</code> and the rest, {api}.</p>\n"
        "</main></body></html>\n"
    )


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> Response:
    """A file of the page (flat folder; no path separators)."""
    suffix = "." + name.rpartition(".")[2]
    entry = _STATIC / name
    if "/" in name or name.startswith(".") or suffix not in _TYPES or not entry.is_file():
        raise ApiError(404, "not_found", f"no static file '{name}'")
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return Response(entry.read_bytes(), media_type=_TYPES[suffix], headers=headers)


@lru_cache(maxsize=len(_EMOTION_FILES))
def _emotion_file(variant: str) -> tuple[bytes, str]:
    data = (_EMOTION_DATA / _EMOTION_FILES[variant]).read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


@router.get(
    "/api/emotion/model.json",
    tags=["web"],
    responses={
        200: {"content": {"application/json": {}}, "description": "a headcast-emotion-mlp/1 document"},
        304: {"description": "unchanged (If-None-Match)"},
    },
)
def emotion_model(
    variant: Annotated[Literal["base", "identity"], Query(description="emotion only, or emotion + identity")] = "base",
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The emotion network's weights (public): the page's sliders run it in the browser.

    ``base`` is the network the workers apply for the ``emotion`` option; ``identity`` also reads the first
    identity coefficients of ``params.json``. Format: ``headcast.emotion.model.model_to_json``.
    """
    data, etag = _emotion_file(variant)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if if_none_match is not None and etag in (t.strip() for t in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="application/json", headers=headers)
