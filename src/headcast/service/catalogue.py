"""The hairstyle list and thumbnails the page shows, made once per data folder by workers, served as files.

The gateway must not import the hair package (numpy), so a worker writes the list (``index.json``) and one PNG per
style into storage under ``hairstyles/<version>/``; the gateway only reads them. ``version`` hashes the headcast
version and the packaged style file, so an upgrade renders a new catalogue and a restart reuses the old one at once.

At start-up the gateway creates the ``hairstyles-<version>`` job unless the list exists (:func:`ensure_catalogue`).
The worker that takes it writes ``index.json`` (about a second) and queues one ``thumbnail`` job per style; these are
background jobs, which workers take only when no avatar or variant is waiting.
"""

import hashlib
import importlib.util
from pathlib import Path

from pydantic import BaseModel, ConfigDict

import headcast
from headcast.service.backend import Backend
from headcast.service.config import ServiceSettings
from headcast.service.jobs import Job, JobExistsError, NewJob

CATALOGUE_FORMAT = 1
"""Bumped when the index or the pictures change form."""


class HairstyleEntry(BaseModel):
    """One style of the list as stored in ``index.json``."""

    model_config = ConfigDict(frozen=True)

    name: str
    tags: tuple[str, ...]
    origin: str


class CatalogueIndex(BaseModel):
    """``hairstyles/<version>/index.json``: the styles, in library order."""

    model_config = ConfigDict(frozen=True)

    version: str
    styles: tuple[HairstyleEntry, ...]
    thumbnails: bool


def catalogue_version() -> str:
    """12 hex digits of SHA-256 over the headcast version and the packaged style file.

    The style file is found without importing ``headcast.hair`` (which needs numpy).
    """
    digest = hashlib.sha256(f"{headcast.__version__}:{CATALOGUE_FORMAT}".encode())
    spec = importlib.util.find_spec("headcast.hair")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        styles = Path(folder) / "data" / "styles.json"
        if styles.is_file():
            digest.update(styles.read_bytes())
    return digest.hexdigest()[:12]


def index_key(version: str) -> str:
    """Storage key of the list."""
    return f"hairstyles/{version}/index.json"


def thumbnail_key(version: str, name: str) -> str:
    """Storage key of one style's picture."""
    return f"hairstyles/{version}/{name}.png"


def catalogue_job_id(version: str) -> str:
    """The job that writes the list."""
    return f"hairstyles-{version}"


def thumbnail_job_id(version: str, name: str) -> str:
    """The job that renders one picture."""
    return f"thumbnail-{version}-{name}"


def read_index(backend: Backend, version: str) -> CatalogueIndex | None:
    """The stored list, or None while it has not been written."""
    try:
        data = backend.storage.get_bytes(index_key(version))
    except FileNotFoundError:
        return None
    return CatalogueIndex.model_validate_json(data)


def submit_once(backend: Backend, new: NewJob, redo_done: bool = False) -> Job:
    """Create and enqueue ``new`` unless a job with its id is queued or running (or done, unless ``redo_done``).

    A failed job with that id is replaced (its failure may have been passing: a worker lost, a file missing).
    """
    try:
        job = backend.store.create(new)
    except JobExistsError:
        existing = backend.store.get(new.id)
        if existing is not None and (existing.status in ("queued", "running") or (
                existing.status == "done" and not redo_done)):
            return existing
        backend.store.delete(new.id)
        try:
            job = backend.store.create(new)
        except JobExistsError:  # another process replaced it first
            again = backend.store.get(new.id)
            assert again is not None
            return again
    backend.queue.enqueue(job)
    return job


def ensure_catalogue(backend: Backend, settings: ServiceSettings) -> str:
    """Queue the job that writes the hairstyle list unless it exists; returns the catalogue version."""
    version = catalogue_version()
    if not backend.storage.exists(index_key(version)):
        submit_once(
            backend,
            NewJob(
                id=catalogue_job_id(version),
                token_hash="",
                options={"version": version, "thumbnails": settings.hairstyle_thumbnails},
                queue=settings.queue,
                kind="hairstyles",
            ),
            redo_done=True,  # done, yet the list is missing: the data folder was emptied
        )
    return version
