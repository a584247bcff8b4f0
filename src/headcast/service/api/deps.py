"""Typed dependencies of the routes: settings, the backend, the bearer token and the authorised avatar job."""

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Header, Path, Request

from headcast.service.backend import Backend
from headcast.service.config import ServiceSettings
from headcast.service.jobs import Job, JobStore
from headcast.service.storage import Storage


class ApiError(Exception):
    """An error answer: HTTP ``status``, machine ``code`` and a message for people."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def hash_token(token: str) -> str:
    """SHA-256 hex of a bearer token (tokens are 256-bit random, so no salt or slow hash is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def get_settings(request: Request) -> ServiceSettings:
    """The app's settings."""
    settings: ServiceSettings = request.app.state.settings
    return settings


def get_backend(request: Request) -> Backend:
    """The app's job store, queue and storage."""
    backend: Backend = request.app.state.backend
    return backend


def get_store(backend: Annotated[Backend, Depends(get_backend)]) -> JobStore:
    """The app's job store."""
    return backend.store


def get_storage(backend: Annotated[Backend, Depends(get_backend)]) -> Storage:
    """The app's file storage."""
    return backend.storage


def get_catalogue_version(request: Request) -> str:
    """The hairstyle catalogue version this gateway serves (:func:`headcast.service.catalogue.catalogue_version`)."""
    version: str = request.app.state.catalogue_version
    return version


def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; 401 when there is none."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "unauthorized",
            "send the avatar's token: Authorization: Bearer <token>",
            {"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def authorized_job(
    avatar_id: Annotated[str, Path(max_length=64)],
    token: Annotated[str, Depends(bearer_token)],
    store: Annotated[JobStore, Depends(get_store)],
) -> Job:
    """The avatar job ``avatar_id`` if the token is its own; 404 otherwise (whether the id exists is not revealed).

    Only avatars answer here: a variant shares its avatar's token but is reached through the avatar.
    """
    job = store.get(avatar_id)
    if job is None or job.kind != "avatar" or not hmac.compare_digest(job.token_hash, hash_token(token)):
        raise ApiError(404, "not_found", "no avatar with this id and token")
    return job


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
BackendDep = Annotated[Backend, Depends(get_backend)]
StoreDep = Annotated[JobStore, Depends(get_store)]
StorageDep = Annotated[Storage, Depends(get_storage)]
JobDep = Annotated[Job, Depends(authorized_job)]
CatalogueVersionDep = Annotated[str, Depends(get_catalogue_version)]
