"""The web service: an HTTP gateway, a job queue and worker processes that run the pipeline (see DESIGN.md).

The gateway (:mod:`headcast.service.api`) imports only FastAPI, Pillow and the standard library; the workers
(:mod:`headcast.service.worker`) import the pipeline. The processes start in :mod:`headcast.service.entry`
(``headcast serve``: the gateway with its pool of workers, :mod:`headcast.service.embedded`; ``headcast worker``).
"""
