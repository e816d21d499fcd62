"""Moderation in real time, with real Socket.IO clients against a live server process.

To show that an event did *not* reach a socket, a test first waits for an event that was
broadcast after it to reach another socket, then makes a round trip on the socket in
question: anything addressed to it would have arrived before that acknowledgement.
"""

from __future__ import annotations

import pytest

from tests.live import LiveClient, live_community

EXTRA_EVENTS = ("moderation", "moderation_notice")


@pytest.fixture
def rt(app, live):
    """A live community: ``ann`` and ``ben`` are members, ``moe`` moderates the public space."""
    community = live_community(app, live(), members=("ann", "ben", "moe"))
    server, admin = community["server"], community["admin"]["token"]
    response = server.api("PUT", f"/spaces/{community['public']}/members/{community['moe']['id']}", admin, json={"role": "moderator"})
    assert response.status_code == 200
    return community


@pytest.fixture
def sockets():
    made = []

    def connect(server, person, join=None) -> LiveClient:
        client = LiveClient(server, person["token"])
        for name in EXTRA_EVENTS:
            client.sio.on(name, client._collector(name))
        made.append(client.connect())
        if join is not None:
            assert client.call("join", {"space_id": join})["ok"]
        return client

    yield connect
    for client in made:
        client.close()


def _round_trip(client, space_id):
    assert client.call("presence", {"space_id": space_id})["ok"]


def _next_kind(client, kind, name="space_event"):
    while True:
        event = client.next(name)
        if event["kind"] == kind:
            return event


def test_hidden_post_vanishes_for_members_and_moderators_are_told(rt, sockets):
    server, space = rt["server"], rt["public"]
    ann, ben, moe = (sockets(server, rt[h], join=space) for h in ("ann", "ben", "moe"))
    post = ann.call("post", {"thread_id": rt["thread"], "body": "Buy cheap watches"})["post"]
    assert _next_kind(ben, "post_created")["data"]["post"]["id"] == post["id"]
    flagged = server.api("POST", f"/posts/{post['id']}/flags", rt["ben"]["token"], json={"reason": "spam"})
    assert flagged.status_code == 201
    flag_event = moe.next("moderation")
    assert (flag_event["kind"], flag_event["data"]["post_id"], flag_event["data"]["flag_count"]) == ("flag_added", post["id"], 1)
    hidden = server.api("POST", f"/posts/{post['id']}/hide", rt["moe"]["token"], json={"reason": "Advertising"})
    assert hidden.status_code == 200
    event = _next_kind(ben, "post_hidden")
    assert event["data"] == {"post_id": post["id"], "thread_id": rt["thread"]}  # no body, no reason
    action = moe.next("moderation")
    assert action["kind"] == "action" and action["data"]["action"] == "post_hidden" and action["data"]["reason"] == "Advertising"
    notice = ann.next("moderation_notice")
    assert (notice["action"], notice["target_id"], notice["reason"]) == ("post_hidden", post["id"], "Advertising")
    _round_trip(ben, space)
    assert ben.drain("moderation") == [] and ben.drain("moderation_notice") == []
    # A member who comes back later does not get the body in the replay either.
    late = sockets(server, rt["ben"])
    assert late.call("resume", {"space_id": space, "after_seq": 1})["ok"]
    # The replay is sent before the ack, but the client runs each message's handler on a thread of
    # its own: wait for both rather than read what has been handled by the time the ack was.
    replayed = sorted((late.next(), late.next()), key=lambda e: e["seq"])
    assert [e["kind"] for e in replayed] == ["post_created", "post_hidden"] and late.drain() == []
    assert replayed[0]["data"]["post"]["body"] is None and replayed[0]["data"]["post"]["hidden"] is True


def test_banned_member_is_cut_off_at_once(rt, sockets):
    server, space = rt["server"], rt["public"]
    ann, ben = sockets(server, rt["ann"], join=space), sockets(server, rt["ben"], join=space)
    banned = server.api("PUT", f"/spaces/{space}/bans/{rt['ben']['id']}", rt["moe"]["token"], json={"reason": "Abuse"})
    assert banned.status_code == 200
    assert ben.next("access_lost") == {"space_id": space, "reason": "banned"}
    assert ben.next("moderation_notice")["action"] == "member_banned"
    assert ann.call("post", {"thread_id": rt["thread"], "body": "still talking"})["ok"]
    _next_kind(ann, "post_created")
    _round_trip(ben, space)
    assert [e for e in ben.drain() if e["kind"] == "post_created"] == []
    rejoin = ben.call("join", {"space_id": space})
    assert rejoin["ok"] is False and rejoin["error"]["code"] == "banned"
    assert ben.call("resume", {"space_id": space, "after_seq": 0})["error"]["code"] == "banned"
    refused = ben.call("post", {"thread_id": rt["thread"], "body": "let me back"})
    assert refused["error"]["code"] in ("not_a_member", "banned")


