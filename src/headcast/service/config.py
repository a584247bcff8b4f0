"""Service settings (pydantic ``BaseSettings``: fields can come from ``HEADCAST_SERVICE_*`` environment variables)."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Settings of the gateway, the job store and the workers.

    Attributes:
        data_dir: the job files (``jobs/<id>/``, ``hairstyles/``) and, embedded, the SQLite job table
            (``jobs.sqlite3``). Scale-out: a folder shared by the gateway and every worker (same path everywhere).
        assets_dir: model-file folder handed to the workers' pipeline (None: ``HEADCAST_ASSETS`` / defaults).
        head_model: the workers' head model (``headcast make --head-model``): ``ict`` or ``flame`` (the web page's
            emotion sliders drive ICT FaceKit's ARKit-named morph targets; a FLAME avatar shows its own expression).
        flame_model: the FLAME file for ``head_model="flame"`` (None: ``<assets>/flame/generic_model.pkl``).
        glb_quality: how the workers write ``avatar.glb`` (``headcast make --quality``): ``web`` (default: a few
            MB, what the page's viewer loads; needs Node.js, and a worker without it writes ``full`` and says so
            in its log) or ``full`` (uncompressed, for Blender).
        workers: worker processes started beside the gateway by ``headcast serve`` (0: gateway only; jobs wait for
            ``headcast worker`` processes).
        broker: ``redis://HOST:PORT/DB`` to keep jobs in Redis and send them through Dramatiq (scale-out); None for
            the embedded SQLite table.
        queue: back-end queue name: the gateway sends jobs there and workers take jobs from there (``ict``: the
            ICT-FaceKit pipeline; a worker with another head-model back-end would serve another name).
        redis_namespace: prefix of every Redis key (several deployments can share one Redis).
        broker_heartbeat_ms: a Dramatiq worker silent this long is dead; its unfinished messages are re-queued.
        broker_maintenance_chance: per million broker commands, how many look for dead workers (Dramatiq's
            default, 1000, can take minutes to notice one on an idle system).
        job_time_limit_seconds: a Dramatiq job running longer is interrupted and fails.
        max_upload_bytes: largest accepted photo upload, bytes (larger → 413).
        max_pixels: largest accepted width × height (larger → 413, checked from the header before decoding).
        lease_seconds: a running job whose worker sent no heartbeat for this long may be claimed again.
        heartbeat_seconds: how often a worker extends the lease of its job.
        max_attempts: a job is failed (``worker_lost``) after this many claims without finishing.
        poll_seconds: how often idle embedded workers and the events stream look at the job store.
        hairstyle_thumbnails: render the hairstyle thumbnails (background jobs; about 2 s of a worker per style).
        preload_face_parser: workers load the face-parsing network (torch) at start-up rather than on the first
            job that needs it (hair ``auto``).
        docs: serve the OpenAPI documents and ``/docs``.
    """

    model_config = SettingsConfigDict(env_prefix="HEADCAST_SERVICE_", frozen=True)

    data_dir: Path = Path("headcast-data")
    assets_dir: Path | None = None
    head_model: Literal["ict", "flame"] = "ict"
    flame_model: Path | None = None
    glb_quality: Literal["web", "full"] = "web"
    workers: int = Field(default=1, ge=0)
    broker: str | None = Field(default=None, pattern=r"^rediss?://")
    queue: str = Field(default="ict", pattern=r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")
    redis_namespace: str = Field(default="headcast", pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    broker_heartbeat_ms: int = Field(default=30_000, gt=0)
    broker_maintenance_chance: int = Field(default=50_000, gt=0, le=1_000_000)
    job_time_limit_seconds: float = Field(default=1800.0, gt=0)
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_pixels: int = Field(default=40_000_000, gt=0)
    lease_seconds: float = Field(default=30.0, gt=0)
    heartbeat_seconds: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    poll_seconds: float = Field(default=0.2, gt=0)
    hairstyle_thumbnails: bool = True
    preload_face_parser: bool = True
    docs: bool = True

    @property
    def db_path(self) -> Path:
        """The SQLite job table (embedded backend)."""
        return self.data_dir / "jobs.sqlite3"
