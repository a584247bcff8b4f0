"""The gateway must not import the numeric stack: that is the workers' job (STYLE.md, practice 10)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numpy", "scipy", "cv2", "mediapipe", "torch", "moderngl", "trimesh", "headcast.pipeline", "headcast.hair",
         "headcast.service.worker", "headcast.service.tasks")


@pytest.mark.parametrize("backend", ["embedded", "redis"])
def test_gateway_imports_no_numeric_modules(tmp_path: Path, backend: str, request: pytest.FixtureRequest):
    broker = request.getfixturevalue("redis_url") if backend == "redis" else None
    code = f"""
import json, sys
from fastapi.testclient import TestClient
from headcast.service.config import ServiceSettings
from headcast.service.entry import service_app  # what `headcast serve` runs
app = service_app(ServiceSettings(data_dir={str(tmp_path)!r}, workers=0, broker={broker!r}, redis_namespace="iso"))
with TestClient(app) as client:
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/").status_code == 200
    assert client.get("/api/hairstyles").status_code == 503
    r = client.post("/api/avatars", files={{"photo": ("x.jpg", open({str(tmp_path / "p.png")!r}, "rb"))}})
    assert r.status_code == 201, r.text
    auth = {{"Authorization": "Bearer " + r.json()["token"]}}
    assert client.post(f"/api/avatars/{{r.json()['id']}}/variants", json={{}}, headers=auth).status_code == 409
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r} or m in {HEAVY!r})))
"""
    from PIL import Image

    Image.new("RGB", (40, 30)).save(tmp_path / "p.png")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