def test_muted_and_slow_mode_acks(rt, sockets):
    server, space = rt["server"], rt["public"]
    ann, ben = sockets(server, rt["ann"], join=space), sockets(server, rt["ben"], join=space)
    muted = server.api("PUT", f"/spaces/{space}/mutes/{rt['ben']['id']}", rt["moe"]["token"],
                       json={"until": "2999-01-01T00:00:00Z", "reason": "Cool off"})
    assert muted.status_code == 200
    refused = ben.call("post", {"thread_id": rt["thread"], "body": "hello?"})
    assert refused["ok"] is False and refused["error"]["code"] == "muted"
    slow = server.api("PATCH", f"/spaces/{space}/moderation/settings", rt["moe"]["token"],
                      json={"slow_mode_seconds": 120, "reason": "Heated"})
    assert slow.status_code == 200
    assert _next_kind(ann, "space_settings_changed")["data"]["slow_mode_seconds"] == 120
    # ann started the thread moments ago: her next post must wait for the rest of the two minutes.
    second = ann.call("post", {"thread_id": rt["thread"], "body": "two"})
    assert second["error"]["code"] == "slow_mode" and 60 <= second["error"]["retry_after"] <= 120


def test_muted_member_cannot_send_typing(rt, sockets):
    server, space = rt["server"], rt["public"]
    ann, ben, moe = (sockets(server, rt[h], join=space) for h in ("ann", "ben", "moe"))
    muted = server.api("PUT", f"/spaces/{space}/mutes/{rt['ben']['id']}", rt["moe"]["token"],
                       json={"until": "2999-01-01T00:00:00Z", "reason": "Cool off"})
    assert muted.status_code == 200
    refused = ben.call("typing", {"thread_id": rt["thread"]})
    assert refused["ok"] is False and refused["error"]["code"] == "muted"
    assert moe.call("typing", {"thread_id": rt["thread"]}) == {"ok": True, "throttled": False}
    assert ann.next("typing")["account"]["id"] == rt["moe"]["id"]  # sent after ben's attempt
    _round_trip(ann, space)
    assert ann.drain("typing") == []
    lifted = server.api("POST", f"/spaces/{space}/mutes/{rt['ben']['id']}/lift", rt["moe"]["token"], json={"reason": "Calm now"})
    assert lifted.status_code in (200, 204)
    assert ben.call("typing", {"thread_id": rt["thread"]})["ok"] is True
    assert ann.next("typing")["account"]["id"] == rt["ben"]["id"]


def test_demoted_moderator_leaves_the_moderators_room(rt, sockets):
    server, space = rt["server"], rt["public"]
    admin = sockets(server, rt["admin"], join=space)
    moe = sockets(server, rt["moe"], join=space)
    post = server.api("POST", f"/threads/{rt['thread']}/posts", rt["ann"]["token"], json={"body": "flag me"}).json()
    server.api("POST", f"/posts/{post['id']}/flags", rt["ben"]["token"], json={"reason": "spam"})
    assert moe.next("moderation")["kind"] == "flag_added" and admin.next("moderation")["kind"] == "flag_added"
    demoted = server.api("PUT", f"/spaces/{space}/members/{rt['moe']['id']}", rt["admin"]["token"], json={"role": "member"})
    assert demoted.status_code == 200
    third = server.api("POST", f"/threads/{rt['thread']}/posts", rt["ben"]["token"], json={"body": "another"}).json()
    assert server.api("POST", f"/posts/{third['id']}/flags", rt["ann"]["token"], json={"reason": "abuse"}).status_code == 201
    while admin.next("moderation")["data"].get("post_id") != third["id"]:
        pass
    _round_trip(moe, space)
    assert [e for e in moe.drain("moderation") if e["data"].get("post_id") == third["id"]] == []


