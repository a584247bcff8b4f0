"""Where job files live: a small key → bytes interface, and its local-folder implementation.

Keys are ``/``-separated relative paths (layout below). :class:`LocalStorage` keeps them under one folder, which
scale-out deployments put on a shared volume (NFS, a mounted bucket). An S3-compatible bucket can implement
:class:`Storage` too: ``put_bytes``/``get_bytes``/``exists`` map to PUT/GET/HEAD object, ``delete_prefix`` to a
listed batch delete, ``publish_dir`` to uploading every file (the job is marked done only afterwards, so readers
never see half a bundle), ``scratch_dir`` is a local temporary folder and ``local_path`` returns None (the gateway
then sends the bytes; a presigned URL could be returned instead). Only the local folder is implemented here.

Layout::

    jobs/<avatar id>/input.<ext>                 the uploaded photo
    jobs/<avatar id>/bundle/<file>               the finished avatar's files
    jobs/<avatar id>/state/fit.npz               fitted head + texture, reused by variants (worker-private)
    jobs/<avatar id>/state/parsing.png           face-parsing classes, once a job needed them (worker-private)
    jobs/<avatar id>/variants/<vid>/bundle/<file>   a variant's files: avatar.glb and params.json from its job,
                                                    preview.png, turntable.png and avatar.zip once asked for
    hairstyles/<catalogue version>/index.json    the hairstyle list
    hairstyles/<catalogue version>/<name>.png    thumbnails
"""

import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path, PurePosixPath
from typing import Protocol

from headcast.service.jobs import Job


class Storage(Protocol):
    """Job files by key; safe to use from several processes and machines."""

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` at ``key`` (readers see the old or the new content, never a partial one)."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """The content at ``key``.

        Raises:
            FileNotFoundError: nothing is stored at ``key``.
        """
        ...

    def exists(self, key: str) -> bool:
        """Whether something is stored at ``key``."""
        ...

    def delete_prefix(self, prefix: str) -> None:
        """Remove every key under ``prefix`` (a folder-like key); no error when there is none."""
        ...

    def publish_dir(self, folder: Path, prefix: str) -> None:
        """Make the files of local ``folder`` (flat) the content under ``prefix``, replacing what was there.

        The folder is consumed (moved or deleted).
        """
        ...

    def local_path(self, key: str) -> Path | None:
        """A local file holding ``key``'s content, when this storage has one (for zero-copy responses)."""
        ...

    def scratch_dir(self) -> Path:
        """A new empty local folder for a worker to build files in before :meth:`publish_dir`."""
        ...

    def sweep_scratch(self) -> int:
        """Remove scratch folders left by dead worker processes of this machine; returns how many."""
        ...


def check_key(key: str) -> str:
    """``key`` if it is a plain relative key (no ``..``, no absolute path, no backslashes).

    Raises:
        ValueError: a key that could leave the storage root.
    """
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or "\\" in key or any(p in ("..", ".") for p in parts):
        raise ValueError(f"bad storage key '{key}'")
    return key


class LocalStorage:
    """Keys as files under ``root`` (a local folder or a shared volume mounted at the same path everywhere).

    Writes go to a temporary name in the same folder and are renamed into place, so a reader never sees a partial
    file; ``publish_dir`` renames a whole folder into place when ``folder`` is on the same file system (workers
    build bundles under :meth:`scratch_dir`, which is).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def scratch_dir(self) -> Path:
        """A new empty folder on the storage's file system (``tmp/work-<host>-<pid>-*``) to build files in."""
        base = self.root / "tmp"
        base.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f"work-{socket.gethostname()}-{os.getpid()}-", dir=base))

    def sweep_scratch(self) -> int:
        """Remove this machine's scratch folders whose process is gone (a worker killed while rendering)."""
        base = self.root / "tmp"
        prefix = f"work-{socket.gethostname()}-"
        removed = 0
        for folder in base.glob(prefix + "*") if base.is_dir() else []:
            pid_text = folder.name[len(prefix):].partition("-")[0]
            if pid_text.isdigit() and not _alive(int(pid_text)):
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` at ``key`` (write to a temporary file, then rename)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        tmp.write_bytes(data)
        tmp.replace(path)

    def get_bytes(self, key: str) -> bytes:
        """The content at ``key``.

        Raises:
            FileNotFoundError: nothing is stored at ``key``.
        """
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        """Whether a file is stored at ``key``."""
        return self._path(key).is_file()

    def delete_prefix(self, prefix: str) -> None:
        """Remove the folder ``prefix`` (or the file, if it is one)."""
        path = self._path(prefix)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink(missing_ok=True)

    def publish_dir(self, folder: Path, prefix: str) -> None:
        """Rename ``folder`` to ``prefix`` (the old content is moved aside first, then removed)."""
        target = self._path(prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
        try:
            os.rename(folder, staged)
        except OSError:  # another file system: copy, then drop the original
            shutil.copytree(folder, staged)
            shutil.rmtree(folder, ignore_errors=True)
        old = target.with_name(f".{target.name}.{uuid.uuid4().hex}.old")
        if target.exists():
            os.rename(target, old)
        os.rename(staged, target)
        shutil.rmtree(old, ignore_errors=True)

    def local_path(self, key: str) -> Path | None:
        """The file of ``key`` when it exists."""
        path = self._path(key)
        return path if path.is_file() else None


def _alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ----------------------------------------------------------------------------------------------- layout


def job_prefix(job: Job) -> str:
    """The folder-like key of a job's files: ``jobs/<id>`` or ``jobs/<avatar id>/variants/<vid>``."""
    if job.kind == "variant" and job.parent is not None:
        return f"jobs/{job.parent}/variants/{variant_public_id(job)}"
    return f"jobs/{job.id}"


def avatar_prefix(avatar_id: str) -> str:
    """The folder-like key of an avatar (its photo, bundle, state and variants)."""
    return f"jobs/{avatar_id}"


def bundle_prefix(job: Job) -> str:
    """Where a finished job's downloadable files are."""
    return f"{job_prefix(job)}/bundle"


def state_key(avatar_id: str, name: str) -> str:
    """A worker-private file of an avatar (``fit.npz``, ``parsing.png``): never served."""
    return f"{avatar_prefix(avatar_id)}/state/{name}"


def variant_job_id(avatar_id: str, variant_id: str) -> str:
    """The job id of variant ``variant_id`` of an avatar."""
    return f"{avatar_id}-{variant_id}"


def variant_public_id(job: Job) -> str:
    """The variant id the API shows (the job id without its avatar's)."""
    return job.id.rpartition("-")[2]
