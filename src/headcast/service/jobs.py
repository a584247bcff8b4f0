"""The job table: an SQLite database in WAL mode shared by the gateway and the worker processes.

A job moves ``queued → running → done | failed``. A worker *claims* a queued job with a lease (``lease_until``)
and extends it with heartbeats; a running job whose lease has expired (its worker died) is claimed again, up to
``max_attempts`` times. Every write of a worker names its lease owner, so a worker that lost its lease cannot
overwrite the job any more. Only the standard library is used: the gateway imports this module.

This is the job interface a scale-out backend (Redis + Dramatiq) implements too: see DESIGN.md.
"""

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

JobStatus = Literal["queued", "running", "done", "failed"]
"""Where a job is."""

FINAL_STATUSES: tuple[JobStatus, ...] = ("done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    progress REAL NOT NULL,
    error TEXT,
    error_code TEXT,
    options TEXT NOT NULL,
    input_name TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    started REAL,
    finished REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until REAL,
    worker_pid INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_status_created ON jobs (status, created);
"""


@dataclass(frozen=True)
class Job:
    """One row of the job table.

    Attributes:
        id: the job id (public, not a secret).
        token_hash: SHA-256 hex of the job's bearer token (the token itself is never stored).
        status: queued, running, done or failed.
        stage: what the worker is doing (``queued``, ``loading``, ``reconstructing``, ``rendering``, ...).
        progress: fraction done in [0, 1].
        error: message for the user when failed.
        error_code: machine-readable reason when failed (``no_face``, ``multiple_faces``, ``input_image``, ...).
        options: the stored request options (emotion, hair, faces).
        input_name: file name of the uploaded photo inside the job folder.
        created, updated, started, finished: Unix times, seconds.
        attempts: how many times a worker claimed the job.
        lease_owner: the claiming worker's lease id while running.
        lease_until: Unix time the lease expires.
        worker_pid: process id of the claiming worker.
    """

    id: str
    token_hash: str
    status: JobStatus
    stage: str
    progress: float
    error: str | None
    error_code: str | None
    options: dict[str, Any]
    input_name: str
    created: float
    updated: float
    started: float | None
    finished: float | None
    attempts: int
    lease_owner: str | None
    lease_until: float | None
    worker_pid: int | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Job":
        """Build from a ``SELECT *`` row."""
        values = dict(row)
        values["options"] = json.loads(values["options"])
        return cls(**values)


class JobStore:
    """The job table at ``path`` (created on first use). Safe to use from several threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA synchronous=NORMAL")
        try:
            yield db
        finally:
            db.close()

    def create(self, token_hash: str, options: dict[str, Any], input_name: str, job_id: str | None = None) -> Job:
        """Insert a queued job and return it."""
        job_id = uuid.uuid4().hex if job_id is None else job_id
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO jobs (id, token_hash, status, stage, progress, options, input_name, created, updated)"
                " VALUES (?, ?, 'queued', 'queued', 0.0, ?, ?, ?, ?)",
                (job_id, token_hash, json.dumps(options), input_name, now, now),
            )
        job = self.get(job_id)
        assert job is not None
        return job

    def get(self, job_id: str) -> Job | None:
        """The job, or None when there is none with this id."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else Job.from_row(row)

    def delete(self, job_id: str) -> bool:
        """Remove the row; True when there was one."""
        with self._connect() as db:
            return db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount > 0

    def claim(self, owner: str, pid: int, lease_seconds: float, max_attempts: int) -> Job | None:
        """Take the oldest queued job, or a running one whose lease expired; None when there is nothing to do.

        A job whose lease expired after ``max_attempts`` claims is failed with ``worker_lost`` instead.
        """
        while True:
            now = time.time()
            with self._connect() as db:
                db.execute("BEGIN IMMEDIATE")
                row = db.execute(
                    "SELECT id, attempts FROM jobs WHERE status = 'queued' OR (status = 'running' AND lease_until < ?)"
                    " ORDER BY created LIMIT 1",
                    (now,),
                ).fetchone()
                if row is None:
                    db.execute("COMMIT")
                    return None
                if row["attempts"] >= max_attempts:
                    db.execute(
                        "UPDATE jobs SET status = 'failed', stage = 'failed', error_code = 'worker_lost',"
                        " error = ?, lease_owner = NULL, finished = ?, updated = ? WHERE id = ?",
                        (f"the worker stopped {row['attempts']} times while making this avatar", now, now, row["id"]),
                    )
                    db.execute("COMMIT")
                    continue
                db.execute(
                    "UPDATE jobs SET status = 'running', stage = 'starting', progress = 0.0, attempts = attempts + 1,"
                    " lease_owner = ?, lease_until = ?, worker_pid = ?, started = ?, updated = ? WHERE id = ?",
                    (owner, now + lease_seconds, pid, now, now, row["id"]),
                )
                db.execute("COMMIT")
            return self.get(row["id"])

    def heartbeat(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        """Extend the lease; False when the job is gone or no longer this owner's."""
        return self._owned_update(job_id, owner, "lease_until = ?", (time.time() + lease_seconds,))

    def report(self, job_id: str, owner: str, stage: str, progress: float, lease_seconds: float) -> bool:
        """Record the stage and progress (and extend the lease); False when the job is no longer this owner's."""
        now = time.time()
        return self._owned_update(
            job_id,
            owner,
            "stage = ?, progress = ?, lease_until = ?, updated = ?",
            (stage, min(max(progress, 0.0), 1.0), now + lease_seconds, now),
        )

    def finish(self, job_id: str, owner: str) -> bool:
        """Mark done; False when the job is no longer this owner's."""
        now = time.time()
        return self._owned_update(
            job_id,
            owner,
            "status = 'done', stage = 'done', progress = 1.0, lease_owner = NULL, finished = ?, updated = ?",
            (now, now),
        )

    def fail(self, job_id: str, owner: str, code: str, message: str) -> bool:
        """Mark failed with a machine code and a message; False when the job is no longer this owner's."""
        now = time.time()
        return self._owned_update(
            job_id,
            owner,
            "status = 'failed', stage = 'failed', error_code = ?, error = ?, lease_owner = NULL, finished = ?,"
            " updated = ?",
            (code, message, now, now),
        )

    def _owned_update(self, job_id: str, owner: str, assignments: str, values: tuple[Any, ...]) -> bool:
        with self._connect() as db:
            cur = db.execute(
                f"UPDATE jobs SET {assignments} WHERE id = ? AND lease_owner = ? AND status = 'running'",
                (*values, job_id, owner),
            )
            return cur.rowcount > 0