def test_promoted_member_hears_the_moderators_room_at_once(rt, sockets):
    server, space = rt["server"], rt["public"]
    admin, ben = sockets(server, rt["admin"], join=space), sockets(server, rt["ben"], join=space)
    promoted = server.api("PUT", f"/spaces/{space}/members/{rt['ben']['id']}", rt["admin"]["token"], json={"role": "moderator"})
    assert promoted.status_code == 200
    change = admin.next("moderation")  # the role change is itself an audited action the moderators hear of
    assert (change["kind"], change["data"]["action"], change["data"]["after"]) == ("action", "member_role_changed", {"role": "moderator"})
    post = server.api("POST", f"/threads/{rt['thread']}/posts", rt["ann"]["token"], json={"body": "flag me"}).json()
    assert server.api("POST", f"/posts/{post['id']}/flags", rt["moe"]["token"], json={"reason": "spam"}).status_code == 201
    assert admin.next("moderation")["data"]["post_id"] == post["id"]
    while (event := ben.next("moderation"))["kind"] != "flag_added":  # he may or may not hear of his own promotion
        assert event["data"]["action"] == "member_role_changed"
    assert event["data"]["post_id"] == post["id"]


def test_only_staff_sockets_hear_the_moderators_room(app, live, sockets):
    """Roles on sockets: admin, brand manager (not a member), moderator hear flags; member,
    analyst and outsider do not; the private space stays not_found to analyst and outsider."""
    rt = live_community(app, live(), members=("ann", "moe"), outsiders=("bob_boss", "ada_analyst", "cat_out"))
    server, admin, space = rt["server"], rt["admin"]["token"], rt["public"]
    brand_id = server.api("GET", f"/purposes/{server.api('GET', f'/spaces/{space}', admin).json()['purpose_id']}", admin).json()["brand_id"]
    assert server.api("PUT", f"/brands/{brand_id}/managers/{rt['bob_boss']['id']}", admin).status_code == 200
    assert server.api("PUT", f"/accounts/{rt['ada_analyst']['id']}/role", admin, json={"role": "analyst"}).status_code == 200
    assert server.api("PUT", f"/brands/{brand_id}/analysts/{rt['ada_analyst']['id']}", admin).status_code in (200, 201)
    assert server.api("PUT", f"/spaces/{space}/members/{rt['moe']['id']}", admin, json={"role": "moderator"}).status_code == 200
    staff = [sockets(server, rt[h], join=space) for h in ("admin", "bob_boss", "moe")]
    others = [sockets(server, rt[h], join=space) for h in ("ann", "ada_analyst", "cat_out")]
    for client in others[1:]:
        assert client.call("join", {"space_id": rt["private"]})["error"]["code"] == "not_found"
    post = server.api("POST", f"/threads/{rt['thread']}/posts", rt["moe"]["token"], json={"body": "flag me"}).json()
    assert server.api("POST", f"/posts/{post['id']}/flags", rt["ann"]["token"], json={"reason": "spam"}).status_code == 201
    for client in staff:
        assert client.next("moderation")["data"]["post_id"] == post["id"]
    for client in others:
        _round_trip(client, space)
        assert client.drain("moderation") == []


def test_removed_brand_manager_is_cut_off_private_spaces_and_the_moderators_room_at_once(app, live, sockets):
    rt = live_community(app, live(), members=("ann",), outsiders=("bob_boss",))
    server, admin, space, private = rt["server"], rt["admin"]["token"], rt["public"], rt["private"]
    brand_id = server.api("GET", f"/purposes/{server.api('GET', f'/spaces/{space}', admin).json()['purpose_id']}", admin).json()["brand_id"]
    assert server.api("PUT", f"/brands/{brand_id}/managers/{rt['bob_boss']['id']}", admin).status_code == 200
    bob, watcher = sockets(server, rt["bob_boss"], join=space), sockets(server, rt["admin"], join=space)
    assert bob.call("join", {"space_id": private})["ok"]  # a manager sees the brand's private space
    assert server.api("DELETE", f"/brands/{brand_id}/managers/{rt['bob_boss']['id']}", admin).status_code == 204
    assert bob.next("access_lost") == {"space_id": private, "reason": "role_changed"}
    post = server.api("POST", f"/threads/{rt['thread']}/posts", rt["ann"]["token"], json={"body": "flag me"}).json()
    assert server.api("POST", f"/posts/{post['id']}/flags", rt["admin"]["token"], json={"reason": "spam"}).status_code == 201
    assert watcher.next("moderation")["data"]["post_id"] == post["id"]
    _round_trip(bob, space)  # still a reader of the public space, no longer staff
    assert bob.drain("moderation") == []
    assert bob.call("join", {"space_id": private})["error"]["code"] == "not_found"
