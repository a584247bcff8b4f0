"""Worker processes: load the pipeline once, then take jobs and make them (:mod:`headcast.service.tasks`).

Two ways to get jobs, one way to run them (:func:`process_job`):

- embedded (:func:`run_worker`): poll the SQLite table and claim the oldest job of the worker's queue;
- scale-out (:func:`headcast.service.dramatiq_worker.run_broker_worker`): a Dramatiq worker (one thread) receives
  job ids from Redis and claims each id (:func:`handle_job_id`).

The pipeline (numpy, MediaPipe, moderngl, ...) is imported inside the functions, never at module import, so the
gateway can start worker processes without importing the numeric stack itself.

Stages and progress: ``starting`` 0.0 → avatars ``reconstructing`` 0.1 / variants ``loading`` 0.05 → ``hair`` 0.4
→ ``emotion`` 0.6 → ``rendering`` 0.7 (avatars: preview, turntable, GLB, zip; variants: GLB and params.json only)
→ ``done`` 1.0. A variant's ``bundle`` job: ``loading`` 0.05 → ``hair`` 0.4 → ``rendering`` 0.7 → ``done``.
"""

import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from typing import TYPE_CHECKING

from headcast.errors import (
    AssetError,
    HeadcastError,
    InputImageError,
    MultipleFacesError,
    NoFaceError,
    OptionalComponentError,
)
from headcast.export.compress import web_compressor
from headcast.export.settings import ExportSettings, GlbQuality
from headcast.options import OptionError
from headcast.service.backend import Backend, open_backend
from headcast.service.config import ServiceSettings
from headcast.service.jobs import Job
from headcast.service.storage import avatar_prefix, job_prefix
from headcast.service.tasks import JobGoneError, JobOptionError, TaskContext, run_task

if TYPE_CHECKING:  # imported inside the functions at run time (the gateway starts workers without numpy)
    from headcast.pipeline import Pipeline

log = logging.getLogger("headcast.service.worker")

ERROR_CODES: tuple[tuple[type[HeadcastError], str], ...] = (
    (NoFaceError, "no_face"),
    (MultipleFacesError, "multiple_faces"),
    (InputImageError, "input_image"),
    (AssetError, "asset_missing"),
    (JobOptionError, "bad_option"),
    (OptionError, "bad_option"),
)
"""Pipeline errors → the machine code a failed job reports (anything else is ``internal``)."""


def error_code(err: BaseException) -> str:
    """The machine code of a pipeline error."""
    for cls, code in ERROR_CODES:
        if isinstance(err, cls):
            return code
    return "internal"


@dataclass(frozen=True, eq=False)
class WorkerRuntime:
    """One worker process' loaded pipeline and backend connections.

    Attributes:
        settings: the service settings.
        backend: job store, queue and storage.
        pipeline: the loaded composition (models, detector, renderer).
        pid: this process' id (recorded with each claim).
    """

    settings: ServiceSettings
    backend: Backend
    pipeline: "Pipeline"
    pid: int

    def close(self) -> None:
        """Release the detector and the connections."""
        self.pipeline.close()
        self.backend.close()


def load_runtime(settings: ServiceSettings) -> WorkerRuntime:
    """Connect to the backend and load the pipeline (and, if asked, the face-parsing network)."""
    from headcast.assets import AssetSettings
    from headcast.pipeline import HeadModelSettings, Pipeline, PipelineSettings

    backend = open_backend(settings)
    swept = backend.storage.sweep_scratch()
    if swept:
        log.info("removed %d scratch folders of dead workers", swept)
    head = HeadModelSettings(name=settings.head_model, flame_model=settings.flame_model)
    pipeline = Pipeline.load(PipelineSettings(
        assets=AssetSettings(assets_dir=settings.assets_dir), head=head,
        export=ExportSettings(quality=_glb_quality(settings.glb_quality)),
    ))
    if settings.preload_face_parser:
        import numpy as np

        try:
            pipeline.parse_face(np.zeros((64, 64, 3), np.uint8))
        except Exception as err:  # torch or the weights missing: hair "auto" jobs will say so
            log.warning("face parser not preloaded: %s", err)
    log.info("worker %d ready (queue %s)", os.getpid(), settings.queue)
    return WorkerRuntime(settings, backend, pipeline, os.getpid())


def _glb_quality(wanted: GlbQuality) -> GlbQuality:
    """``wanted``, or ``full`` when ``web`` cannot be written here (no Node.js or compressor; logged)."""
    if wanted == "web":
        try:
            web_compressor()
        except OptionalComponentError as err:
            log.warning("writing full-quality GLBs: %s", err)
            return "full"
    return wanted


