"""Worker tasks in-process: the fitted-state file, the hairstyle list, one thumbnail, a variant's bundle."""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from headcast.service.backend import Backend
from headcast.service.catalogue import CatalogueIndex, catalogue_job_id, index_key, thumbnail_job_id, thumbnail_key
from headcast.service.config import ServiceSettings
from headcast.service.jobs import NewJob
from headcast.service.queues import TableQueue
from headcast.service.sqlite_store import SqliteJobStore
from headcast.service.storage import LocalStorage
from headcast.service.tasks import TaskContext, make_hairstyle_list, make_thumbnail


@pytest.fixture
def ctx(tmp_path: Path) -> TaskContext:
    backend = Backend(SqliteJobStore(tmp_path / "jobs.sqlite3"), TableQueue(), LocalStorage(tmp_path))
    return TaskContext(pipeline=None, backend=backend, settings=ServiceSettings(data_dir=tmp_path),
                       report=lambda stage, progress: None, still_owner=lambda: True)


def _fake_avatar(ict_model, rng: np.random.Generator):
    from headcast.avatar import Avatar
    from headcast.fitting.types import FitResult
    from headcast.geometry.camera import Camera, HeadPose
    from headcast.headmodel.base import HeadParams
    from headcast.headmodel.warp import OutlineWarp
    from headcast.landmarks.types import Landmarks, Photo
    from headcast.texture.types import UVTexture

    photo = Photo(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    landmarks = Landmarks(rng.normal(size=(478, 3)), rng.random(52), tuple(f"bs{i}" for i in range(52)),
                          rng.normal(size=(4, 4)), (64, 48), 2, np.array([1.0, 2.0, 30.0, 40.0]))
    params = HeadParams(rng.normal(size=ict_model.num_identity), rng.random(ict_model.num_expressions),
                        HeadPose(rng.normal(size=3), rng.normal(size=3)),
                        warp=OutlineWarp(rng.normal(size=3), np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]),
                                         np.array([-1.0, 0.0, 1.0]), rng.normal(size=3) * 1e-3))
    fit = FitResult(params, Camera(80.0, 81.0, 32.0, 24.0, 64, 48), rng.normal(size=(478, 2)),
                    rng.normal(size=(68, 2)), 0.031, {"round0": 7})
    texture = UVTexture(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8),
                        rng.random((len(ict_model.uv), 2)).astype(np.float32), rng.random((32, 32)).astype(np.float32))
    return Avatar(photo, landmarks, fit, texture, ict_model, {"fit": 0.2}, ("2 faces found; the largest was used",))


def test_fit_state_round_trip_is_exact(ict_model):
    from headcast.headmodel.warp import pack_warp
    from headcast.service.fitcache import avatar_from_state, fit_state_bytes

    avatar = _fake_avatar(ict_model, np.random.default_rng(0))
    assert avatar.fit.params.warp is not None
    back = avatar_from_state(fit_state_bytes(avatar), avatar.photo, ict_model)
    a, b = avatar, back
    for x, y in ((a.landmarks.points, b.landmarks.points), (a.landmarks.blendshapes, b.landmarks.blendshapes),
                 (a.landmarks.transform, b.landmarks.transform), (a.landmarks.box, b.landmarks.box),
                 (a.fit.params.identity, b.fit.params.identity), (a.fit.params.expression, b.fit.params.expression),
                 (a.fit.params.pose.rotation, b.fit.params.pose.rotation),
                 (a.fit.params.pose.translation, b.fit.params.pose.translation),
                 (a.fit.params.joint_rotations, b.fit.params.joint_rotations),
                 (a.fit.landmarks_2d, b.fit.landmarks_2d), (a.fit.landmarks68_2d, b.fit.landmarks68_2d),
                 (a.texture.image, b.texture.image), (a.texture.uv, b.texture.uv),
                 (a.texture.coverage, b.texture.coverage),
                 (pack_warp(a.fit.params.warp), pack_warp(b.fit.params.warp))):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    assert b.landmarks.blendshape_names == a.landmarks.blendshape_names
    assert (b.landmarks.image_size, b.landmarks.num_faces) == ((64, 48), 2)
    assert b.fit.camera == a.fit.camera and b.fit.nme == a.fit.nme and b.fit.iterations == {"round0": 7}
    assert b.warnings == a.warnings and b.timings == a.timings and b.hair is None and b.photo is a.photo


def test_fit_state_of_another_photo_or_format_is_refused(ict_model):
    from headcast.landmarks.types import Photo
    from headcast.service.fitcache import FitStateError, avatar_from_state, fit_state_bytes, npz_bytes

    avatar = _fake_avatar(ict_model, np.random.default_rng(1))
    data = fit_state_bytes(avatar)
    with pytest.raises(FitStateError, match="photo size"):
        avatar_from_state(data, Photo(np.zeros((10, 10, 3), np.uint8)), ict_model)
    with pytest.raises(FitStateError, match="unreadable"):
        avatar_from_state(b"not a zip", avatar.photo, ict_model)
    with pytest.raises(FitStateError, match="format"):
        avatar_from_state(npz_bytes({"format": np.array(999)}), avatar.photo, ict_model)
    with np.load(io.BytesIO(data)) as z:
        partial = {k: z[k] for k in z.files if k != "texture_uv"}
    with pytest.raises(FitStateError, match="texture_uv"):
        avatar_from_state(npz_bytes(partial), avatar.photo, ict_model)


