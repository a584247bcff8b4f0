"""The scale-out job store: one Redis hash per job, visible to the gateway and to workers on any machine.

Keys (``ns`` is ``ServiceSettings.redis_namespace``): ``ns:job:<id>`` a hash with the fields of
:class:`~headcast.service.jobs.Job` (absent field = None), ``ns:variants:<avatar id>`` the set of an avatar's
variant ids. Every check-then-write (create, claim, the owner-checked updates, delete with its variants) is one Lua
script, so it is atomic in Redis. Lease times come from the Redis server's clock (``TIME``), so workers whose
clocks disagree still agree on whether a lease has expired.

Needs the ``redis`` package (``pip install 'headcast[service-redis]'``).
"""

import json
from typing import cast, get_args

import redis

from headcast.service.jobs import (
    WORKER_LOST_MESSAGE,
    Claim,
    ClaimOutcome,
    Job,
    JobExistsError,
    JobKind,
    JobStatus,
    NewJob,
)

_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "

_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
""" + _NOW + """
redis.call('HSET', KEYS[1], 'created', now, 'updated', now, unpack(ARGV))
if KEYS[2] ~= '' then redis.call('SADD', KEYS[2], KEYS[3]) end
return 1
"""

_DELETE = """
local found = redis.call('EXISTS', KEYS[1])
local parent = redis.call('HGET', KEYS[1], 'parent')
redis.call('DEL', KEYS[1])
for _, child in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('DEL', ARGV[1] .. child) end
redis.call('DEL', KEYS[2])
if parent then redis.call('SREM', ARGV[2] .. parent, ARGV[3]) end
return found
"""

_CLAIM = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'gone' end
if status == 'done' or status == 'failed' then return 'final' end
""" + _NOW + """
if status == 'running' and tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '0') >= now then
  return 'busy'
end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if attempts >= tonumber(ARGV[4]) then
  local message = string.gsub(ARGV[5], '{attempts}', tostring(attempts))
  redis.call('HSET', KEYS[1], 'status', 'failed', 'stage', 'failed', 'error_code', 'worker_lost',
             'error', message, 'finished', now, 'updated', now)
  redis.call('HDEL', KEYS[1], 'lease_owner')
  return 'lost'
end
redis.call('HSET', KEYS[1], 'status', 'running', 'stage', 'starting', 'progress', 0, 'attempts', attempts + 1,
           'lease_owner', ARGV[1], 'lease_until', now + tonumber(ARGV[3]), 'worker_pid', ARGV[2],
           'started', now, 'updated', now)
return 'claimed'
"""

# ARGV: owner, lease seconds (or '' to keep the lease), 'release' (or ''), then field/value pairs.
_OWNED_UPDATE = """
if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', KEYS[1], 'lease_owner') ~= ARGV[1] then
  return 0
end
""" + _NOW + """
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'lease_until', now + tonumber(ARGV[2])) end
if ARGV[3] == 'release' then
  redis.call('HDEL', KEYS[1], 'lease_owner')
  redis.call('HSET', KEYS[1], 'finished', now)
end
if #ARGV > 3 then redis.call('HSET', KEYS[1], 'updated', now, unpack(ARGV, 4)) end
return 1
"""

def _float(fields: dict[str, str], name: str) -> float | None:
    return float(fields[name]) if name in fields else None


def _int(fields: dict[str, str], name: str) -> int | None:
    return int(fields[name]) if name in fields else None


def job_from_hash(fields: dict[str, str]) -> Job:
    """A :class:`Job` from the string fields of its hash (absent optional fields are None).

    Raises:
        ValueError: a field holds a value no job can have (a hash not written by this store).
    """
    kind, status = fields["kind"], fields["status"]
    if kind not in get_args(JobKind) or status not in get_args(JobStatus):
        raise ValueError(f"job {fields.get('id')}: unknown kind {kind!r} or status {status!r}")
    options = json.loads(fields["options"])
    if not isinstance(options, dict):
        raise ValueError(f"job {fields.get('id')}: options are not a JSON object")
    return Job(
        id=fields["id"],
        token_hash=fields["token_hash"],
        kind=cast(JobKind, kind),
        parent=fields.get("parent") or None,
        queue=fields["queue"],
        status=cast(JobStatus, status),
        stage=fields["stage"],
        progress=_float(fields, "progress") or 0.0,
        error=fields.get("error"),
        error_code=fields.get("error_code"),
        options=options,
        input_name=fields.get("input_name", ""),
        created=_float(fields, "created") or 0.0,
        updated=_float(fields, "updated") or 0.0,
        started=_float(fields, "started"),
        finished=_float(fields, "finished"),
        attempts=_int(fields, "attempts") or 0,
        lease_owner=fields.get("lease_owner"),
        lease_until=_float(fields, "lease_until"),
        worker_pid=_int(fields, "worker_pid"),
    )


