"""The web page at ``/`` and its static files (packaged in ``headcast/service/static``)."""

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from headcast.service.api.deps import ApiError

router = APIRouter(include_in_schema=False)

_STATIC = files("headcast.service") / "static"
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".map": "application/json"}


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    """The upload page."""
    return HTMLResponse((_STATIC / "index.html").read_text(encoding="utf-8"))


@router.get("/static/{name}")
def static(name: str) -> Response:
    """A file of the page (flat folder; no path separators)."""
    suffix = "." + name.rpartition(".")[2]
    entry = _STATIC / name
    if "/" in name or name.startswith(".") or suffix not in _TYPES or not entry.is_file():
        raise ApiError(404, "not_found", f"no static file '{name}'")
    return Response(entry.read_bytes(), media_type=_TYPES[suffix], headers={"Cache-Control": "no-cache"})
