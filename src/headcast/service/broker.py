"""The scale-out queue: Dramatiq messages through Redis (``pip install 'headcast[service-redis]'``).

A message carries only a job id; the job's options, status and lease live in the job store
(:class:`~headcast.service.redis_store.RedisJobStore`). Two actors per back-end queue ``Q``:

- ``headcast_job`` on queue ``Q``: avatars and variants (a person is waiting);
- ``headcast_background`` on queue ``Q.background`` (lower priority): the hairstyle list and thumbnails.

A worker consumes both queues of its back-end (``headcast worker --broker URL --queue Q``), one message at a time
(the pipeline is not thread-safe, and one job saturates a core). Dramatiq's Redis broker keeps a delivered message
in the worker's acknowledgement set until the actor returns; when a worker process dies, its broker heartbeat stops,
and after ``broker_heartbeat_ms`` another worker's queue maintenance puts the message back on the queue, where any
worker picks it up again (the job store's lease decides whether that is a second attempt or a duplicate to drop).
"""

from collections.abc import Callable

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Retries, TimeLimit

from headcast.service.config import ServiceSettings
from headcast.service.jobs import BACKGROUND_KINDS, Job

JOB_ACTOR = "headcast_job"
"""Actor of avatars and variants."""

BACKGROUND_ACTOR = "headcast_background"
"""Actor of hairstyle-list and thumbnail jobs."""

BACKGROUND_PRIORITY = 100
"""Dramatiq priority of background messages inside a worker (larger runs later)."""


def queue_names(queue: str) -> tuple[str, str]:
    """The Dramatiq queues of back-end queue ``queue``: foreground and background."""
    return queue, f"{queue}.background"


def make_broker(settings: ServiceSettings, worker: bool) -> RedisBroker:
    """A Redis broker for ``settings.broker``.

    Args:
        settings: the broker URL, namespace, heartbeat timeout and maintenance chance.
        worker: True in worker processes: adds the time-limit and retry middleware (the gateway only enqueues).
    """
    if settings.broker is None:
        raise ValueError("settings.broker is not set: no Redis URL to connect to")
    middleware = (
        [TimeLimit(time_limit=int(settings.job_time_limit_seconds * 1000)), Retries(max_retries=3, min_backoff=1000)]
        if worker
        else []
    )
    return RedisBroker(  # type: ignore[no-untyped-call]  # dramatiq's constructor has no annotations
        url=settings.broker,
        namespace=f"{settings.redis_namespace}-dramatiq",
        middleware=middleware,
        heartbeat_timeout=settings.broker_heartbeat_ms,
        maintenance_chance=settings.broker_maintenance_chance,
    )


class DramatiqQueue:
    """Sends each created job's id to the Dramatiq queue of its back-end."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.broker = make_broker(settings, worker=False)

    def enqueue(self, job: Job) -> None:
        """Send ``job.id`` to ``job.queue`` (background kinds to ``<queue>.background``)."""
        foreground, background = queue_names(job.queue)
        later = job.kind in BACKGROUND_KINDS
        message: dramatiq.Message[None] = dramatiq.Message(
            queue_name=background if later else foreground,
            actor_name=BACKGROUND_ACTOR if later else JOB_ACTOR,
            args=(job.id,),
            kwargs={},
            options={},
        )
        self.broker.enqueue(message)

    def close(self) -> None:
        """Close the broker's connections."""
        self.broker.close()


def declare_actors(broker: RedisBroker, queue: str, handle: Callable[[str], None]) -> None:
    """Register the two actors of back-end ``queue`` on a worker's ``broker``; both call ``handle(job_id)``."""
    foreground, background = queue_names(queue)
    for name, queue_name, priority in (
        (JOB_ACTOR, foreground, 0),
        (BACKGROUND_ACTOR, background, BACKGROUND_PRIORITY),
    ):
        dramatiq.Actor(handle, broker=broker, actor_name=name, queue_name=queue_name, priority=priority, options={})
