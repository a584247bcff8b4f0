"""What a worker makes for each kind of job (runs in worker processes only: imports the pipeline lazily).

- ``avatar``: photo → detection, fit, texture (the composition's ``reconstruct``) → the fitted state is
  stored (``state/fit.npz``) → hair and emotion (:func:`dress`) → bundle.
- ``variant``: the avatar's stored state → :func:`dress` with the variant's hair, colour and emotion → only the
  files the page's viewer loads (``avatar.glb``, ``params.json``). No detection, fitting or texturing; the
  face-parsing classes a hair style needs are stored once per avatar (``state/parsing.png``). A missing or stale
  state falls back to reconstructing from the photo.
- ``bundle``: the rest of a variant's files (pictures, OBJ, hair files, zip), queued by the gateway when one of
  them is first downloaded (:mod:`headcast.service.bundles`): the same dressing again (deterministic, ~0.2-0.5 s),
  then the pictures and the zip, which holds the published GLB and params.json unchanged.
- ``hairstyles``: the library's list → ``index.json``; then one ``thumbnail`` job per style.
- ``thumbnail``: one style rendered on the mean head → ``<name>.png``.

Every step is the composition's (:class:`headcast.pipeline.Pipeline`: ``reconstruct``, ``dress``, ``pose``,
``write``) with the job's :class:`headcast.options.Options`, so an avatar equals what ``headcast make`` gives with the
same options, and a variant equals the avatar a fresh upload with the same options gives.
"""

from __future__ import annotations  # the pipeline's types are imported only for type checking (worker-only)

import dataclasses
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from headcast.errors import HeadcastError
from headcast.options import HAIR_NONE, OptionError, Options
from headcast.service.backend import Backend
from headcast.service.bundles import ON_REQUEST_FILES, VIEWER_FILES, bundle_variant_id
from headcast.service.catalogue import (
    CatalogueIndex,
    HairstyleEntry,
    index_key,
    submit_once,
    thumbnail_job_id,
    thumbnail_key,
)
from headcast.service.config import ServiceSettings
from headcast.service.jobs import Job, NewJob
from headcast.service.storage import avatar_prefix, bundle_prefix, state_key

if TYPE_CHECKING:  # the numeric stack is imported by worker processes only, never by the gateway
    from headcast.avatar import Avatar
    from headcast.landmarks.types import Photo
    from headcast.pipeline import FaceClasses, Pipeline

FIT_STATE = "fit.npz"
PARSING = "parsing.png"


class JobOptionError(HeadcastError):
    """A stored job option the pipeline cannot use (an unknown hairstyle, a bad emotion or colour)."""


class JobGoneError(HeadcastError):
    """The job (or a variant's avatar) was deleted, or its lease was lost to another attempt, while it ran."""


@dataclass(frozen=True, eq=False)
class TaskContext:
    """What a task needs from its worker.

    Attributes:
        pipeline: the worker's loaded ``headcast.pipeline.Pipeline``.
        backend: job store, queue and storage.
        settings: the service settings.
        report: ``report(stage, progress)`` records progress (and extends the lease).
        still_owner: True while this attempt holds the job's lease (checked before files are published).
    """

    pipeline: Pipeline
    backend: Backend
    settings: ServiceSettings
    report: Callable[[str, float], None]
    still_owner: Callable[[], bool]


def run_task(ctx: TaskContext, job: Job) -> None:
    """Make what ``job`` asks for and publish it (the caller records done or failed)."""
    makers: dict[str, Callable[[TaskContext, Job], None]] = {
        "avatar": make_avatar_files,
        "variant": make_variant_files,
        "bundle": make_bundle_files,
        "hairstyles": make_hairstyle_list,
        "thumbnail": make_thumbnail,
    }
    makers[job.kind](ctx, job)


# ------------------------------------------------------------------------------------ avatars and variants


def job_options(job: Job) -> Options:
    """The job's options as the composition takes them, checked against the hairstyle library.

    Raises:
        JobOptionError: an unknown hairstyle, a malformed colour or emotion (the gateway checks their syntax too).
    """
    from headcast.pipeline import check_options

    try:
        options = Options.from_json(job.options)
        check_options(options)
    except OptionError as err:
        raise JobOptionError(str(err)) from None
    return options


def _photo(ctx: TaskContext, avatar: Job) -> Photo:
    from headcast.landmarks.image_io import load_photo

    data = ctx.backend.storage.get_bytes(f"{avatar_prefix(avatar.id)}/{avatar.input_name}")
    photo = load_photo(data, ctx.pipeline.settings.photo)
    return dataclasses.replace(photo, source=Path(avatar.input_name))


