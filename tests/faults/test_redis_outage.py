"""Redis killed under live gunicorn gevent servers: clear, retryable answers while it is down,
service where no shared state is needed, and everything back once it returns."""

from __future__ import annotations

import time

import requests
import socketio

from tests.helpers import PASSWORD, needs_redis
from tests.live import live_community

pytestmark = needs_redis

#: Seconds every answer of the outage may take (the requests' and acks' own limit is 10 s).
ANSWER_BOUND = 5


def _on_redis(redis_url: str, **overrides) -> dict:
    return {"REDIS_URL": redis_url, "RATELIMIT_STORAGE_URI": redis_url, **overrides}


def _timed(call):
    started = time.monotonic()
    result = call()
    assert time.monotonic() - started < ANSWER_BOUND, "the answer took too long"
    return result


def _unavailable(ack: dict) -> None:
    assert ack["ok"] is False, ack
    assert ack["error"]["code"] == "unavailable" and ack["error"]["retry_after"] > 0, ack


def _login(server, handle: str) -> requests.Response:
    return _timed(lambda: server.api("POST", "/auth/login", json={"email": f"{handle}@example.com", "password": PASSWORD}))


def _eventually(check, *, within: float):
    """``check()``'s first truthy result, trying until ``within`` seconds have passed."""
    deadline = time.monotonic() + within
    while True:
        try:
            result = check()
            if result:
                return result
        except (socketio.exceptions.ConnectionError, AssertionError):
            pass
        assert time.monotonic() < deadline, "service did not come back in time"
        time.sleep(0.1)  # polling a condition with a deadline, not standing in for an event


def test_redis_down_answers_clearly_and_service_returns(app, live, clients, own_redis):
    lenient = live(**_on_redis(own_redis.url))  # default: rate limits fall back to memory
    strict = live(**_on_redis(own_redis.url, RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False))
    world = live_community(app, lenient, members=("alice", "bob"))
    alice = clients(lenient, world["alice"]["token"])
    bob = clients(strict, world["bob"]["token"])
    assert alice.call("join", {"space_id": world["public"]})["ok"]
    own_redis.kill()

    # Decisions that need no shared state are still served, limited per process.
    ack = _timed(lambda: alice.call("post", {"thread_id": world["thread"], "body": "while Redis is down"}))
    assert ack["ok"] and ack["created"], ack
    assert alice.next()["data"]["post"]["id"] == ack["post"]["id"]  # this process's sockets still hear it
    assert _login(lenient, "alice").status_code == 200
    rest_post = _timed(lambda: lenient.api("POST", f"/threads/{world['thread']}/posts", world["alice"]["token"], json={"body": "REST"}))
    assert rest_post.status_code == 201, rest_post.text
    # What needs Redis (presence, the connection cap) answers clearly, with when to retry.
    _unavailable(_timed(lambda: alice.call("join", {"space_id": world["private"]})))
    _unavailable(_timed(lambda: alice.call("presence", {"space_id": world["public"]})))
    refused = _timed(lambda: clients(lenient, world["alice"]["token"], expect_refusal=True))
    assert refused.connect_error["data"]["code"] == "unavailable" and refused.connect_error["data"]["retry_after"] > 0
    # Failing closed (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=0): 503 / unavailable, with when to retry.
    login = _login(strict, "bob")
    assert login.status_code == 503 and login.json()["type"] == "service-unavailable", login.text
    assert int(login.headers["Retry-After"]) > 0
    _unavailable(_timed(lambda: bob.call("post", {"thread_id": world["thread"], "body": "refused"})))

    own_redis.start()
    fresh = _eventually(lambda: clients(lenient, world["alice"]["token"]), within=10)
    assert _eventually(lambda: fresh.call("join", {"space_id": world["private"]})["ok"], within=10)
    assert world["alice"]["id"] in _eventually(lambda: fresh.call("presence", {"space_id": world["private"]})["online"], within=10)
    assert _eventually(lambda: _login(strict, "bob").status_code == 200, within=10)
    assert _eventually(lambda: bob.call("post", {"thread_id": world["thread"], "body": "back"})["ok"], within=10)


#: How long the outage of the delivery test lasts: past python-socketio's third retry of its
#: listener (at 1, 3 and 7 s), so its doubling wait would keep delivery off for 3.5 s more.
OUTAGE_SECONDS = 3.5
#: After Redis is back: the resume hint arrives within this, and live delivery between processes
#: within ``DELIVERY_BOUND``.
HINT_BOUND, DELIVERY_BOUND = 2.5, 5


