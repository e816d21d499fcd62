"""Threads, posts, replies, reactions and mentions, with the permission matrix and stable paging."""

from __future__ import annotations

import threading

import pytest

from community.models import Mention
from core.extensions import db


def _thread(actor, space, title="Hello", body="First post"):
    response = actor.post(f"/api/v1/spaces/{space}/threads", json={"title": title, "body": body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _posts(actor, thread_id, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return actor.get(f"/api/v1/threads/{thread_id}/posts?{query}").get_json()


@pytest.mark.parametrize(
    "who, space, status",
    [("member", "public", 201), ("moderator", "public", 201), ("outsider", "public", 403), ("analyst", "public", 403),
     ("member", "private", 201), ("outsider", "private", 404), ("analyst", "private", 404), ("admin", "public", 403)],
)
def test_who_may_start_a_thread(world, who, space, status):
    response = world[who].post(f"/api/v1/spaces/{world[space]}/threads", json={"title": "T", "body": "B"})
    assert response.status_code == status
    if status == 403:
        assert response.get_json()["type"] == "not-a-member"


def test_thread_with_first_post_and_reply(world):
    member, moderator = world["member"], world["moderator"]
    thread = _thread(member, world["public"], "Trail tips", "Share your **best** routes")
    first = _posts(member, thread["id"])["items"][0]
    reply = moderator.post(f"/api/v1/threads/{thread['id']}/posts", json={"body": "Ridge loop!", "parent_id": first["id"]})
    assert reply.status_code == 201
    body = reply.get_json()
    assert body["parent_id"] == first["id"] and body["seq"] == first["seq"] + 1
    assert body["author"]["handle"] == "mod_maya"
    assert [p["body"] for p in _posts(member, thread["id"])["items"]] == ["Share your **best** routes", "Ridge loop!"]


def test_reply_parent_must_be_in_the_same_thread(world):
    member = world["member"]
    one, two = _thread(member, world["public"]), _thread(member, world["public"])
    foreign = _posts(member, two["id"])["items"][0]["id"]
    response = member.post(f"/api/v1/threads/{one['id']}/posts", json={"body": "x", "parent_id": foreign})
    assert response.status_code == 422 and "parent_id" in response.get_json()["errors"]


def test_threads_list_pinned_first_then_latest_activity(app, world):
    member = world["member"]
    old, middle, pinned = (_thread(member, world["public"], t) for t in ("old", "middle", "pinned"))
    with app.app_context():
        from community.models import Thread

        db.session.get(Thread, pinned["id"]).pinned = True
        db.session.commit()
    member.post(f"/api/v1/threads/{old['id']}/posts", json={"body": "bump"})
    titles = [t["title"] for t in member.get(f"/api/v1/spaces/{world['public']}/threads").get_json()["items"]]
    assert titles == ["pinned", "old", "middle"]
    page1 = member.get(f"/api/v1/spaces/{world['public']}/threads?limit=2").get_json()
    page2 = member.get(f"/api/v1/spaces/{world['public']}/threads?limit=2&cursor={page1['next_cursor']}").get_json()
    assert [t["title"] for t in page1["items"] + page2["items"]] == titles and page2["next_cursor"] is None


def test_locked_thread_refuses_posts_and_edits(app, world):
    member = world["member"]
    thread = _thread(member, world["public"])
    first = _posts(member, thread["id"])["items"][0]
    with app.app_context():
        from community.models import Thread

        db.session.get(Thread, thread["id"]).locked = True
        db.session.commit()
    response = member.post(f"/api/v1/threads/{thread['id']}/posts", json={"body": "late"})
    assert response.status_code == 403 and response.get_json()["type"] == "thread-locked"
    assert member.patch(f"/api/v1/posts/{first['id']}", json={"body": "edit"}).status_code == 403


def test_only_the_author_edits_and_deletes(world):
    member, moderator, outsider = world["member"], world["moderator"], world["outsider"]
    thread = _thread(member, world["public"])
    post = _posts(member, thread["id"])["items"][0]
    for other in (moderator, outsider):
        assert other.patch(f"/api/v1/posts/{post['id']}", json={"body": "hijack"}).status_code == 403
        assert other.delete(f"/api/v1/posts/{post['id']}").status_code == 403
    edited = member.patch(f"/api/v1/posts/{post['id']}", json={"body": "fixed typo"}).get_json()
    assert edited["body"] == "fixed typo" and edited["edited_at"] is not None
    assert member.delete(f"/api/v1/posts/{post['id']}").status_code == 204
    after = member.get(f"/api/v1/posts/{post['id']}").get_json()
    assert after["deleted"] is True and after["body"] is None
    assert member.patch(f"/api/v1/posts/{post['id']}", json={"body": "again"}).status_code == 409
    # Soft delete keeps the post's place so replies still make sense.
    assert [p["id"] for p in _posts(member, thread["id"])["items"]] == [post["id"]]


def test_private_posts_are_invisible_to_outsiders(world):
    thread = _thread(world["member"], world["private"])
    post = _posts(world["member"], thread["id"])["items"][0]
    for who in ("outsider", "analyst"):
        assert world[who].get(f"/api/v1/threads/{thread['id']}").status_code == 404
        assert world[who].get(f"/api/v1/threads/{thread['id']}/posts").status_code == 404
        assert world[who].get(f"/api/v1/posts/{post['id']}").status_code == 404
        assert world[who].post(f"/api/v1/posts/{post['id']}/reactions", json={"emoji": "👍"}).status_code == 404


def test_reactions_one_per_account_post_and_emoji(world):
    member, moderator, outsider = world["member"], world["moderator"], world["outsider"]
    thread = _thread(member, world["public"])
    post_id = _posts(member, thread["id"])["items"][0]["id"]
    assert member.post(f"/api/v1/posts/{post_id}/reactions", json={"emoji": "👍"}).status_code == 201
    assert member.post(f"/api/v1/posts/{post_id}/reactions", json={"emoji": "👍"}).status_code == 200
    assert moderator.post(f"/api/v1/posts/{post_id}/reactions", json={"emoji": "👍"}).status_code == 201
    assert moderator.post(f"/api/v1/posts/{post_id}/reactions", json={"emoji": "❤️"}).status_code == 201
    assert outsider.post(f"/api/v1/posts/{post_id}/reactions", json={"emoji": "👍"}).status_code == 403
    summary = member.get(f"/api/v1/posts/{post_id}").get_json()["reactions"]
    assert summary == [{"emoji": "👍", "count": 2, "mine": True}, {"emoji": "❤️", "count": 1, "mine": False}]
    assert member.delete(f"/api/v1/posts/{post_id}/reactions?emoji=👍").status_code == 204
    summary = member.get(f"/api/v1/posts/{post_id}").get_json()["reactions"]
    assert summary[0] == {"emoji": "👍", "count": 1, "mine": False}


@pytest.mark.parametrize("emoji", ["hello", "<b>", "", "👍" * 11, "a👍"])
def test_reaction_must_be_an_emoji(world, emoji):
    thread = _thread(world["member"], world["public"])
    post_id = _posts(world["member"], thread["id"])["items"][0]["id"]
    assert world["member"].post(f"/api/v1/posts/{post_id}/reactions", json={"emoji": emoji}).status_code == 422


def test_mentions_are_extracted_only_for_people_who_can_see(app, world):
    member = world["member"]
    body = "Thanks @MOD_MAYA and @out_olga! email me@example.com, @nobody_here, @mod_maya again"
    public = _thread(member, world["public"], body=body)
    private = _thread(member, world["private"], body=body)

    def mentioned(thread):
        with app.app_context():
            from community.models import Post
            from core.accounts import Account

            post = db.session.scalar(db.select(Post).where(Post.thread_id == thread["id"]))
            rows = db.session.scalars(db.select(Account.handle).join(Mention, Mention.account_id == Account.id).where(Mention.post_id == post.id))
            return sorted(rows)

    assert mentioned(public) == ["mod_maya", "out_olga"]
    assert mentioned(private) == ["mod_maya"]  # olga cannot see the private space


def test_edit_recomputes_mentions(app, world):
    member = world["member"]
    thread = _thread(member, world["public"], body="hi @mod_maya")
    post_id = _posts(member, thread["id"])["items"][0]["id"]
    member.patch(f"/api/v1/posts/{post_id}", json={"body": "hi @out_olga"})
    with app.app_context():
        ids = sorted(db.session.scalars(db.select(Mention.account_id).where(Mention.post_id == post_id)))
    assert ids == [world["outsider"].id]


def test_my_mentions_lists_what_i_may_still_read_newest_first(world, client):
    member, moderator, outsider = world["member"], world["moderator"], world["outsider"]
    first = _thread(member, world["public"], body="@mod_maya and @out_olga, welcome")
    _thread(member, world["private"], body="@out_olga cannot read this")
    later = _thread(moderator, world["public"], body="thanks @out_olga, and @mod_maya myself")
    gone = _thread(member, world["public"], body="@out_olga this one goes")
    gone_post = _posts(member, gone["id"])["items"][0]["id"]
    assert member.delete(f"/api/v1/posts/{gone_post}").status_code == 204

    def mentions(actor, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        response = actor.get(f"/api/v1/me/mentions?{query}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    page = mentions(outsider, limit=1)
    assert [p["thread_id"] for p in page["items"]] == [later["id"]]
    rest = mentions(outsider, limit=1, cursor=page["next_cursor"])
    assert [p["thread_id"] for p in rest["items"]] == [first["id"]] and rest["next_cursor"] is None
    assert [p["thread_id"] for p in mentions(moderator)["items"]] == [first["id"]]  # not her own @mod_maya
    assert outsider.put(f"/api/v1/me/mutes/{world['moderator'].id}").status_code == 201
    assert [p["thread_id"] for p in mentions(outsider)["items"]] == [first["id"]]
    assert outsider.get("/api/v1/me/mentions?limt=5").status_code == 422
    assert client.get("/api/v1/me/mentions").status_code == 401


def test_post_pages_are_stable_while_others_post(world):
    member, moderator = world["member"], world["moderator"]
    thread = _thread(member, world["public"], body="p0")
    for i in range(1, 7):
        member.post(f"/api/v1/threads/{thread['id']}/posts", json={"body": f"p{i}"})
    seen, cursor = [], None
    while True:
        page = _posts(member, thread["id"], limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [p["body"] for p in page["items"]]
        # Someone posts between every page fetch.
        moderator.post(f"/api/v1/threads/{thread['id']}/posts", json={"body": f"late{len(seen)}"})
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[:7] == [f"p{i}" for i in range(7)]
    assert len(seen) == len(set(seen))
    assert all(body.startswith("late") for body in seen[7:])


def test_concurrent_posts_get_distinct_gap_free_sequence_numbers(app, world):
    member = world["member"]
    thread = _thread(member, world["public"])
    errors = []

    def post_many(n):
        for i in range(n):
            response = member.post(f"/api/v1/threads/{thread['id']}/posts", json={"body": f"c{i}"})
            if response.status_code != 201:
                errors.append(response.get_json())

    workers = [threading.Thread(target=post_many, args=(8,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    seqs = [p["seq"] for p in _posts(member, thread["id"], limit=200)["items"]]
    assert seqs == list(range(1, 34))  # posts are the only events of this space so far


def test_cursor_from_another_list_is_refused(world):
    member = world["member"]
    one, two = _thread(member, world["public"]), _thread(member, world["public"])
    for _ in range(2):
        member.post(f"/api/v1/threads/{one['id']}/posts", json={"body": "x"})
    cursor = _posts(member, one["id"], limit=1)["next_cursor"]
    response = member.get(f"/api/v1/threads/{two['id']}/posts?cursor={cursor}")
    assert response.status_code == 422 and "cursor" in response.get_json()["errors"]


_UNUSED = 1_000_000  # an id no row has


@pytest.mark.parametrize(
    "method, url, body",
    [
        ("get", "/posts/{post}", None),
        ("patch", "/posts/{post}", {"body": "edited"}),
        ("delete", "/posts/{post}", None),
        ("post", "/posts/{post}/reactions", {"emoji": "🌊"}),
        ("delete", "/posts/{post}/reactions?emoji=%F0%9F%8C%8A", None),
        ("post", "/posts/{post}/flags", {"reason": "spam"}),
        ("get", "/posts/{post}/moderation", None),
        ("post", "/posts/{post}/appeal", {"text": "please"}),
        ("post", "/posts/{post}/hide", {"reason": "tidy"}),
        ("get", "/threads/{thread}", None),
        ("get", "/threads/{thread}/posts", None),
        ("post", "/threads/{thread}/posts", {"body": "hello"}),
        ("post", "/threads/{thread}/lock", {"reason": "tidy"}),
        ("get", "/spaces/{space}", None),
        ("get", "/spaces/{space}/members", None),
        ("get", "/spaces/{space}/threads", None),
        ("post", "/spaces/{space}/threads", {"title": "t", "body": "b"}),
        ("post", "/spaces/{space}/join", None),
        ("get", "/spaces/{space}/moderation/settings", None),
        ("get", "/spaces/{space}/moderation/queue", None),
    ],
)
def test_private_objects_answer_exactly_like_ids_never_used(world, method, url, body):
    """An outsider cannot tell a private space's space, thread or post from one that does not exist."""
    thread = _thread(world["member"], world["private"], title="Secret", body="Inside")
    post = _posts(world["member"], thread["id"])["items"][0]["id"]
    outsider = world["outsider"]
    kwargs = {"json": body} if body is not None else {}

    def ask(space, thread_id, post_id):
        return getattr(outsider, method)("/api/v1" + url.format(space=space, thread=thread_id, post=post_id), **kwargs)

    hidden, unused = ask(world["private"], thread["id"], post), ask(_UNUSED, _UNUSED, _UNUSED)
    assert hidden.status_code == unused.status_code == 404
    assert hidden.get_json() == unused.get_json()
    assert hidden.headers["Content-Type"] == unused.headers["Content-Type"]


def test_a_client_msg_id_resent_with_another_body_is_a_conflict(world):
    """The same key with the same post is a resend (200, the first post); with another body it is
    a client bug that would otherwise lose the second message silently (409). Once the post is
    edited, what was sent is no longer known: a resend gets the post as it is."""
    member = world["member"]
    thread = _thread(member, world["public"])
    url = f"/api/v1/threads/{thread['id']}/posts"
    first = member.post(url, json={"body": "first words", "client_msg_id": "k-1"})
    assert first.status_code == 201
    assert member.post(url, json={"body": "first words", "client_msg_id": "k-1"}).get_json()["id"] == first.get_json()["id"]
    other = member.post(url, json={"body": "other words", "client_msg_id": "k-1"})
    assert other.status_code == 409 and other.get_json()["type"].endswith("client-msg-id-reused")
    assert [p["body"] for p in _posts(member, thread["id"])["items"]].count("other words") == 0
    assert member.patch(f"/api/v1/posts/{first.get_json()['id']}", json={"body": "edited words"}).status_code == 200
    again = member.post(url, json={"body": "first words", "client_msg_id": "k-1"})
    assert again.status_code == 200 and again.get_json()["body"] == "edited words"
