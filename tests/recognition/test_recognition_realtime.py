"""A trust level changed over REST applies to the member's very next socket event (a real Socket.IO client
against a live server process): the account is read per event, as roles are."""

from __future__ import annotations

from tests.live import LiveClient, live_community


def test_promotion_lets_the_same_socket_post_a_link_on_its_next_event(app, live):
    community = live_community(app, live(), members=("ann", "nia"))
    server, admin, space = community["server"], community["admin"]["token"], community["public"]
    assert server.api("PATCH", f"/spaces/{space}/moderation/settings", admin,
                      json={"new_member_limits": True, "reason": "Spam wave"}).status_code == 200
    nia = LiveClient(server, community["nia"]["token"]).connect()
    try:
        assert nia.call("join", {"space_id": space})["ok"]
        refused = nia.call("post", {"thread_id": community["thread"], "body": "deals at https://example.com"})
        assert refused["ok"] is False and refused["error"]["code"] == "new_member_links", refused
        promoted = server.api("PUT", f"/accounts/{community['nia']['id']}/trust-level", admin, json={"level": 1, "locked": True})
        assert promoted.status_code == 200 and promoted.json()["trust_level_name"] == "basic"
        accepted = nia.call("post", {"thread_id": community["thread"], "body": "deals at https://example.com"})
        assert accepted["ok"] is True, accepted
        assert accepted["post"]["body"] == "deals at https://example.com"
    finally:
        nia.close()
