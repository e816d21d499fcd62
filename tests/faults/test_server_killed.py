"""A server process SIGKILLed mid-burst: every acknowledged post is stored once and replayed once, in order.

Two gunicorn gevent servers share the database and a Redis of the test's own. A member posts
a burst through one with ``client_msg_id``s; it is killed like a crash after some acks. The
member reconnects to the other and resends everything not acknowledged with the same ids (what
a client does). Every post is then stored once, and a reader resuming on the survivor gets
each exactly once, in sequence order.
"""

from __future__ import annotations

import threading

import socketio
from sqlalchemy import func, select

from community.models import Post
from core.extensions import db
from tests.helpers import needs_redis
from tests.live import WAIT, live_community

pytestmark = needs_redis

POSTS = 60
KILL_AFTER = 20  # acks seen before the crash


def test_acked_posts_survive_a_server_killed_mid_burst_once_each_and_in_order(app, live, clients, own_redis):
    shared = {"REDIS_URL": own_redis.url, "RATELIMIT_STORAGE_URI": own_redis.url}
    doomed, survivor = live(**shared), live(**shared)
    world = live_community(app, doomed, members=("poe", "rex"))
    space, thread = world["public"], world["thread"]
    poster = clients(doomed, world["poe"]["token"])
    assert poster.call("join", {"space_id": space})["ok"]

    acked: dict[str, int] = {}  # client_msg_id -> seq, as acknowledged
    some_acked = threading.Event()

    def burst():
        for i in range(POSTS):
            try:
                ack = poster.sio.call("post", {"thread_id": thread, "body": f"burst {i}", "client_msg_id": f"m{i}"}, timeout=3)
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
                return  # the server is gone: this one and the rest are resent below
            assert ack["ok"], ack
            acked[f"m{i}"] = ack["post"]["seq"]
            if len(acked) == KILL_AFTER:
                some_acked.set()

    sender = threading.Thread(target=burst)
    sender.start()
    assert some_acked.wait(WAIT)
    doomed.stop()  # SIGKILL, mid-burst
    sender.join(WAIT)
    assert KILL_AFTER <= len(acked) < POSTS, "the crash should land mid-burst"

    again = clients(survivor, world["poe"]["token"])  # what the client does: reconnect elsewhere, resend
    for i in range(POSTS):
        key = f"m{i}"
        if key in acked:
            continue
        ack = again.call("post", {"thread_id": thread, "body": f"burst {i}", "client_msg_id": key})
        assert ack["ok"], ack
        acked[key] = ack["post"]["seq"]

    with app.app_context():  # stored once each: no acked post lost, no resend stored twice
        stored = dict(db.session.execute(select(Post.client_msg_id, func.count()).where(Post.client_msg_id.is_not(None))
                                         .group_by(Post.client_msg_id)).all())
    assert stored == {f"m{i}": 1 for i in range(POSTS)}

    seqs = sorted(acked.values())
    assert len(set(seqs)) == POSTS  # every id has its own post
    fresh = clients(survivor, world["rex"]["token"])  # replay from the start: each post once, in order
    answer = fresh.call("resume", {"space_id": space, "after_seq": 1})
    assert answer["ok"] and not answer["more"], answer
    replayed = []
    while not replayed or replayed[-1] < seqs[-1]:
        replayed.append(fresh.next()["seq"])
    assert fresh.drain() == []
    assert replayed == sorted(set(replayed)) and set(seqs) <= set(replayed)
