"""The gateway serves what the webcam puppet loads: the verified Face Landmarker model, MediaPipe's wasm (when the
web bundle is built), nothing else under those paths, and a clear 503 when the model file is missing."""

from pathlib import Path

from fastapi.testclient import TestClient

from headcast.assets.resolver import resolve_asset
from headcast.service.api.main import create_app
from headcast.service.api.routes import tracking
from headcast.service.config import ServiceSettings

STATIC = Path(tracking.__file__).resolve().parents[2] / "static"


def test_model_file_is_the_verified_asset(gateway: TestClient, asset_settings) -> None:
    res = gateway.get("/api/tracking/face_landmarker.task")
    assert res.status_code == 200 and res.headers["content-type"] == "application/octet-stream"
    assert res.content == resolve_asset("face_landmarker", asset_settings).read_bytes()
    assert res.headers["x-content-type-options"] == "nosniff" and "etag" in res.headers
    again = gateway.get("/api/tracking/face_landmarker.task", headers={"If-None-Match": res.headers["etag"]})
    assert again.status_code == 304


def test_missing_model_is_a_clear_503(tmp_path: Path) -> None:
    settings = ServiceSettings(data_dir=tmp_path / "data", assets_dir=tmp_path / "no-assets", workers=0)
    with TestClient(create_app(settings)) as client:
        res = client.get("/api/tracking/face_landmarker.task")
    assert res.status_code == 503 and res.json()["code"] == "model_missing"
    assert "face_landmarker.task" in res.json()["message"]


def test_mediapipe_files(gateway: TestClient) -> None:
    for bad in ("../routes/web.py", "vision_wasm_nosimd_internal.wasm", ".gitignore", "x.js"):
        assert gateway.get(f"/static/mediapipe/{bad}").status_code == 404
    if (STATIC / "mediapipe" / "vision_wasm_internal.wasm").is_file():
        wasm = gateway.get("/static/mediapipe/vision_wasm_internal.wasm")
        assert wasm.status_code == 200 and wasm.headers["content-type"] == "application/wasm"
        assert wasm.content[:4] == b"\0asm"
        js = gateway.get("/static/mediapipe/vision_wasm_internal.js")
        assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
