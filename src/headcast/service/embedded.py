"""``headcast serve``: one gateway process and N worker processes, one command.

:class:`WorkerPool` starts the workers (``spawn``: a fresh interpreter each, so the gateway's threads and imports
are not inherited) and a supervisor thread that restarts any worker that died. The dead worker's job is not lost:
its lease expires and a worker claims it again (embedded: the next poll of the table; with a broker: Dramatiq
re-delivers the message of the dead worker). Without a broker this is the embedded default, with no other service;
with ``--broker redis://...`` the same pool runs Dramatiq workers, and more can join from other machines.
"""

import logging
import multiprocessing
import threading
from multiprocessing.process import BaseProcess

from headcast.service.config import ServiceSettings

log = logging.getLogger("headcast.service.embedded")


class WorkerPool:
    """``settings.workers`` worker processes kept alive by a supervisor thread."""

    def __init__(self, settings: ServiceSettings, check_seconds: float = 0.5) -> None:
        self.settings = settings
        self.check_seconds = check_seconds
        self._ctx = multiprocessing.get_context("spawn")
        self._stop = self._ctx.Event()
        self._halt = threading.Event()
        self.processes: list[BaseProcess] = []
        self.restarts = 0
        self._supervisor = threading.Thread(target=self._supervise, daemon=True, name="worker-supervisor")

    def _spawn(self) -> BaseProcess:
        from headcast.service.worker import worker_main  # the module imports the pipeline lazily

        proc = self._ctx.Process(target=worker_main, args=(self.settings, self._stop), daemon=True)
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


def serve(settings: ServiceSettings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the gateway (uvicorn) with ``settings.workers`` worker processes until interrupted."""
    import uvicorn

    from headcast.service.api.main import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
