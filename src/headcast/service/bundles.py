"""A variant's files in two stages: the viewer's files with the variant's job, the rest when first asked for.

A ``variant`` job (another hairstyle, colour or emotion) publishes only :data:`VIEWER_FILES` and is done: the page
swaps the new GLB into its viewer at once. Its pictures and zip (:data:`ON_REQUEST_FILES`) are made by a follow-up
job of kind ``bundle`` (:func:`request_bundle`), which the gateway queues the first time one of them is downloaded;
until they are there the download answers 503 with ``Retry-After``. The ``bundle`` job writes each file with one
rename (``Storage.put_bytes``), pictures first and the zip last, so a download never gets a partial file.

Job ids: the follow-up of variant job ``<avatar id>-<variant id>`` is ``<avatar id>-<variant id>-bundle``; its
``parent`` is the avatar (deleting the avatar deletes it), its options name the variant. Standard library only:
the gateway imports this module.
"""

from headcast.service.backend import Backend
from headcast.service.jobs import Job, JobExistsError, NewJob
from headcast.service.storage import Storage, bundle_prefix, variant_job_id, variant_public_id

VIEWER_FILES = ("avatar.glb", "params.json")
"""What a variant's own job publishes: the GLB the page's viewer loads and the parameters it reads."""

ON_REQUEST_FILES = ("avatar.zip", "preview.png", "turntable.png")
"""A variant's files made by its ``bundle`` job, the first time one of them is asked for."""

BUNDLE_SUFFIX = "-bundle"


def bundle_job_id(variant: Job) -> str:
    """The id of the ``bundle`` job of a variant job."""
    return variant.id + BUNDLE_SUFFIX


def bundle_variant_id(job: Job) -> str:
    """The variant job id a ``bundle`` job completes."""
    return variant_job_id(job.parent or "", str(job.options["variant"]))


def missing_files(storage: Storage, variant: Job) -> list[str]:
    """The :data:`ON_REQUEST_FILES` a variant does not have yet (all of them while it is not done)."""
    prefix = bundle_prefix(variant)
    return [name for name in ON_REQUEST_FILES if variant.status != "done" or not storage.exists(f"{prefix}/{name}")]


def request_bundle(backend: Backend, variant: Job) -> Job:
    """The ``bundle`` job of a done variant, queued now unless there is one.

    Returned as it is: a queued or running job, a failed one (the caller reports its error, then
    :func:`forget_bundle` lets the next request try again), a done one whose files are all there. A done one with
    a file missing (the variant was made again, or the data folder emptied) is replaced by a new one.
    """
    new = NewJob(id=bundle_job_id(variant), token_hash=variant.token_hash, kind="bundle", parent=variant.parent,
                 queue=variant.queue, options={"variant": variant_public_id(variant)})
    for _ in range(3):
        try:
            job = backend.store.create(new)
        except JobExistsError:
            existing = backend.store.get(new.id)
            if existing is None:  # deleted between the two calls
                continue
            if existing.status != "done" or not missing_files(backend.storage, variant):
                return existing
            backend.store.delete(new.id)
            continue
        backend.queue.enqueue(job)
        return job
    raise RuntimeError(f"job {new.id} changed three times while it was requested")


def forget_bundle(backend: Backend, variant: Job) -> None:
    """Remove the variant's ``bundle`` job (after reporting its failure: the next request queues it again)."""
    backend.store.delete(bundle_job_id(variant))