def make_avatar_files(ctx: TaskContext, job: Job) -> None:
    """Reconstruct the photo's head, store its fitted state, dress it and publish the bundle."""
    from headcast.service.fitcache import fit_state_bytes

    options = job_options(job)
    ctx.report("reconstructing", 0.1)
    base = ctx.pipeline.reconstruct(_photo(ctx, job), options)
    ctx.backend.storage.put_bytes(state_key(job.id, FIT_STATE), fit_state_bytes(base))
    if base.parsing is not None:  # the variants' library styles without a colour read it; no second parse
        _store_parsing(ctx, job.id, base.parsing)
    _publish(ctx, dress(ctx, base, options, job.id), bundle_prefix(job), ctx.pipeline.write)


def make_variant_files(ctx: TaskContext, job: Job) -> None:
    """Dress the parent avatar's stored head with the variant's options and publish the viewer's files.

    The pictures and the zip are left to the variant's ``bundle`` job (:func:`make_bundle_files`), made when
    someone asks for them: a try-on in the page needs only the GLB.
    """
    options = job_options(job)
    parent = ctx.backend.store.get(job.parent or "")
    if parent is None:
        raise JobGoneError("the avatar of this variant was deleted")
    ctx.report("loading", 0.05)
    base = _stored_avatar(ctx, parent)
    _publish(ctx, dress(ctx, base, options, parent.id), bundle_prefix(job), ctx.pipeline.write_viewer)


def make_bundle_files(ctx: TaskContext, job: Job) -> None:
    """Add a finished variant's pictures and zip (and the files only the zip holds) beside its GLB.

    The variant is dressed again from the stored state (dressing is deterministic: the zip's hair files are those
    of the GLB's hair); the published ``avatar.glb`` and ``params.json`` go into the zip unchanged. Each file is
    stored with one rename, pictures first and the zip last.
    """
    store = ctx.backend.store
    variant, parent = store.get(bundle_variant_id(job)), store.get(job.parent or "")
    if variant is None or parent is None:
        raise JobGoneError("the variant or its avatar was deleted")
    if variant.status != "done":  # the gateway asks only for done variants; this one was made again since
        raise HeadcastError(f"the variant is {variant.status}; its files are made once it is done")
    options = job_options(variant)
    ctx.report("loading", 0.05)
    avatar = dress(ctx, _stored_avatar(ctx, parent), options, parent.id)
    ctx.report("rendering", 0.7)
    storage = ctx.backend.storage
    prefix = bundle_prefix(variant)
    work = storage.scratch_dir()
    try:
        for name in VIEWER_FILES:
            (work / name).write_bytes(storage.get_bytes(f"{prefix}/{name}"))
        ctx.pipeline.write_rest(avatar, work)
        for name in sorted(ON_REQUEST_FILES, key=lambda n: n == "avatar.zip"):  # the zip last
            if not ctx.still_owner():
                raise JobGoneError("the job was deleted or taken over while it ran")
            storage.put_bytes(f"{prefix}/{name}", (work / name).read_bytes())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _stored_avatar(ctx: TaskContext, parent: Job) -> Avatar:
    """The parent's hairless, expression-as-photographed avatar from its fit state (or rebuilt from the photo)."""
    from headcast.service.fitcache import FitStateError, avatar_from_state, fit_state_bytes

    photo = _photo(ctx, parent)
    key = state_key(parent.id, FIT_STATE)
    try:
        return avatar_from_state(ctx.backend.storage.get_bytes(key), photo, ctx.pipeline.model)
    except (FileNotFoundError, FitStateError):
        ctx.report("reconstructing", 0.1)
        base = ctx.pipeline.reconstruct(photo, job_options(parent))
        ctx.backend.storage.put_bytes(key, fit_state_bytes(base))
        return base


