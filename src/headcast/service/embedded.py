"""The worker processes of ``headcast serve``: N of them beside the gateway, kept alive.

:class:`WorkerPool` starts the workers (``spawn``: a fresh interpreter each, so the gateway's threads and imports
are not inherited) and a supervisor thread that restarts any worker that died. What each process runs is the
pool's ``target`` (``headcast serve``: :func:`headcast.service.entry.worker_process`); the gateway's lifespan
(:func:`headcast.service.api.main.create_app`) starts and stops the pool. The dead worker's job is not lost:
its lease expires and a worker claims it again (embedded: the next poll of the table; with a broker: Dramatiq
re-delivers the message of the dead worker). Without a broker this is the embedded default, with no other service;
with ``--broker redis://...`` the same pool runs Dramatiq workers, and more can join from other machines.
"""

import logging
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event

from headcast.service.config import ServiceSettings

log = logging.getLogger("headcast.service.embedded")

WorkerTarget = Callable[[ServiceSettings, Event], None]
"""What a worker process runs: ``target(settings, stop)`` until ``stop`` is set. A module-level function (the
``spawn`` start method pickles it by name)."""


class WorkerPool:
    """``settings.workers`` worker processes running ``target``, kept alive by a supervisor thread."""

    def __init__(self, settings: ServiceSettings, target: WorkerTarget, check_seconds: float = 0.5) -> None:
        self.settings = settings
        self.target = target
        self.check_seconds = check_seconds
        self._ctx = multiprocessing.get_context("spawn")
        self._stop = self._ctx.Event()
        self._halt = threading.Event()
        self.processes: list[BaseProcess] = []
        self.restarts = 0
        self._supervisor = threading.Thread(target=self._supervise, daemon=True, name="worker-supervisor")

    def _spawn(self) -> BaseProcess:
        proc = self._ctx.Process(target=self.target, args=(self.settings, self._stop), daemon=True)
        proc.start()
        return proc

    def start(self) -> None:
        """Start the workers and the supervisor."""
        self.processes = [self._spawn() for _ in range(self.settings.workers)]
        self._supervisor.start()

    def _supervise(self) -> None:
        while not self._halt.wait(self.check_seconds):
            for i, proc in enumerate(self.processes):
                if not proc.is_alive() and not self._halt.is_set():
                    log.warning("worker %s exited (code %s); starting another", proc.pid, proc.exitcode)
                    self.processes[i] = self._spawn()
                    self.restarts += 1

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the workers to finish their job and stop; terminate those still running after ``timeout``."""
        self._halt.set()
        self._stop.set()
        if self._supervisor.is_alive():
            self._supervisor.join()
        for proc in self.processes:
            proc.join(timeout)
            if proc.is_alive():
                proc.terminate()  # its job's lease expires and the job is claimed again on the next start
                proc.join(5.0)
