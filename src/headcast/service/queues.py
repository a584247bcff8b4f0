"""How a created job reaches a worker: the :class:`JobQueue` interface and the embedded implementation.

Embedded: the SQLite job table is the queue (workers poll it), so :class:`TableQueue` has nothing to send.
Scale-out: :class:`headcast.service.broker.DramatiqQueue` sends a Dramatiq message through Redis.
"""

from typing import Protocol

from headcast.service.jobs import Job


class JobQueue(Protocol):
    """Delivery of job ids to workers (the job's status lives in the :class:`~headcast.service.jobs.JobStore`)."""

    def enqueue(self, job: Job) -> None:
        """Hand ``job`` (already created in the store) to a worker of ``job.queue``."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class TableQueue:
    """The embedded queue: workers claim queued rows from the SQLite table themselves."""

    def enqueue(self, job: Job) -> None:
        """Nothing to do: the row is queued once created."""

    def close(self) -> None:
        """Nothing to release."""
