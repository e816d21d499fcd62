"""An owed fan-out through Redis and a real Celery worker (another process): queued at the post's
commit, written by the worker once it runs, and the sweep task runs one whose task was lost."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from community.models import NotificationFanout
from community.notifications import fanout
from core.extensions import db, utcnow
from tests.graph.test_tasks import kill, start_worker
from tests.helpers import TEST_REDIS_URL, needs_redis
from tests.notifications.test_fanout import _watchers
from tests.notifications.test_notifications import _inbox, _kinds, _thread

pytestmark = needs_redis


@pytest.fixture
def app(make_app):
    return make_app(REDIS_URL=TEST_REDIS_URL, NOTIFICATION_FANOUT_INLINE_MAX=1)


def _owed(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(NotificationFanout))
        db.session.remove()
    return count


def _until_none_owed(app, timeout=60):
    """Poll the table (the worker is another process: the database is what we share)."""
    deadline = time.monotonic() + timeout
    while _owed(app):
        assert time.monotonic() < deadline, "the worker did not run the owed fan-out"
        threading.Event().wait(0.2)


def test_a_worker_writes_the_owed_fan_out_and_the_sweep_task_runs_a_lost_one(app, world, make_actor, database_url):
    watchers = _watchers(world, make_actor, "watch_wes", "watch_tia")
    thread_id, first = _thread(world["member"], world["public"])
    # Committed and queued; no worker runs yet, so nobody is told yet, and nothing is lost.
    assert _owed(app) == 1 and all(_kinds(w) == [] for w in watchers)
    worker = start_worker(database_url, {})
    try:
        _until_none_owed(app)
        assert all(_kinds(w) == [("new_thread", first)] for w in watchers)
        # A fan-out whose task never reached the broker: the sweep (Celery beat's task) runs it, once.
        with app.app_context():
            db.session.add(NotificationFanout(post_id=first, new_thread=False, exclude=[],
                                              created_at=utcnow() - timedelta(minutes=5)))
            db.session.commit()
            fanout.sweep_task.apply_async()
            db.session.remove()
        _until_none_owed(app)
    finally:
        kill(worker)
    for watcher in watchers:  # each told once of each
        assert [(n["kind"], n["post_id"]) for n in _inbox(watcher)] == [("watched_post", first), ("new_thread", first)]
