"""Overload: every socket event that expects an acknowledgement gets one, and the server sheds load early.

A post stuck behind a lock holds its place in the process's admission limit and its pooled
database connection; what comes after it must get a clear, retryable answer at once, never
silence (issue: 2,771 posts without any ack under CPU starvation and pool timeouts).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest

from tests.helpers import TEST_DATABASE_URL, space_held_by_another_transaction
from tests.live import WAIT, live_community

# On SQLite a statement waiting for the write lock waits inside the driver and the whole gevent
# process with it, so there is no "meanwhile" to observe; PostgreSQL's waits let the process serve.
pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="lock waits that leave the process serving need PostgreSQL "
                                "(./test.sh's second pass sets TEST_DATABASE_URL)")


@contextmanager
def _a_post_held_by_a_lock(app, live, clients, database_url, **settings):
    """A live server with ``settings``; ``poster``'s post waits on the space's lock (held by another
    transaction) for the whole block. Yields the community, the other member's client and a
    function that asks until it is refused; afterwards, the held post's answer is checked."""
    server = live(DATABASE_LOCK_TIMEOUT_MS=20_000, **settings)
    community = live_community(app, server, members=("poster", "other"))
    poster, other = clients(server, community["poster"]["token"]), clients(server, community["other"]["token"])
    for client in (poster, other):
        assert client.call("join", {"space_id": community["public"]})["ok"]
    answers: list = []
    with space_held_by_another_transaction(database_url, community["public"]) as blocked:
        sender = threading.Thread(target=lambda: answers.append(
            poster.call("post", {"thread_id": community["thread"], "body": "waits for the lock"})))
        sender.start()
        # Ask only once the post holds its place and connection, waiting on the lock: asked sooner, the
        # other event could take the only connection first and the post would be the one refused.
        deadline = time.monotonic() + WAIT
        while not blocked() and sender.is_alive() and time.monotonic() < deadline:
            pass
        assert blocked(), f"the post never waited on the space's lock: {answers}"

        def refused(ask) -> dict:
            """``ask()`` until the server refuses it (not for the connection's own rate limit) while the
            post still waits: its answer first would mean nothing was ever held."""
            while sender.is_alive():
                answer = ask()
                if not answer["ok"] and answer["error"]["code"] != "rate_limited":
                    return answer
            raise AssertionError("the held post was answered before anything else was refused")

        yield community, other, refused
    sender.join(WAIT)
    assert answers and answers[0]["ok"] and answers[0]["created"]  # the held post was stored once the lock went


def test_events_beyond_the_admission_limit_are_answered_overloaded_at_once(app, live, clients, database_url):
    """One event at a time may use the database here; a second one waits at most the admission
    wait and then hears ``overloaded`` with ``retry_after``. The first, once the lock is gone, is stored."""
    with _a_post_held_by_a_lock(app, live, clients, database_url, SOCKETIO_MAX_CONCURRENT_EVENTS=1,
                                SOCKETIO_ADMISSION_WAIT_MS=100) as (community, other, refused):
        answer = refused(lambda: other.call("presence", {"space_id": community["public"]}))
        assert answer["error"]["code"] == "overloaded" and 0 < answer["error"]["retry_after"] <= 5
    assert other.call("presence", {"space_id": community["public"]})["ok"]  # the place is free again


def test_an_event_or_request_that_cannot_get_a_database_connection_is_answered_overloaded(app, live, clients, database_url):
    """The pool's only connection is held by a post waiting on a lock: the next event's wait for a
    connection runs out and it is answered (``overloaded``, ``retry_after``), not left without an
    ack; a REST request likewise gets 503 ``overloaded`` with Retry-After, not a late 500."""
    with _a_post_held_by_a_lock(app, live, clients, database_url, DATABASE_POOL_SIZE=1, DATABASE_POOL_OVERFLOW=0,
                                DATABASE_POOL_TIMEOUT_MS=200) as (community, other, refused):
        answer = refused(lambda: other.call("presence", {"space_id": community["public"]}))
        assert answer["error"]["code"] == "overloaded" and answer["error"]["retry_after"] > 0
        busy = community["server"].api("GET", "/me", community["other"]["token"])
        assert busy.status_code == 503 and busy.json()["type"].endswith("overloaded") and int(busy.headers["Retry-After"]) > 0
