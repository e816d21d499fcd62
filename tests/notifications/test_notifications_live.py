"""Live delivery: the ``notification`` event reaches every open connection of the account, after
the commit, with the unread count; a reconnecting client catches up with ``?after=`` or the
``notifications_resume`` event."""

from __future__ import annotations

import pytest

from tests.live import live_community


@pytest.fixture
def rt(app, live):
    return live_community(app, live(), members=("ann", "ben"), outsiders=("cat_outsider",))


def _listening(client, *names):
    for name in names:
        client.sio.on(name, client._collector(name))
    return client


def test_notifications_reach_both_connections_of_the_account(rt, clients):
    server, ann_token, ben_token = rt["server"], rt["ann"]["token"], rt["ben"]["token"]
    ann = _listening(clients(server, ann_token), "notification")
    ben_phone, ben_laptop = (_listening(clients(server, ben_token), "notification", "notifications_read") for _ in range(2))
    mine = ben_phone.call("post", {"thread_id": rt["thread"], "body": "ben here"})["post"]["id"]

    reply = ann.call("post", {"thread_id": rt["thread"], "body": "hi ben", "parent_id": mine})["post"]["id"]
    for socket in (ben_phone, ben_laptop):
        event = socket.next("notification")
        assert (event["notification"]["kind"], event["notification"]["post_id"], event["unread"]) == ("reply", reply, 1)
        assert event["notification"]["actor"]["handle"] == "ann"

    # a fan-out (watching the space) is delivered too, after the poster's ack
    assert server.api("PUT", f"/spaces/{rt['public']}/notification-level", ben_token,
                      json={"level": "watching"}).status_code == 200
    thread = server.api("POST", f"/spaces/{rt['public']}/threads", ann_token, json={"title": "News", "body": "big"}).json()
    for socket in (ben_phone, ben_laptop):
        event = socket.next("notification")
        assert (event["notification"]["kind"], event["notification"]["thread_id"], event["unread"]) == ("new_thread", thread["id"], 2)

    # reading on one device updates the count on every device
    assert server.api("POST", "/notifications/read", ben_token, json={}).json() == {"marked": 2, "unread": 0}
    for socket in (ben_phone, ben_laptop):
        assert socket.next("notifications_read") == {"unread": 0}

    # a client that was away resumes after the last id it saw
    last_seen = event["notification"]["id"]
    ben_laptop.close()
    later = ann.call("post", {"thread_id": thread["id"], "body": "@ben look"})["post"]["id"]
    assert ben_phone.next("notification")["notification"]["post_id"] == later
    missed = server.api("GET", f"/notifications?after={last_seen}", ben_token).json()["items"]
    # newer than the last seen, and (kept by id, so harmless) those made in the moments before it
    assert [(n["kind"], n["post_id"]) for n in missed if n["id"] > last_seen] == [("mention", later)]
    assert [n["kind"] for n in missed if n["id"] < last_seen] == ["reply"] and last_seen not in [n["id"] for n in missed]
    # the same over the socket, in the ack of `notifications_resume`, with the unread count
    laptop = _listening(clients(server, ben_token), "notification")
    resumed = laptop.call("notifications_resume", {"after": last_seen})
    assert resumed["ok"] and resumed["more"] is False and resumed["unread"] == 1
    assert [n["id"] for n in resumed["notifications"]] == [n["id"] for n in missed]
    page = laptop.call("notifications_resume", {"after": 0, "limit": 2})
    assert page["more"] is True and [n["kind"] for n in page["notifications"]] == ["reply", "new_thread"]
    assert laptop.call("notifications_resume", {"after": -1})["error"]["code"] == "validation_error"
    assert ann.drain("notification") == []  # her own posts never told her anything
