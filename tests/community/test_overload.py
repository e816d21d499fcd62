"""Overload: every socket event that expects an acknowledgement gets one, and the server sheds load early.

A post stuck behind a lock holds its place in the process's admission limit and its pooled
database connection; what comes after it must get a clear, retryable answer at once, never
silence (issue: 2,771 posts without any ack under CPU starvation and pool timeouts).
"""

from __future__ import annotations

import threading

import pytest

from tests.helpers import TEST_DATABASE_URL, space_held_by_another_transaction
from tests.live import WAIT, live_community

# On SQLite a statement waiting for the write lock waits inside the driver and the whole gevent
# process with it, so there is no "meanwhile" to observe; PostgreSQL's waits let the process serve.
pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="lock waits that leave the process serving need PostgreSQL "
                                "(./test.sh's second pass sets TEST_DATABASE_URL)")


def _post_in_background(client, thread_id: int, body: str) -> tuple[threading.Thread, list]:
    answers: list = []
    sender = threading.Thread(target=lambda: answers.append(client.call("post", {"thread_id": thread_id, "body": body})))
    sender.start()
    return sender, answers


def _refused_while(sender: threading.Thread, ask) -> dict:
    """``ask()`` until the server refuses it (not for the connection's own rate limit), while the
    post in ``sender`` is still waiting: its answer first would mean nothing was ever held."""
    while sender.is_alive():
        answer = ask()
        if not answer["ok"] and answer["error"]["code"] != "rate_limited":
            return answer
    raise AssertionError("the held post was answered before anything else was refused")


def test_events_beyond_the_admission_limit_are_answered_overloaded_at_once(app, live, clients, database_url):
    """One event at a time may use the database here; a second one waits at most the admission
    wait and then hears ``overloaded`` with ``retry_after``. The first, once the lock is gone, is stored."""
    server = live(SOCKETIO_MAX_CONCURRENT_EVENTS=1, SOCKETIO_ADMISSION_WAIT_MS=100, DATABASE_LOCK_TIMEOUT_MS=20_000)
    community = live_community(app, server, members=("gus", "hal"))
    gus, hal = clients(server, community["gus"]["token"]), clients(server, community["hal"]["token"])
    for client in (gus, hal):
        assert client.call("join", {"space_id": community["public"]})["ok"]
    with space_held_by_another_transaction(database_url, community["public"]):
        sender, answers = _post_in_background(gus, community["thread"], "waits for the lock")
        # until gus's post holds the only place (it waits on the lock meanwhile)
        refused = _refused_while(sender, lambda: hal.call("presence", {"space_id": community["public"]}))
        assert refused["error"]["code"] == "overloaded" and 0 < refused["error"]["retry_after"] <= 5
    sender.join(WAIT)
    assert answers and answers[0]["ok"] and answers[0]["created"]  # the admitted post was stored
    assert hal.call("presence", {"space_id": community["public"]})["ok"]  # the place is free again


def test_an_event_or_request_that_cannot_get_a_database_connection_is_answered_overloaded(app, live, clients, database_url):
    """The pool's only connection is held by a post waiting on a lock: the next event's wait for a
    connection runs out and it is answered (``overloaded``, ``retry_after``), not left without an
    ack; a REST request likewise gets 503 ``overloaded`` with Retry-After, not a late 500."""
    server = live(DATABASE_POOL_SIZE=1, DATABASE_POOL_OVERFLOW=0, DATABASE_POOL_TIMEOUT_MS=200,
                  DATABASE_LOCK_TIMEOUT_MS=20_000)
    community = live_community(app, server, members=("ivy", "jon"))
    ivy, jon = clients(server, community["ivy"]["token"]), clients(server, community["jon"]["token"])
    for client in (ivy, jon):
        assert client.call("join", {"space_id": community["public"]})["ok"]
    with space_held_by_another_transaction(database_url, community["public"]):
        sender, answers = _post_in_background(ivy, community["thread"], "holds the only connection")
        refused = _refused_while(sender, lambda: jon.call("presence", {"space_id": community["public"]}))
        assert refused["error"]["code"] == "overloaded" and refused["error"]["retry_after"] > 0
        busy = server.api("GET", "/me", community["jon"]["token"])
        assert busy.status_code == 503 and busy.json()["type"].endswith("overloaded") and int(busy.headers["Retry-After"]) > 0
    sender.join(WAIT)
    assert answers and answers[0]["ok"]
