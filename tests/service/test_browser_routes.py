"""The page's routes without a browser: the page and its headers, static files, the emotion network's JSON, the
note ``/`` shows when the page's scripts were not built."""

import html
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from headcast.service.api.docs import BUILD_COMMAND
from headcast.service.api.main import create_app
from headcast.service.api.routes import web
from headcast.service.config import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "headcast" / "service" / "static"
WEB_SRC = ROOT / "web" / "src"
BUILT = all((STATIC / name).is_file() for name in web.PAGE_SCRIPTS)


def _need_built_page() -> None:
    if not BUILT and not os.environ.get("CI"):
        pytest.skip(f"the page's scripts are not built: {BUILD_COMMAND}")


def test_page_carries_limits_and_security_headers(gateway: TestClient, gateway_settings: ServiceSettings):
    _need_built_page()
    res = gateway.get("/")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    assert f'name="headcast-max-upload-bytes" content="{gateway_settings.max_upload_bytes}"' in res.text
    assert f'name="headcast-max-pixels" content="{gateway_settings.max_pixels}"' in res.text
    assert "%MAX_" not in res.text
    csp = res.headers["content-security-policy"]
    assert "script-src 'self' 'wasm-unsafe-eval';" in csp and "default-src 'self'" in csp
    assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp  # WebAssembly only (the meshopt decoder)
    assert res.headers["referrer-policy"] == "no-referrer"


def test_page_has_no_inline_code_or_remote_urls():
    """CSP forbids inline scripts and styles; no CDN: every URL the page loads is on this server."""
    page = (STATIC / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline <script>"
    assert "<style" not in page and " style=" not in page
    scripts = [path.read_text() for path in sorted(WEB_SRC.glob("*.js"))]
    for text in (page, *scripts, (STATIC / "style.css").read_text()):
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
        assert "cdn" not in text.lower()


def test_static_files(gateway: TestClient):
    css = gateway.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    if BUILT or os.environ.get("CI"):
        for name in web.PAGE_SCRIPTS:
            assert gateway.get(f"/static/{name}").headers["content-type"].startswith("text/javascript")
    assert gateway.get("/static/favicon.svg").headers["content-type"].startswith("image/svg+xml")
    for bad in ("../web.py", ".hidden.js", "nothing.js", "index.py"):
        assert gateway.get(f"/static/{bad}").status_code == 404


def test_emotion_model_route(gateway: TestClient):
    res = gateway.get("/api/emotion/model.json")
    assert res.status_code == 200 and res.headers["content-type"] == "application/json"
    packaged = resources.files("headcast.emotion").joinpath("data", "emotion_mlp.json").read_bytes()
    assert res.content == packaged
    doc = res.json()
    assert doc["format"] == "headcast-emotion-mlp/1" and doc["num_identity"] == 0
    again = gateway.get("/api/emotion/model.json", headers={"If-None-Match": res.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    ident = gateway.get("/api/emotion/model.json", params={"variant": "identity"})
    assert ident.json()["num_identity"] > 0 and ident.headers["etag"] != res.headers["etag"]
    assert gateway.get("/api/emotion/model.json", params={"variant": "other"}).status_code == 422
    assert "/api/emotion/model.json" in gateway.get("/openapi.json").json()["paths"]


def test_emotion_names_match_the_page():
    """web/src/emotion.js lists the emotions in the network's input order; the page's other scripts import them."""
    from headcast.emotion.types import EMOTIONS

    expected = json.dumps(list(EMOTIONS)).replace(" ", "")
    rig = (WEB_SRC / "emotion.js").read_text().replace(" ", "")
    assert f"EMOTIONS={expected};" in rig
    for name in ("app.js", "viewer.js"):
        text = (WEB_SRC / name).read_text()
        assert re.search(r'import \{[^}]*\bEMOTIONS\b[^}]*\} from "\./emotion\.js";', text), name
        assert '"happiness"' not in text, f"{name} has its own list of emotions"


def test_page_without_built_scripts_says_how_to_build_them(gateway_settings: ServiceSettings, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch, png_bytes):
    """A checkout where npm never ran: ``/`` is a readable note with the build command; the API keeps working."""
    static = tmp_path / "static"
    static.mkdir()
    for name in ("index.html", "style.css", "favicon.svg"):  # the hand-written files only
        shutil.copy(STATIC / name, static / name)
    monkeypatch.setattr(web, "_STATIC", static)
    with TestClient(create_app(gateway_settings)) as client:
        res = client.get("/")
        assert res.status_code == 503 and res.headers["content-type"].startswith("text/html")
        text = html.unescape(re.sub(r"<[^>]+>", "", res.text))
        assert "the web bundle was not built" in text and BUILD_COMMAND in text
        assert "static/app.js" in text and "static/emotion.js" in text and "/openapi.json" in text
        assert "<script" not in res.text and "default-src 'self'" in res.headers["content-security-policy"]
        assert client.get("/static/app.js").status_code == 404
        assert client.get("/static/style.css").status_code == 200
        assert client.get("/api/emotion/model.json").status_code == 200
        assert client.get("/openapi.json").status_code == 200
        upload = client.post("/api/avatars", files={"photo": ("p.png", png_bytes(64, 48), "image/png")})
        assert upload.status_code == 201, upload.text

        (static / "app.js").write_text("// built\n")  # a build made while the server runs: reloading shows the page
        (static / "emotion.js").write_text("// built\n")
        page = client.get("/")
        assert page.status_code == 200 and 'src="/static/app.js"' in page.text


def test_serving_the_network_imports_no_numeric_modules(tmp_path: Path):
    code = f"""
import json, sys
from fastapi.testclient import TestClient
from headcast.service.api.main import create_app
from headcast.service.config import ServiceSettings
with TestClient(create_app(ServiceSettings(data_dir={str(tmp_path)!r}, workers=0))) as client:
    assert client.get("/").status_code in (200, 503)  # 503: the page's scripts not built (npm)
    for variant in ("base", "identity"):
        assert client.get("/api/emotion/model.json", params={{"variant": variant}}).json()["layers"]
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("numpy", "torch")
                        or m.startswith(("headcast.emotion", "headcast.pipeline")))))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
