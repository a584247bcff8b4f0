"""Variants and the hairstyle list at the gateway, without workers (jobs finished by hand through the store)."""

import io
import re

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from headcast.options import canonical_emotion
from headcast.service.api.schemas import VariantOptions
from headcast.service.catalogue import (
    CatalogueIndex,
    HairstyleEntry,
    catalogue_job_id,
    catalogue_version,
    index_key,
    thumbnail_key,
)
from headcast.service.storage import bundle_prefix


def _avatar(client: TestClient, png_bytes) -> tuple[str, dict[str, str]]:
    res = client.post("/api/avatars", files={"photo": ("p.png", png_bytes(32, 32), "image/png")}, data={"hair": "none"})
    assert res.status_code == 201, res.text
    return res.json()["id"], {"Authorization": f"Bearer {res.json()['token']}"}


def _finish(client: TestClient, job_id: str, files: dict[str, bytes] | None = None) -> None:
    """Play a worker: claim, publish ``files`` as the bundle, mark done."""
    backend = client.app.state.backend
    assert backend.store.claim(job_id, "test-owner", 1, 60.0, 3).outcome == "claimed"
    job = backend.store.get(job_id)
    for name, data in (files or {"avatar.glb": b"glTF fake"}).items():
        backend.storage.put_bytes(f"{bundle_prefix(job)}/{name}", data)
    assert backend.store.finish(job_id, "test-owner")


def _write_index(client: TestClient, names=("short", "bob"), thumbnails: bool = True) -> str:
    version = client.app.state.catalogue_version
    index = CatalogueIndex(version=version, thumbnails=thumbnails,
                           styles=tuple(HairstyleEntry(name=n, tags=("short",), origin="generated") for n in names))
    client.app.state.backend.storage.put_bytes(index_key(version), index.model_dump_json().encode())
    return version


def test_canonical_options_give_one_variant_id():
    a = VariantOptions(hair="short", hair_color="8B5A2B", emotion=" Surprise=0.30, happiness=0.8 ")
    b = VariantOptions(hair="short", hair_color="#8b5a2b", emotion="happiness=0.8,surprise=0.3,anger=0")
    assert a.hair_color == "#8b5a2b" and a.emotion == "happiness=0.8,surprise=0.3"
    assert a.variant_id() == b.variant_id() and re.fullmatch(r"[0-9a-f]{20}", a.variant_id())
    assert VariantOptions(hair="short").variant_id() != a.variant_id()
    assert canonical_emotion("anger=0") == canonical_emotion("neutral") == "neutral"
    assert canonical_emotion("") is None and canonical_emotion(None) is None
    assert canonical_emotion("fear") == "fear=1"
    # None (keep the photo's expression) and "neutral" (no emotion) are different requests
    assert VariantOptions(emotion=None).variant_id() != VariantOptions(emotion="neutral").variant_id()
    with pytest.raises(ValueError):
        VariantOptions(emotion="glee=1")


def test_variant_needs_a_finished_avatar(gateway: TestClient, png_bytes):
    avatar_id, auth = _avatar(gateway, png_bytes)
    res = gateway.post(f"/api/avatars/{avatar_id}/variants", json={"hair": "short"}, headers=auth)
    assert res.status_code == 409 and res.json()["code"] == "not_ready"


