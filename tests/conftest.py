"""Shared fixtures: an app per test on a shared schema, clients, and actors with tokens.

The suite runs on SQLite by default. Set ``TEST_DATABASE_URL`` (PostgreSQL) and
``TEST_REDIS_URL`` to run the same tests against real PostgreSQL and Redis; ``.ci/run``
and ``./test.sh`` do both passes.
"""

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
from sqlalchemy import make_url, text

from app import create_app
from core.extensions import db

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
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, _worker_database) -> str:
    """One schema for the whole run, built from the models; each test empties it after."""
    url = TEST_DATABASE_URL or "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
    app = create_app(base_config(url))
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session", autouse=True)
def _worker_database() -> None:
    """This xdist worker's PostgreSQL database, made through the configured one if not there yet."""
    if not (TEST_DATABASE_URL and WORKER):
        return
    name = make_url(TEST_DATABASE_URL).database
    with psycopg.connect(os.environ["TEST_DATABASE_URL"], autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _empty_all_tables() -> None:
    from community.models import AUDIT_GUARD_SQL

    create_guard, drop_guard = AUDIT_GUARD_SQL.get(db.engine.dialect.name, ([], []))
    with db.engine.begin() as conn:  # the audit log's guard refuses DELETE: lifted in this transaction only
        for statement in drop_guard:
            conn.exec_driver_sql(statement)
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        for statement in create_guard:
            conn.exec_driver_sql(statement)


@pytest.fixture
def make_app(database_url):
    """Build an app on the test schema with config overrides; emptied after the test."""
    apps = []

    def build(**overrides):
        app = create_app({**base_config(database_url), **overrides})
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            _empty_all_tables()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


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


@pytest.fixture
def make_actor(app, client):
    """``make_actor(role="admin"|"analyst"|"member")`` registers an account with that global role."""

    def build(role: str = "member", handle: str | None = None) -> Actor:
        actor = register(client, handle)
        if role != "member":
            from core.accounts import Account, GlobalRole

            with app.app_context():
                account = db.session.get(Account, actor.id)
                account.role = GlobalRole(role)
                db.session.commit()
        return actor

    return build


@pytest.fixture
def admin(make_actor) -> Actor:
    return make_actor("admin", "the_admin")


@pytest.fixture
def world(admin, make_actor):
    """A brand with a manager, a life and a societal purpose, a public and a private space.

    Returns a dict of ids and actors: ``manager`` (brand manager), ``moderator`` and
    ``member`` (members of both spaces), ``outsider`` (no membership), ``analyst``.
    """
    manager, moderator, member = make_actor(handle="brand_boss"), make_actor(handle="mod_maya"), make_actor(handle="mem_max")
    outsider, analyst = make_actor(handle="out_olga"), make_actor("analyst", "ana_lyst")
    brand = admin.post("/api/v1/brands", json={"name": "Tidewater"}).get_json()
    assert admin.put(f"/api/v1/brands/{brand['id']}/managers/{manager.id}").status_code == 200
    life = manager.post(f"/api/v1/brands/{brand['id']}/purposes", json={"kind": "life", "title": "Run", "tags": ["fitness"]}).get_json()
    soc = manager.post(f"/api/v1/brands/{brand['id']}/purposes", json={"kind": "societal", "title": "Oceans"}).get_json()
    public = manager.post(f"/api/v1/purposes/{life['id']}/spaces", json={"name": "Runners", "slug": "runners"}).get_json()
    private = manager.post(
        f"/api/v1/purposes/{soc['id']}/spaces", json={"name": "Core team", "slug": "core-team", "visibility": "private"}
    ).get_json()
    for space in (public, private):
        for person, role in ((moderator, "moderator"), (member, "member")):
            assert manager.put(f"/api/v1/spaces/{space['id']}/members/{person.id}", json={"role": role}).status_code == 200
    return {
        "brand": brand["id"], "life": life["id"], "societal": soc["id"], "public": public["id"], "private": private["id"],
        "admin": admin, "manager": manager, "moderator": moderator, "member": member, "outsider": outsider,
        "analyst": analyst,
    }


@pytest.fixture
def live(make_app, database_url):
    """Start live server processes on the test schema: ``live()`` or ``live(REDIS_URL=...)``;
    ``env`` adds environment variables to the server process's."""
    from tests.live import LiveServer

    make_app()  # its teardown empties the tables after the test
    servers = []

    def start(env: dict | None = None, **overrides) -> LiveServer:
        server = LiveServer({**base_config(database_url), **overrides}, env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def clients():
    """Make connected (or refused) real Socket.IO clients; all are closed after the test."""
    from tests.live import LiveClient

    made = []

    def connect(server, token, *, expect_refusal: bool = False):
        client = LiveClient(server, token)
        made.append(client)
        if expect_refusal:
            import socketio

            with pytest.raises(socketio.exceptions.ConnectionError):
                client.connect()
            return client
        return client.connect()

    yield connect
    for client in made:
        client.close()


@contextmanager
def space_held_by_another_transaction(database_url: str, space_id: int):
    """Another connection holds what a post needs: the space's row on PostgreSQL, the
    database's write lock on SQLite (one writer at a time there)."""
    if database_url.startswith("sqlite"):
        other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
    else:
        with psycopg.connect(database_url) as other:
            other.execute("SELECT id FROM spaces WHERE id = %s FOR UPDATE", (space_id,))
            yield


@pytest.fixture
def loop_turns(monkeypatch):
    """The test runs as one greenlet of a gevent process, as under gunicorn's gevent worker,
    beside another that stands for the process's sockets; returns the list of times that
    other greenlet got to run. Every ``pause`` is due at once."""
    import time

    import gevent

    from core import cooperative

    monkeypatch.setattr(cooperative, "_turn", gevent.idle)  # what pause picks under gevent
    monkeypatch.setattr(cooperative, "SLICE_SECONDS", 0.0)
    turns: list[float] = []

    def sockets():  # one turn each time the loop gets to run it
        while True:
            turns.append(time.perf_counter())
            gevent.idle()

    other = gevent.spawn(sockets)
    yield turns
    other.kill()


#: Seconds a report's background run may take before the test fails (a 1,000-member brand on a
#: busy 2-core machine takes well under a minute).
REPORT_WAIT = 120


@pytest.fixture
def finished():
    """``finished(report_id)`` waits until the background run of that report has ended."""
    import threading

    from graph.tasks import report_finished

    done, cond = set(), threading.Condition()

    def on_finished(report_id, **_):
        with cond:
            done.add(report_id)
            cond.notify_all()

    report_finished.connect(on_finished)

    def wait(report_id):
        with cond:
            assert cond.wait_for(lambda: report_id in done, timeout=REPORT_WAIT), f"report {report_id} did not finish"

    yield wait
    report_finished.disconnect(on_finished)
