"""The local-folder storage: atomic writes, folder publishing, deletion, key checks, scratch clean-up."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from headcast.service.storage import LocalStorage, check_key


def test_put_get_exists_delete(tmp_path: Path):
    storage = LocalStorage(tmp_path)
    storage.put_bytes("jobs/a/input.jpg", b"one")
    storage.put_bytes("jobs/a/input.jpg", b"two")
    assert storage.get_bytes("jobs/a/input.jpg") == b"two" and storage.exists("jobs/a/input.jpg")
    assert [p.name for p in (tmp_path / "jobs" / "a").iterdir()] == ["input.jpg"]  # no temporary files left
    assert storage.local_path("jobs/a/input.jpg") == tmp_path / "jobs" / "a" / "input.jpg"
    assert storage.local_path("jobs/a/other") is None and not storage.exists("jobs/a")
    with pytest.raises(FileNotFoundError):
        storage.get_bytes("jobs/a/other")
    storage.delete_prefix("jobs/a")
    assert not (tmp_path / "jobs" / "a").exists()
    storage.delete_prefix("jobs/never")


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "a/../../b", "a\\b", ""])
def test_keys_cannot_leave_the_root(tmp_path: Path, key: str):
    with pytest.raises(ValueError):
        check_key(key)
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).put_bytes(key, b"x")


def test_publish_replaces_a_folder_whole(tmp_path: Path):
    storage = LocalStorage(tmp_path / "data")
    first = storage.scratch_dir()
    (first / "a.txt").write_text("1")
    (first / "b.txt").write_text("1")
    storage.publish_dir(first, "jobs/x/bundle")
    second = storage.scratch_dir()
    (second / "a.txt").write_text("2")
    storage.publish_dir(second, "jobs/x/bundle")
    bundle = tmp_path / "data" / "jobs" / "x" / "bundle"
    assert sorted(p.name for p in bundle.iterdir()) == ["a.txt"] and (bundle / "a.txt").read_text() == "2"
    assert not first.exists() and not second.exists()
    assert sorted(p.name for p in (tmp_path / "data" / "jobs" / "x").iterdir()) == ["bundle"]


def test_publish_from_another_file_system_copies(tmp_path: Path):
    storage = LocalStorage(tmp_path / "data")
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "f.bin").write_bytes(b"abc")
    storage.publish_dir(folder, "jobs/y/bundle")
    assert storage.get_bytes("jobs/y/bundle/f.bin") == b"abc" and not folder.exists()


def test_sweep_removes_scratch_of_dead_processes_only(tmp_path: Path):
    storage = LocalStorage(tmp_path)
    mine = storage.scratch_dir()
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout.strip()
    dead = tmp_path / "tmp" / f"work-{socket.gethostname()}-{dead_pid}-abc"
    other_host = tmp_path / "tmp" / f"work-some-other-host-{dead_pid}-abc"
    for folder in (dead, other_host):
        folder.mkdir()
    assert storage.sweep_scratch() == 1
    assert mine.is_dir() and other_host.is_dir() and not dead.exists()
    assert str(os.getpid()) in mine.name
