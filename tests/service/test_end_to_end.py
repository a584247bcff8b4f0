"""End to end through real workers, the same tests on both back-ends:

- ``embedded``: the gateway's own worker pool on the SQLite table (``headcast serve``);
- ``redis``: a gateway alone (``--workers 0``) on a private redis-server, and TWO ``headcast worker --broker``
  Dramatiq processes started as subprocesses, sharing the data folder.

Real photos and the real pipeline; a variant with a library hairstyle; a worker killed mid-job.
"""

import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from headcast.service.api.main import create_app
from headcast.service.config import ServiceSettings
from headcast.service.entry import service_app

pytestmark = pytest.mark.slow

BUNDLE = {"avatar.zip", "avatar.glb", "preview.png", "turntable.png", "params.json"}
VIEWER_FILES = {"avatar.glb", "params.json"}
TIMING = {  # short leases so that a killed worker's job moves on within seconds
    "lease_seconds": 3.0,
    "heartbeat_seconds": 0.5,
    "poll_seconds": 0.1,
    "broker_heartbeat_ms": 3000,
    "broker_maintenance_chance": 1_000_000,
    "hairstyle_thumbnails": False,  # ~2 s of a worker per style; tests/service/test_tasks.py renders one
    "preload_face_parser": False,  # no test here needs face parsing (hair "none" or a style with a colour)
}


@dataclass
class Service:
    """A running deployment: the gateway's test client, and the worker subprocesses of the Redis back-end."""

    backend: str
    client: TestClient
    settings: ServiceSettings
    workers: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def log_tail(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in self.logs if p.exists())


def _start_worker(settings: ServiceSettings, log: Path) -> subprocess.Popen:
    env = {**os.environ, **{f"HEADCAST_SERVICE_{k.upper()}": json.dumps(v) if isinstance(v, bool) else str(v)
                            for k, v in TIMING.items()},
           "HEADCAST_SERVICE_REDIS_NAMESPACE": settings.redis_namespace}
    command = [sys.executable, "-m", "headcast.cli", "worker", "--broker", str(settings.broker),
               "--data", str(settings.data_dir), "--queue", settings.queue]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module", params=["embedded", "redis"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, asset_settings
) -> Iterator[Service]:
    data = tmp_path_factory.mktemp(f"service-{request.param}")
    if request.param == "embedded":
        settings = ServiceSettings(data_dir=data, workers=1, **TIMING)
        with TestClient(service_app(settings)) as client:  # the app of `headcast serve`: gateway + its workers
            yield Service("embedded", client, settings)
        return
    url = request.getfixturevalue("redis_url")
    settings = ServiceSettings(data_dir=data, workers=0, broker=url, redis_namespace=f"e2e-{uuid.uuid4().hex[:8]}",
                               **TIMING)
    logs = [data / f"worker-{i}.log" for i in range(2)]
    workers = [_start_worker(settings, log) for log in logs]
    try:
        with TestClient(create_app(settings)) as client:
            yield Service("redis", client, settings, workers, logs)
    finally:
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
        for proc in workers:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _submit(client: TestClient, data: bytes, **fields: str) -> tuple[str, dict[str, str]]:
    res = client.post("/api/avatars", files={"photo": ("p.jpg", data, "image/jpeg")}, data=fields)
    assert res.status_code == 201, res.text
    return res.json()["id"], {"Authorization": f"Bearer {res.json()['token']}"}


def _wait(service: Service, url: str, auth: dict[str, str], timeout: float = 240.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = service.client.get(url, headers=auth).json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"{url} not finished after {timeout} s\n{service.log_tail()}")


def _download(service: Service, url: str, auth: dict[str, str], timeout: float = 240.0) -> bytes:
    """A file that may be made on request: asks again while the answer is 503 (Retry-After)."""
    deadline = time.monotonic() + timeout
    while (res := service.client.get(url, headers=auth)).status_code == 503:
        assert res.headers["retry-after"] and time.monotonic() < deadline, service.log_tail()
        time.sleep(0.2)
    assert res.status_code == 200, (res.text, service.log_tail())
    return res.content


def _zip_names(content: bytes) -> set[str]:
    return {Path(n).name for n in zipfile.ZipFile(io.BytesIO(content)).namelist()}


def _params(client: TestClient, url: str, auth: dict[str, str]) -> dict:
    params = client.get(url, headers=auth).json()
    for volatile in ("timings", "software"):
        params.pop(volatile, None)
    return params


