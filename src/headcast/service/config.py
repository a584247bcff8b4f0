"""Service settings (pydantic ``BaseSettings``: fields can come from ``HEADCAST_SERVICE_*`` environment variables)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Settings of the gateway, the job store and the embedded workers.

    Attributes:
        data_dir: where the SQLite job table (``jobs.sqlite3``) and the per-job files (``jobs/<id>/``) live.
        assets_dir: model-file folder handed to the workers' pipeline (None: ``HEADCAST_ASSETS`` / defaults).
        workers: worker processes started by ``headcast serve`` (0: gateway only, jobs wait for ``headcast worker``).
        max_upload_bytes: largest accepted photo upload, bytes (larger → 413).
        max_pixels: largest accepted width × height (larger → 413, checked from the header before decoding).
        lease_seconds: a running job whose worker sent no heartbeat for this long is re-queued.
        heartbeat_seconds: how often a worker extends the lease of its job.
        max_attempts: a job is failed (``worker_lost``) after this many claims without finishing.
        poll_seconds: how often idle workers and the events stream look at the job table.
        docs: serve the OpenAPI documents and ``/docs``.
    """

    model_config = SettingsConfigDict(env_prefix="HEADCAST_SERVICE_", frozen=True)

    data_dir: Path = Path("headcast-data")
    assets_dir: Path | None = None
    workers: int = Field(default=1, ge=0)
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_pixels: int = Field(default=40_000_000, gt=0)
    lease_seconds: float = Field(default=30.0, gt=0)
    heartbeat_seconds: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    poll_seconds: float = Field(default=0.2, gt=0)
    docs: bool = True

    @property
    def db_path(self) -> Path:
        """The SQLite job table."""
        return self.data_dir / "jobs.sqlite3"

    @property
    def jobs_dir(self) -> Path:
        """Parent of the per-job folders."""
        return self.data_dir / "jobs"

    def job_dir(self, job_id: str) -> Path:
        """The folder of one job: ``input.<ext>``, ``work-<attempt>/`` while running, ``bundle/`` when done."""
        return self.jobs_dir / job_id
