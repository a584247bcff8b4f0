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
        "error_code": None, "files": [],
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
    glb = gateway.get(f"{url}/{vid}/avatar.glb", headers=auth)
    assert glb.status_code == 200 and glb.content == b"glTF variant"
    assert glb.headers["content-type"] == "model/gltf-binary"
    assert gateway.get(f"{url}/{vid}/preview.png", headers=auth).status_code == 404
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
