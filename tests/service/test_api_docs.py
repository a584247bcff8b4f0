"""``/docs`` works offline: every script, style sheet and icon it names is served by the gateway itself."""

import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from headcast.service.api import docs
from headcast.service.api.main import create_app
from headcast.service.config import ServiceSettings

_REFS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|\burl\s*:\s*["']([^"']+)["']""")


def _references(html: str) -> list[str]:
    return [a or b for a, b in _REFS.findall(html)]


def test_docs_page_loads_only_local_files(gateway: TestClient):
    if docs.swagger_ui_dir() is None and not os.environ.get("CI"):
        pytest.skip("Swagger UI's files are not built: npm ci --prefix web && npm run --prefix web build")
    page = gateway.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text and "cdn" not in page.text.lower()
    refs = _references(page.text)
    expected = {"/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css", "/openapi.json"}
    assert expected <= set(refs), refs
    types = {".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml"}
    for ref in refs:
        assert ref.startswith("/") and not ref.startswith("//"), ref
        res = gateway.get(ref)
        assert res.status_code == 200, ref
        assert res.headers["content-type"].startswith(types[Path(ref).suffix]), (ref, res.headers["content-type"])
        assert len(res.content) > 100, ref
    assert "SwaggerUIBundle" in gateway.get("/static/swagger-ui/swagger-ui-bundle.js").text
    assert gateway.get("/redoc").status_code == 404  # off: no second bundle for the same document


def test_docs_without_built_files_say_how_to_build_them(gateway_settings: ServiceSettings, monkeypatch):
    monkeypatch.setattr(docs, "swagger_ui_dir", lambda: None)
    with TestClient(create_app(gateway_settings)) as client:
        page = client.get("/docs")
        assert page.status_code == 503
        assert docs.BUILD_COMMAND in page.text and 'href="/openapi.json"' in page.text
        assert "http://" not in page.text and "https://" not in page.text
        assert client.get("/static/swagger-ui/swagger-ui.css").status_code == 404
        assert client.get("/openapi.json").status_code == 200


def test_docs_off_means_no_page_and_no_files(tmp_path: Path):
    settings = ServiceSettings(data_dir=tmp_path / "data", workers=0, docs=False)
    with TestClient(create_app(settings)) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 404
