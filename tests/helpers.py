"""Plain helpers the tests share (fixtures live in conftest.py): the test databases per
pytest-xdist worker, the base configuration, signed-in actors, and a held space lock."""

from __future__ import annotations

import itertools
import os
import sqlite3
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from sqlalchemy import make_url

#: Under pytest-xdist (./test.sh runs each pass on several workers) each worker process has
#: its own database and Redis database, so tests of different workers never see each other's rows,
#: queues or keys; and its own Socket.IO channel, since Redis pub/sub spans every database.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_INDEX = int(WORKER.removeprefix("gw")) if WORKER.startswith("gw") else 0


def _per_worker_database(url: str | None) -> str | None:
    """postgresql://.../test for worker gwK becomes postgresql://.../test_gwK."""
    if not url or not WORKER:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


def _per_worker_redis(url: str | None) -> str | None:
    """redis://host:port/N for worker gwK becomes database N - K (modulo Redis's 16)."""
    if not url or not WORKER:
        return url
    parts = urlsplit(url)
    first = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(first - WORKER_INDEX) % 16}"))


TEST_DATABASE_URL = _per_worker_database(os.environ.get("TEST_DATABASE_URL"))
TEST_REDIS_URL = _per_worker_redis(os.environ.get("TEST_REDIS_URL"))
# ./test.sh's second pass (and .ci/run) sets TEST_REDIS_URL, so these tests always run in CI.
needs_redis = pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis: set TEST_REDIS_URL (./test.sh's second pass does)")
PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def base_config(database_url: str) -> dict:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-that-is-long-enough-for-hs256-signing",
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL or "memory://",
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "RATELIMIT_LOGIN": "1000/minute",
        "RATELIMIT_REGISTER": "1000/minute",
        "RATELIMIT_WRITE": "5000/minute",
        "LOG_LEVEL": "WARNING",
        "SOCKETIO_CHANNEL": f"test-socketio-{WORKER or 'main'}",
        # No notification e-mail sweeps planned 10 minutes ahead from tests that only post; the
        # e-mail tests (tests/notifications/test_notification_mail.py) turn it on or sweep themselves.
        "NOTIFICATION_EMAIL_NUDGE": False,
        # A build's own process (core/offload.py) at the web process's priority: the suite's workers keep
        # both cores busy, and a niced process would wait a minute for its turn.
        "OFFLOAD_NICENESS": 0,
    }


@dataclass
class Actor:
    """A signed-in account and a client that sends its access token."""

    client: object
    id: int
    handle: str
    email: str
    access_token: str
    refresh_token: str

    def _call(self, method, url, **kwargs):
        headers = kwargs.pop("headers", {})
        headers.setdefault("Authorization", f"Bearer {self.access_token}")
        return getattr(self.client, method)(url, headers=headers, **kwargs)

    def get(self, url, **kw):
        return self._call("get", url, **kw)

    def post(self, url, **kw):
        return self._call("post", url, **kw)

    def put(self, url, **kw):
        return self._call("put", url, **kw)

    def patch(self, url, **kw):
        return self._call("patch", url, **kw)

    def delete(self, url, **kw):
        return self._call("delete", url, **kw)


def register(client, handle: str | None = None) -> Actor:
    handle = handle or f"user_{next(_counter)}"
    response = client.post(
        "/api/v1/auth/register",
        json={"email": f"{handle}@example.com", "handle": handle, "display_name": handle.title(), "password": PASSWORD},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return Actor(client, body["account"]["id"], handle, f"{handle}@example.com", body["access_token"], body["refresh_token"])


@contextmanager
def space_held_by_another_transaction(database_url: str, space_id: int):
    """Another connection holds what a post needs: the space's row on PostgreSQL, the
    database's write lock on SQLite (one writer at a time there). On PostgreSQL it yields
    ``blocked()``: how many other sessions wait on that lock now (None on SQLite)."""
    if database_url.startswith("sqlite"):
        other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield None
        finally:
            other.execute("ROLLBACK")
            other.close()
    else:
        with psycopg.connect(database_url) as other:
            other.execute("SELECT id FROM spaces WHERE id = %s FOR UPDATE", (space_id,))

            def blocked() -> int:
                return other.execute("SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                                     (other.info.backend_pid,)).fetchone()[0]

            yield blocked
