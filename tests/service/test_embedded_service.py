"""End to end through the embedded worker pool: real photos, the real pipeline, a worker killed mid-job."""

import io
import os
import signal
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from headcast.service.api.main import create_app
from headcast.service.config import ServiceSettings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, asset_settings) -> Iterator[TestClient]:
    settings = ServiceSettings(
        data_dir=tmp_path_factory.mktemp("service"),
        workers=1,
        lease_seconds=3.0,
        heartbeat_seconds=0.5,
        poll_seconds=0.1,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _submit(client: TestClient, data: bytes, **fields: str) -> tuple[str, dict[str, str]]:
    res = client.post("/api/avatars", files={"photo": ("p.jpg", data, "image/jpeg")}, data=fields)
    assert res.status_code == 201, res.text
    return res.json()["id"], {"Authorization": f"Bearer {res.json()['token']}"}


def _wait(client: TestClient, job_id: str, auth: dict[str, str], timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/api/avatars/{job_id}", headers=auth).json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not finished after {timeout} s")


def test_photo_to_bundle(service: TestClient, portrait_bytes: bytes):
    start = time.perf_counter()
    job_id, auth = _submit(service, portrait_bytes, hair="none", emotion="happiness=0.8")
    seen: list[str] = []
    with service.stream("GET", f"/api/avatars/{job_id}/events", headers=auth) as events:
        for line in events.iter_lines():
            if line.startswith("data: "):
                seen.append(line)
    status = _wait(service, job_id, auth)
    print(f"upload to done: {time.perf_counter() - start:.2f} s")
    assert status["status"] == "done", status
    assert status["progress"] == 1.0 and status["error"] is None
    assert set(status["files"]) == {"avatar.zip", "avatar.glb", "preview.png", "turntable.png", "params.json"}
    assert '"status":"done"' in seen[-1] and len(seen) >= 2

    zipped = service.get(f"/api/avatars/{job_id}/avatar.zip", headers=auth)
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    names = set(zipfile.ZipFile(io.BytesIO(zipped.content)).namelist())
    assert {"avatar.glb", "params.json", "preview.png", "turntable.png"} <= {Path(n).name for n in names}
    glb = service.get(f"/api/avatars/{job_id}/avatar.glb", headers=auth)
    assert glb.content[:4] == b"glTF"
    preview = service.get(f"/api/avatars/{job_id}/preview.png", headers=auth)
    assert Image.open(io.BytesIO(preview.content)).size[0] > 100
    assert service.get(f"/api/avatars/{job_id}/params.json", headers=auth).json()

    job_dir = service.app.state.settings.job_dir(job_id)
    assert (job_dir / "bundle" / "avatar.zip").is_file()
    assert service.delete(f"/api/avatars/{job_id}", headers=auth).status_code == 204
    assert not job_dir.exists()
    assert service.get(f"/api/avatars/{job_id}/avatar.zip", headers=auth).status_code == 404


def test_no_face_fails_with_a_code(service: TestClient):
    buf = io.BytesIO()
    Image.linear_gradient("L").resize((400, 300)).convert("RGB").save(buf, "JPEG")
    job_id, auth = _submit(service, buf.getvalue(), hair="none")
    status = _wait(service, job_id, auth)
    assert status["status"] == "failed" and status["error_code"] == "no_face"
    assert "face" in status["error"].lower()


def test_several_faces_fail_when_asked(service: TestClient, portraits_dir: Path):
    a = Image.open(portraits_dir / "london_003_neutral.jpg").convert("RGB")
    b = Image.open(portraits_dir / "london_012_neutral.jpg").convert("RGB").resize(a.size)
    pair = Image.new("RGB", (a.width * 2, a.height))
    pair.paste(a, (0, 0))
    pair.paste(b, (a.width, 0))
    buf = io.BytesIO()
    pair.save(buf, "JPEG")
    job_id, auth = _submit(service, buf.getvalue(), hair="none", faces="error")
    status = _wait(service, job_id, auth)
    assert status["status"] == "failed" and status["error_code"] == "multiple_faces", status


def test_unknown_hairstyle_fails_with_a_code(service: TestClient, portrait_bytes: bytes):
    job_id, auth = _submit(service, portrait_bytes, hair="no-such-style")
    status = _wait(service, job_id, auth)
    assert status["status"] == "failed" and status["error_code"] == "bad_option"


def test_killed_worker_job_is_requeued_and_completes(service: TestClient, portrait_bytes: bytes):
    store = service.app.state.store
    pool = service.app.state.pool
    restarts = pool.restarts
    job_id, auth = _submit(service, portrait_bytes, hair="none")
    deadline = time.monotonic() + 60
    while (job := store.get(job_id)).stage != "reconstructing":
        assert time.monotonic() < deadline, job
        time.sleep(0.02)
    os.kill(job.worker_pid, signal.SIGKILL)
    status = _wait(service, job_id, auth, timeout=180)
    assert status["status"] == "done", status
    finished = store.get(job_id)
    assert finished.attempts == 2 and finished.worker_pid != job.worker_pid
    assert pool.restarts == restarts + 1
