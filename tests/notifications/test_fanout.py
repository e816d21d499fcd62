"""A post's fan-out past NOTIFICATION_FANOUT_INLINE_MAX watchers: owed as a row in the post's
transaction, written after the commit by a worker, exactly once whoever runs it, and not at all
for a post hidden meanwhile (community/notifications/fanout.py)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from community.models import Notification, NotificationFanout, Post
from community.notifications import fanout
from core.extensions import db, utcnow
from tests.notifications.test_notifications import _join, _kinds, _level, _post, _thread

#: Seconds an owed fan-out may take before the test fails (a handful of watchers: well under one).
WAIT = 30


@pytest.fixture
def app(make_app):
    return make_app(NOTIFICATION_FANOUT_INLINE_MAX=1)  # one watcher: in the post's transaction; two: a worker


@pytest.fixture
def settled(app):
    """``settled()`` waits until no fan-out is owed (each run's end wakes it; the table is the truth)."""
    cond = threading.Condition()

    def on_done(_job_id, **_):
        with cond:
            cond.notify_all()

    def owed() -> int:
        with app.app_context():
            count = db.session.scalar(select(func.count()).select_from(NotificationFanout))
            db.session.remove()
        return count

    fanout.fanout_done.connect(on_done)

    def wait():
        with cond:
            assert cond.wait_for(lambda: owed() == 0, timeout=WAIT), "an owed fan-out was not run"

    yield wait
    fanout.fanout_done.disconnect(on_done)


def _watchers(world, make_actor, *handles):
    actors = [make_actor(handle=h) for h in handles]
    for actor in actors:
        _join(actor, world["public"])
        _level(actor, "spaces", world["public"], "watching")
    return actors


def _notices(app, post_id) -> list[int]:
    with app.app_context():
        found = sorted(db.session.scalars(select(Notification.recipient_id).where(Notification.post_id == post_id)))
        db.session.remove()
    return found


def test_one_watcher_is_told_in_the_post_transaction_more_by_a_worker_after_it(app, world, make_actor, settled):
    (wes,) = _watchers(world, make_actor, "watch_wes")
    thread_id, first = _thread(world["member"], world["public"])
    assert _kinds(wes) == [("new_thread", first)]  # inline: there when the ack is

    tia, uma = _watchers(world, make_actor, "watch_tia", "watch_uma")
    second = _post(world["moderator"], thread_id, "Now three of you watch")
    settled()
    assert _kinds(wes)[0] == ("watched_post", second) and _kinds(tia) == _kinds(uma) == [("watched_post", second)]
    # The rules hold in the worker as in the transaction: a muted thread, a mention already told.
    _level(wes, "threads", thread_id, "muted")
    third = _post(world["moderator"], thread_id, "Hello @watch_tia")
    settled()
    assert _kinds(tia)[0] == ("mention", third) and _kinds(uma)[0] == ("watched_post", third)
    assert _notices(app, third) == sorted([tia.id, uma.id]) and _kinds(wes)[0] == ("watched_post", second)


def test_an_owed_fan_out_is_written_once_whoever_runs_it(app, world, make_actor, settled):
    watchers = _watchers(world, make_actor, "watch_wes", "watch_tia", "watch_uma")
    thread_id, first = _thread(world["member"], world["public"])
    settled()
    # A job whose worker never came (a process that died after the commit): the sweep runs it, once.
    with app.app_context():
        job = NotificationFanout(post_id=first, new_thread=True, exclude=[], created_at=utcnow())
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        assert fanout.run(job_id) == 3 and fanout.run(job_id) == 0  # a second delivery finds it done
        result = app.test_cli_runner().invoke(args=["run-fanouts"])
        assert result.exit_code == 0 and "told 0 watcher(s)" in result.output
        db.session.remove()
    assert _notices(app, first) == sorted([w.id for w in watchers] * 2)  # the post's own fan-out, and this one

    # Two workers given the same job at once (a redelivery beside the sweep): one writes it.
    later = _post(world["moderator"], thread_id, "Another")
    settled()
    with app.app_context():
        jobs = [NotificationFanout(post_id=later, new_thread=False, exclude=[], created_at=utcnow())]
        db.session.add_all(jobs)
        db.session.commit()
        job_id = jobs[0].id
        db.session.remove()
    told, start = [], threading.Barrier(2)

    def worker():
        with app.app_context():
            start.wait()
            told.append(fanout.run(job_id))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert sorted(told) == [0, 3]


def test_a_post_hidden_before_its_fan_out_runs_is_not_announced(app, world, make_actor, settled):
    watchers = _watchers(world, make_actor, "watch_wes", "watch_tia")
    thread_id, first = _thread(world["member"], world["public"])
    settled()
    with app.app_context():  # owed, not yet run
        job = NotificationFanout(post_id=first, new_thread=True, exclude=[], created_at=utcnow())
        db.session.add(job)
        db.session.get(Post, first).hidden = True
        db.session.commit()
        assert fanout.sweep(0) == 0
        db.session.remove()
    assert _notices(app, first) == sorted(w.id for w in watchers)  # only the fan-out from before it was hidden
    # Hiding through moderation drops an owed fan-out with the post's notices.
    second = _post(world["moderator"], thread_id, "Soon hidden")
    settled()
    with app.app_context():
        db.session.add(NotificationFanout(post_id=second, new_thread=False, exclude=[], created_at=utcnow()))
        db.session.commit()
        db.session.remove()
    response = world["manager"].post(f"/api/v1/posts/{second}/hide", json={"reason": "off topic"})
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(NotificationFanout)) == 0
        db.session.remove()
    assert _notices(app, second) == [world["moderator"].id]  # only its author hears: of the moderation
