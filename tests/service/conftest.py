"""Service fixtures: gateway-only clients (no workers), photo bytes made with Pillow, a throw-away Redis server."""

import io
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from headcast.service.api.main import create_app
from headcast.service.config import ServiceSettings


def _png_bytes(width: int, height: int, color: tuple[int, int, int] = (180, 140, 120)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="session")
def png_bytes():
    return _png_bytes


@pytest.fixture
def gateway_settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(data_dir=tmp_path / "data", workers=0, max_upload_bytes=2 * 2**20, max_pixels=4_000_000)


@pytest.fixture
def gateway(gateway_settings: ServiceSettings) -> Iterator[TestClient]:
    with TestClient(create_app(gateway_settings)) as client:
        yield client


@pytest.fixture(scope="session")
def portrait_bytes(portraits_dir: Path) -> bytes:
    return (portraits_dir / "london_003_neutral.jpg").read_bytes()


def need_redis() -> str:
    """Path of redis-server; skips the test without it and the Python clients, fails instead when CI asks for
    Redis (``HEADCAST_REQUIRE_REDIS=1``)."""
    missing = []
    server = shutil.which("redis-server")
    if server is None:
        missing.append("redis-server (apt-get install redis-server)")
    for module in ("redis", "dramatiq"):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"{module} (pip install 'headcast[service-redis]')")
    if missing:
        message = "Redis back-end not testable here: missing " + ", ".join(missing)
        if os.environ.get("HEADCAST_REQUIRE_REDIS") == "1":
            pytest.fail(message + " (HEADCAST_REQUIRE_REDIS=1)")
        pytest.skip(message)
    assert server is not None
    return server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a free loopback port, no persistence, for the whole session."""
    server = need_redis()
    import redis

    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"redis-server did not start on port {port}") from None
            time.sleep(0.05)
    client.close()
    yield url
    proc.terminate()
    proc.wait(10)