def test_photo_to_bundle_then_variants(service: Service, portrait_bytes: bytes):
    client = service.client
    start = time.perf_counter()
    avatar_id, auth = _submit(client, portrait_bytes, hair="none", emotion="happiness=0.8")
    seen: list[str] = []
    with client.stream("GET", f"/api/avatars/{avatar_id}/events", headers=auth) as events:
        for line in events.iter_lines():
            if line.startswith("data: "):
                seen.append(line)
    status = _wait(service, f"/api/avatars/{avatar_id}", auth)
    avatar_seconds = time.perf_counter() - start
    assert status["status"] == "done", (status, service.log_tail())
    assert status["progress"] == 1.0 and status["error"] is None and set(status["files"]) == BUNDLE
    assert '"status":"done"' in seen[-1] and len(seen) >= 2

    zipped = client.get(f"/api/avatars/{avatar_id}/avatar.zip", headers=auth)
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    assert {"avatar.glb", "params.json", "preview.png", "turntable.png", "head.obj", "texture.png"} <= _zip_names(
        zipped.content)
    glb = client.get(f"/api/avatars/{avatar_id}/avatar.glb", headers=auth).content
    assert glb[:4] == b"glTF"
    emotion = client.get(f"/api/avatars/{avatar_id}/params.json", headers=auth).json()["emotion"]
    assert emotion["shown"]["happiness"] == 0.8 and len(emotion["resting_expression"]) > 50  # for the sliders
    preview = client.get(f"/api/avatars/{avatar_id}/preview.png", headers=auth)
    assert Image.open(io.BytesIO(preview.content)).size[0] > 100

    # A variant with a library hairstyle (a colour given: no face parsing needed), made from the stored fit.
    variants = f"/api/avatars/{avatar_id}/variants"
    start = time.perf_counter()
    created = client.post(variants, json={"hair": "short", "hair_color": "#8B5A2B"}, headers=auth)
    assert created.status_code == 202 and created.json()["cached"] is False, created.text
    vid = created.json()["variant"]
    variant = _wait(service, f"{variants}/{vid}", auth)
    hair_seconds = time.perf_counter() - start
    assert variant["status"] == "done", (variant, service.log_tail())
    assert set(variant["files"]) == VIEWER_FILES and variant["avatar"] == avatar_id  # what the viewer loads
    assert set(variant["on_request"]) == BUNDLE - VIEWER_FILES  # the rest is made when first downloaded
    variant_glb = client.get(f"{variants}/{vid}/avatar.glb", headers=auth).content
    assert variant_glb[:4] == b"glTF" and len(variant_glb) > len(glb)  # the strands are in it
    zipped = _download(service, f"{variants}/{vid}/avatar.zip", auth)
    assert {"avatar.glb", "hair.json", "hair.data", "preview.png", "head.obj"} <= _zip_names(
        zipped)
    with zipfile.ZipFile(io.BytesIO(zipped)) as z:
        hair = json.loads(z.read(next(n for n in z.namelist() if n.endswith("hair.json"))))
        assert z.read("avatar.glb") == variant_glb  # the GLB the viewer showed
    assert hair["style"] == "short" and hair["strands"] > 0
    assert hair["root_color"] == pytest.approx([0x8B / 255, 0x5A / 255, 0x2B / 255], abs=1e-3)
    preview = client.get(f"{variants}/{vid}/preview.png", headers=auth)
    assert preview.status_code == 200 and Image.open(io.BytesIO(preview.content)).size[0] > 100
    assert set(client.get(f"{variants}/{vid}", headers=auth).json()["files"]) == BUNDLE
    again = client.post(variants, json={"hair": "short", "hair_color": "#8b5a2b"}, headers=auth).json()
    assert again == {"variant": vid, "status": "done", "cached": True}

    # The avatar's own options as a variant: the stored fit must give exactly the avatar a fresh run gave.
    start = time.perf_counter()
    same = client.post(variants, json={"hair": "none", "emotion": "happiness=0.8"}, headers=auth).json()
    same_status = _wait(service, f"{variants}/{same['variant']}", auth)
    same_seconds = time.perf_counter() - start
    assert same_status["status"] == "done", (same_status, service.log_tail())
    assert client.get(f"{variants}/{same['variant']}/avatar.glb", headers=auth).content == glb
    assert _params(client, f"{variants}/{same['variant']}/params.json", auth) == _params(
        client, f"/api/avatars/{avatar_id}/params.json", auth)
    print(f"\n[{service.backend}] upload to avatar {avatar_seconds:.2f} s; variant with hair 'short' "
          f"{hair_seconds:.2f} s; variant without hair {same_seconds:.2f} s")

    data_dir = service.settings.data_dir
    assert (data_dir / "jobs" / avatar_id / "variants" / vid / "bundle" / "avatar.zip").is_file()
    assert client.delete(f"/api/avatars/{avatar_id}", headers=auth).status_code == 204
    assert not (data_dir / "jobs" / avatar_id).exists()
    assert client.get(f"{variants}/{vid}", headers=auth).status_code == 404
    assert client.get(f"/api/avatars/{avatar_id}/avatar.zip", headers=auth).status_code == 404


