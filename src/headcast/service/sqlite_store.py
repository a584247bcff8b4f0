"""The embedded job store: one SQLite database in WAL mode shared by the gateway and the worker processes.

The table is also the embedded deployment's queue: idle workers poll :meth:`SqliteJobStore.claim_next`, which
takes the oldest claimable job of their queue (avatars and variants before background jobs). Standard library only.
"""

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from headcast.service.jobs import (
    BACKGROUND_KINDS,
    WORKER_LOST_MESSAGE,
    Claim,
    ClaimOutcome,
    Job,
    JobExistsError,
    NewJob,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'avatar',
    parent TEXT,
    queue TEXT NOT NULL DEFAULT 'ict',
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
CREATE INDEX IF NOT EXISTS jobs_parent ON jobs (parent);
"""

_ADDED_COLUMNS = {  # columns newer than the first slice's table, added to an existing data folder's database
    "kind": "TEXT NOT NULL DEFAULT 'avatar'",
    "parent": "TEXT",
    "queue": "TEXT NOT NULL DEFAULT 'ict'",
}

_BACKGROUND = ", ".join(f"'{k}'" for k in BACKGROUND_KINDS)


def _job(row: sqlite3.Row) -> Job:
    values = dict(row)
    values["options"] = json.loads(values["options"])
    return Job(**values)


class SqliteJobStore:
    """The job table at ``path`` (created on first use). Safe to use from several threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            have = {r["name"] for r in db.execute("PRAGMA table_info(jobs)")}
            if have:
                for name, decl in _ADDED_COLUMNS.items():
                    if name not in have:
                        db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {decl}")
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

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection inside ``BEGIN IMMEDIATE`` (one writer at a time), committed or rolled back at the end."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def create(self, new: NewJob) -> Job:
        """Insert a queued job and return it.

        Raises:
            JobExistsError: a job with this id exists.
        """
        now = time.time()
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO jobs (id, token_hash, kind, parent, queue, status, stage, progress, options,"
                    " input_name, created, updated) VALUES (?, ?, ?, ?, ?, 'queued', 'queued', 0.0, ?, ?, ?, ?)",
                    (new.id, new.token_hash, new.kind, new.parent, new.queue, json.dumps(new.options),
                     new.input_name, now, now),
                )
        except sqlite3.IntegrityError:
            raise JobExistsError(new.id) from None
        job = self.get(new.id)
        assert job is not None
        return job

    def get(self, job_id: str) -> Job | None:
        """The job, or None when there is none with this id."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job(row)

    def delete(self, job_id: str) -> bool:
        """Remove the job and its variants; True when the job existed."""
        with self._transaction() as db:
            found = db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount > 0
            db.execute("DELETE FROM jobs WHERE parent = ?", (job_id,))
        return found

    def claim(self, job_id: str, owner: str, pid: int, lease_seconds: float, max_attempts: int) -> Claim:
        """Take job ``job_id`` when queued or when its lease expired (see :class:`~headcast.service.jobs.Claim`)."""
        with self._transaction() as db:
            outcome = self._claim_in(db, job_id, owner, pid, lease_seconds, max_attempts)
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Claim(outcome, _job(row)) if outcome == "claimed" else Claim(outcome)

    def claim_next(
        self, queue: str, owner: str, pid: int, lease_seconds: float, max_attempts: int
    ) -> Job | None:
        """Claim the oldest claimable job of ``queue`` (foreground kinds first); None when there is nothing to do.

        Jobs whose lease expired ``max_attempts`` times are failed with ``worker_lost`` on the way.
        """
        while True:
            now = time.time()
            with self._transaction() as db:
                row = db.execute(
                    "SELECT id FROM jobs WHERE queue = ? AND (status = 'queued' OR"
                    f" (status = 'running' AND lease_until < ?)) ORDER BY kind IN ({_BACKGROUND}), created"
                    " LIMIT 1",
                    (queue, now),
                ).fetchone()
                if row is None:
                    return None
                if self._claim_in(db, row["id"], owner, pid, lease_seconds, max_attempts) == "claimed":
                    return _job(db.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone())

    @staticmethod
    def _claim_in(
        db: sqlite3.Connection, job_id: str, owner: str, pid: int, lease_seconds: float, max_attempts: int
    ) -> ClaimOutcome:
        now = time.time()
        row = db.execute(
            "SELECT status, attempts, lease_until FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        if row is None:
            return "gone"
        if row["status"] in ("done", "failed"):
            return "final"
        if row["status"] == "running" and (row["lease_until"] or 0.0) >= now:
            return "busy"
        if row["attempts"] >= max_attempts:
            db.execute(
                "UPDATE jobs SET status = 'failed', stage = 'failed', error_code = 'worker_lost',"
                " error = ?, lease_owner = NULL, finished = ?, updated = ? WHERE id = ?",
                (WORKER_LOST_MESSAGE.format(attempts=row["attempts"]), now, now, job_id),
            )
            return "lost"
        db.execute(
            "UPDATE jobs SET status = 'running', stage = 'starting', progress = 0.0, attempts = attempts + 1,"
            " lease_owner = ?, lease_until = ?, worker_pid = ?, started = ?, updated = ? WHERE id = ?",
            (owner, now + lease_seconds, pid, now, now, job_id),
        )
        return "claimed"

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

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own connection."""

    def _owned_update(
        self, job_id: str, owner: str, assignments: str, values: tuple[str | int | float | None, ...]
    ) -> bool:
        with self._connect() as db:
            cur = db.execute(
                f"UPDATE jobs SET {assignments} WHERE id = ? AND lease_owner = ? AND status = 'running'",
                (*values, job_id, owner),
            )
            return cur.rowcount > 0
