"""A status change reaches the author's and voters' open connections live, after the commit."""

from __future__ import annotations

from tests.live import live_community


def test_a_status_change_is_told_live_to_author_and_voters(app, live, clients):
    rt = live_community(app, live(), members=("ida", "vic", "nov"))
    server, admin = rt["server"], rt["admin"]["token"]
    idea = server.api("POST", f"/spaces/{rt['public']}/ideas", rt["ida"]["token"],
                      json={"title": "Refills", "body": "At every race"}).json()
    assert server.api("PUT", f"/ideas/{idea['id']}/vote", rt["vic"]["token"]).status_code == 200
    sockets = {}
    for handle in ("ida", "vic", "nov"):
        socket = clients(server, rt[handle]["token"])
        socket.sio.on("notification", socket._collector("notification"))
        sockets[handle] = socket
    changed = server.api("POST", f"/ideas/{idea['id']}/status", admin, json={"status": "planned", "reason": "Spring"})
    assert changed.status_code == 200
    for handle in ("ida", "vic"):
        event = sockets[handle].next("notification")
        assert (event["notification"]["kind"], event["notification"]["data"]["to"], event["unread"]) == (
            "idea_status", "planned", 1)
        assert event["notification"]["data"]["reason"] == "Spring"
    assert sockets["nov"].drain("notification") == []  # did not vote
