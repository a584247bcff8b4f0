"""Typed dependencies of the routes: settings, the job store, the bearer token and the authorised job."""

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Header, Path, Request

from headcast.service.config import ServiceSettings
from headcast.service.jobs import Job, JobStore


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


def get_store(request: Request) -> JobStore:
    """The app's job store."""
    store: JobStore = request.app.state.store
    return store


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
    """The job ``avatar_id`` if the token is its own; 404 otherwise (whether the id exists is not revealed)."""
    job = store.get(avatar_id)
    if job is None or not hmac.compare_digest(job.token_hash, hash_token(token)):
        raise ApiError(404, "not_found", "no avatar with this id and token")
    return job


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
StoreDep = Annotated[JobStore, Depends(get_store)]
JobDep = Annotated[Job, Depends(authorized_job)]
