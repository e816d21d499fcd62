"""Direct conversations live: real Socket.IO clients on a live server (docs/realtime.md)."""

from __future__ import annotations

from tests.live import live_community


def _events_until(client, seq: int) -> list[dict]:
    """The client's space events up to and including sequence number ``seq``."""
    events = [client.next()]
    while events[-1]["seq"] < seq:
        events.append(client.next())
    return events


def test_direct_messages_deliver_live_and_resume_after_reconnect(app, live, clients):
    community = live_community(app, live(), members=("ann", "ben"), outsiders=("cat_outsider",))
    server, ann_token, ben_token = community["server"], community["ann"]["token"], community["ben"]["token"]
    ann, ben = clients(server, ann_token), clients(server, ben_token)

    # Ann starts a one-to-one over REST: Ben's sockets hear of it at once.
    started = server.api("POST", "/conversations", ann_token, json={"handles": ["ben"], "body": "hi ben"})
    assert started.status_code == 201, started.text
    conversation = started.json()
    notice = ben.next("conversation")
    assert notice["kind"] == "started" and notice["conversation_id"] == conversation["id"]
    assert notice["by"]["handle"] == "ann"

    # Participants join its room like a space's; nobody else may (admins neither).
    joined = ben.call("join", {"space_id": conversation["id"]})
    assert joined["ok"] and joined["last_seq"] == 1
    assert ann.call("join", {"space_id": conversation["id"]})["ok"]
    for token in (community["cat_outsider"]["token"], community["admin"]["token"]):
        other = clients(server, token)
        assert other.call("join", {"space_id": conversation["id"]})["error"]["code"] == "not_found"
        refused = other.call("post", {"thread_id": conversation["thread_id"], "body": "let me in"})
        assert refused["error"]["code"] == "not_found"

    # A message over the socket: acked with its number, delivered to the other participant.
    ack = ann.call("post", {"thread_id": conversation["thread_id"], "body": "live one", "client_msg_id": "a-1"})
    assert ack["ok"] and ack["created"] and ack["post"]["seq"] == 2
    event = ben.next()
    assert (event["kind"], event["seq"], event["data"]["post"]["body"]) == ("post_created", 2, "live one")
    assert ann.call("post", {"thread_id": conversation["thread_id"], "body": "live one", "client_msg_id": "a-1"})["created"] is False
    assert ann.call("typing", {"thread_id": conversation["thread_id"]})["ok"]
    assert ben.next("typing")["account"]["handle"] == "ann"

    # Ben drops; Ann writes on (socket and REST); Ben comes back and resumes where he was.
    ben.close()
    assert ann.call("post", {"thread_id": conversation["thread_id"], "body": "while away 1"})["ok"]
    rest = server.api("POST", f"/conversations/{conversation['id']}/messages", ann_token, json={"body": "while away 2"})
    assert rest.status_code == 201
    back = clients(server, ben_token)
    replay = back.call("resume", {"space_id": conversation["id"], "after_seq": 2})
    assert replay == {"ok": True, "space_id": conversation["id"], "replayed": 2, "last_seq": 4, "more": False}
    assert [e["data"]["post"]["body"] for e in back.take(2)] == ["while away 1", "while away 2"]
    listed = server.api("GET", "/conversations", ben_token).json()["items"]
    assert listed[0]["id"] == conversation["id"] and listed[0]["unread_count"] == 4

    # Ben answers live; then leaves, and his socket is cut off from the conversation at once.
    assert back.call("post", {"thread_id": conversation["thread_id"], "body": "back"})["ok"]
    assert [e["seq"] for e in _events_until(ann, 5)] == [2, 3, 4, 5]  # Ann saw every message once, in order
    assert server.api("POST", f"/conversations/{conversation['id']}/leave", ben_token).status_code == 204
    assert back.next("access_lost")["space_id"] == conversation["id"]
    left = ann.next()
    assert (left["kind"], left["seq"], left["data"]["account"]["handle"]) == ("participant_left", 6, "ben")