def test_delivery_between_processes_follows_redis_back_and_clients_are_told_to_resume(app, live, clients, own_redis):
    server_a, server_b = live(**_on_redis(own_redis.url)), live(**_on_redis(own_redis.url))
    world = live_community(app, server_a, members=("alice", "bob"))
    alice, bob = clients(server_a, world["alice"]["token"]), clients(server_b, world["bob"]["token"])
    bob.sio.on("resume_hint", bob._collector("resume_hint"))
    hints = bob.received["resume_hint"]
    assert alice.call("join", {"space_id": world["public"]})["ok"]
    last_seq = bob.call("join", {"space_id": world["public"]})["last_seq"]

    own_redis.kill()
    outage_started = time.monotonic()
    missed = alice.call("post", {"thread_id": world["thread"], "body": "during the outage"})
    assert missed["ok"], missed
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_started)))  # the outage's length, not a wait for an event
    own_redis.start()
    back = time.monotonic()

    hint = hints.get(timeout=HINT_BOUND)
    assert hint == {"space_id": world["public"], "reason": "message_queue_reconnected"}
    assert time.monotonic() - back < HINT_BOUND
    resumed = bob.call("resume", {"space_id": world["public"], "after_seq": last_seq})
    assert resumed["ok"] and resumed["replayed"] == 1, resumed
    assert bob.next()["data"]["post"]["id"] == missed["post"]["id"]
    live_post = alice.call("post", {"thread_id": world["thread"], "body": "after the outage"})["post"]
    assert bob.next(timeout=max(0.1, DELIVERY_BOUND - (time.monotonic() - back)))["data"]["post"]["id"] == live_post["id"]
    assert time.monotonic() - back < DELIVERY_BOUND


def test_posts_acked_while_redis_dies_and_returns_mid_burst_are_stored_and_replayed_once_in_order(app, live, clients, own_redis):
    """Redis killed after the 20th ack of a burst and started again after the 40th: every post is
    acked (or answered clearly and resent with the same ``client_msg_id``), stored once, and a
    reader resuming afterwards on another process gets each exactly once, in order."""
    from sqlalchemy import func, select

    from community.models import Post
    from core.extensions import db

    server_a, server_b = live(**_on_redis(own_redis.url)), live(**_on_redis(own_redis.url))
    world = live_community(app, server_a, members=("alice", "bob"))
    alice = clients(server_a, world["alice"]["token"])
    assert alice.call("join", {"space_id": world["public"]})["ok"]
    acked, refused = {}, []
    for i in range(60):
        if i == 20:
            own_redis.kill()
        if i == 40:
            own_redis.start()
        body = {"thread_id": world["thread"], "body": f"burst {i}", "client_msg_id": f"r{i}"}
        answer = _timed(lambda: alice.call("post", body))
        if answer["ok"]:
            acked[f"r{i}"] = answer["post"]["seq"]
        else:
            assert answer["error"]["code"] in ("unavailable", "rate_limited") and answer["error"]["retry_after"] > 0, answer
            refused.append(body)
    for body in refused:  # what a client does with a clear, retryable answer
        answer = _eventually(lambda: (a := alice.call("post", body))["ok"] and a, within=ANSWER_BOUND * 2)
        acked[body["client_msg_id"]] = answer["post"]["seq"]

    with app.app_context():
        stored = dict(db.session.execute(select(Post.client_msg_id, func.count()).where(Post.client_msg_id.is_not(None))
                                         .group_by(Post.client_msg_id)).all())
    assert stored == {f"r{i}": 1 for i in range(60)}
    seqs = sorted(acked.values())
    reader = _eventually(lambda: clients(server_b, world["bob"]["token"]), within=ANSWER_BOUND * 2)
    answer = _eventually(lambda: (a := reader.call("resume", {"space_id": world["public"], "after_seq": 1}))["ok"] and a,
                         within=ANSWER_BOUND * 2)
    assert not answer["more"], answer
    replayed = []
    while not replayed or replayed[-1] < seqs[-1]:
        replayed.append(reader.next()["seq"])
    assert replayed == sorted(set(replayed)) and set(seqs) <= set(replayed)
