"""The page's routes without a browser: the page and its headers, static files, the emotion network's JSON."""

import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

from fastapi.testclient import TestClient

from headcast.service.config import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "headcast" / "service" / "static"


def test_page_carries_limits_and_security_headers(gateway: TestClient, gateway_settings: ServiceSettings):
    res = gateway.get("/")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    assert f'name="headcast-max-upload-bytes" content="{gateway_settings.max_upload_bytes}"' in res.text
    assert f'name="headcast-max-pixels" content="{gateway_settings.max_pixels}"' in res.text
    assert "%MAX_" not in res.text
    csp = res.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert res.headers["referrer-policy"] == "no-referrer"


def test_page_has_no_inline_code_or_remote_urls():
    """CSP forbids inline scripts and styles; no CDN: every URL the page loads is on this server."""
    html = (STATIC / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html and " style=" not in html
    for text in (html, (STATIC / "app.js").read_text(), (STATIC / "style.css").read_text()):
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
        assert "cdn" not in text.lower()


def test_static_files(gateway: TestClient):
    css = gateway.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert gateway.get("/static/app.js").headers["content-type"].startswith("text/javascript")
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
    """app.js and web/src/emotion.js list the emotions in the network's input order."""
    from headcast.emotion.types import EMOTIONS

    expected = json.dumps(list(EMOTIONS)).replace(" ", "")
    app = (STATIC / "app.js").read_text().replace(" ", "")
    rig = (ROOT / "web" / "src" / "emotion.js").read_text().replace(" ", "")
    assert f"EMOTIONS={expected};" in app
    assert f"EMOTIONS={expected};" in rig


def test_serving_the_network_imports_no_numeric_modules(tmp_path: Path):
    code = f"""
import json, sys
from fastapi.testclient import TestClient
from headcast.service.api.main import create_app
from headcast.service.config import ServiceSettings
with TestClient(create_app(ServiceSettings(data_dir={str(tmp_path)!r}, workers=0))) as client:
    assert client.get("/").status_code == 200
    for variant in ("base", "identity"):
        assert client.get("/api/emotion/model.json", params={{"variant": variant}}).json()["layers"]
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("numpy", "torch")
                        or m.startswith(("headcast.emotion", "headcast.pipeline")))))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
