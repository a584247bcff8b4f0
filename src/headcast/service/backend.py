"""The three parts every process of the service shares, chosen from the settings: job store, queue, storage.

========================  =================================  =========================================
``settings.broker``       job store / queue                  storage
========================  =================================  =========================================
None (embedded default)   SQLite table; workers poll it      :class:`LocalStorage` at ``data_dir``
``redis://HOST:PORT/DB``  Redis hashes; Dramatiq messages    :class:`LocalStorage` at ``data_dir`` (shared)
========================  =================================  =========================================

Redis and Dramatiq are imported only when a broker is configured.
"""

from dataclasses import dataclass

from headcast.service.config import ServiceSettings
from headcast.service.jobs import JobStore
from headcast.service.queues import JobQueue, TableQueue
from headcast.service.storage import LocalStorage, Storage


@dataclass(frozen=True, eq=False)
class Backend:
    """Job store, queue and file storage of one deployment.

    Attributes:
        store: job status and leases.
        queue: delivery of job ids to workers.
        storage: photos, bundles, worker state and hairstyle pictures.
    """

    store: JobStore
    queue: JobQueue
    storage: Storage

    def close(self) -> None:
        """Release connections."""
        self.queue.close()
        self.store.close()


def open_backend(settings: ServiceSettings) -> Backend:
    """The backend ``settings`` describe (see the module table)."""
    storage = LocalStorage(settings.data_dir)
    if settings.broker is None:
        from headcast.service.sqlite_store import SqliteJobStore

        return Backend(SqliteJobStore(settings.db_path), TableQueue(), storage)
    from headcast.service.broker import DramatiqQueue
    from headcast.service.redis_store import RedisJobStore

    return Backend(RedisJobStore(settings.broker, settings.redis_namespace), DramatiqQueue(settings), storage)