def dress(ctx: TaskContext, base: Avatar, options: Options, avatar_id: str) -> Avatar:
    """``base`` (no hair, the photo's expression) with the hair and emotion of ``options``.

    The composition's ``dress`` and ``pose`` steps, with the photo's face-parsing classes kept in the avatar's
    storage. The classes are needed only when they change the result (:func:`headcast.pipeline.needs_parsing`):
    ``base``'s own (a fresh reconstruction), else the stored ones (the avatar job stores those its reconstruction
    computed), else computed once and stored: every variant of an avatar reuses them.
    """
    from headcast.pipeline import needs_parsing

    avatar = base
    if options.hair != HAIR_NONE:
        ctx.report("hair", 0.4)
        classes = None
        if needs_parsing(options):
            classes = base.parsing if base.parsing is not None else _parsing_classes(ctx, base.photo, avatar_id)
        avatar = ctx.pipeline.dress(base, options, classes)
    if options.emotion is not None:
        ctx.report("emotion", 0.6)
    return ctx.pipeline.pose(avatar, options)


def _parsing_classes(ctx: TaskContext, photo: Photo, avatar_id: str) -> FaceClasses | None:
    """The photo's ``(H, W)`` uint8 face-parsing classes: stored ones, else computed and stored.

    None when torch or the BiSeNet weights are not installed.
    """
    import numpy as np
    from PIL import Image

    storage = ctx.backend.storage
    key = state_key(avatar_id, PARSING)
    try:
        classes = np.asarray(Image.open(io.BytesIO(storage.get_bytes(key))))
        if classes.shape == photo.pixels.shape[:2]:
            return classes
    except (FileNotFoundError, OSError):
        pass
    computed = ctx.pipeline.parse_face(photo.pixels)
    if computed is not None:
        _store_parsing(ctx, avatar_id, computed)
    return computed


def _store_parsing(ctx: TaskContext, avatar_id: str, classes: FaceClasses) -> None:
    """Keep the photo's ``(H, W)`` uint8 face-parsing classes as ``state/parsing.png`` (lossless, ~10 ms)."""
    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(classes, dtype=np.uint8)).save(buf, "PNG", compress_level=1)
    ctx.backend.storage.put_bytes(state_key(avatar_id, PARSING), buf.getvalue())


def _publish(ctx: TaskContext, avatar: Avatar, prefix: str, write: Callable[[Avatar, Path], object]) -> None:
    """Write files into a scratch folder, then publish them if this attempt still holds the job.

    ``write`` is the pipeline's ``write`` (the whole bundle) or ``write_viewer`` (the GLB and params.json).
    """
    ctx.report("rendering", 0.7)
    storage = ctx.backend.storage
    work = storage.scratch_dir()
    try:
        write(avatar, work)
        if not ctx.still_owner():
            raise JobGoneError("the job was deleted or taken over while it ran")
        storage.publish_dir(work, prefix)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------------------------------ hairstyles


def make_hairstyle_list(ctx: TaskContext, job: Job) -> None:
    """Write the library's ``index.json`` and queue one thumbnail job per style (when thumbnails are on)."""
    from headcast.hair.library import library_styles

    version = str(job.options["version"])
    thumbnails = bool(job.options.get("thumbnails", True))
    styles = library_styles()
    index = CatalogueIndex(
        version=version,
        styles=tuple(HairstyleEntry(name=s.name, tags=s.tags, origin=s.origin) for s in styles),
        thumbnails=thumbnails,
    )
    if not ctx.still_owner():
        raise JobGoneError("the job was taken over while it ran")
    ctx.backend.storage.put_bytes(index_key(version), index.model_dump_json(indent=1).encode())
    if thumbnails:
        for s in styles:
            if not ctx.backend.storage.exists(thumbnail_key(version, s.name)):
                new = NewJob(id=thumbnail_job_id(version, s.name), token_hash="", queue=job.queue,
                             options={"version": version, "style": s.name}, kind="thumbnail")
                submit_once(ctx.backend, new, redo_done=True)


def make_thumbnail(ctx: TaskContext, job: Job) -> None:
    """Render one style's picture (``headcast.hair.thumbnails``) and store it."""
    from headcast.assets import AssetSettings
    from headcast.hair.library import find_style
    from headcast.hair.thumbnails import write_thumbnails

    version, name = str(job.options["version"]), str(job.options["style"])
    try:
        style = find_style(name)
    except KeyError:
        raise JobOptionError(f"unknown hairstyle '{name}'") from None
    work = ctx.backend.storage.scratch_dir()
    try:
        paths = write_thumbnails((style,), work, AssetSettings(assets_dir=ctx.settings.assets_dir))
        if not paths:
            raise JobOptionError(f"the files of hairstyle '{name}' are missing")
        ctx.backend.storage.put_bytes(thumbnail_key(version, name), paths[0].read_bytes())
    finally:
        shutil.rmtree(work, ignore_errors=True)
