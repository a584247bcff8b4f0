"""The job interface shared by the gateway and the workers, whatever holds the jobs (SQLite or Redis).

A job moves ``queued → running → done | failed``. A worker *claims* a job with a lease (``lease_until``) and
extends it with heartbeats; a running job whose lease has expired (its worker died) can be claimed again, up to
``max_attempts`` times. Every write of a worker names its lease owner, so a worker that lost its lease cannot
overwrite the job any more. Only the standard library is used: the gateway imports this module.

Implementations: :class:`headcast.service.sqlite_store.SqliteJobStore` (one machine, the embedded default) and
:class:`headcast.service.redis_store.RedisJobStore` (scale-out). See DESIGN.md.
"""

from dataclasses import dataclass
from typing import Literal, Protocol

from headcast.options import JSONValue

JobStatus = Literal["queued", "running", "done", "failed"]
"""Where a job is."""

JobKind = Literal["avatar", "variant", "bundle", "hairstyles", "thumbnail"]
"""What a job makes: an avatar from a photo, a variant of a finished avatar (other hair or emotion: the files the
viewer loads), the rest of a variant's files (pictures and zip, once asked for: :mod:`headcast.service.bundles`),
the hairstyle list, or one hairstyle thumbnail."""

ClaimOutcome = Literal["claimed", "busy", "final", "gone", "lost"]
"""Result of a claim: claimed; ``busy`` (another worker holds a live lease); ``final`` (done or failed
already); ``gone`` (no such job); ``lost`` (its lease expired ``max_attempts`` times: now failed ``worker_lost``)."""

FINAL_STATUSES: tuple[JobStatus, ...] = ("done", "failed")

BACKGROUND_KINDS: tuple[JobKind, ...] = ("hairstyles", "thumbnail")
"""Kinds that wait while avatars and variants are queued (a person is waiting for those)."""


class JobExistsError(Exception):
    """``create`` was given the id of a job that exists (variants and catalogue jobs have deterministic ids)."""


@dataclass(frozen=True)
class Job:
    """One job.

    Attributes:
        id: the job id (public, not a secret). Avatars: 32 hex digits; variants: ``<avatar id>-<variant id>``;
            a variant's bundle: ``<avatar id>-<variant id>-bundle``.
        token_hash: SHA-256 hex of the bearer token (the token itself is never stored); a variant (and its
            bundle) has its avatar's;
            background jobs have ``""``, which no token hashes to.
        kind: what the job makes.
        parent: the avatar a variant or a variant's bundle belongs to (None for other kinds).
        queue: the back-end queue it was sent to (workers take jobs of their own queue only).
        status: queued, running, done or failed.
        stage: what the worker is doing (``queued``, ``starting``, ``reconstructing``, ``hair``, ``rendering``, ...).
        progress: fraction done in [0, 1].
        error: message for the user when failed.
        error_code: machine-readable reason when failed (``no_face``, ``multiple_faces``, ``input_image``, ...).
        options: the stored request options (emotion, hair, hair colour, faces; a thumbnail's ``style``; a
            bundle's ``variant``).
        input_name: file name of the uploaded photo (avatars; ``""`` for other kinds).
        created, updated, started, finished: Unix times, seconds.
        attempts: how many times a worker claimed the job.
        lease_owner: the claiming worker's lease id while running.
        lease_until: Unix time the lease expires (the store's clock: Redis' for the Redis store).
        worker_pid: process id of the claiming worker.
    """

    id: str
    token_hash: str
    kind: JobKind
    parent: str | None
    queue: str
    status: JobStatus
    stage: str
    progress: float
    error: str | None
    error_code: str | None
    options: dict[str, JSONValue]
    input_name: str
    created: float
    updated: float
    started: float | None
    finished: float | None
    attempts: int
    lease_owner: str | None
    lease_until: float | None
    worker_pid: int | None


@dataclass(frozen=True)
class Claim:
    """Answer to :meth:`JobStore.claim`: the outcome and, when claimed, the job as it now is."""

    outcome: ClaimOutcome
    job: Job | None = None


@dataclass(frozen=True)
class NewJob:
    """What :meth:`JobStore.create` needs.

    Attributes:
        id: the job id (unique; a deterministic one makes ``create`` idempotent through :class:`JobExistsError`).
        token_hash: see :class:`Job`.
        options: the request options, JSON-ready.
        queue: the back-end queue.
        kind: what the job makes.
        parent: the avatar of a variant.
        input_name: the uploaded photo's file name (avatars).
    """

    id: str
    token_hash: str
    options: dict[str, JSONValue]
    queue: str
    kind: JobKind = "avatar"
    parent: str | None = None
    input_name: str = ""


class JobStore(Protocol):
    """Job status and leases. ``create/get/delete`` are the gateway's; ``claim`` .. ``fail`` the workers'."""

    def create(self, new: NewJob) -> Job:
        """Insert a queued job and return it.

        Raises:
            JobExistsError: a job with this id exists.
        """
        ...

    def get(self, job_id: str) -> Job | None:
        """The job, or None when there is none with this id."""
        ...

    def delete(self, job_id: str) -> bool:
        """Remove the job and the variants made from it; True when the job existed."""
        ...

    def claim(self, job_id: str, owner: str, pid: int, lease_seconds: float, max_attempts: int) -> Claim:
        """Take a queued job, or a running one whose lease expired, under lease ``owner`` (atomic)."""
        ...

    def heartbeat(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        """Extend the lease; False when the job is gone or no longer this owner's."""
        ...

    def report(self, job_id: str, owner: str, stage: str, progress: float, lease_seconds: float) -> bool:
        """Record the stage and progress (and extend the lease); False when the job is no longer this owner's."""
        ...

    def finish(self, job_id: str, owner: str) -> bool:
        """Mark done; False when the job is no longer this owner's."""
        ...

    def fail(self, job_id: str, owner: str, code: str, message: str) -> bool:
        """Mark failed with a machine code and a message; False when the job is no longer this owner's."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


WORKER_LOST_MESSAGE = "the worker stopped {attempts} times while making this avatar"
"""The user-facing error of a job whose workers stopped ``{attempts}`` times (``str.format`` template)."""
