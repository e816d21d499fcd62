"""Real-time discussion over Socket.IO: real clients, real sockets, a live server process."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import pytest
import socketio

from tests.helpers import TEST_REDIS_URL, needs_redis
from tests.live import WAIT, LiveClient, StalledReader, connect_once_a_place_is_free, live_community, resume_during_burst, websocket_upgrade


@pytest.fixture
def rt(app, live):
    """A live server with a brand, a public and a private space; ``ann`` and ``ben`` are members of both."""
    return live_community(app, live(), members=("ann", "ben"), outsiders=("cat_outsider",))


@pytest.fixture(params=[True, False], ids=["speed layers", "stock paths"])
def rt_both(request, app, live):
    """``rt``, run twice: with the speed layers (``SOCKETIO_DIRECT_WRITES`` and ``SQL_FAST_PATH``
    on, the defaults) and with both off, the stock paths their guards fall back to."""
    on = request.param
    return live_community(app, live(SOCKETIO_DIRECT_WRITES=on, SQL_FAST_PATH=on), members=("ann", "ben"),
                          outsiders=("cat_outsider",))


def _post(client, thread_id, body, **extra):
    return client.call("post", {"thread_id": thread_id, "body": body, **extra})


# Connecting ------------------------------------------------------------------------


def test_connect_refused_without_valid_token(rt, clients):
    server = rt["server"]
    cases = {None: "unauthorized", "garbage": "invalid_token", rt["ann"]["refresh"]: "token_revoked"}
    for token, code in cases.items():
        client = clients(server, token, expect_refusal=True)
        assert client.connect_error["data"]["code"] == code
        assert not client.sio.connected


def test_connect_refused_after_logout_and_suspension(rt, clients):
    server = rt["server"]
    assert server.api("POST", "/auth/logout", rt["ann"]["token"]).status_code == 204
    assert clients(server, rt["ann"]["token"], expect_refusal=True).connect_error["data"]["code"] == "token_revoked"
    admin_login = server.api("POST", "/auth/login", json={"email": "live_admin@example.com", "password": "correct horse battery staple"})
    server.api("POST", f"/accounts/{rt['ben']['id']}/suspend", admin_login.json()["access_token"], json={"reason": "Spam"})
    assert clients(server, rt["ben"]["token"], expect_refusal=True).connect_error["data"]["code"] == "token_revoked"


def test_connections_per_account_are_capped(app, live, clients):
    server = live(SOCKETIO_MAX_CONNECTIONS_PER_ACCOUNT=2)
    gus, hal = server.register("gus"), server.register("hal")
    first, _second = clients(server, gus["token"]), clients(server, gus["token"])
    third = clients(server, gus["token"], expect_refusal=True)
    assert third.connect_error["data"]["code"] == "too_many_connections"
    assert clients(server, hal["token"]).sio.connected  # another account is not affected
    first.close()
    # The place is free once the server has handled the disconnect; until then it refuses.
    again = connect_once_a_place_is_free(server, gus["token"], deadline=time.monotonic() + WAIT)
    assert again.sio.connected
    again.close()


def test_token_is_never_accepted_from_the_query_string(rt, clients):
    client = LiveClient(rt["server"], None)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.sio.connect(rt["server"].url + f"?token={rt['ann']['token']}", transports=["websocket"], wait_timeout=5)
    assert client.connect_error["data"]["code"] == "unauthorized"


# Joining ---------------------------------------------------------------------------


def test_join_rules(rt, clients):
    server = rt["server"]
    outsider = clients(server, rt["cat_outsider"]["token"])
    assert outsider.call("join", {"space_id": rt["private"]})["error"]["code"] == "not_found"
    assert outsider.call("join", {"space_id": 424242})["error"]["code"] == "not_found"
    assert outsider.call("join", {"space_id": "1"})["error"]["code"] == "validation_error"
    joined = outsider.call("join", {"space_id": rt["public"]})
    assert joined["ok"] and joined["last_seq"] == 1
    # Reading a public space needs no membership; posting does.
    refused = _post(outsider, rt["thread"], "let me in")
    assert refused["error"]["code"] == "not_a_member"
    member = clients(server, rt["ann"]["token"])
    assert member.call("join", {"space_id": rt["private"]})["ok"]


def test_a_connection_joins_at_most_the_configured_number_of_spaces(app, live, clients):
    community = live_community(app, live(SOCKETIO_MAX_SPACES_PER_CONNECTION=1), members=("ivy",))
    public, private = community["public"], community["private"]
    ivy = clients(community["server"], community["ivy"]["token"])
    assert ivy.call("join", {"space_id": public})["ok"]
    assert ivy.call("join", {"space_id": public})["ok"]  # joining again takes no second place
    for event, args in (("join", {"space_id": private}), ("resume", {"space_id": private, "after_seq": 0})):
        assert ivy.call(event, args)["error"]["code"] == "too_many_spaces"
    assert ivy.call("leave", {"space_id": public})["ok"]
    assert ivy.call("join", {"space_id": private})["ok"]


# Posting ---------------------------------------------------------------------------


def test_post_is_acked_with_the_stored_post_then_broadcast(rt_both, clients):
    rt = rt_both
    server = rt["server"]
    ann, ben = clients(server, rt["ann"]["token"]), clients(server, rt["ben"]["token"])
    for client in (ann, ben):
        client.call("join", {"space_id": rt["public"]})
    ack = _post(ann, rt["thread"], "<b>hello</b> **world**")
    assert ack["ok"] and ack["created"]
    post = ack["post"]
    assert post["seq"] == 2 and post["id"] and post["created_at"] and post["author"]["handle"] == "ann"
    event = ben.next()
    assert (event["kind"], event["seq"], event["data"]["post"]["id"]) == ("post_created", 2, post["id"])
    # Bodies travel as the member's text: markup is never rendered or interpreted by the server.
    assert event["data"]["post"]["body"] == "<b>hello</b> **world**"
    assert ann.next()["seq"] == 2  # the sender sees it in the stream too


def test_broadcasts_of_every_size_and_script_reach_every_member_intact(rt_both, clients):
    """One frame is built per broadcast and shared by its recipients (community/realtime/websocket.py):
    short, medium and long messages (each length encoding of a WebSocket frame), in
    scripts beyond ASCII, interleaved, arrive intact and in order at every member."""
    rt = rt_both
    server, thread = rt["server"], rt["thread"]
    members = [clients(server, rt[who]["token"]) for who in ("ann", "ben")]
    for member in members:
        member.call("join", {"space_id": rt["public"]})
    bodies = ["hi", " ".join(["Grüße aus Köln, 海の清掃 🌊"] * 12), "🌊" * 10_000, "x", "é" * 5_000]
    for body in bodies:  # over REST: the longest is over the Socket.IO payload limit as JSON
        assert server.api("POST", f"/threads/{thread}/posts", rt["ann"]["token"], json={"body": body}).status_code == 201
    for member in members:
        assert [member.next()["data"]["post"]["body"] for _ in bodies] == bodies


@pytest.mark.parametrize("rt_both", [pytest.param(True, id="speed layers"), pytest.param(False, id="stock paths", marks=pytest.mark.xfail(
    reason="simple-websocket 1.1.0 sends a frame with one sock.send (miguelgrinberg/simple-websocket#45): under gevent a "
           "client that stops reading gets part of a frame, then the next one"))], indirect=True)
def test_a_member_who_stops_reading_misses_nothing_and_holds_up_no_one(rt_both, clients):
    """A broadcast is written to each socket at once when nothing is ahead of it; what a
    stalled socket cannot take waits on that socket's own queue (community/realtime/websocket.py)."""
    rt = rt_both
    server, thread = rt["server"], rt["thread"]
    stalled = StalledReader(server, rt["ann"]["token"])
    try:
        assert stalled.call("join", {"space_id": rt["public"]})["ok"]
        reader = clients(server, rt["cat_outsider"]["token"])
        reader.call("join", {"space_id": rt["public"]})
        # 60 posts of about 100 KiB on the wire each: more than the kernel buffers between
        # the server and the stalled reader hold, so most wait on the server.
        bodies = [f"{i} " + "🌊" * 9_000 for i in range(60)]
        for body in bodies:
            assert server.api("POST", f"/threads/{thread}/posts", rt["ben"]["token"], json={"body": body}).status_code == 201
        # The member who reads gets everything while the other one still reads nothing...
        assert [reader.next()["data"]["post"]["body"] for _ in bodies] == bodies
        # ...who, reading again, gets every event whole, once, in order.
        events = stalled.events(len(bodies))
        assert [e["data"]["post"]["body"] for e in events] == bodies
        assert [e["seq"] for e in events] == list(range(events[0]["seq"], events[0]["seq"] + len(bodies)))
        # A replay sends all of it to one socket in one go, faster than the socket drains.
        replay = stalled.call("resume", {"space_id": rt["public"], "after_seq": events[0]["seq"] - 1})
        assert replay["replayed"] == len(bodies)
        assert stalled.events(len(bodies)) == events
    finally:
        stalled.close()


