"""The web service: an HTTP gateway, a job queue and worker processes that run the pipeline (see DESIGN.md).

The gateway (:mod:`headcast.service.api`) imports only FastAPI, Pillow and the standard library; the workers
(:mod:`headcast.service.worker`) import the pipeline. :mod:`headcast.service.embedded` runs both in one command.
"""
