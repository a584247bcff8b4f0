"""What the page's webcam puppet loads from the gateway: the Face Landmarker model and MediaPipe's vision wasm.

Nothing comes from a third-party host: the model is MediaPipe's ``face_landmarker.task``, the wasm that of the npm
package ``@mediapipe/tasks-vision``.

``/api/tracking/face_landmarker.task`` is the same verified model file the workers detect faces with
(``headcast.assets``: resolved from the service's asset folder, sha256-checked once per process); a gateway
without it answers 503 ``model_missing`` naming the file and where to get it. ``/static/mediapipe/…`` serves the
two wasm files ``web/build.mjs`` copies into the package (``headcast/service/static/mediapipe``); 404 when the web
bundle was not built. Both are streamed from disk (the wasm is 13 MB) with an ETag, so a reload revalidates
instead of downloading again. The route never imports MediaPipe itself.
"""

from importlib.resources import files
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import FileResponse, Response

from headcast.assets.resolver import AssetSettings, resolve_asset
from headcast.errors import AssetError
from headcast.service.api.deps import ApiError, SettingsDep

router = APIRouter()

MEDIAPIPE_FILES = {
    "vision_wasm_internal.js": "text/javascript",
    "vision_wasm_internal.wasm": "application/wasm",
}
"""The files of ``static/mediapipe`` and their types (what ``web/src/puppet.js`` asks for)."""
_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


def _file(path: Path, media_type: str, if_none_match: str | None) -> Response:
    """``path`` streamed with an ETag (size and modification time), or 304 when the client has it already."""
    stat = path.stat()
    etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    headers = {**_HEADERS, "ETag": etag}
    if if_none_match is not None and etag in (tag.strip() for tag in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=media_type, headers=headers)


@router.get(
    "/api/tracking/face_landmarker.task",
    tags=["web"],
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "MediaPipe's face_landmarker.task"},
        304: {"description": "unchanged (If-None-Match)"},
        503: {"description": "the gateway has no (or a corrupt) model file"},
    },
)
def face_landmarker_model(
    settings: SettingsDep, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    """The Face Landmarker model (public): the page's "Drive with my camera" tracks the face with it."""
    try:
        path = resolve_asset("face_landmarker", AssetSettings(assets_dir=settings.assets_dir))
    except AssetError as err:
        raise ApiError(503, "model_missing", str(err)) from None
    return _file(path, "application/octet-stream", if_none_match)


@router.get("/static/mediapipe/{name}", include_in_schema=False)
def mediapipe_file(name: str, if_none_match: Annotated[str | None, Header()] = None) -> Response:
    """One of MediaPipe's vision wasm files (:data:`MEDIAPIPE_FILES`)."""
    entry = files("headcast.service") / "static" / "mediapipe" / name
    if name not in MEDIAPIPE_FILES or not entry.is_file():
        raise ApiError(404, "not_found", f"no MediaPipe file '{name}' (build the page: npm run --prefix web build)")
    return _file(Path(str(entry)), MEDIAPIPE_FILES[name], if_none_match)