def test_rest_posts_edits_deletes_and_reactions_are_broadcast(rt, clients):
    server, token = rt["server"], rt["ann"]["token"]
    ben = clients(server, rt["ben"]["token"])
    ben.call("join", {"space_id": rt["public"]})
    created = server.api("POST", f"/threads/{rt['thread']}/posts", token, json={"body": "via REST"}).json()
    server.api("PATCH", f"/posts/{created['id']}", token, json={"body": "edited"})
    server.api("POST", f"/posts/{created['id']}/reactions", rt["ben"]["token"], json={"emoji": "🌊"})
    server.api("DELETE", f"/posts/{created['id']}/reactions", rt["ben"]["token"], params={"emoji": "🌊"})
    server.api("DELETE", f"/posts/{created['id']}", token)
    events = [ben.next() for _ in range(5)]
    assert [e["kind"] for e in events] == ["post_created", "post_edited", "reaction_added", "reaction_removed", "post_deleted"]
    assert [e["seq"] for e in events] == [2, 3, 4, 5, 6]
    assert events[1]["data"]["post"]["body"] == "edited"
    assert events[2]["data"]["count"] == 1 and events[3]["data"]["count"] == 0


def test_resend_with_the_same_client_msg_id_stores_nothing_new(rt, clients):
    server = rt["server"]
    tab1, tab2 = clients(server, rt["ann"]["token"]), clients(server, rt["ann"]["token"])
    first = _post(tab1, rt["thread"], "once", client_msg_id="m-1")
    again = _post(tab1, rt["thread"], "once", client_msg_id="m-1")
    assert first["created"] and not again["created"] and again["post"]["id"] == first["post"]["id"]
    # Twice at once, from two tabs.
    acks = []
    workers = [threading.Thread(target=lambda c=c: acks.append(_post(c, rt["thread"], "dup", client_msg_id="m-2"))) for c in (tab1, tab2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len({a["post"]["id"] for a in acks}) == 1 and sorted(a["created"] for a in acks) == [False, True]
    bodies = [p["body"] for p in server.api("GET", f"/threads/{rt['thread']}/posts", rt["ann"]["token"]).json()["items"]]
    assert bodies == ["first", "once", "dup"]


# Resuming --------------------------------------------------------------------------


def test_resume_after_dropped_connection_replays_exactly_what_was_missed(rt, clients):
    server = rt["server"]
    ann, ben = clients(server, rt["ann"]["token"]), clients(server, rt["ben"]["token"])
    last_seq = ann.call("join", {"space_id": rt["public"]})["last_seq"]
    ann.close()  # the mobile network drops
    for i in range(3):
        assert _post(ben, rt["thread"], f"missed {i}")["ok"]
    back = clients(server, rt["ann"]["token"])
    replay = back.call("resume", {"space_id": rt["public"], "after_seq": last_seq})
    assert replay == {"ok": True, "space_id": rt["public"], "replayed": 3, "last_seq": 4, "more": False}
    # The replay arrived as ordinary events, before the ack.
    missed = back.take(3)
    assert [e["data"]["post"]["body"] for e in missed] == ["missed 0", "missed 1", "missed 2"] and back.drain() == []
    assert [e["seq"] for e in missed] == [2, 3, 4]
    _post(ben, rt["thread"], "live again")
    live_event = back.next()
    assert live_event["seq"] == 5 and live_event["data"]["post"]["body"] == "live again"


def test_resume_while_others_post_gives_each_event_once_in_order(rt, clients):
    server = rt["server"]
    poster = clients(server, rt["ben"]["token"])
    acks, received = resume_during_burst(poster, lambda: clients(server, rt["ann"]["token"]), rt["thread"], rt["public"])
    assert received == list(range(2, acks[-1] + 1))  # no gap, no duplicate, in order


def test_resume_past_the_retention_window_requires_resync(rt, clients, app):
    from community.space_log import prune_events

    client = clients(rt["server"], rt["ann"]["token"])
    _post(client, rt["thread"], "old news")
    with app.app_context():
        assert prune_events(older_than_days=0) == 2
    answer = client.call("resume", {"space_id": rt["public"], "after_seq": 0})
    assert answer["error"]["code"] == "resync_required"
    assert client.call("resume", {"space_id": rt["public"], "after_seq": 99})["error"]["code"] == "resync_required"
    assert client.call("resume", {"space_id": rt["public"], "after_seq": 2})["replayed"] == 0


def test_deleted_post_body_is_not_replayed(rt, clients):
    server = rt["server"]
    ann = clients(server, rt["ann"]["token"])
    post = _post(ann, rt["thread"], "regrettable")["post"]
    server.api("DELETE", f"/posts/{post['id']}", rt["ann"]["token"])
    assert ann.call("resume", {"space_id": rt["public"], "after_seq": 0})["replayed"] == 3
    replayed = ann.take(3)
    assert "regrettable" not in str(replayed) and ann.drain() == []
    assert [e["kind"] for e in replayed] == ["thread_created", "post_created", "post_deleted"]


# Typing and presence ---------------------------------------------------------------


def test_erasing_an_account_is_seen_live_its_posts_go_and_its_reactions_drop(rt, clients):
    from tests.live import PASSWORD

    server, ann_token, ben_token = rt["server"], rt["ann"]["token"], rt["ben"]["token"]
    ben = clients(server, ben_token)
    ben.call("join", {"space_id": rt["public"]})
    bens = server.api("POST", f"/threads/{rt['thread']}/posts", ben_token, json={"body": "mine"}).json()
    anns = server.api("POST", f"/threads/{rt['thread']}/posts", ann_token, json={"body": "hers"}).json()
    for emoji in ("🌊", "👍"):
        server.api("POST", f"/posts/{bens['id']}/reactions", ann_token, json={"emoji": emoji})
    assert [e["kind"] for e in (ben.next() for _ in range(4))] == ["post_created", "post_created", "reaction_added", "reaction_added"]
    assert server.api("DELETE", "/me", ann_token, json={"password": PASSWORD}).status_code == 204
    events = [ben.next() for _ in range(4)]  # ann also wrote the thread's opening post
    assert [(e["kind"], e["data"]["post_id"]) for e in events[1:]] == [
        ("post_deleted", anns["id"]), ("reaction_removed", bens["id"]), ("reaction_removed", bens["id"])]
    assert events[0]["kind"] == "post_deleted"
    assert {e["data"]["emoji"]: e["data"]["count"] for e in events[2:]} == {"🌊": 0, "👍": 0}


def test_mentioned_people_are_told_on_their_own_sockets_once(rt, clients):
    server, ann_token = rt["server"], rt["ann"]["token"]
    ann, ben, cat = (clients(server, rt[who]["token"]) for who in ("ann", "ben", "cat_outsider"))
    # Nobody joined a space: mentions reach the person's own sockets, wherever they are.
    secret = server.api("POST", f"/spaces/{rt['private']}/threads", ann_token,
                        json={"title": "Plans", "body": "@cat_outsider cannot see this"}).json()
    ack = _post(ann, rt["thread"], "@ben @cat_outsider @ann see this")
    seen = ben.next("mention")
    assert (seen["post_id"], seen["thread_id"], seen["space_id"]) == (ack["post"]["id"], rt["thread"], rt["public"])
    assert seen["by"]["handle"] == "ann" and "body" not in seen  # clients fetch the post with their own rights
    assert cat.next("mention")["post_id"] == ack["post"]["id"]  # not the private thread's post before it
    assert secret["id"]

    # An edit tells only the people it adds; a member who muted the author is never told.
    assert server.api("PUT", f"/me/mutes/{rt['ann']['id']}", rt["ben"]["token"]).status_code == 201
    post_url = f"/posts/{ack['post']['id']}"
    for body in ("@ben only", "@ben and @cat_outsider back", "@cat_outsider @ben still"):
        assert server.api("PATCH", post_url, ann_token, json={"body": body}).status_code == 200
    assert cat.next("mention")["post_id"] == ack["post"]["id"]  # added back by the second edit
    marker = _post(ann, rt["thread"], "@cat_outsider @ben one more")["post"]["id"]
    assert cat.next("mention")["post_id"] == marker  # the third edit kept cat: no notice for it
    _post(ben, rt["thread"], "thanks @ann")  # its ack follows whatever was sent to ben's socket before
    assert ben.drain("mention") == []
    assert ann.next("mention")["by"]["handle"] == "ben"  # her own @ann earlier was no notice


def test_typing_reaches_others_and_is_throttled(rt, clients):
    server = rt["server"]
    ann, ben = clients(server, rt["ann"]["token"]), clients(server, rt["ben"]["token"])
    for client in (ann, ben):
        client.call("join", {"space_id": rt["public"]})
    assert ann.call("typing", {"thread_id": rt["thread"]}) == {"ok": True, "throttled": False}
    assert ann.call("typing", {"thread_id": rt["thread"]}) == {"ok": True, "throttled": True}
    seen = ben.next("typing")
    assert seen["account"]["handle"] == "ann" and seen["thread_id"] == rt["thread"]
    assert ann.drain("typing") == []


def test_presence_lists_who_is_online_and_updates_on_disconnect(rt, clients):
    server = rt["server"]
    ann, ben = clients(server, rt["ann"]["token"]), clients(server, rt["ben"]["token"])
    ann.call("join", {"space_id": rt["public"]})
    ben.call("join", {"space_id": rt["public"]})
    assert ann.call("presence", {"space_id": rt["public"]})["online"] == sorted([rt["ann"]["id"], rt["ben"]["id"]])
    ben.close()
    # Changes arrive as batched deltas; skip the ones about joining.
    while not (update := ann.next("presence"))["left"]:
        pass
    assert update["space_id"] == rt["public"] and update["left"] == [rt["ben"]["id"]]
    assert ann.call("presence", {"space_id": rt["public"]})["online"] == [rt["ann"]["id"]]


def test_a_client_that_goes_silent_is_dropped_by_the_heartbeat(app, live, clients):
    """A phone that stalls (reads and answers nothing) is disconnected after the ping interval
    plus the ping timeout, and the others see it leave."""
    community = live_community(app, live(SOCKETIO_PING_INTERVAL=1, SOCKETIO_PING_TIMEOUT=1), members=("kim", "lou"))
    server, public = community["server"], community["public"]
    lou = clients(server, community["lou"]["token"])
    lou.call("join", {"space_id": public})
    silent = StalledReader(server, community["kim"]["token"])
    try:
        assert silent.call("join", {"space_id": public})["ok"]
        # From here the client neither reads nor answers: after about 2 s the server drops it.
        while not (update := lou.next("presence"))["left"]:
            pass
        assert update["left"] == [community["kim"]["id"]]
        assert lou.call("presence", {"space_id": public})["online"] == [community["lou"]["id"]]
    finally:
        silent.close()


# Losing access ---------------------------------------------------------------------


def test_leaving_a_space_stops_its_events_at_once(rt, clients):
    server = rt["server"]
    ann, ben = clients(server, rt["ann"]["token"]), clients(server, rt["ben"]["token"])
    for space in (rt["public"], rt["private"]):
        ann.call("join", {"space_id": space})
    assert server.api("POST", f"/spaces/{rt['private']}/leave", rt["ann"]["token"]).status_code == 204
    assert ann.next("access_lost") == {"space_id": rt["private"], "reason": "left"}
    private_thread = server.api("POST", f"/spaces/{rt['private']}/threads", rt["ben"]["token"], json={"title": "t", "body": "secret"}).json()
    assert private_thread["id"]
    _post(ben, rt["thread"], "public after")
    # Events reach one client in the order they were sent: the public post arriving proves the
    # private thread (sent first) was not delivered.
    event = ann.next()
    assert event["space_id"] == rt["public"] and event["data"]["post"]["body"] == "public after"
    assert ann.drain() == []


def test_removed_member_stops_receiving_the_private_space(rt, clients):
    server = rt["server"]
    ann = clients(server, rt["ann"]["token"])
    ann.call("join", {"space_id": rt["private"]})
    removed = server.api("DELETE", f"/spaces/{rt['private']}/members/{rt['ann']['id']}", rt["admin"]["token"])
    assert removed.status_code == 204
    assert ann.next("access_lost") == {"space_id": rt["private"], "reason": "removed"}
    assert ann.call("join", {"space_id": rt["private"]})["error"]["code"] == "not_found"


@pytest.mark.parametrize("processes", [
    pytest.param(1, id="one process"), pytest.param(2, id="two processes sharing Redis", marks=needs_redis),
])
def test_a_member_let_back_in_resumes_on_the_same_socket_and_hears_the_space_again(app, live, clients, processes):
    settings = {"SOCKETIO_MAX_SPACES_PER_CONNECTION": 1}
    if processes == 2:
        settings.update(REDIS_URL=TEST_REDIS_URL, SOCKETIO_CHANNEL=f"test-{uuid.uuid4().hex}")
    sockets_server = live(**settings)
    rest = live(**settings) if processes == 2 else sockets_server  # removal decided on the other process
    community = live_community(app, rest, members=("ann", "ben"))
    private, admin, ann_id = community["private"], community["admin"]["token"], community["ann"]["id"]
    ann, ben = clients(sockets_server, community["ann"]["token"]), clients(sockets_server, community["ben"]["token"])
    seen = ann.call("join", {"space_id": private})["last_seq"]
    assert rest.api("DELETE", f"/spaces/{private}/members/{ann_id}", admin).status_code == 204
    assert ann.next("access_lost") == {"space_id": private, "reason": "removed"}
    # Cut off, the space no longer counts against the socket's limit of one space.
    assert ann.call("join", {"space_id": community["public"]})["ok"]
    assert ann.call("leave", {"space_id": community["public"]})["ok"]
    assert rest.api("PUT", f"/spaces/{private}/members/{ann_id}", admin, json={"role": "member"}).status_code == 200
    assert ann.call("resume", {"space_id": private, "after_seq": seen})["ok"]
    ann.drain()  # what was missed meanwhile: the membership changes
    assert ben.call("join", {"space_id": private})["ok"]
    thread = rest.api("POST", f"/spaces/{private}/threads", community["ben"]["token"], json={"title": "Back", "body": "hi"}).json()
    assert ann.next()["data"]["thread"]["id"] == thread["id"]  # live again on the same socket


@pytest.mark.parametrize("how", ["logout", "suspend"])
def test_revoked_access_disconnects_open_sockets_with_the_reason(rt, clients, how):
    server = rt["server"]
    ann = clients(server, rt["ann"]["token"])
    ann.call("join", {"space_id": rt["public"]})
    if how == "logout":
        server.api("POST", "/auth/logout", rt["ann"]["token"])
    else:
        login = server.api("POST", "/auth/login", json={"email": "live_admin@example.com", "password": "correct horse battery staple"})
        server.api("POST", f"/accounts/{rt['ann']['id']}/suspend", login.json()["access_token"], json={"reason": "Spam"})
    assert ann.next("access_revoked") == {"reason": "logged_out" if how == "logout" else "suspended"}
    assert ann.disconnected.get(timeout=10) is True


# Limits ----------------------------------------------------------------------------


def test_payload_size_and_validation_limits(rt, clients):
    ann = clients(rt["server"], rt["ann"]["token"])
    too_big = _post(ann, rt["thread"], "x" * 70_000)
    assert too_big["error"]["code"] == "payload_too_large"
    too_long = _post(ann, rt["thread"], "x" * 10_001)
    assert too_long["error"]["code"] == "validation_error" and "body" in too_long["error"]["errors"]
    assert ann.call("post", ["not", "an", "object"])["error"]["code"] == "validation_error"
    assert ann.sio.connected


def test_per_connection_event_rate_limit(app, live, clients):
    server = live(SOCKETIO_EVENTS_PER_SECOND=1, SOCKETIO_EVENT_BURST=3)
    user = server.register("speedy")
    client = clients(server, user["token"])
    errors = [client.call("presence", {"space_id": 1})["error"] for _ in range(4)]
    assert [e["code"] for e in errors] == ["not_found"] * 3 + ["rate_limited"]
    # One event a second: the bucket is empty, so the next event is allowed within a second.
    assert 0 < errors[3]["retry_after"] <= 1 and all("retry_after" not in e for e in errors[:3])


BROWSER_OFFER = "permessage-deflate; client_max_window_bits"  # what Chrome, Firefox and Safari send


def test_websocket_compression_is_declined_unless_configured(app, live):
    """Browsers offer permessage-deflate; by default the server declines (a compressor per
    connection costs memory and CPU per recipient: community/realtime/websocket.py), and sends plain frames."""
    headers, compressed, opening = websocket_upgrade(live(), BROWSER_OFFER)
    assert "sec-websocket-extensions" not in headers
    assert not compressed and opening.startswith(b'0{"sid":')

    headers, compressed, opening = websocket_upgrade(live(SOCKETIO_WEBSOCKET_COMPRESSION=True), BROWSER_OFFER)
    assert headers["sec-websocket-extensions"].startswith("permessage-deflate")
    assert compressed and opening.startswith(b'0{"sid":')


def test_direct_writes_follow_their_setting_and_fall_back_once_on_releases_not_written_against(make_app, monkeypatch, caplog):
    """In-process (threading): the setting chooses the WebSocket class; a simulated other release of
    python-engineio leaves the stock class and is logged once however many apps are built."""
    from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

    from community.realtime import websocket
    from core.extensions import socketio as extension

    def websocket_class(**settings):
        make_app(**settings)
        return extension.server.eio._async["websocket"]

    assert websocket_class(SOCKETIO_DIRECT_WRITES=False) is SimpleWebSocketWSGI
    shared = websocket_class()
    assert shared is not SimpleWebSocketWSGI and issubclass(shared, SimpleWebSocketWSGI)

    monkeypatch.setitem(websocket.INSTALLED, "python-engineio", "4.16.0")  # as if another release were installed
    monkeypatch.setattr(websocket, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="community.realtime.websocket"):
        assert websocket_class() is SimpleWebSocketWSGI and websocket_class() is SimpleWebSocketWSGI
    warnings = [r for r in caplog.records if r.name == "community.realtime.websocket"]
    assert len(warnings) == 1 and "python-engineio 4.16.0" in warnings[0].getMessage()


def test_a_post_that_waits_too_long_for_a_lock_is_refused_with_retry_after(app, live, clients, database_url):
    from tests.helpers import space_held_by_another_transaction

    community = live_community(app, live(DATABASE_LOCK_TIMEOUT_MS=200), members=("fay",))
    fay = clients(community["server"], community["fay"]["token"])
    with space_held_by_another_transaction(database_url, community["public"]):
        busy = _post(fay, community["thread"], "patience", client_msg_id="fay-1")
    assert busy["error"] == {"code": "database_busy", "message": busy["error"]["message"], "retry_after": 1}
    retried = _post(fay, community["thread"], "patience", client_msg_id="fay-1")
    assert retried["ok"] and retried["created"] and retried["post"]["seq"] == 2  # the refused try took no number


def test_socket_posts_and_rest_writes_draw_from_one_budget_per_account(app, live, clients):
    from sqlalchemy import select

    from community.models import Post
    from core.extensions import db

    # The set-up spends 8 of the admin's writes and 1 of dee's (the thread); eve starts with 10.
    community = live_community(app, live(RATELIMIT_WRITE="10/minute"), members=("dee", "eve"))
    server, thread, eve = community["server"], community["thread"], community["eve"]
    for i in range(4):
        assert server.api("POST", f"/threads/{thread}/posts", eve["token"], json={"body": f"rest {i}"}).status_code == 201
    tabs = [clients(server, eve["token"]) for _ in range(2)]
    acks = [_post(tabs[i % 2], thread, f"socket {i}") for i in range(7)]
    assert [a["ok"] for a in acks] == [True] * 6 + [False]  # two tabs do not get two budgets
    assert acks[6]["error"]["code"] == "rate_limited" and 0 < acks[6]["error"]["retry_after"] <= 60
    assert server.api("PATCH", f"/posts/{acks[0]['post']['id']}", eve["token"], json={"body": "edited"}).status_code == 429
    # Another account has its own budget, on either transport.
    assert _post(clients(server, community["dee"]["token"]), thread, "still fine")["ok"]
    with app.app_context():
        stored = db.session.scalars(select(Post.body).where(Post.author_id == eve["id"])).all()
    assert sorted(stored) == sorted([f"rest {i}" for i in range(4)] + [f"socket {i}" for i in range(6)])
