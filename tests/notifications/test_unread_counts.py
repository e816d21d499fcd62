"""Unread counts per thread, as ``tracking`` implies (docs/notifications.md, "Unread counts"):
read positions, marking read, counts in the thread listings, export and erasure."""

from __future__ import annotations

from sqlalchemy import select

from community.models import ThreadReadPosition
from core.extensions import db
from tests.helpers import PASSWORD


def _thread(actor, space_id, title="Hello", body="First post"):
    response = actor.post(f"/api/v1/spaces/{space_id}/threads", json={"title": title, "body": body})
    assert response.status_code == 201, response.get_json()
    thread_id = response.get_json()["id"]
    return thread_id, actor.get(f"/api/v1/threads/{thread_id}/posts").get_json()["items"][0]["id"]


def _post(actor, thread_id, body="A reply"):
    response = actor.post(f"/api/v1/threads/{thread_id}/posts", json={"body": body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _listed(actor, space_id):
    """``{thread id: (read_post_id, unread)}`` from the space's thread listing."""
    response = actor.get(f"/api/v1/spaces/{space_id}/threads")
    assert response.status_code == 200, response.get_json()
    return {t["id"]: (t["read_post_id"], t["unread"]) for t in response.get_json()["items"]}


def _level(actor, what, ident, level):
    response = actor.put(f"/api/v1/{what}/{ident}/notification-level", json={"level": level})
    assert response.status_code == 200, response.get_json()


def _read(actor, thread_id, post_id=None):
    return actor.post(f"/api/v1/threads/{thread_id}/read", json={} if post_id is None else {"post_id": post_id})


def test_counts_rise_with_others_posts_and_fall_when_read_never_moving_back(world):
    member, moderator, space = world["member"], world["moderator"], world["public"]
    thread_id, first = _thread(member, space)  # the author tracks it and has read their own post
    assert _listed(member, space) == {thread_id: (first, 0)}
    replies = [_post(moderator, thread_id, f"reply {n}") for n in range(3)]
    assert _listed(member, space)[thread_id] == (first, 3)

    marked = _read(member, thread_id, replies[1])
    assert marked.status_code == 200, marked.get_json()
    assert (marked.get_json()["read_post_id"], marked.get_json()["unread"]) == (replies[1], 1)
    assert _read(member, thread_id, replies[0]).get_json()["read_post_id"] == replies[1]  # never back
    assert _listed(member, space)[thread_id] == (replies[1], 1)

    own = _post(member, thread_id, "my answer")  # my own post: not unread, and reads what came before it
    assert _listed(member, space)[thread_id] == (own, 0)
    later = _post(moderator, thread_id, "and another")
    assert member.get(f"/api/v1/threads/{thread_id}").get_json()["unread"] == 1
    marked = _read(member, thread_id).get_json()  # no post named: up to the latest
    assert (marked["id"], marked["read_post_id"], marked["unread"]) == (thread_id, later, 0)


def test_only_tracked_and_watched_threads_carry_a_count(world):
    member, moderator, space = world["member"], world["moderator"], world["public"]
    tracked, _ = _thread(member, space, "Mine")
    other, _ = _thread(moderator, space, "Theirs")
    _post(moderator, tracked)
    # the member never posted in the moderator's thread: normal, no count; the moderator posted in both
    assert _listed(member, space) == {tracked: (_listed(member, space)[tracked][0], 1), other: (None, None)}
    assert _listed(moderator, space)[tracked][1] == 0 and _listed(moderator, space)[other][1] == 0

    _level(member, "spaces", space, "watching")  # watching the space watches its threads
    assert _listed(member, space)[other] == (None, 1)
    _level(member, "threads", other, "normal")  # a thread's own level wins
    assert _listed(member, space)[other] == (None, None)
    _level(member, "threads", tracked, "muted")
    assert _listed(member, space)[tracked][1] is None
    _level(member, "threads", tracked, "tracking")
    _level(member, "spaces", space, "muted")  # a muted space mutes its threads, whatever they say
    assert _listed(member, space) == {tracked: (_listed(member, space)[tracked][0], None), other: (None, None)}


def test_hidden_deleted_and_filtered_posts_do_not_count(world, make_actor):
    member, moderator, space = world["member"], world["moderator"], world["public"]
    thread_id, _first = _thread(member, space)
    stranger = make_actor(handle="loud_lou")
    assert stranger.post(f"/api/v1/spaces/{space}/join").status_code in (200, 201)
    hidden, deleted, muted_one = _post(moderator, thread_id, "off"), _post(moderator, thread_id, "oops"), _post(stranger, thread_id)
    kept = _post(moderator, thread_id, "kept")
    assert _listed(member, space)[thread_id][1] == 4
    assert moderator.post(f"/api/v1/posts/{hidden}/hide", json={"reason": "off topic"}).status_code == 200
    assert moderator.delete(f"/api/v1/posts/{deleted}").status_code == 204
    assert member.put(f"/api/v1/me/mutes/{stranger.id}").status_code == 201
    assert _listed(member, space)[thread_id][1] == 1
    assert _read(member, thread_id, muted_one).get_json()["unread"] == 1  # the hidden post's neighbours still count
    assert _read(member, thread_id, kept).get_json()["unread"] == 0


def test_marking_read_needs_a_post_of_the_thread_and_a_thread_you_can_see(world):
    member, outsider, moderator = world["member"], world["outsider"], world["moderator"]
    public_thread, public_first = _thread(member, world["public"])
    private_thread, private_first = _thread(moderator, world["private"])
    wrong = _read(member, public_thread, private_first)
    assert wrong.status_code == 422 and "post_id" in wrong.get_json()["errors"]
    assert _read(member, public_thread, 2**31 - 1).status_code == 422  # no such post
    assert _read(outsider, private_thread).status_code == 404  # as if there were no such thread
    assert _read(outsider, private_thread, private_first).status_code == 404
    assert _read(outsider, 2**31 - 1).status_code == 404
    assert outsider.get(f"/api/v1/spaces/{world['private']}/threads").status_code == 404
    assert _read(member, public_thread, public_first).status_code == 200


def test_a_conversation_keeps_its_own_read_position(make_actor):
    ada, bob = make_actor(handle="rd_ada"), make_actor(handle="rd_bob")
    started = ada.post("/api/v1/conversations", json={"handles": ["rd_bob"], "body": "hi"}).get_json()
    assert _read(bob, started["thread_id"]).status_code == 409  # marked read as a conversation
    thread = bob.get(f"/api/v1/threads/{started['thread_id']}").get_json()
    assert (thread["read_post_id"], thread["unread"]) == (None, None)
    assert bob.get(f"/api/v1/conversations/{started['id']}").get_json()["unread_count"] == 1


def test_export_includes_read_positions_and_erasure_removes_them(app, world):
    member, moderator, space = world["member"], world["moderator"], world["public"]
    thread_id, _first = _thread(moderator, space)
    reply = _post(member, thread_id)
    latest = _post(moderator, thread_id)
    assert _read(moderator, thread_id, reply).status_code == 200
    exported = member.get("/api/v1/me/export").get_json()["thread_read_positions"]
    assert [(p["thread_id"], p["post_id"]) for p in exported] == [(thread_id, reply)]
    assert [p["post_id"] for p in moderator.get("/api/v1/me/export").get_json()["thread_read_positions"]] == [latest]

    assert member.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204
    with app.app_context():  # the erased account has no export left to ask: read the table
        remaining = list(db.session.scalars(select(ThreadReadPosition.account_id)))
        db.session.remove()
    assert remaining == [moderator.id]


def test_a_page_of_threads_costs_the_same_statements_however_many_are_tracked(app, world):
    from sqlalchemy import event

    member, moderator, space = world["member"], world["moderator"], world["public"]

    def statements_of_listing() -> int:
        seen = []
        record = lambda *args: seen.append(args[2])  # noqa: E731
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", record)
            try:
                assert member.get(f"/api/v1/spaces/{space}/threads").status_code == 200
            finally:
                event.remove(db.engine, "before_cursor_execute", record)
        return len(seen)

    thread_id, _ = _thread(member, space, "One")
    _post(moderator, thread_id)
    one = statements_of_listing()
    for n in range(4):
        more, _ = _thread(member, space, f"More {n}")
        _post(moderator, more)
    assert one and statements_of_listing() == one  # (one > 0: the listener sees the requests)
    assert sorted(unread for _read_post, unread in _listed(member, space).values()) == [1] * 5
