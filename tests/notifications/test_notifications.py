"""Notifications through the public API: each kind exactly when it should, levels, mutes and
blocks, visibility, the inbox, export and erasure (docs/notifications.md)."""

from __future__ import annotations

import pytest


def _thread(actor, space_id, title="Hello", body="First post"):
    response = actor.post(f"/api/v1/spaces/{space_id}/threads", json={"title": title, "body": body})
    assert response.status_code == 201, response.get_json()
    thread = response.get_json()
    first = actor.get(f"/api/v1/threads/{thread['id']}/posts").get_json()["items"][0]
    return thread["id"], first["id"]


def _post(actor, thread_id, body="A reply", parent_id=None):
    response = actor.post(f"/api/v1/threads/{thread_id}/posts", json={"body": body, "parent_id": parent_id})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _inbox(actor, **query):
    response = actor.get("/api/v1/notifications", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def _kinds(actor):
    return [(n["kind"], n["post_id"]) for n in _inbox(actor)]


def _level(actor, what, ident, level):
    response = actor.put(f"/api/v1/{what}/{ident}/notification-level", json={"level": level})
    assert response.status_code == 200, response.get_json()


def _join(actor, space_id):
    assert actor.post(f"/api/v1/spaces/{space_id}/join").status_code in (200, 201)


def test_mention_reply_and_batched_reactions(world, make_actor):
    member, moderator = world["member"], world["moderator"]
    thread_id, first = _thread(member, world["public"])
    reply = _post(moderator, thread_id, "Nice one", parent_id=first)
    mention = _post(moderator, thread_id, "What do you think, @mem_max?")
    assert _kinds(member) == [("mention", mention), ("reply", reply)]
    reply_note = _inbox(member)[1]
    assert reply_note["actor"]["handle"] == "mod_maya" and reply_note["thread_id"] == thread_id
    assert _kinds(moderator) == []  # own actions never notify

    third = make_actor(handle="third_tim")
    _join(third, world["public"])
    for reactor, emoji in ((moderator, "👍"), (third, "🎉"), (moderator, "🎉")):
        assert reactor.post(f"/api/v1/posts/{first}/reactions", json={"emoji": emoji}).status_code == 201
    member.post(f"/api/v1/posts/{first}/reactions", json={"emoji": "👍"})  # reacting to my own post: nothing
    reactions = [n for n in _inbox(member) if n["kind"] == "reaction"]
    assert len(reactions) == 1 and reactions[0]["count"] == 3
    assert reactions[0]["data"]["actors"] == [moderator.id, third.id]
    assert reactions[0]["actor"]["handle"] == "mod_maya"

    # once read, the next reaction starts a new row
    assert member.post(f"/api/v1/notifications/{reactions[0]['id']}/read").status_code == 200
    assert third.post(f"/api/v1/posts/{first}/reactions", json={"emoji": "👍"}).status_code == 201
    reactions = [n for n in _inbox(member) if n["kind"] == "reaction"]
    assert [(r["count"], r["read_at"] is None) for r in reactions] == [(1, True), (3, False)]


def test_levels_watching_tracking_normal_muted(world, make_actor):
    manager, member, moderator = world["manager"], world["member"], world["moderator"]
    watcher, tracker, muter = make_actor(handle="watch_wes"), make_actor(handle="track_tia"), make_actor(handle="mute_mo")
    for actor, level in ((watcher, "watching"), (tracker, "tracking"), (muter, "muted")):
        _join(actor, world["public"])
        _level(actor, "spaces", world["public"], level)
    thread_id, first = _thread(member, world["public"])
    assert _kinds(watcher) == [("new_thread", first)]
    assert _kinds(tracker) == [("new_thread", first)]
    assert _kinds(muter) == [] and _kinds(manager) == []

    later = _post(moderator, thread_id, "Second post, and hello @mute_mo and @track_tia")
    assert _kinds(watcher)[0] == ("watched_post", later)  # watching the space: every post
    assert _kinds(tracker)[0] == ("mention", later)  # tracking: mentions, not every post
    assert _kinds(muter) == []  # a muted space never notifies, mentions included
    # the thread's author now tracks it: a plain post does not notify them, a reply does
    assert member.get(f"/api/v1/threads/{thread_id}/notification-level").get_json() == {"level": "tracking", "chosen": True}
    assert _kinds(member) == []
    _level(member, "threads", thread_id, "watching")
    third = _post(moderator, thread_id, "Third")
    assert _kinds(member) == [("watched_post", third)]
    # a thread level wins over the space's: the watcher mutes this thread
    _level(watcher, "threads", thread_id, "muted")
    _post(moderator, thread_id, "Fourth, @watch_wes")
    assert [k for k, _ in _kinds(watcher)] == ["watched_post", "watched_post", "new_thread"]
    assert watcher.get(f"/api/v1/threads/{thread_id}/notification-level").get_json() == {"level": "muted", "chosen": True}
    assert tracker.get(f"/api/v1/threads/{thread_id}/notification-level").get_json() == {"level": "normal", "chosen": False}


def test_blocks_mutes_and_invisible_content_never_notify(world, make_actor):
    member, moderator, outsider = world["member"], world["moderator"], world["outsider"]
    for actor in (member, outsider):
        _level(actor, "spaces", world["public"], "watching")
    assert member.put(f"/api/v1/me/blocks/{moderator.id}").status_code == 201
    thread_id, first = _thread(moderator, world["public"], body="hi @mem_max")
    assert _kinds(member) == []  # blocked: no new thread, no mention
    assert _kinds(outsider) == [("new_thread", first)]  # a public space: visible without joining

    # a private space: an outsider cannot even choose a level, and is never told of its posts
    assert outsider.put(f"/api/v1/spaces/{world['private']}/notification-level", json={"level": "watching"}).status_code == 404
    _level(member, "spaces", world["private"], "watching")
    assert member.delete(f"/api/v1/me/blocks/{moderator.id}").status_code == 204
    private_thread, private_first = _thread(moderator, world["private"], body="secret for @out_olga")
    assert _kinds(outsider) == [("new_thread", first)]  # the mention of someone who cannot see: nothing
    assert _kinds(member)[0] == ("new_thread", private_first)
    # a thread moved to a private space: its notifications follow it out of the outsider's inbox
    assert moderator.post(f"/api/v1/threads/{thread_id}/move",
                          json={"space_id": world["private"], "reason": "Team only"}).status_code == 200
    assert _kinds(outsider) == []
    # losing access takes the notifications of that space out of the inbox and the count
    assert member.post(f"/api/v1/spaces/{world['private']}/leave").status_code in (200, 204)
    assert _kinds(member) == []
    assert member.get("/api/v1/notifications/unread-count").get_json() == {"unread": 0}


def test_moderation_outcomes_and_hidden_posts(world):
    member, moderator = world["member"], world["moderator"]
    thread_id, first = _thread(member, world["public"])
    reply = _post(moderator, thread_id, "hello", parent_id=first)
    assert moderator.post(f"/api/v1/posts/{reply}/reactions", json={"emoji": "👍"}).status_code == 201
    assert member.post(f"/api/v1/posts/{reply}/reactions", json={"emoji": "👍"}).status_code == 201
    assert [k for k, _ in _kinds(moderator)] == ["reaction"]
    assert moderator.post(f"/api/v1/posts/{first}/hide", json={"reason": "Off topic"}).status_code == 200
    notes = _inbox(member)
    assert notes[0]["kind"] == "moderation" and notes[0]["post_id"] == first and notes[0]["actor"] is None
    assert notes[0]["data"]["action"] == "post_hidden" and notes[0]["data"]["reason"] == "Off topic"
    assert moderator.post(f"/api/v1/posts/{first}/unhide", json={"reason": "Fine after all"}).status_code == 200
    assert _inbox(member)[0]["data"]["action"] == "post_unhidden"
    # a removed post takes the notifications about it along (not its author's moderation outcome)
    # removing a post takes the notifications about it along (not its author's moderation outcome)
    assert [k for k, _ in _kinds(moderator)] == ["reaction"]
    assert moderator.post(f"/api/v1/posts/{reply}/remove", json={"reason": "Oops"}).status_code == 200
    assert [n["data"]["action"] for n in _inbox(member)] == ["post_unhidden", "post_hidden"]  # the reply went
    assert _kinds(moderator) == []  # the reaction to it went; and their own action told them nothing
    assert moderator.put(f"/api/v1/spaces/{world['public']}/mutes/{member.id}",
                         json={"reason": "Cool off", "until": "2999-01-01T00:00:00Z"}).status_code in (200, 201)
    assert _inbox(member)[0]["data"]["action"] == "member_muted"


def test_inbox_paging_unread_and_mark_read(world):
    member, moderator = world["member"], world["moderator"]
    thread_id, first = _thread(member, world["public"])
    ids = [_post(moderator, thread_id, f"reply {i}", parent_id=first) for i in range(5)]
    assert member.get("/api/v1/notifications/unread-count").get_json() == {"unread": 5}
    page = member.get("/api/v1/notifications", query_string={"limit": 2}).get_json()
    assert [n["post_id"] for n in page["items"]] == ids[::-1][:2]
    seen = [n["post_id"] for n in page["items"]]
    while page["next_cursor"]:
        page = member.get("/api/v1/notifications", query_string={"limit": 2, "cursor": page["next_cursor"]}).get_json()
        seen += [n["post_id"] for n in page["items"]]
    assert seen == ids[::-1]
    notes = _inbox(member)
    oldest = notes[-1]["id"]
    resumed = _inbox(member, after=oldest)  # resume: newer than the last seen, oldest first
    assert [n["post_id"] for n in resumed] == ids[1:] and oldest not in [n["id"] for n in resumed]
    assert member.post(f"/api/v1/notifications/{notes[0]['id']}/read").get_json()["read_at"] is not None
    assert member.get("/api/v1/notifications/unread-count").get_json() == {"unread": 4}
    assert len(_inbox(member, unread="true")) == 4
    assert moderator.post(f"/api/v1/notifications/{notes[0]['id']}/read").status_code == 404  # not theirs
    marked = member.post("/api/v1/notifications/read", json={"up_to": notes[2]["id"]}).get_json()
    assert marked == {"marked": 3, "unread": 1}
    assert member.post("/api/v1/notifications/read", json={}).get_json() == {"marked": 1, "unread": 0}


def test_export_and_erasure(world):
    from tests.helpers import PASSWORD

    member, moderator = world["member"], world["moderator"]
    thread_id, first = _thread(member, world["public"])
    reply = _post(moderator, thread_id, "hey", parent_id=first)
    _level(member, "spaces", world["public"], "watching")
    _level(moderator, "spaces", world["public"], "watching")
    data = member.get("/api/v1/me/export").get_json()["notifications"]
    assert [(n["kind"], n["post_id"], n["actor_id"]) for n in data["inbox"]] == [("reply", reply, moderator.id)]
    assert [(l["space_id"], l["level"]) for l in data["space_levels"]] == [(world["public"], "watching")]
    assert [(l["thread_id"], l["level"]) for l in data["thread_levels"]] == [(thread_id, "tracking")]

    _post(member, thread_id, "one more", parent_id=reply)  # the moderator now has a notification the member caused
    assert [n["actor"]["handle"] for n in _inbox(moderator)] == ["mem_max"]
    assert member.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204
    assert _inbox(moderator) == []  # the erased member's posts went, and the notifications about them
    data = moderator.get("/api/v1/me/export").get_json()["notifications"]
    assert data["inbox"] == []


def test_a_message_in_a_direct_conversation_notifies_the_other_participants(make_actor):
    ada, bob, cyd, dee = (make_actor(handle=h) for h in ("dm_ada", "dm_bob", "dm_cyd", "dm_dee"))
    started = ada.post("/api/v1/conversations", json={"handles": ["dm_bob", "dm_cyd", "dm_dee"], "group": True,
                                                      "body": "dinner on friday?"})
    assert started.status_code == 201, started.get_json()
    conversation = started.get_json()["id"]
    def kinds_of(actor):
        return [kind for kind, _post in _kinds(actor)]

    assert kinds_of(bob) == kinds_of(cyd) == kinds_of(dee) == ["direct_message"] and _kinds(ada) == []
    _level(cyd, "spaces", conversation, "muted")  # a participant may mute the conversation
    assert dee.put(f"/api/v1/me/blocks/{ada.id}").status_code in (200, 201, 204)
    reply = ada.post(f"/api/v1/conversations/{conversation}/messages", json={"body": "@dm_bob bring bread"})
    assert reply.status_code == 201, reply.get_json()
    assert kinds_of(bob) == ["mention", "direct_message"]  # newest first; told once per message: the mention covers it
    assert kinds_of(cyd) == ["direct_message"] and kinds_of(dee) == ["direct_message"]  # muted, blocked: not told again
