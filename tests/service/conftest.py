"""Service fixtures: gateway-only clients (no workers) and photo bytes made with Pillow."""

import io
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