def test_variant_lifecycle(gateway: TestClient, png_bytes):
    avatar_id, auth = _avatar(gateway, png_bytes)
    _finish(gateway, avatar_id)
    url = f"/api/avatars/{avatar_id}/variants"
    body = {"hair": "short", "hair_color": "#8B5A2B", "emotion": "surprise=0.3,happiness=0.8"}
    first = gateway.post(url, json=body, headers=auth)
    assert first.status_code == 202, first.text
    created = first.json()
    assert created["status"] == "queued" and created["cached"] is False
    vid = created["variant"]
    again = gateway.post(url, json={**body, "hair_color": "8b5a2b", "emotion": "happiness=0.8, surprise=0.3"},
                         headers=auth).json()
    assert again == {"variant": vid, "status": "queued", "cached": True}
    other = gateway.post(url, json={"hair": "none"}, headers=auth).json()
    assert other["variant"] != vid

    store = gateway.app.state.store
    job = store.get(f"{avatar_id}-{vid}")
    assert job.kind == "variant" and job.parent == avatar_id and job.queue == "ict"
    status = gateway.get(f"{url}/{vid}", headers=auth)
    assert status.status_code == 200
    assert status.json() == {
        "id": vid, "avatar": avatar_id, "status": "queued", "stage": "queued", "progress": 0.0, "error": None,
        "error_code": None, "files": [], "on_request": [],
        "options": {"hair": "short", "hair_color": "#8b5a2b", "emotion": "happiness=0.8,surprise=0.3"},
    }
    assert gateway.get(f"{url}/{vid}/avatar.glb", headers=auth).status_code == 409
    # a variant is reached through its avatar only, never as an avatar of its own
    assert gateway.get(f"/api/avatars/{avatar_id}-{vid}", headers=auth).status_code == 404
    assert gateway.get(f"{url}/{vid}", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert gateway.get(f"{url}/{'0' * 20}", headers=auth).status_code == 404
    assert gateway.get(f"{url}/..%2F..", headers=auth).status_code == 404

    _finish(gateway, f"{avatar_id}-{vid}", {"avatar.glb": b"glTF variant", "avatar.zip": b"PK zip"})
    done = gateway.get(f"{url}/{vid}", headers=auth).json()
    assert done["status"] == "done" and done["progress"] == 1.0 and done["files"] == ["avatar.zip", "avatar.glb"]
    assert done["on_request"] == ["preview.png", "turntable.png"]
    glb = gateway.get(f"{url}/{vid}/avatar.glb", headers=auth)
    assert glb.status_code == 200 and glb.content == b"glTF variant"
    assert glb.headers["content-type"] == "model/gltf-binary"
    assert gateway.get(f"{url}/{vid}/hair.data", headers=auth).status_code == 404  # not a downloadable name
    cached = gateway.post(url, json=body, headers=auth).json()
    assert cached == {"variant": vid, "status": "done", "cached": True}
    with gateway.stream("GET", f"{url}/{vid}/events", headers=auth) as events:
        text = "".join(events.iter_text())
    assert text.count("event: status") == 1 and '"status":"done"' in text

    data_dir = gateway.app.state.settings.data_dir
    assert (data_dir / "jobs" / avatar_id / "variants" / vid / "bundle" / "avatar.glb").is_file()
    assert gateway.delete(f"/api/avatars/{avatar_id}", headers=auth).status_code == 204
    assert store.get(f"{avatar_id}-{vid}") is None and not (data_dir / "jobs" / avatar_id).exists()
    assert gateway.get(f"{url}/{vid}", headers=auth).status_code == 404


def test_failed_variant_is_queued_again(gateway: TestClient, png_bytes):
    avatar_id, auth = _avatar(gateway, png_bytes)
    _finish(gateway, avatar_id)
    url = f"/api/avatars/{avatar_id}/variants"
    vid = gateway.post(url, json={"hair": "none", "emotion": "anger"}, headers=auth).json()["variant"]
    store = gateway.app.state.store
    assert store.claim(f"{avatar_id}-{vid}", "w", 1, 60.0, 3).outcome == "claimed"
    store.fail(f"{avatar_id}-{vid}", "w", "internal", "boom")
    assert gateway.get(f"{url}/{vid}", headers=auth).json()["error_code"] == "internal"
    retry = gateway.post(url, json={"hair": "none", "emotion": "anger=1"}, headers=auth).json()
    assert retry == {"variant": vid, "status": "queued", "cached": False}
    assert store.get(f"{avatar_id}-{vid}").attempts == 0


def _done_variant(client: TestClient, png_bytes, body: dict | None = None) -> tuple[str, str, dict[str, str]]:
    """A finished avatar and a finished variant of it whose job published only the viewer's files."""
    avatar_id, auth = _avatar(client, png_bytes)
    _finish(client, avatar_id)
    vid = client.post(f"/api/avatars/{avatar_id}/variants", json=body or {"hair": "short"}, headers=auth).json()
    _finish(client, f"{avatar_id}-{vid['variant']}", {"avatar.glb": b"glTF variant", "params.json": b"{}"})
    return avatar_id, vid["variant"], auth


def _play_bundle_worker(client: TestClient, job_id: str, files: dict[str, bytes], fail: str | None = None) -> None:
    """Play a worker on a variant's bundle job: claim it, store ``files`` into the variant's bundle, finish."""
    from headcast.service.bundles import bundle_variant_id

    backend = client.app.state.backend
    assert backend.store.claim(job_id, "bundle-owner", 1, 60.0, 3).outcome == "claimed"
    if fail is not None:
        assert backend.store.fail(job_id, "bundle-owner", "internal", fail)
        return
    variant = backend.store.get(bundle_variant_id(backend.store.get(job_id)))
    for name, data in files.items():
        backend.storage.put_bytes(f"{bundle_prefix(variant)}/{name}", data)
    assert backend.store.finish(job_id, "bundle-owner")


def test_variant_pictures_and_zip_are_made_on_first_download(gateway: TestClient, png_bytes):
    avatar_id, vid, auth = _done_variant(gateway, png_bytes)
    url = f"/api/avatars/{avatar_id}/variants/{vid}"
    status = gateway.get(url, headers=auth).json()
    assert status["status"] == "done" and status["files"] == ["avatar.glb", "params.json"]
    assert status["on_request"] == ["avatar.zip", "preview.png", "turntable.png"]
    store = gateway.app.state.store
    bundle_id = f"{avatar_id}-{vid}-bundle"
    assert store.get(bundle_id) is None  # nothing is made before someone asks

    first = gateway.get(f"{url}/avatar.zip", headers=auth)
    assert first.status_code == 503 and first.headers["retry-after"] == "1" and first.json()["code"] == "not_ready"
    job = store.get(bundle_id)
    assert job is not None and job.kind == "bundle" and job.status == "queued" and job.parent == avatar_id
    assert job.options == {"variant": vid} and job.queue == "ict"
    assert gateway.get(f"{url}/preview.png", headers=auth).status_code == 503  # the same job, not a second one
    assert store.get(bundle_id).created == job.created
    assert gateway.get(f"{url}/avatar.glb", headers=auth).status_code == 200  # the viewer's files never wait

    _play_bundle_worker(gateway, bundle_id, {"preview.png": b"png preview", "turntable.png": b"png turntable",
                                             "avatar.zip": b"PK variant zip"})
    zipped = gateway.get(f"{url}/avatar.zip", headers=auth)
    assert zipped.status_code == 200 and zipped.content == b"PK variant zip"
    assert zipped.headers["content-type"] == "application/zip"
    assert gateway.get(f"{url}/preview.png", headers=auth).content == b"png preview"
    done = gateway.get(url, headers=auth).json()
    assert done["on_request"] == [] and set(done["files"]) == {"avatar.zip", "avatar.glb", "preview.png",
                                                               "turntable.png", "params.json"}
    with gateway.stream("GET", f"{url}/events", headers=auth) as events:
        assert '"on_request":[]' in "".join(events.iter_text())

    # the avatar's own files are never lazy, and deleting the avatar takes the bundle job with it
    assert gateway.get(f"/api/avatars/{avatar_id}/avatar.glb", headers=auth).status_code == 200
    assert gateway.delete(f"/api/avatars/{avatar_id}", headers=auth).status_code == 204
    assert store.get(bundle_id) is None


def test_failed_variant_bundle_is_reported_once_then_retried(gateway: TestClient, png_bytes):
    avatar_id, vid, auth = _done_variant(gateway, png_bytes, {"hair": "bob", "hair_color": "#102030"})
    url = f"/api/avatars/{avatar_id}/variants/{vid}"
    bundle_id = f"{avatar_id}-{vid}-bundle"
    assert gateway.get(f"{url}/turntable.png", headers=auth).status_code == 503
    _play_bundle_worker(gateway, bundle_id, {}, fail="renderer lost")
    failed = gateway.get(f"{url}/turntable.png", headers=auth)
    assert failed.status_code == 500 and failed.json()["code"] == "files_failed"
    assert "renderer lost" in failed.json()["message"]
    store = gateway.app.state.store
    assert store.get(bundle_id) is None  # reported: the next download asks again
    again = gateway.get(f"{url}/turntable.png", headers=auth)
    assert again.status_code == 503 and store.get(bundle_id).status == "queued"


def test_variant_bundle_is_made_again_when_its_files_are_gone(gateway: TestClient, png_bytes):
    """A done bundle job whose files went (the variant was made again: new folder) is replaced, not trusted."""
    avatar_id, vid, auth = _done_variant(gateway, png_bytes)
    url = f"/api/avatars/{avatar_id}/variants/{vid}"
    bundle_id = f"{avatar_id}-{vid}-bundle"
    assert gateway.get(f"{url}/avatar.zip", headers=auth).status_code == 503
    _play_bundle_worker(gateway, bundle_id, {"preview.png": b"p", "turntable.png": b"t", "avatar.zip": b"PK"})
    backend = gateway.app.state.backend
    variant = backend.store.get(f"{avatar_id}-{vid}")
    backend.storage.delete_prefix(f"{bundle_prefix(variant)}/avatar.zip")
    assert gateway.get(f"{url}/preview.png", headers=auth).status_code == 200  # still there: no new job
    assert backend.store.get(bundle_id).status == "done"
    assert gateway.get(f"{url}/avatar.zip", headers=auth).status_code == 503
    assert backend.store.get(bundle_id).status == "queued"


def test_variant_files_before_done_are_409_and_queue_nothing(gateway: TestClient, png_bytes):
    avatar_id, auth = _avatar(gateway, png_bytes)
    _finish(gateway, avatar_id)
    vid = gateway.post(f"/api/avatars/{avatar_id}/variants", json={"hair": "none"}, headers=auth).json()["variant"]
    res = gateway.get(f"/api/avatars/{avatar_id}/variants/{vid}/avatar.zip", headers=auth)
    assert res.status_code == 409 and res.json()["code"] == "not_ready"
    assert gateway.app.state.store.get(f"{avatar_id}-{vid}-bundle") is None


def test_bad_variant_options_are_422(gateway: TestClient, png_bytes):
    avatar_id, auth = _avatar(gateway, png_bytes)
    _finish(gateway, avatar_id)
    url = f"/api/avatars/{avatar_id}/variants"
    for body in ({"hair": "../x"}, {"hair_color": "brown"}, {"emotion": "glee=1"}, {"emotion": "anger=2"},
                 {"hair": "short", "size": 3}):
        res = gateway.post(url, json=body, headers=auth)
        assert res.status_code == 422 and res.json()["code"] == "bad_option", (body, res.text)
    # once the list exists, unknown styles are refused at the door
    _write_index(gateway, names=("short",))
    res = gateway.post(url, json={"hair": "no_such_style"}, headers=auth)
    assert res.status_code == 422 and "no_such_style" in res.json()["message"]
    assert gateway.post(url, json={"hair": "short"}, headers=auth).status_code == 202
    assert gateway.post(url, json={"hair": "short"}).status_code == 401


def test_hairstyle_list_waits_for_a_worker_then_serves_files(gateway: TestClient):
    version = gateway.app.state.catalogue_version
    assert version == catalogue_version() and re.fullmatch(r"[0-9a-f]{12}", version)
    job = gateway.app.state.store.get(catalogue_job_id(version))
    assert job is not None and job.kind == "hairstyles" and job.status == "queued" and job.token_hash == ""
    waiting = gateway.get("/api/hairstyles")
    assert waiting.status_code == 503 and waiting.headers["retry-after"] == "5"
    assert waiting.json()["code"] == "not_ready"

    _write_index(gateway, names=("short", "bob"))
    listed = gateway.get("/api/hairstyles")
    assert listed.status_code == 200
    assert listed.json() == [
        {"name": "short", "tags": ["short"], "thumbnail": "/api/hairstyles/short/thumbnail.png"},
        {"name": "bob", "tags": ["short"], "thumbnail": "/api/hairstyles/bob/thumbnail.png"},
    ]
    assert gateway.get("/api/hairstyles/short/thumbnail.png").status_code == 503  # not rendered yet
    buf = io.BytesIO()
    Image.new("RGB", (8, 4), (200, 100, 50)).save(buf, "PNG")
    gateway.app.state.backend.storage.put_bytes(thumbnail_key(version, "short"), buf.getvalue())
    thumb = gateway.get("/api/hairstyles/short/thumbnail.png")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(thumb.content)).size == (8, 4)
    assert gateway.get("/api/hairstyles/nope/thumbnail.png").status_code == 404
    assert gateway.get("/api/hairstyles/..%2Fjobs/thumbnail.png").status_code == 404


def test_hairstyle_list_is_not_queued_again_once_written(gateway_settings, png_bytes):
    from headcast.service.api.main import create_app

    with TestClient(create_app(gateway_settings)) as first:
        _write_index(first, thumbnails=False)
        first.app.state.store.delete(catalogue_job_id(first.app.state.catalogue_version))
    with TestClient(create_app(gateway_settings)) as second:
        version = second.app.state.catalogue_version
        assert second.app.state.store.get(catalogue_job_id(version)) is None  # the files are there: no new job
        assert second.get("/api/hairstyles").status_code == 200
        res = second.get("/api/hairstyles/short/thumbnail.png")
        assert res.status_code == 404 and "turned off" in res.json()["message"]
