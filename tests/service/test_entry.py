"""The service's one entry module: worker dispatch by back-end, the pool's injected target, the serve app."""

import os
import time
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from headcast.service import entry
from headcast.service.api.main import create_app
from headcast.service.config import ServiceSettings
from headcast.service.embedded import WorkerPool


def mark_and_wait(settings: ServiceSettings, stop: Event) -> None:
    """A worker target: leave a file named after this process, then wait for the pool to stop."""
    (settings.data_dir / f"worker-{os.getpid()}").touch()
    stop.wait(30)


def test_the_pool_runs_the_target_it_is_given(tmp_path: Path):
    settings = ServiceSettings(data_dir=tmp_path, workers=2)
    pool = WorkerPool(settings, mark_and_wait, check_seconds=0.1)
    pool.start()
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("worker-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert {p.name for p in tmp_path.glob("worker-*")} == {f"worker-{p.pid}" for p in pool.processes}
    finally:
        pool.stop(timeout=10)
    assert not any(p.is_alive() for p in pool.processes) and pool.restarts == 0


def test_workers_without_a_target_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="worker_target"):
        create_app(ServiceSettings(data_dir=tmp_path, workers=1))


def test_serve_app_gives_its_pool_the_worker_process_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    started: list[object] = []

    class FakePool:
        def __init__(self, settings: ServiceSettings, target: object) -> None:
            self.target = target

        def start(self) -> None:
            started.append(self.target)

        def stop(self) -> None:
            started.append("stopped")

    monkeypatch.setattr("headcast.service.embedded.WorkerPool", FakePool)
    settings = ServiceSettings(data_dir=tmp_path, workers=3, hairstyle_thumbnails=False)
    with TestClient(entry.service_app(settings)) as client:
        assert client.get("/").status_code == 200
    assert started == [entry.worker_process, "stopped"]


def test_run_worker_dispatches_on_the_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls: list[tuple[str, object]] = []
    monkeypatch.setattr("headcast.service.worker.run_worker", lambda s, stop: calls.append(("embedded", stop)) or 0)
    entry.run_worker(ServiceSettings(data_dir=tmp_path))
    assert calls == [("embedded", None)]
    pytest.importorskip("dramatiq")
    monkeypatch.setattr("headcast.service.dramatiq_worker.run_broker_worker",
                        lambda s, stop: calls.append(("broker", s.broker)))
    entry.run_worker(ServiceSettings(data_dir=tmp_path, broker="redis://127.0.0.1:6379/0"))
    assert calls[1:] == [("broker", "redis://127.0.0.1:6379/0")]
