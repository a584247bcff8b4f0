"""The SQLite job table: claims, leases, heartbeats, re-queueing after a lost worker, owner-checked writes."""

import time
from pathlib import Path

from headcast.service.jobs import JobStore


def test_claim_takes_oldest_queued_job_once(tmp_path: Path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    first = store.create("h1", {}, "input.jpg")
    store.create("h2", {}, "input.jpg")
    job = store.claim("a", 10, 60.0, 3)
    assert job is not None and job.id == first.id and job.status == "running" and job.attempts == 1
    other = store.claim("b", 11, 60.0, 3)
    assert other is not None and other.id != first.id
    assert store.claim("c", 12, 60.0, 3) is None
    assert store.get(first.id).worker_pid == 10


def test_expired_lease_is_claimed_again_and_the_old_owner_is_locked_out(tmp_path: Path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.create("h", {}, "input.jpg")
    assert store.claim("dead", 1, 0.05, 3) is not None
    assert store.claim("b", 2, 60.0, 3) is None  # lease still valid
    time.sleep(0.1)
    again = store.claim("alive", 2, 60.0, 3)
    assert again is not None and again.id == job.id and again.attempts == 2
    assert not store.report(job.id, "dead", "rendering", 0.7, 60.0)
    assert not store.finish(job.id, "dead")
    assert store.report(job.id, "alive", "rendering", 0.7, 60.0)
    assert store.get(job.id).stage == "rendering" and store.get(job.id).progress == 0.7
    assert store.finish(job.id, "alive")
    done = store.get(job.id)
    assert done.status == "done" and done.progress == 1.0 and done.lease_owner is None


def test_heartbeat_keeps_the_lease(tmp_path: Path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.create("h", {}, "input.jpg")
    job = store.claim("a", 1, 0.2, 3)
    for _ in range(4):
        time.sleep(0.1)
        assert store.heartbeat(job.id, "a", 0.2)
    assert store.claim("b", 2, 0.2, 3) is None


def test_job_is_failed_after_max_attempts(tmp_path: Path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.create("h", {}, "input.jpg")
    for owner in ("a", "b"):
        assert store.claim(owner, 1, 0.01, 2) is not None
        time.sleep(0.03)
    assert store.claim("c", 1, 0.01, 2) is None
    failed = store.get(job.id)
    assert failed.status == "failed" and failed.error_code == "worker_lost" and "2 times" in failed.error


def test_delete(tmp_path: Path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.create("h", {"hair": "none"}, "input.jpg")
    assert store.get(job.id).options == {"hair": "none"}
    assert store.delete(job.id) and store.get(job.id) is None and not store.delete(job.id)