class _Heartbeat(threading.Thread):
    """Extends a job's lease every ``heartbeat_seconds`` until stopped or the lease is lost."""

    def __init__(self, runtime: WorkerRuntime, job_id: str, owner: str) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.runtime, self.job_id, self.owner = runtime, job_id, owner
        self.stopped = threading.Event()

    def run(self) -> None:
        s = self.runtime.settings
        while not self.stopped.wait(s.heartbeat_seconds):
            if not self.runtime.backend.store.heartbeat(self.job_id, self.owner, s.lease_seconds):
                return


def process_job(runtime: WorkerRuntime, job: Job, owner: str) -> None:
    """Run a claimed job and record done or failed (owner-checked: a lost lease changes nothing)."""
    store, storage, s = runtime.backend.store, runtime.backend.storage, runtime.settings
    heartbeat = _Heartbeat(runtime, job.id, owner)
    heartbeat.start()

    def report(stage: str, progress: float) -> None:
        store.report(job.id, owner, stage, progress, s.lease_seconds)

    def still_owner() -> bool:
        return store.heartbeat(job.id, owner, s.lease_seconds)

    ctx = TaskContext(runtime.pipeline, runtime.backend, s, report, still_owner)
    start = time.perf_counter()
    try:
        run_task(ctx, job)
        if not store.finish(job.id, owner):
            log.warning("job %s: lease lost or job deleted before it finished", job.id)
    except JobGoneError as err:
        log.info("job %s: %s", job.id, err)
    except HeadcastError as err:
        store.fail(job.id, owner, error_code(err), str(err))
    except Exception as err:  # a bug: keep the worker alive, tell the user little, log everything
        log.exception("job %s failed unexpectedly", job.id)
        store.fail(job.id, owner, "internal", f"internal error ({type(err).__name__}); the team has been told")
    finally:
        heartbeat.stopped.set()
        if job.kind in ("avatar", "variant", "bundle") and store.get(job.id) is None:  # deleted while it ran
            orphan = job.kind != "avatar" and job.parent is not None and store.get(job.parent) is None
            if orphan:
                storage.delete_prefix(avatar_prefix(job.parent or ""))
            elif job.kind != "bundle":  # a bundle job's row alone goes when it is replaced: its files stay
                storage.delete_prefix(job_prefix(job))
    log.info("job %s (%s) took %.2f s", job.id, job.kind, time.perf_counter() - start)


# ------------------------------------------------------------------------------------------- embedded


def run_worker(settings: ServiceSettings, stop: Event | None = None, max_jobs: int | None = None) -> int:
    """Embedded worker: poll the SQLite table until ``stop`` is set (or ``max_jobs`` were processed).

    Returns:
        the number of jobs processed.
    """
    from headcast.service.sqlite_store import SqliteJobStore

    runtime = load_runtime(settings)
    store = runtime.backend.store
    if not isinstance(store, SqliteJobStore):
        raise TypeError("run_worker polls the SQLite table; with a broker use run_broker_worker")
    done = 0
    try:
        while (stop is None or not stop.is_set()) and (max_jobs is None or done < max_jobs):
            owner = uuid.uuid4().hex
            job = store.claim_next(settings.queue, owner, runtime.pid, settings.lease_seconds, settings.max_attempts)
            if job is None:
                if stop is not None:
                    stop.wait(settings.poll_seconds)
                else:
                    time.sleep(settings.poll_seconds)
                continue
            process_job(runtime, job, owner)
            done += 1
    finally:
        runtime.close()
    return done


# ------------------------------------------------------------------------------------------- scale-out


def handle_job_id(runtime: WorkerRuntime, job_id: str) -> None:
    """Claim job ``job_id`` (a Dramatiq message) and run it.

    A redelivered message whose job is still leased by a live attempt waits up to one lease period: if the lease
    then expires, its worker died and this attempt takes over; if it is still renewed, that attempt holds its own
    message and this one is dropped. Deleted and finished jobs are dropped at once.
    """
    s = runtime.settings
    store = runtime.backend.store
    deadline = time.monotonic() + s.lease_seconds + s.heartbeat_seconds
    while True:
        owner = uuid.uuid4().hex
        claim = store.claim(job_id, owner, runtime.pid, s.lease_seconds, s.max_attempts)
        if claim.outcome == "claimed" and claim.job is not None:
            process_job(runtime, claim.job, owner)
            return
        if claim.outcome != "busy" or time.monotonic() > deadline:
            log.info("job %s: message dropped (%s)", job_id, claim.outcome)
            return
        time.sleep(s.poll_seconds)
