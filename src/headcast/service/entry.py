"""The service's process entry points: ``headcast serve`` and ``headcast worker`` start here, and nowhere else.

* :func:`serve` — the gateway (uvicorn) built by :func:`service_app`: :func:`~headcast.service.api.main.create_app`
  told that its worker processes (``settings.workers``, :class:`~headcast.service.embedded.WorkerPool`) run
  :func:`worker_process`.
* :func:`run_worker` — one worker's loop, dispatched on ``settings.broker``: embedded (poll the SQLite table,
  :func:`headcast.service.worker.run_worker`) or scale-out (a Dramatiq worker,
  :func:`headcast.service.dramatiq_worker.run_broker_worker`).
* :func:`worker_process` — the target of each process the pool spawns: logging, then :func:`run_worker`.

The library modules (``api``, ``embedded``, ``worker``, ``dramatiq_worker``) never import this module, so none of
them imports another through the back door: the pool is handed its target, the gateway its pool's target.
Everything heavy is imported inside the functions: the gateway process imports neither the pipeline nor Dramatiq
(``tests/service/test_import_isolation.py``), and a spawned worker imports only what its back-end needs.
"""

import logging
from multiprocessing.synchronize import Event
from typing import TYPE_CHECKING

from headcast.service.config import ServiceSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

WORKER_LOG_FORMAT = "%(asctime)s worker[%(process)d] %(levelname)s %(message)s"
"""Log line of a worker process (``headcast worker`` and the pool's processes alike)."""


def run_worker(settings: ServiceSettings, stop: Event | None = None) -> None:
    """Run one worker until ``stop`` is set (or, for Dramatiq, SIGTERM / SIGINT): embedded or broker by settings.

    Raises:
        RuntimeError: a broker worker could not load the pipeline (missing model files, no OpenGL).
    """
    if settings.broker is None:
        from headcast.service.worker import run_worker as run_embedded_worker

        run_embedded_worker(settings, stop)
    else:
        from headcast.service.dramatiq_worker import run_broker_worker

        run_broker_worker(settings, stop)


def worker_process(settings: ServiceSettings, stop: Event) -> None:
    """Entry point of a worker process started by :class:`~headcast.service.embedded.WorkerPool`."""
    logging.basicConfig(level=logging.INFO, format=WORKER_LOG_FORMAT)
    run_worker(settings, stop)


def service_app(settings: ServiceSettings) -> "FastAPI":
    """The gateway of ``headcast serve``: its ``settings.workers`` worker processes run :func:`worker_process`."""
    from headcast.service.api.main import create_app

    return create_app(settings, worker_target=worker_process)


def serve(settings: ServiceSettings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the gateway (uvicorn) with ``settings.workers`` worker processes until interrupted."""
    import uvicorn

    uvicorn.run(service_app(settings), host=host, port=port, log_level="info")
