"""The scale-out worker: Dramatiq over Redis (``headcast worker --broker redis://...``).

One process, one Dramatiq worker thread: the pipeline is not thread-safe and one job keeps a core busy. The
pipeline is loaded inside that thread (:class:`RuntimeLoader`), because an OpenGL context belongs to the thread that
created it. Each message is a job id; :func:`headcast.service.worker.handle_job_id` claims it in the job store and
runs it. Needs ``headcast[service-redis]``.
"""

import logging
import os
import signal
import threading
from multiprocessing.synchronize import Event
from types import FrameType

import dramatiq
from dramatiq import Middleware

from headcast.service.broker import declare_actors, make_broker
from headcast.service.config import ServiceSettings
from headcast.service.worker import WorkerRuntime, handle_job_id, load_runtime

log = logging.getLogger("headcast.service.worker")


def run_broker_worker(settings: ServiceSettings, stop: Event | None = None) -> None:
    """Scale-out worker: a one-thread Dramatiq worker on ``settings.queue`` until ``stop`` or SIGTERM / SIGINT.

    The pipeline is loaded inside Dramatiq's worker thread (:class:`RuntimeLoader`), where the jobs run: an
    OpenGL context belongs to the thread that created it.

    Raises:
        RuntimeError: the pipeline could not be loaded (missing model files, no OpenGL).
    """
    broker = make_broker(settings, worker=True)
    loader = RuntimeLoader(settings)
    broker.add_middleware(loader)
    declare_actors(broker, settings.queue, loader.handle)
    worker = dramatiq.Worker(broker, worker_threads=1)
    worker.queue_prefetch = 1  # take the next job only when free, so idle workers on other machines get it
    halt = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        halt.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    worker.start()
    log.info("dramatiq worker %d consuming %s", os.getpid(), sorted(broker.get_declared_queues()))
    try:
        while not halt.wait(0.5) and not (stop is not None and stop.is_set()) and loader.error is None:
            pass
    finally:
        worker.stop()  # waits for the running job; prefetched messages go back to the queue
        broker.close()
    if loader.error is not None:
        raise RuntimeError(f"worker could not load the pipeline: {loader.error}")


class RuntimeLoader(Middleware):
    """Dramatiq middleware that loads the :class:`WorkerRuntime` in the worker thread and runs jobs with it."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.runtime: WorkerRuntime | None = None
        self.error: BaseException | None = None

    def after_worker_thread_boot(self, broker: object, thread: object) -> None:
        """Load the pipeline (in the thread that will run the jobs)."""
        try:
            self.runtime = load_runtime(self.settings)
        except Exception as err:  # reported by run_broker_worker, which then stops
            log.exception("loading the pipeline failed")
            self.error = err

    def before_worker_thread_shutdown(self, broker: object, thread: object) -> None:
        """Release the pipeline."""
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None

    def handle(self, job_id: str) -> None:
        """The actors' function: run job ``job_id`` with the loaded runtime."""
        if self.runtime is None:
            raise RuntimeError("the worker's pipeline is not loaded")
        handle_job_id(self.runtime, job_id)
