"""Flags, the review queue, hiding and unhiding, dismissing, and the append-only audit log."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from app import create_app
from community.models import AuditEntry, AuditLogIsAppendOnly
from core.extensions import db
from tests.community.moderation_fixtures import mw, post_in, start_thread  # noqa: F401 (fixture)
from tests.helpers import base_config
from tests.core.test_migrations import empty_database_url  # noqa: F401 (fixture)

API = "/api/v1"


def _flag(actor, post_id, reason="spam", **extra):
    return actor.post(f"{API}/posts/{post_id}/flags", json={"reason": reason, **extra})


def _bodies(actor, thread_id):
    return [p["body"] for p in actor.get(f"{API}/threads/{thread_id}/posts").get_json()["items"]]


def _audit(actor, space_id, **params):
    response = actor.get(f"{API}/spaces/{space_id}/moderation/audit", query_string=params)
    assert response.status_code == 200, response.get_json()
    return [e for e in response.get_json()["items"] if e["action"] != "member_role_changed"]  # the fixture's staff set-up


def _members(mw, make_actor, count):
    people = []
    for i in range(count):
        person = make_actor(handle=f"flagger_{i}")
        assert mw["manager"].put(f"{API}/spaces/{mw['public']}/members/{person.id}", json={"role": "member"}).status_code == 200
        people.append(person)
    return people


# Flags -------------------------------------------------------------------------------


def test_a_regulars_flag_weighs_more(app, mw, make_actor):
    app.config.update(FLAG_HIDE_THRESHOLD=3, FLAG_WEIGHT_REGULAR=2)
    thread_id, post_id = mw["threads"]["public"]
    ordinary, regular = _members(mw, make_actor, 2)
    admin = make_actor("admin", "trust_admin")
    assert admin.put(f"{API}/accounts/{regular.id}/trust-level", json={"level": 3, "locked": True}).status_code == 200
    assert _flag(regular, post_id).status_code == 201
    assert "Post in public" in _bodies(mw["outsider"], thread_id)  # 2 of 3
    assert _flag(ordinary, post_id).status_code == 201
    assert _bodies(mw["outsider"], thread_id) == []  # 2 + 1: hidden pending review, by two members
    assert "flagged by 2 members" in _audit(mw["moderator"], mw["public"])[0]["reason"]


def test_flag_once_per_member_never_your_own(mw):
    _thread, post_id = mw["threads"]["public"]
    first = _flag(mw["member"], post_id, "other", text="Looks like an advert")
    assert first.status_code == 201
    assert first.get_json()["reason"] == "other" and first.get_json()["text"] == "Looks like an advert"
    again = _flag(mw["member"], post_id, "abuse")
    assert again.status_code == 409 and again.get_json()["type"] == "already-flagged"
    own = _flag(mw["poster"], post_id)
    assert own.status_code == 403 and own.get_json()["type"] == "own-post"


@pytest.mark.parametrize("body, field", [
    ({"reason": "rude"}, "reason"), ({}, "reason"), ({"reason": "spam", "text": "x" * 501}, "text"),
    ({"reason": "spam", "extra": 1}, "extra"), ({"reason": "spam", "text": "bad\x00"}, "text"),
])
def test_flag_input_is_validated(mw, body, field):
    _thread, post_id = mw["threads"]["public"]
    response = mw["member"].post(f"{API}/posts/{post_id}/flags", json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_who_may_flag(mw):
    _thread, post_id = mw["threads"]["public"]
    assert _flag(mw["outsider"], post_id).status_code == 403  # not a member of the public space
    assert _flag(mw["analyst"], post_id).status_code == 403
    _thread, private_post = mw["threads"]["private"]
    assert _flag(mw["outsider"], private_post).status_code == 404
    assert _flag(mw["analyst"], private_post).status_code == 404
    assert _flag(mw["member"], private_post).status_code == 201


def test_threshold_of_distinct_flaggers_hides_pending_review(app, mw, make_actor):
    app.config["FLAG_HIDE_THRESHOLD"] = 3
    thread_id, post_id = mw["threads"]["public"]
    flaggers = [mw["member"], *_members(mw, make_actor, 2)]
    for person in flaggers[:2]:
        assert _flag(person, post_id).status_code == 201
    assert "Post in public" in _bodies(mw["outsider"], thread_id)
    assert _flag(flaggers[2], post_id, "abuse").status_code == 201
    assert _bodies(mw["outsider"], thread_id) == []  # gone for members and readers
    assert mw["outsider"].get(f"{API}/posts/{post_id}").status_code == 404
    staff_view = mw["moderator"].get(f"{API}/threads/{thread_id}/posts").get_json()["items"]
    assert staff_view[0]["hidden"] and staff_view[0]["body"] == "Post in public"
    entry = _audit(mw["moderator"], mw["public"])[0]
    assert entry["action"] == "post_hidden" and entry["actor"] is None and entry["actor_id"] is None
    assert entry["after"] == {"hidden": True, "by": "flags"} and "flagged by 3 members" in entry["reason"]
    queue = mw["moderator"].get(f"{API}/spaces/{mw['public']}/moderation/queue").get_json()["items"]
    assert [(i["post"]["id"], i["flag_count"]) for i in queue] == [(post_id, 3)]
    assert sorted(f["reason"] for f in queue[0]["flags"]) == ["abuse", "spam", "spam"]
    # Dismissing the flags shows the post again: the review found nothing wrong.
    dismissed = mw["moderator"].post(f"{API}/posts/{post_id}/flags/dismiss", json={"reason": "Fine, a real question"})
    assert dismissed.status_code == 200 and dismissed.get_json()["hidden"] is False
    assert _bodies(mw["outsider"], thread_id) == ["Post in public"]
    assert mw["moderator"].get(f"{API}/spaces/{mw['public']}/moderation/queue").get_json()["items"] == []
    actions = [e["action"] for e in _audit(mw["moderator"], mw["public"])]
    assert actions[:3] == ["post_unhidden", "flags_dismissed", "post_hidden"]


def test_queue_groups_by_post_oldest_first_and_pages(mw, make_actor):
    thread_id, first = mw["threads"]["public"]
    later = post_in(mw["poster"], thread_id, "second")["id"]
    third = post_in(mw["poster"], thread_id, "third")["id"]
    other = _members(mw, make_actor, 1)[0]
    for post_id in (later, first, third):
        assert _flag(mw["member"], post_id).status_code == 201
    assert _flag(other, later, "off_topic").status_code == 201
    moderator = mw["moderator"]
    page1 = moderator.get(f"{API}/spaces/{mw['public']}/moderation/queue?limit=2").get_json()
    page2 = moderator.get(f"{API}/spaces/{mw['public']}/moderation/queue?limit=2&cursor={page1['next_cursor']}").get_json()
    items = page1["items"] + page2["items"]
    assert [i["post"]["id"] for i in items] == [later, first, third] and page2["next_cursor"] is None
    assert [i["flag_count"] for i in items] == [2, 1, 1]
    assert items[0]["first_flagged_at"] <= items[1]["first_flagged_at"]
    assert items[0]["flags"][0]["flagger_id"] == mw["member"].id and items[0]["appeal"] is None
    assert moderator.post(f"{API}/posts/{first}/flags/dismiss", json={"reason": "ok"}).status_code == 200
    again = moderator.post(f"{API}/posts/{first}/flags/dismiss", json={"reason": "ok"})
    assert again.status_code == 409 and again.get_json()["type"] == "no-pending-flags"


# Hide and unhide ---------------------------------------------------------------------------


def test_hidden_post_vanishes_for_members_author_sees_why(mw):
    thread_id, post_id = mw["threads"]["public"]
    reply = post_in(mw["member"], thread_id, "still here")
    hidden = mw["moderator"].post(f"{API}/posts/{post_id}/hide", json={"reason": "Advertising"})
    assert hidden.status_code == 200 and hidden.get_json()["hidden"] is True
    assert _bodies(mw["member"], thread_id) == ["still here"]
    assert mw["member"].get(f"{API}/posts/{post_id}").status_code == 404
    # Reacting to or flagging a post you cannot see is a 404 too.
    assert mw["member"].post(f"{API}/posts/{post_id}/reactions", json={"emoji": "👍"}).status_code == 404
    assert _flag(mw["member"], post_id).status_code == 404
    own = mw["poster"].get(f"{API}/threads/{thread_id}/posts").get_json()["items"]
    assert [(p["body"], p["hidden"], p["hidden_reason"]) for p in own] == [
        ("Post in public", True, "Advertising"), ("still here", False, None)]
    why = mw["poster"].get(f"{API}/posts/{post_id}/moderation").get_json()
    assert why["hidden"] and why["hidden_reason"] == "Advertising" and why["hidden_by"] == "moderator" and why["can_appeal"]
    assert mw["poster"].get(f"{API}/posts/{reply['id']}/moderation").status_code == 403  # not the author
    edit = mw["poster"].patch(f"{API}/posts/{post_id}", json={"body": "sneaky edit"})
    assert edit.status_code == 409 and edit.get_json()["type"] == "post-hidden"
    twice = mw["moderator"].post(f"{API}/posts/{post_id}/hide", json={"reason": "again"})
    assert twice.status_code == 409 and twice.get_json()["type"] == "already-hidden"
    shown = mw["moderator"].post(f"{API}/posts/{post_id}/unhide", json={"reason": "Sponsor approved"})
    assert shown.status_code == 200 and shown.get_json()["hidden"] is False
    assert _bodies(mw["member"], thread_id) == ["Post in public", "still here"]
    entries = _audit(mw["moderator"], mw["public"])
    assert [(e["action"], e["reason"], e["actor"]["handle"]) for e in entries] == [
        ("post_unhidden", "Sponsor approved", "mod_maya"), ("post_hidden", "Advertising", "mod_maya")]
    assert entries[1]["before"] == {"hidden": False} and entries[1]["target_type"] == "post" and entries[1]["target_id"] == post_id


def test_hidden_body_is_not_replayed(app, mw):
    from community import space_log

    _thread, post_id = mw["threads"]["public"]
    assert mw["moderator"].post(f"{API}/posts/{post_id}/hide", json={"reason": "spam"}).status_code == 200
    with app.app_context():
        replay = space_log.replay_after(mw["public"], 0)
    kinds = [(e["kind"], e["data"].get("post", {}).get("body")) for e in replay.events]
    assert kinds == [("thread_created", None), ("post_hidden", None)]
    assert replay.events[0]["data"]["post"]["hidden"] is True


@pytest.mark.parametrize("path", ["hide", "unhide", "flags/dismiss", "remove"])
def test_actions_need_a_reason(mw, path):
    _thread, post_id = mw["threads"]["public"]
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}):
        response = mw["moderator"].post(f"{API}/posts/{post_id}/{path}", json=body)
        assert response.status_code == 422 and "reason" in response.get_json()["errors"], (body, response.get_json())


# The audit log is append-only ------------------------------------------------------------


def _one_entry(app, mw) -> int:
    _thread, post_id = mw["threads"]["public"]
    assert mw["moderator"].post(f"{API}/posts/{post_id}/hide", json={"reason": "spam"}).status_code == 200
    with app.app_context():
        return db.session.scalar(db.select(AuditEntry.id).where(AuditEntry.action == "post_hidden"))


def test_audit_entries_cannot_be_changed_through_the_orm(app, mw):
    entry_id = _one_entry(app, mw)
    with app.app_context():
        entry = db.session.get(AuditEntry, entry_id)
        entry.reason = "rewritten"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEntry, entry_id))
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(AuditEntry, entry_id).reason == "spam"


def test_audit_entries_cannot_be_changed_in_sql(app, mw):
    entry_id = _one_entry(app, mw)
    with app.app_context():
        for statement in (update(AuditEntry).values(reason="x"), delete(AuditEntry)):  # bulk statements skip ORM events
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(statement)
            db.session.rollback()
        for sql in ("UPDATE audit_entries SET reason = 'x'", "DELETE FROM audit_entries"):
            with pytest.raises(DBAPIError, match="append-only"):
                with db.engine.begin() as conn:
                    conn.execute(text(sql))
        assert db.session.get(AuditEntry, entry_id).reason == "spam"


def test_migrated_database_refuses_audit_updates_and_deletes(empty_database_url):
    """The triggers of migration 0005 (SQLite here; PostgreSQL when TEST_DATABASE_URL is set)."""
    app = create_app(base_config(empty_database_url))
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO audit_entries (action, target_type, target_id, reason, created_at) "
                "VALUES ('post_hidden', 'post', 1, 'why', CURRENT_TIMESTAMP)"
            ))
        for sql in ("UPDATE audit_entries SET reason = 'x'", "DELETE FROM audit_entries"):
            with pytest.raises(DBAPIError, match="append-only"):
                with db.engine.begin() as conn:
                    conn.execute(text(sql))
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT reason FROM audit_entries")).scalar_one() == "why"
        db.engine.dispose()


def test_the_web_clients_paths_are_in_the_openapi_document(client):
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    for path in ("/posts/{post_id}/flags", "/posts/{post_id}/hide", "/posts/{post_id}/unhide", "/threads/{thread_id}/lock",
                 "/threads/{thread_id}/unlock", "/spaces/{space_id}/moderation/queue", "/posts/{post_id}/flags/dismiss",
                 "/spaces/{space_id}/moderation/audit"):
        assert "post" in paths[API + path] or "get" in paths[API + path], path
    assert paths[f"{API}/posts/{{post_id}}/flags"]["post"]["requestBody"]


def test_every_action_leaves_one_audit_entry_with_actor_reason_and_time(mw):
    manager, poster, s = mw["manager"], mw["poster"], mw["public"]
    thread_id, post_id = mw["threads"]["public"]
    reply = post_in(mw["member"], thread_id, "reply")["id"]
    steps = [
        ("post_hidden", "POST", f"/posts/{post_id}/hide", {}),
        ("appeal_denied", "POST", f"/posts/{post_id}/appeal/deny", {}),
        ("post_unhidden", "POST", f"/posts/{post_id}/unhide", {}),
        ("flags_dismissed", "POST", f"/posts/{reply}/flags/dismiss", {}),
        ("post_deleted", "POST", f"/posts/{reply}/remove", {}),
        ("thread_locked", "POST", f"/threads/{thread_id}/lock", {}),
        ("thread_unlocked", "POST", f"/threads/{thread_id}/unlock", {}),
        ("thread_pinned", "POST", f"/threads/{thread_id}/pin", {}),
        ("thread_unpinned", "POST", f"/threads/{thread_id}/unpin", {}),
        ("member_muted", "PUT", f"/spaces/{s}/mutes/{poster.id}", {"until": "2999-01-01T00:00:00Z"}),
        ("mute_lifted", "POST", f"/spaces/{s}/mutes/{poster.id}/lift", {}),
        ("member_banned", "PUT", f"/spaces/{s}/bans/{poster.id}", {}),
        ("ban_lifted", "POST", f"/spaces/{s}/bans/{poster.id}/lift", {}),
        ("space_settings_changed", "PATCH", f"/spaces/{s}/moderation/settings", {"slow_mode_seconds": 10}),
        ("thread_moved", "POST", f"/threads/{thread_id}/move", {"space_id": mw["walkers"]}),
    ]
    for number, (action, method, path, body) in enumerate(steps):
        if action == "appeal_denied":
            assert poster.post(f"{API}/posts/{post_id}/appeal", json={"text": "please"}).status_code == 201
        if action == "flags_dismissed":
            assert _flag(poster, reply).status_code == 201
        response = getattr(manager, method.lower())(API + path, json={**body, "reason": f"step {number}"})
        assert response.status_code in (200, 204), (action, response.get_json())
    entries = list(reversed(_audit(manager, s, limit=100)))
    assert [e["action"] for e in entries] == [step[0] for step in steps]
    for number, entry in enumerate(entries):
        assert entry["actor"]["handle"] == "brand_boss" and entry["reason"] == f"step {number}"
        assert entry["space_id"] == s and entry["brand_id"] == mw["brand"] and entry["created_at"].endswith("+00:00")


def test_a_thread_whose_opening_post_is_hidden_leaves_the_listing_but_not_for_staff_or_its_author(mw):
    thread_id, post_id = mw["threads"]["public"]
    other, _ = start_thread(mw["member"], mw["public"], title="Fine topic")

    def titles(actor):
        return {t["id"] for t in actor.get(f"{API}/spaces/{mw['public']}/threads").get_json()["items"]}

    assert {thread_id, other} <= titles(mw["member"])
    assert mw["moderator"].post(f"{API}/posts/{post_id}/hide", json={"reason": "Spam title"}).status_code == 200
    assert other in titles(mw["member"]) and thread_id not in titles(mw["member"])
    assert thread_id in titles(mw["moderator"]) and thread_id in titles(mw["poster"])
    post_in(mw["member"], thread_id, "a reply does not bring it back")
    assert thread_id not in titles(mw["member"])
    assert mw["moderator"].post(f"{API}/posts/{post_id}/unhide", json={"reason": "Fine after all"}).status_code == 200
    assert thread_id in titles(mw["member"])
