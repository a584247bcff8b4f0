"""The job-store contract, checked on both implementations (SQLite table, Redis hashes): claims, leases,
heartbeats, re-claiming after a lost worker, owner-checked writes, variants deleted with their avatar."""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from headcast.service.jobs import JobExistsError, JobStore, NewJob
from headcast.service.sqlite_store import SqliteJobStore


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    if request.param == "sqlite":
        yield SqliteJobStore(tmp_path / "jobs.sqlite3")
        return
    from headcast.service.redis_store import RedisJobStore

    redis_store = RedisJobStore(request.getfixturevalue("redis_url"), namespace=f"test-{uuid.uuid4().hex[:8]}")
    yield redis_store
    redis_store.close()


def _new(job_id: str, **kw) -> NewJob:
    return NewJob(id=job_id, token_hash="h", options=kw.pop("options", {}), queue="ict", input_name="input.jpg", **kw)


def test_create_get_and_duplicate_ids(store: JobStore):
    job = store.create(_new("a1", options={"hair": "none", "emotion": None}))
    assert (job.status, job.stage, job.progress, job.attempts, job.kind) == ("queued", "queued", 0.0, 0, "avatar")
    got = store.get("a1")
    assert got is not None and got.options == {"hair": "none", "emotion": None} and got.input_name == "input.jpg"
    assert got.lease_owner is None and got.worker_pid is None and got.parent is None and got.queue == "ict"
    with pytest.raises(JobExistsError):
        store.create(_new("a1"))
    assert store.get("nope") is None


def test_claim_is_exclusive_until_the_lease_expires(store: JobStore):
    store.create(_new("a1"))
    first = store.claim("a1", "dead", 10, 0.3, 3)
    assert first.outcome == "claimed" and first.job is not None
    assert (first.job.status, first.job.attempts, first.job.worker_pid) == ("running", 1, 10)
    assert store.claim("a1", "b", 11, 60.0, 3).outcome == "busy"
    time.sleep(0.4)
    again = store.claim("a1", "alive", 11, 60.0, 3)
    assert again.outcome == "claimed" and again.job is not None and again.job.attempts == 2
    # the first owner lost its lease: none of its writes land
    assert not store.report("a1", "dead", "rendering", 0.7, 60.0)
    assert not store.heartbeat("a1", "dead", 60.0)
    assert not store.finish("a1", "dead")
    assert store.report("a1", "alive", "rendering", 0.7, 60.0)
    job = store.get("a1")
    assert job is not None and job.stage == "rendering" and job.progress == pytest.approx(0.7)
    assert store.finish("a1", "alive")
    done = store.get("a1")
    assert done is not None and done.status == "done" and done.progress == 1.0 and done.lease_owner is None
    assert store.claim("a1", "c", 12, 60.0, 3).outcome == "final"
    assert store.claim("missing", "c", 12, 60.0, 3).outcome == "gone"


def test_heartbeat_keeps_the_lease(store: JobStore):
    store.create(_new("a1"))
    assert store.claim("a1", "a", 1, 0.3, 3).outcome == "claimed"
    for _ in range(5):
        time.sleep(0.1)
        assert store.heartbeat("a1", "a", 0.3)
    assert store.claim("a1", "b", 2, 0.3, 3).outcome == "busy"


def test_job_is_failed_after_max_attempts(store: JobStore):
    store.create(_new("a1"))
    for owner in ("a", "b"):
        assert store.claim("a1", owner, 1, 0.05, 2).outcome == "claimed"
        time.sleep(0.1)
    assert store.claim("a1", "c", 1, 0.05, 2).outcome == "lost"
    failed = store.get("a1")
    assert failed is not None and failed.status == "failed" and failed.error_code == "worker_lost"
    assert failed.error == "the worker stopped 2 times while making this avatar"


def test_fail_records_code_and_message(store: JobStore):
    store.create(_new("a1"))
    assert store.claim("a1", "a", 1, 60.0, 3).outcome == "claimed"
    assert store.fail("a1", "a", "no_face", "no face found")
    job = store.get("a1")
    assert job is not None and (job.status, job.error_code, job.error) == ("failed", "no_face", "no face found")
    assert not store.fail("a1", "a", "internal", "again")  # no longer running: nothing changes


def test_deleting_an_avatar_deletes_its_variants(store: JobStore):
    store.create(_new("a1"))
    store.create(_new("a2"))
    store.create(_new("a1-v1", kind="variant", parent="a1"))
    store.create(_new("a1-v2", kind="variant", parent="a1"))
    store.create(_new("a2-v1", kind="variant", parent="a2"))
    variant = store.get("a1-v1")
    assert variant is not None and variant.kind == "variant" and variant.parent == "a1"
    assert store.delete("a1-v2") and store.get("a1-v2") is None and store.get("a1") is not None
    assert store.delete("a1")
    assert store.get("a1") is None and store.get("a1-v1") is None
    assert store.get("a2") is not None and store.get("a2-v1") is not None
    assert not store.delete("a1")


def test_sqlite_claim_next_takes_foreground_jobs_of_its_queue_first(tmp_path: Path):
    store = SqliteJobStore(tmp_path / "jobs.sqlite3")
    store.create(NewJob(id="bg", token_hash="", options={}, queue="ict", kind="thumbnail"))
    store.create(NewJob(id="other", token_hash="h", options={}, queue="flame"))
    store.create(NewJob(id="a1", token_hash="h", options={}, queue="ict"))
    first = store.claim_next("ict", "w", 1, 60.0, 3)
    second = store.claim_next("ict", "w", 1, 60.0, 3)
    assert first is not None and first.id == "a1" and second is not None and second.id == "bg"
    assert store.claim_next("ict", "w", 1, 60.0, 3) is None
    flame = store.claim_next("flame", "w", 1, 60.0, 3)
    assert flame is not None and flame.id == "other"


def test_sqlite_table_of_the_first_slice_is_migrated(tmp_path: Path):
    import sqlite3

    path = tmp_path / "jobs.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL, status TEXT NOT NULL, stage TEXT NOT"
            " NULL, progress REAL NOT NULL, error TEXT, error_code TEXT, options TEXT NOT NULL, input_name TEXT NOT"
            " NULL, created REAL NOT NULL, updated REAL NOT NULL, started REAL, finished REAL, attempts INTEGER NOT"
            " NULL DEFAULT 0, lease_owner TEXT, lease_until REAL, worker_pid INTEGER)"
        )
        db.execute("INSERT INTO jobs (id, token_hash, status, stage, progress, options, input_name, created, updated)"
                   " VALUES ('old', 'h', 'done', 'done', 1.0, '{}', 'input.jpg', 0, 0)")
    old = SqliteJobStore(path).get("old")
    assert old is not None and (old.kind, old.queue, old.parent, old.status) == ("avatar", "ict", None, "done")