def test_hairstyle_list_is_written_by_a_worker(service: Service):
    deadline = time.monotonic() + 120
    while (res := service.client.get("/api/hairstyles")).status_code == 503:
        assert time.monotonic() < deadline, service.log_tail()
        time.sleep(0.2)
    assert res.status_code == 200, res.text
    styles = {s["name"]: s for s in res.json()}
    assert {"short", "bob", "bald"} <= set(styles) and "short" in styles["short"]["tags"]
    assert styles["short"]["thumbnail"] == "/api/hairstyles/short/thumbnail.png"
    assert service.client.get("/api/hairstyles/short/thumbnail.png").status_code == 404  # turned off here


def test_no_face_fails_with_a_code(service: Service):
    buf = io.BytesIO()
    Image.linear_gradient("L").resize((400, 300)).convert("RGB").save(buf, "JPEG")
    job_id, auth = _submit(service.client, buf.getvalue(), hair="none")
    status = _wait(service, f"/api/avatars/{job_id}", auth)
    assert status["status"] == "failed" and status["error_code"] == "no_face"
    assert "face" in status["error"].lower()


def test_several_faces_fail_when_asked(service: Service, portraits_dir: Path):
    a = Image.open(portraits_dir / "london_003_neutral.jpg").convert("RGB")
    b = Image.open(portraits_dir / "london_012_neutral.jpg").convert("RGB").resize(a.size)
    pair = Image.new("RGB", (a.width * 2, a.height))
    pair.paste(a, (0, 0))
    pair.paste(b, (a.width, 0))
    buf = io.BytesIO()
    pair.save(buf, "JPEG")
    job_id, auth = _submit(service.client, buf.getvalue(), hair="none", faces="error")
    status = _wait(service, f"/api/avatars/{job_id}", auth)
    assert status["status"] == "failed" and status["error_code"] == "multiple_faces", status


def test_unknown_hairstyle_fails_with_a_code(service: Service, portrait_bytes: bytes):
    job_id, auth = _submit(service.client, portrait_bytes, hair="no-such-style")
    status = _wait(service, f"/api/avatars/{job_id}", auth)
    assert status["status"] == "failed" and status["error_code"] == "bad_option"


def test_killed_worker_job_is_taken_over_and_completes(service: Service, portrait_bytes: bytes):
    """SIGKILL the worker in the middle of a job: the job is not lost. Embedded: the pool starts a new worker,
    which claims the job once its lease expires. Redis: Dramatiq re-delivers the dead worker's message to the
    other worker process. Either way the second attempt finishes it."""
    store = service.client.app.state.store
    job_id, auth = _submit(service.client, portrait_bytes, hair="none")
    deadline = time.monotonic() + 180
    while (job := store.get(job_id)).stage != "reconstructing":
        assert time.monotonic() < deadline, (job, service.log_tail())
        time.sleep(0.02)
    killed = job.worker_pid
    if service.backend == "redis":
        assert killed in {p.pid for p in service.workers}
    os.kill(killed, signal.SIGKILL)
    status = _wait(service, f"/api/avatars/{job_id}", auth, timeout=240)
    assert status["status"] == "done", (status, service.log_tail())
    finished = store.get(job_id)
    assert finished.attempts == 2 and finished.worker_pid != killed
    if service.backend == "embedded":
        assert service.client.app.state.pool.restarts >= 1
    zipped = service.client.get(f"/api/avatars/{job_id}/avatar.zip", headers=auth)
    assert zipped.status_code == 200 and "avatar.glb" in _zip_names(zipped.content)