def test_hairstyle_list_task_writes_the_index_and_queues_thumbnails(ctx: TaskContext):
    job = ctx.backend.store.create(NewJob(id=catalogue_job_id("v1"), token_hash="", queue="ict", kind="hairstyles",
                                          options={"version": "v1", "thumbnails": True}))
    make_hairstyle_list(ctx, job)
    index = CatalogueIndex.model_validate_json(ctx.backend.storage.get_bytes(index_key("v1")))
    from headcast.hair.library import library_styles

    assert [s.name for s in index.styles] == [s.name for s in library_styles()] and index.thumbnails
    thumb = ctx.backend.store.get(thumbnail_job_id("v1", "short"))
    assert thumb is not None and thumb.kind == "thumbnail" and thumb.options == {"version": "v1", "style": "short"}
    make_hairstyle_list(ctx, job)  # again: the queued thumbnail jobs are not duplicated
    assert ctx.backend.store.get(thumbnail_job_id("v1", "short")).created == thumb.created


def test_thumbnail_task_renders_the_style(ctx: TaskContext, asset_settings):
    job = ctx.backend.store.create(NewJob(id=thumbnail_job_id("v1", "bob"), token_hash="", queue="ict",
                                          kind="thumbnail", options={"version": "v1", "style": "bob"}))
    make_thumbnail(ctx, job)
    image = np.asarray(Image.open(io.BytesIO(ctx.backend.storage.get_bytes(thumbnail_key("v1", "bob")))))
    assert image.shape == (256, 512, 3)
    assert image.std() > 10  # a head and hair, not a blank picture
    assert not any((Path(ctx.settings.data_dir) / "tmp").iterdir())  # scratch folder removed


class _SecondStage:
    """Stands in for the pipeline's ``write_rest``: records the folder it gets, adds pictures, an OBJ and a zip."""

    def __init__(self) -> None:
        self.given: dict[str, bytes] = {}

    def write_rest(self, avatar, out_dir: Path) -> None:
        import zipfile

        self.given = {p.name: p.read_bytes() for p in out_dir.iterdir()}
        for name in ("preview.png", "turntable.png", "head.obj"):
            (out_dir / name).write_bytes(f"{name} of {avatar}".encode())
        with zipfile.ZipFile(out_dir / "avatar.zip", "w") as archive:
            for path in sorted(out_dir.iterdir()):
                if path.name != "avatar.zip":
                    archive.write(path, arcname=path.name)


def _done_job(ctx: TaskContext, new: NewJob, files: dict[str, bytes] | None = None):
    from headcast.service.storage import bundle_prefix

    ctx.backend.store.create(new)
    assert ctx.backend.store.claim(new.id, "w", 1, 60.0, 3).outcome == "claimed"
    job = ctx.backend.store.get(new.id)
    for name, data in (files or {}).items():
        ctx.backend.storage.put_bytes(f"{bundle_prefix(job)}/{name}", data)
    assert ctx.backend.store.finish(new.id, "w")
    return ctx.backend.store.get(new.id)


def test_bundle_task_adds_pictures_and_zip_beside_the_variants_glb(ctx: TaskContext, monkeypatch):
    import zipfile

    from headcast.errors import HeadcastError
    from headcast.service import tasks
    from headcast.service.bundles import request_bundle
    from headcast.service.storage import bundle_prefix
    from headcast.service.tasks import JobGoneError, make_bundle_files

    stage = _SecondStage()
    ctx = TaskContext(pipeline=stage, backend=ctx.backend, settings=ctx.settings, report=ctx.report,
                      still_owner=ctx.still_owner)
    monkeypatch.setattr(tasks, "_stored_avatar", lambda c, parent: f"fit of {parent.id}")
    monkeypatch.setattr(tasks, "dress", lambda c, base, options, avatar_id: f"{base} with {options.hair}")
    avatar = _done_job(ctx, NewJob(id="a" * 32, token_hash="h", options={"hair": "none"}, queue="ict"))
    variant = _done_job(ctx, NewJob(id=f"{avatar.id}-{'b' * 20}", token_hash="h", kind="variant", parent=avatar.id,
                                    options={"hair": "short", "hair_color": None, "emotion": None}, queue="ict"),
                        {"avatar.glb": b"glTF published", "params.json": b'{"published": true}'})
    job = request_bundle(ctx.backend, variant)
    written: list[str] = []
    put = ctx.backend.storage.put_bytes
    monkeypatch.setattr(ctx.backend.storage, "put_bytes", lambda key, data: (written.append(key), put(key, data)))
    make_bundle_files(ctx, job)

    prefix = bundle_prefix(variant)
    assert stage.given == {"avatar.glb": b"glTF published", "params.json": b'{"published": true}'}
    assert [key.rpartition("/")[2] for key in written] == ["preview.png", "turntable.png", "avatar.zip"]  # zip last
    storage = ctx.backend.storage
    assert storage.get_bytes(f"{prefix}/preview.png") == f"preview.png of fit of {avatar.id} with short".encode()
    assert not storage.exists(f"{prefix}/head.obj")  # only in the zip: never served on its own
    with zipfile.ZipFile(storage.local_path(f"{prefix}/avatar.zip")) as archive:
        assert archive.read("avatar.glb") == b"glTF published"  # the GLB the viewer showed, unchanged
        assert {"head.obj", "params.json", "preview.png", "turntable.png"} <= set(archive.namelist())
    assert storage.get_bytes(f"{prefix}/avatar.glb") == b"glTF published"
    assert not any((Path(ctx.settings.data_dir) / "tmp").iterdir())  # scratch folder removed

    ctx.backend.store.delete(variant.id)
    with pytest.raises(JobGoneError):
        make_bundle_files(ctx, job)
    queued = ctx.backend.store.create(NewJob(id=variant.id, token_hash="h", kind="variant", parent=avatar.id,
                                             options=variant.options, queue="ict"))
    assert queued.status == "queued"
    with pytest.raises(HeadcastError, match="queued"):
        make_bundle_files(ctx, job)
