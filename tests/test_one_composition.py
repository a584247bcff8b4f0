"""Every entry point runs the same composition: a web-service worker job and ``headcast make`` with the same
options give byte-identical avatar files and the same params.json and hair.json (all but the wall-clock timings)."""

import json
from pathlib import Path

import pytest

from headcast.options import Options

PHOTO = "london_119_neutral.jpg"
OPTIONS = Options(hair="bob", hair_color="#8b5a2b", emotion="happiness=0.6,surprise=0.2")
"""A library style with a colour (no face parsing: the test needs no torch) and an emotion (the pose step)."""


@pytest.mark.slow
def test_worker_job_and_cli_make_give_identical_files(portraits_dir: Path, asset_settings, tmp_path: Path) -> None:
    from headcast.cli.main import main
    from headcast.pipeline import Pipeline, PipelineSettings
    from headcast.service.backend import Backend
    from headcast.service.config import ServiceSettings
    from headcast.service.jobs import NewJob
    from headcast.service.queues import TableQueue
    from headcast.service.sqlite_store import SqliteJobStore
    from headcast.service.storage import LocalStorage, avatar_prefix, bundle_prefix
    from headcast.service.tasks import TaskContext, run_task

    photo = portraits_dir / PHOTO
    if not photo.is_file():
        pytest.skip(f"{photo} is missing")

    # the command line
    cli_out = tmp_path / "cli"
    args = ["make", str(photo), "-o", str(cli_out), "--hair", OPTIONS.hair, "--hair-color", str(OPTIONS.hair_color),
            "--emotion", str(OPTIONS.emotion)]
    assert main(args) == 0

    # a worker job, in process, with the options stored as the gateway stores them
    data = tmp_path / "service"
    backend = Backend(SqliteJobStore(data / "jobs.sqlite3"), TableQueue(), LocalStorage(data))
    job = backend.store.create(NewJob(id="a" * 20, token_hash="", options=OPTIONS.to_json(), queue="ict",
                                      input_name=PHOTO))
    backend.storage.put_bytes(f"{avatar_prefix(job.id)}/{PHOTO}", photo.read_bytes())
    pipeline = Pipeline.load(PipelineSettings(assets=asset_settings))
    try:
        ctx = TaskContext(pipeline=pipeline, backend=backend, settings=ServiceSettings(data_dir=data),
                          report=lambda stage, progress: None, still_owner=lambda: True)
        run_task(ctx, job)
    finally:
        pipeline.close()
    bundle = data / bundle_prefix(job)

    assert (bundle / "avatar.glb").read_bytes() == (cli_out / "avatar.glb").read_bytes()
    worker_params = json.loads((bundle / "params.json").read_text())
    cli_params = json.loads((cli_out / "params.json").read_text())
    assert set(worker_params) == set(cli_params)
    for key in cli_params:
        if key != "timings":  # wall-clock seconds differ run to run
            assert worker_params[key] == cli_params[key], key
    assert cli_params["emotion"]["shown"]["happiness"] == pytest.approx(0.6)
    worker_hair, cli_hair = (json.loads((d / "hair.json").read_text()) for d in (bundle, cli_out))
    assert worker_hair.pop("seconds").keys() == cli_hair.pop("seconds").keys()  # stage wall times differ
    assert worker_hair == cli_hair
    for name in ("hair.data", "hair.hair", "hair_guides.obj", "head.obj", "texture.png"):
        assert (bundle / name).read_bytes() == (cli_out / name).read_bytes(), name