class RedisJobStore:
    """Jobs as Redis hashes under ``namespace`` on the server at ``url`` (``redis://HOST:PORT/DB``)."""

    def __init__(self, url: str, namespace: str = "headcast") -> None:
        self.client = redis.Redis.from_url(url, decode_responses=True)
        self.namespace = namespace
        self._create = self.client.register_script(_CREATE)
        self._delete = self.client.register_script(_DELETE)
        self._claim = self.client.register_script(_CLAIM)
        self._update = self.client.register_script(_OWNED_UPDATE)

    def _key(self, job_id: str) -> str:
        return f"{self.namespace}:job:{job_id}"

    def _variants_key(self, job_id: str) -> str:
        return f"{self.namespace}:variants:{job_id}"

    def create(self, new: NewJob) -> Job:
        """Insert a queued job and return it.

        Raises:
            JobExistsError: a job with this id exists.
        """
        fields = {
            "id": new.id, "token_hash": new.token_hash, "kind": new.kind, "queue": new.queue, "status": "queued",
            "stage": "queued", "progress": "0", "options": json.dumps(new.options), "input_name": new.input_name,
            "attempts": "0",
        }
        if new.parent is not None:
            fields["parent"] = new.parent
        argv = [x for pair in fields.items() for x in pair]
        parent_set = "" if new.parent is None else self._variants_key(new.parent)
        if not self._create(keys=[self._key(new.id), parent_set, new.id], args=argv):
            raise JobExistsError(new.id)
        job = self.get(new.id)
        assert job is not None
        return job

    def get(self, job_id: str) -> Job | None:
        """The job, or None when there is none with this id."""
        fields = cast(dict[str, str], self.client.hgetall(self._key(job_id)))
        return job_from_hash(fields) if fields else None

    def delete(self, job_id: str) -> bool:
        """Remove the job and its variants; True when the job existed."""
        ns = self.namespace
        found = self._delete(
            keys=[self._key(job_id), self._variants_key(job_id)], args=[f"{ns}:job:", f"{ns}:variants:", job_id]
        )
        return bool(found)

    def claim(self, job_id: str, owner: str, pid: int, lease_seconds: float, max_attempts: int) -> Claim:
        """Take job ``job_id`` when queued or when its lease expired (see :class:`~headcast.service.jobs.Claim`)."""
        args: list[str | float] = [owner, pid, lease_seconds, max_attempts, WORKER_LOST_MESSAGE]
        outcome = cast(ClaimOutcome, self._claim(keys=[self._key(job_id)], args=args))
        if outcome != "claimed":
            return Claim(outcome)
        job = self.get(job_id)
        return Claim("claimed", job) if job is not None else Claim("gone")

    def heartbeat(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        """Extend the lease; False when the job is gone or no longer this owner's."""
        return self._owned(job_id, owner, lease_seconds, False)

    def report(self, job_id: str, owner: str, stage: str, progress: float, lease_seconds: float) -> bool:
        """Record the stage and progress (and extend the lease); False when the job is no longer this owner's."""
        return self._owned(job_id, owner, lease_seconds, False, stage=stage, progress=min(max(progress, 0.0), 1.0))

    def finish(self, job_id: str, owner: str) -> bool:
        """Mark done; False when the job is no longer this owner's."""
        return self._owned(job_id, owner, None, True, status="done", stage="done", progress=1.0)

    def fail(self, job_id: str, owner: str, code: str, message: str) -> bool:
        """Mark failed with a machine code and a message; False when the job is no longer this owner's."""
        return self._owned(job_id, owner, None, True, status="failed", stage="failed", error_code=code, error=message)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def _owned(
        self, job_id: str, owner: str, lease_seconds: float | None, release: bool, **fields: str | float
    ) -> bool:
        args: list[str | float] = [owner, "" if lease_seconds is None else lease_seconds, "release" if release else ""]
        args += [x for pair in fields.items() for x in pair]
        return bool(self._update(keys=[self._key(job_id)], args=args))
