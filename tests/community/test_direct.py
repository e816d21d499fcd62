"""Direct conversations over REST: starting and reusing, groups, who may reach whom, privacy
from staff, flags with context for admins, export and erasure (docs/api.md, "Direct conversations")."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import PASSWORD

C = "/api/v1/conversations"


def _start(actor, *handles, **body):
    return actor.post(C, json={"handles": list(handles), **body})


def _messages(actor, conversation_id):
    response = actor.get(f"{C}/{conversation_id}/messages")
    assert response.status_code == 200, response.get_json()
    return [m["body"] for m in response.get_json()["items"]]


@pytest.fixture
def people(make_actor):
    return {name: make_actor(handle=name) for name in ("ada", "bob", "cyd", "dee")}


def test_a_one_to_one_is_started_with_a_first_message_and_reused_by_either_side(people):
    ada, bob = people["ada"], people["bob"]
    started = _start(ada, "bob", body="hi bob", client_msg_id="m1")
    assert started.status_code == 201, started.get_json()
    conversation = started.get_json()
    assert conversation["kind"] == "pair" and conversation["title"] is None
    assert sorted(p["handle"] for p in conversation["participants"]) == ["ada", "bob"]
    assert conversation["last_seq"] == 1 and conversation["unread_count"] == 0  # your own message is never unread
    # Bob starting "his" conversation with Ada (by account id) gets the same one, with Ada's message unread.
    again = bob.post(C, json={"account_ids": [ada.id], "body": "hi ada"})
    assert again.status_code == 200
    assert again.get_json()["id"] == conversation["id"] and again.get_json()["unread_count"] == 1
    assert _messages(ada, conversation["id"]) == ["hi bob", "hi ada"]
    # The same client_msg_id again is the same message, not a second one.
    resend = ada.post(f"{C}/{conversation['id']}/messages", json={"body": "hi bob", "client_msg_id": "m1"})
    assert resend.status_code == 200 and resend.get_json()["seq"] == 1
    listed = ada.get(C).get_json()["items"]
    assert [c["id"] for c in listed] == [conversation["id"]] and listed[0]["unread_count"] == 1
    read = ada.post(f"{C}/{conversation['id']}/read", json={})
    assert read.status_code == 200 and read.get_json()["unread_count"] == 0


def test_one_to_ones_started_at_the_same_moment_are_one_conversation(people, app):
    ada, bob = people["ada"], people["bob"]
    results, barrier = [], threading.Barrier(2)

    def start(actor, other):
        client = app.test_client()
        barrier.wait()
        results.append(client.post(C, json={"handles": [other]}, headers={"Authorization": f"Bearer {actor.access_token}"}))

    threads = [threading.Thread(target=start, args=args) for args in ((ada, "bob"), (bob, "ada"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status_code in (200, 201) for r in results), [r.get_json() for r in results]
    assert len({r.get_json()["id"] for r in results}) == 1
    assert len(ada.get(C).get_json()["items"]) == len(bob.get(C).get_json()["items"]) == 1


def test_conversations_are_listed_newest_activity_first_with_pages(people):
    ada = people["ada"]
    ids = [_start(ada, other).get_json()["id"] for other in ("bob", "cyd", "dee")]
    assert ada.post(f"{C}/{ids[0]}/messages", json={"body": "bump"}).status_code == 201
    first = ada.get(C, query_string={"limit": 2}).get_json()
    second = ada.get(C, query_string={"limit": 2, "cursor": first["next_cursor"]}).get_json()
    assert [c["id"] for c in first["items"] + second["items"]] == [ids[0], ids[2], ids[1]]
    assert second["next_cursor"] is None


def test_groups_have_a_size_limit_and_take_people_added_by_participants(people, make_app, make_actor):
    ada, bob, cyd, dee = (people[n] for n in ("ada", "bob", "cyd", "dee"))
    group = _start(ada, "bob", "cyd", title="Trip").get_json()
    assert group["kind"] == "group" and group["title"] == "Trip"
    # A group of two is possible on request, and is not the one-to-one.
    pair_group = _start(ada, "bob", group=True)
    assert pair_group.status_code == 201 and pair_group.get_json()["kind"] == "group"
    added = cyd.post(f"{C}/{group['id']}/participants", json={"handles": ["dee"]})
    assert added.status_code == 200 and len(added.get_json()["participants"]) == 4
    assert dee.get(f"{C}/{group['id']}").status_code == 200
    pair = _start(ada, "bob").get_json()
    refused = ada.post(f"{C}/{pair['id']}/participants", json={"handles": ["cyd"]})
    assert (refused.status_code, refused.get_json()["type"]) == (409, "not-a-group")
    app = make_app(DIRECT_MAX_PARTICIPANTS=3)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {ada.access_token}"}
    too_many = client.post(C, json={"handles": ["bob", "cyd", "dee"]}, headers=headers)
    assert (too_many.status_code, too_many.get_json()["type"]) == (422, "too-many-participants")
    full = client.post(f"{C}/{group['id']}/participants", json={"handles": ["dee"]}, headers=headers)
    assert full.status_code == 200  # dee is in already: nothing to add, nothing refused
    nobody = _start(ada, "ada")
    assert nobody.status_code == 422
    unknown = _start(ada, "no_such_person")
    assert (unknown.status_code, unknown.get_json()["type"]) == (422, "unknown-participant")
    assert "handles" in unknown.get_json()["errors"]


def test_leaving_stops_the_conversation_for_you_and_a_one_to_one_comes_back_when_started_again(people):
    ada, bob = people["ada"], people["bob"]
    pair = _start(ada, "bob", body="hello").get_json()
    assert bob.post(f"{C}/{pair['id']}/leave").status_code == 204
    assert bob.get(f"{C}/{pair['id']}").status_code == 404
    assert bob.get(C).get_json()["items"] == []
    gone = ada.post(f"{C}/{pair['id']}/messages", json={"body": "anyone?"})
    assert (gone.status_code, gone.get_json()["type"]) == (409, "participant-left")
    back = _start(ada, "bob", body="come back")
    assert back.status_code == 200 and back.get_json()["id"] == pair["id"]
    assert _messages(bob, pair["id"]) == ["hello", "come back"]


@pytest.mark.parametrize("who_blocks", ["starter", "other"])
def test_nobody_is_reached_across_a_block_either_way(people, who_blocks):
    ada, bob = people["ada"], people["bob"]
    pair = _start(ada, "cyd").get_json()
    blocker, blocked = (ada, bob) if who_blocks == "starter" else (bob, ada)
    assert blocker.put(f"/api/v1/me/blocks/{blocked.id}").status_code in (200, 201)
    refused = _start(ada, "bob")
    assert (refused.status_code, refused.get_json()["type"]) == (403, "blocked")
    assert "@bob" in refused.get_json()["detail"]
    group = _start(ada, "bob", "cyd")
    assert (group.status_code, group.get_json()["type"]) == (403, "blocked")
    grown = _start(ada, "cyd", "dee").get_json()
    added = ada.post(f"{C}/{grown['id']}/participants", json={"handles": ["bob"]})
    assert (added.status_code, added.get_json()["type"]) == (403, "blocked")
    # A block made after a one-to-one started stops its messages too, both ways.
    blocker.delete(f"/api/v1/me/blocks/{blocked.id}")
    later = _start(ada, "bob", body="before").get_json()
    blocker.put(f"/api/v1/me/blocks/{blocked.id}")
    for sender in (ada, bob):
        answer = sender.post(f"{C}/{later['id']}/messages", json={"body": "after"})
        assert (answer.status_code, answer.get_json()["type"]) == (403, "blocked")
    assert _messages(ada, later["id"]) == ["before"]
    assert pair["kind"] == "pair"


def test_a_suspended_account_cannot_be_messaged(people, admin):
    ada, bob = people["ada"], people["bob"]
    pair = _start(ada, "bob").get_json()
    assert admin.post(f"/api/v1/accounts/{bob.id}/suspend", json={"reason": "spam"}).status_code == 200
    refused = _start(ada, "bob")
    assert (refused.status_code, refused.get_json()["type"]) == (403, "account-suspended")
    message = ada.post(f"{C}/{pair['id']}/messages", json={"body": "still there?"})
    assert (message.status_code, message.get_json()["type"]) == (403, "account-suspended")


def test_new_accounts_start_few_conversations_and_send_no_links(people, make_app):
    ada = people["ada"]
    app = make_app(DIRECT_NEW_ACCOUNT_STARTS_PER_HOUR=2)
    client, headers = app.test_client(), {"Authorization": f"Bearer {ada.access_token}"}
    for other in ("bob", "cyd"):
        assert client.post(C, json={"handles": [other]}, headers=headers).status_code == 201
    third = client.post(C, json={"handles": ["dee"]}, headers=headers)
    assert (third.status_code, third.get_json()["type"]) == (429, "new-member-limit")
    assert int(third.headers["Retry-After"]) > 3000
    reused = client.post(C, json={"handles": ["bob"]}, headers=headers)
    assert reused.status_code == 200  # an existing one-to-one is not a new start
    link = client.post(f"{C}/{reused.get_json()['id']}/messages", json={"body": "see www.spam.example.com"}, headers=headers)
    assert (link.status_code, link.get_json()["type"]) == (403, "new-member-links")
    aged = make_app(NEW_MEMBER_HOURS=0).test_client()
    assert aged.post(f"{C}/{reused.get_json()['id']}/messages", json={"body": "see www.ok.example.com"},
                     headers=headers).status_code == 201


def test_conversations_are_no_community_space_and_staff_cannot_read_them(world, people):
    ada, bob = people["ada"], people["bob"]
    admin, manager, outsider = world["admin"], world["manager"], world["outsider"]
    pair = _start(ada, "bob", body="private words").get_json()
    thread_id, post_id = pair["thread_id"], ada.get(f"{C}/{pair['id']}/messages").get_json()["items"][0]["id"]
    for viewer in (admin, manager, outsider):
        for url in (f"{C}/{pair['id']}", f"{C}/{pair['id']}/messages", f"/api/v1/spaces/{pair['id']}",
                    f"/api/v1/spaces/{pair['id']}/threads", f"/api/v1/threads/{thread_id}",
                    f"/api/v1/threads/{thread_id}/posts", f"/api/v1/posts/{post_id}",
                    f"/api/v1/spaces/{pair['id']}/moderation/queue"):
            assert viewer.get(url).status_code == 404, (viewer.handle, url)
        for url, body in ((f"{C}/{pair['id']}/messages", {"body": "x"}), (f"{C}/{pair['id']}/participants", {"handles": ["cyd"]}),
                          (f"/api/v1/spaces/{pair['id']}/join", None), (f"/api/v1/threads/{thread_id}/posts", {"body": "x"})):
            assert viewer.post(url, json=body).status_code == 404, (viewer.handle, url)
        listed = viewer.get("/api/v1/spaces").get_json()["items"]
        assert pair["id"] not in [s["id"] for s in listed]
    # Its participants reach it as a conversation, never as a space.
    assert ada.get(f"/api/v1/spaces/{pair['id']}").status_code == 404
    assert pair["id"] not in [s["id"] for s in ada.get("/api/v1/spaces").get_json()["items"]]
    assert ada.get(f"/api/v1/threads/{thread_id}/posts").status_code == 200  # the thread URLs work for them
    # The brand's people analysis and reports see nothing of it.
    segments = manager.get(f"/api/v1/brands/{world['brand']}/segments")
    assert segments.status_code == 200
    report = world["analyst"].post("/api/v1/reports", json={"space_id": pair["id"]})
    assert report.status_code in (403, 404)


def test_a_flagged_message_reaches_admins_with_five_messages_of_context_and_nothing_else(people, admin):
    ada, bob = people["ada"], people["bob"]
    pair = _start(ada, "bob").get_json()
    bodies = [f"m{i}" for i in range(1, 14)]
    ids = []
    for i, body in enumerate(bodies):
        sender = bob if body == "m7" else (ada if i % 2 else bob)
        ids.append(sender.post(f"{C}/{pair['id']}/messages", json={"body": body}).get_json()["id"])
    flagged = ids[6]  # bob's m7
    assert admin.get(f"/api/v1/posts/{flagged}").status_code == 404  # not before a participant flags it
    assert admin.get("/api/v1/moderation/conversations/queue").get_json()["items"] == []
    flag = ada.post(f"/api/v1/posts/{flagged}/flags", json={"reason": "abuse", "text": "threatening"})
    assert flag.status_code == 201
    queue = admin.get("/api/v1/moderation/conversations/queue").get_json()["items"]
    assert len(queue) == 1
    item = queue[0]
    assert item["conversation_id"] == pair["id"] and item["post"]["body"] == "m7" and item["flag_count"] == 1
    assert [p["body"] for p in item["context_before"]] == ["m2", "m3", "m4", "m5", "m6"]
    assert [p["body"] for p in item["context_after"]] == ["m8", "m9", "m10", "m11", "m12"]
    # The flagged message itself can be read and acted on; the rest of the conversation cannot.
    assert admin.get(f"/api/v1/posts/{flagged}").status_code == 200
    assert admin.get(f"/api/v1/posts/{ids[0]}").status_code == 404
    assert admin.get(f"/api/v1/posts/{ids[5]}").status_code == 404
    assert admin.get(f"{C}/{pair['id']}/messages").status_code == 404
    hidden = admin.post(f"/api/v1/posts/{flagged}/hide", json={"reason": "threat"})
    assert hidden.status_code == 200 and hidden.get_json()["hidden"]
    assert "m7" not in _messages(ada, pair["id"]) and "m7" in _messages(bob, pair["id"])  # bob still sees his, hidden
    assert admin.get("/api/v1/moderation/conversations/queue").get_json()["items"] == []
    # Only admins read the queue: not a participant, not a brand manager.
    assert ada.get("/api/v1/moderation/conversations/queue").status_code == 403


def test_export_has_my_messages_and_erasure_removes_mine_and_keeps_theirs(people, app):
    ada, bob, cyd = people["ada"], people["bob"], people["cyd"]
    pair = _start(ada, "bob", body="ada one").get_json()
    bob.post(f"{C}/{pair['id']}/messages", json={"body": "bob one"})
    group = _start(bob, "ada", "cyd", title="Three", body="bob to all").get_json()
    ada.post(f"{C}/{group['id']}/messages", json={"body": "ada to all"})
    export = ada.get("/api/v1/me/export").get_json()
    conversations = {c["id"]: c for c in export["conversations"]}
    assert [m["body"] for m in conversations[pair["id"]]["messages"]] == ["ada one"]
    assert [m["body"] for m in conversations[group["id"]]["messages"]] == ["ada to all"]
    assert conversations[group["id"]]["title"] == "Three"
    # Bob's export of the same conversations holds his messages, not Ada's.
    bob_export = {c["id"]: c for c in bob.get("/api/v1/me/export").get_json()["conversations"]}
    assert [m["body"] for m in bob_export[pair["id"]]["messages"]] == ["bob one"]

    assert ada.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204
    assert _messages(bob, pair["id"]) == [None, "bob one"]
    assert _messages(cyd, group["id"]) == ["bob to all", None]
    from sqlalchemy import select

    from community.models import Post
    from core.extensions import db

    with app.app_context():  # the text is gone from the database, not only from the answers
        stored = db.session.scalars(select(Post.body).where(Post.author_id == ada.id)).all()
        assert stored and set(stored) == {""}
    participants = bob.get(f"{C}/{group['id']}").get_json()["participants"]
    assert sorted(p["handle"] for p in participants) == ["bob", "cyd"]


def test_search_finds_a_conversation_s_messages_for_its_participants_alone(people, make_actor):
    ada, bob, cyd = people["ada"], people["bob"], people["cyd"]
    admin = make_actor("admin", "root_rita")
    group = _start(ada, "bob", group=True, title="Kelp dinner plans", body="the seaweed risotto recipe")
    assert group.status_code == 201, group.get_json()

    def found(actor, **query):
        response = actor.get("/api/v1/search", query_string={"q": "seaweed risotto", **query})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["items"]

    assert [hit["space_id"] for hit in found(bob)] == [group.get_json()["id"]]
    assert found(cyd) == [] and found(admin) == []
    # A conversation is no community space: its title is not a space to find, even for its participants.
    assert bob.get("/api/v1/search", query_string={"q": "kelp dinner", "type": "spaces"}).get_json()["items"] == []
