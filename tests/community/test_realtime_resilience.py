"""Resilience: a client killed mid-burst, and (with Redis) several server processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

from core.accounts import Account
from core.extensions import db
from tests.helpers import TEST_REDIS_URL, needs_redis
from tests.live import ROOT, WAIT, connect_once_a_place_is_free, live_community, resume_during_burst



def _setup(app, server):
    """A public space and thread with two members on a live server."""
    world = live_community(app, server, members=("res_ann", "res_ben"))
    return world["public"], world["thread"], (world["res_ann"], world["res_ben"])


def test_client_killed_mid_burst_resumes_with_exactly_what_it_missed(app, live, clients):
    server = live()
    space, thread, (ann, ben) = _setup(app, server)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.community.rt_recording_client", server.url, ann["token"], str(space)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout.readline().strip() == "joined"
    poster = clients(server, ben["token"])
    sent = [poster.call("post", {"thread_id": thread, "body": f"burst {i}"})["post"]["seq"] for i in range(10)]
    received = [int(child.stdout.readline()) for _ in range(5)]
    child.kill()  # the phone dies mid-burst
    child.wait(timeout=WAIT)
    sent += [poster.call("post", {"thread_id": thread, "body": f"burst {i}"})["post"]["seq"] for i in range(10, 30)]
    # Whatever else reached the dead process before the kill was never stored by it.
    restarted = clients(server, ann["token"])
    replay = restarted.call("resume", {"space_id": space, "after_seq": received[-1]})
    replayed = [e["seq"] for e in restarted.take(replay["replayed"])]
    assert replay["replayed"] == len(replayed) and replay["last_seq"] == sent[-1]
    assert replayed == [s for s in sent if s > received[-1]]
    assert received + replayed == sent


@needs_redis
def test_two_processes_share_rooms_presence_and_revocation(app, live, clients):
    channel = f"test-{uuid.uuid4().hex}"
    one = live(REDIS_URL=TEST_REDIS_URL, SOCKETIO_CHANNEL=channel)
    two = live(REDIS_URL=TEST_REDIS_URL, SOCKETIO_CHANNEL=channel)
    space, thread, (ann, ben) = _setup(app, one)
    listener = clients(one, ann["token"])
    listener.call("join", {"space_id": space})
    poster = clients(two, ben["token"])
    poster.call("join", {"space_id": space})
    ack = poster.call("post", {"thread_id": thread, "body": "from process two"})
    event = listener.next()
    assert event["seq"] == ack["post"]["seq"] and event["data"]["post"]["body"] == "from process two"
    assert poster.call("presence", {"space_id": space})["online"] == sorted([ann["id"], ben["id"]])
    # A REST post served by process two reaches the socket on process one.
    two.api("POST", f"/threads/{thread}/posts", ben["token"], json={"body": "rest on two"})
    assert listener.next()["data"]["post"]["body"] == "rest on two"
    # Logging out on process two disconnects the socket held by process one.
    assert two.api("POST", "/auth/logout", ann["token"]).status_code == 204
    assert listener.next("access_revoked") == {"reason": "logged_out"}
    assert listener.disconnected.get(timeout=WAIT) is True


@needs_redis
def test_a_worker_process_can_emit_to_clients_of_a_server(app, live, clients, make_app):
    channel = f"test-{uuid.uuid4().hex}"
    server = live(REDIS_URL=TEST_REDIS_URL, SOCKETIO_CHANNEL=channel)
    space, thread, (ann, ben) = _setup(app, server)
    listener = clients(server, ann["token"])
    listener.call("join", {"space_id": space})
    worker_app = make_app(REDIS_URL=TEST_REDIS_URL, SOCKETIO_CHANNEL=channel)  # as a Celery worker builds it
    with worker_app.app_context():
        from community.conversations import service
        from community.models import Space, Thread

        author = db.session.get(Account, ben["id"])
        service.do_create_post(author, db.session.get(Thread, thread), db.session.get(Space, space), "from a worker", None)
        db.session.commit()  # a task is its own boundary (core/outbox.py): the broadcast follows the commit
    assert listener.next()["data"]["post"]["body"] == "from a worker"


@needs_redis
def test_presence_and_connection_counts_are_cleaned_up_when_a_process_dies(app, live, clients):
    channel = f"test-{uuid.uuid4().hex}"
    settings = dict(REDIS_URL=TEST_REDIS_URL, SOCKETIO_CHANNEL=channel, PRESENCE_TTL_SECONDS=2, SOCKETIO_MAX_CONNECTIONS_PER_ACCOUNT=1)
    one, two = live(**settings), live(**settings)
    space, _thread, (ann, ben) = _setup(app, one)
    doomed = clients(one, ann["token"])
    doomed.call("join", {"space_id": space})
    watcher = clients(two, ben["token"])
    watcher.call("join", {"space_id": space})
    assert watcher.call("presence", {"space_id": space})["online"] == sorted([ann["id"], ben["id"]])
    # The cap counts ann's connections on every process: one on process one, so none on two;
    # and a live process keeps its entries: still so after longer than their TTL.
    refused = lambda: clients(two, ann["token"], expect_refusal=True).connect_error["data"]["code"]  # noqa: E731
    assert refused() == "too_many_connections"
    time.sleep(3)  # the condition under test is time passing: 3 s > PRESENCE_TTL_SECONDS
    assert refused() == "too_many_connections"
    assert watcher.call("presence", {"space_id": space})["online"] == sorted([ann["id"], ben["id"]])
    one.stop()  # SIGKILL: no disconnect handler runs on process one
    deadline = time.monotonic() + 10
    while watcher.call("presence", {"space_id": space})["online"] != [ben["id"]]:
        assert time.monotonic() < deadline, "the dead process's presence never expired"
        time.sleep(0.2)  # polling a condition with a deadline, not standing in for an event
    # and the dead process's connection stops counting against ann's cap
    again = connect_once_a_place_is_free(two, ann["token"], deadline=deadline)
    again.close()


@needs_redis
def test_resume_on_one_process_while_another_broadcasts(app, live, clients):
    channel = f"test-{uuid.uuid4().hex}"
    one = live(REDIS_URL=TEST_REDIS_URL, SOCKETIO_CHANNEL=channel)
    two = live(REDIS_URL=TEST_REDIS_URL, SOCKETIO_CHANNEL=channel)
    space, thread, (ann, ben) = _setup(app, one)
    acks, received = resume_during_burst(clients(two, ben["token"]), lambda: clients(one, ann["token"]), thread, space)
    assert received == list(range(2, acks[-1] + 1))


_MALFORMED = {
    "object, not array": '{"space_id": 1}',
    "empty array": "[]",
    "name not a string": "[5, {}]",
    "deep nesting": '["join", ' + "[" * 5000 + "]" * 5000 + "]",
    "huge integer": '["join", {"space_id": ' + "9" * 5000 + "}]",
    "not JSON": '["join", {',
}


def test_malformed_frames_are_answered_counted_and_logged_in_one_line(app, live, capfd):
    """Raw Socket.IO frames over a real WebSocket: each malformed one gets an ``invalid_payload``
    ack where it carries an ack id, draws from the connection's event budget like any event,
    and leaves one log line, no traceback; the connection keeps working."""
    from tests.live import StalledReader

    burst = 10
    server = live(SOCKETIO_EVENT_BURST=burst, SOCKETIO_EVENTS_PER_SECOND=1)
    reader = StalledReader(server, server.register("frank_frames")["token"])
    try:
        codes = []
        for ack_id, payload in enumerate(_MALFORMED.values(), start=100):
            reader.ws.send(f"42{ack_id}{payload}")
            message = reader.packet()
            assert message.startswith(f"43{ack_id}["), message
            codes.append(json.loads(message[len(f"43{ack_id}"):])[0]["error"]["code"])
        assert codes == ["invalid_payload"] * len(_MALFORMED)
        reader.ws.send("42" + '{"no": "ack id"}')  # no ack id: nothing to answer, but it still counts
        reader.ws.send("42" + "[" * 5000)
        answers = [reader.call("presence", {"space_id": 1}) for _ in range(burst)]
        # 8 frames spent 8 of the 10 events: at most 2 (+1 refilled meanwhile) more get through.
        limited = [a for a in answers if a.get("error", {}).get("code") == "rate_limited"]
        assert len(limited) >= burst - 3 - 1
        refused = reader.call("join", {"space_id": 1})
        assert refused["error"]["code"] in ("rate_limited", "not_found")
    finally:
        reader.close()
    server.stop()
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert 1 <= err.count("malformed Socket.IO frame") <= burst
