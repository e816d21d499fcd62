"""Shared fixtures: an app per test on a shared schema, clients, and actors with tokens.

The suite runs on SQLite by default. Set ``TEST_DATABASE_URL`` (PostgreSQL) and
``TEST_REDIS_URL`` to run the same tests against real PostgreSQL and Redis; ``.ci/run``
and ``./test.sh`` do both passes.
"""

from __future__ import annotations

import os

import psycopg
import pytest
from sqlalchemy import make_url, text

from app import create_app
from core.extensions import db
from tests.helpers import TEST_DATABASE_URL, WORKER, Actor, base_config, register

@pytest.fixture(scope="session")
def database_url(tmp_path_factory, _worker_database) -> str:
    """One schema for the whole run, built from the models; each test empties it after."""
    url = TEST_DATABASE_URL or "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
    app = create_app(base_config(url))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":  # everything, also tables an older schema had (renamed since)
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
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
            if not app.config.get("REDIS_URL"):
                _wait_for_embedded_builds()
            _empty_all_tables()
            db.engine.dispose()


#: Seconds a test's last people-snapshot build may still run after the test before the wipe waits no more.
BUILD_DRAIN = 15


def _wait_for_embedded_builds() -> None:
    """Let people-snapshot builds the test started in this process end before its tables are emptied
    (a listing or profile read schedules one in the background): a build storing while the wipe
    deletes takes row locks in the other order, and PostgreSQL ends one of the two as a deadlock."""
    import time

    from core.extensions import utcnow
    from purpose.models import PeopleSnapshot, SnapshotStatus

    deadline = time.monotonic() + BUILD_DRAIN
    running = db.select(PeopleSnapshot.id).where(PeopleSnapshot.status == SnapshotStatus.building,
                                                 PeopleSnapshot.lease_until > utcnow()).limit(1)
    while db.session.scalar(running) is not None and time.monotonic() < deadline:
        db.session.rollback()
        time.sleep(0.05)  # polling a condition with a deadline, not standing in for an event
    db.session.remove()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


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
def smtp():
    """A real SMTP server in the test process (tests/core/mail_server.py): ``smtp.url`` for ``SMTP_URL``."""
    from tests.core.mail_server import MailServer

    with MailServer() as server:
        yield server


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
