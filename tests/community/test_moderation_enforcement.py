"""What moderation enforces over REST: mutes, bans, suspension, slow mode, new-member limits,
locks, pins, staff deletes and moves, each with its audit entry."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from community.models import Membership, Post
from core.extensions import db
from tests.community.moderation_fixtures import mw, post_in, start_thread  # noqa: F401 (fixture)
from tests.helpers import TEST_DATABASE_URL

API = "/api/v1"
LATER = "2999-01-01T00:00:00Z"


def _reply(actor, thread_id, body="hi"):
    return actor.post(f"{API}/threads/{thread_id}/posts", json={"body": body})


def _last_action(actor, space_id):
    return actor.get(f"{API}/spaces/{space_id}/moderation/audit?limit=1").get_json()["items"][0]


def _backdate(app, space_id, account_id=None, *, posts_by=None, hours=0, seconds=0):
    """Move a membership's join time, or an author's posts, into the past (instead of waiting)."""
    with app.app_context():
        delta = timedelta(hours=hours, seconds=seconds)
        if account_id is not None:
            m = db.session.scalar(db.select(Membership).where(Membership.space_id == space_id, Membership.account_id == account_id))
            m.joined_at -= delta
        if posts_by is not None:
            for post in db.session.scalars(db.select(Post).where(Post.space_id == space_id, Post.author_id == posts_by)):
                post.created_at -= delta
        db.session.commit()


def test_mute_until_a_time_stops_posts_reactions_and_edits(app, mw):
    thread_id, post_id = mw["threads"]["public"]
    member, moderator = mw["member"], mw["moderator"]
    mine = post_in(member, thread_id, "before")
    muted = moderator.put(f"{API}/spaces/{mw['public']}/mutes/{member.id}", json={"until": LATER, "reason": "Cool off"})
    assert muted.status_code == 200 and muted.get_json()["kind"] == "mute"
    for response in (
        _reply(member, thread_id),
        member.post(f"{API}/spaces/{mw['public']}/threads", json={"title": "t", "body": "b"}),
        member.post(f"{API}/posts/{post_id}/reactions", json={"emoji": "👍"}),
        member.patch(f"{API}/posts/{mine['id']}", json={"body": "edit"}),
    ):
        assert response.status_code == 403 and response.get_json()["type"] == "muted", response.get_json()
        assert "2999-01-01" in response.get_json()["detail"]
    # Only this space: elsewhere the member posts as before.
    assert _reply(member, mw["threads"]["walkers"][0]).status_code == 201
    entry = _last_action(moderator, mw["public"])
    assert (entry["action"], entry["target_id"], entry["after"]["until"][:4]) == ("member_muted", member.id, "2999")
    sanctions = moderator.get(f"{API}/spaces/{mw['public']}/sanctions").get_json()["items"]
    assert [(s["account_id"], s["kind"]) for s in sanctions] == [(member.id, "mute")]
    assert moderator.post(f"{API}/spaces/{mw['public']}/mutes/{member.id}/lift", json={"reason": "ok"}).status_code == 204
    assert _reply(member, thread_id).status_code == 201
    assert moderator.post(f"{API}/spaces/{mw['public']}/mutes/{member.id}/lift", json={"reason": "ok"}).status_code == 404


def test_a_mute_ends_by_itself(app, mw):
    member = mw["member"]
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert mw["moderator"].put(f"{API}/spaces/{mw['public']}/mutes/{member.id}", json={"until": soon, "reason": "x"}).status_code == 200
    assert _reply(member, mw["threads"]["public"][0]).status_code == 403
    with app.app_context():
        from community.models import Sanction

        for sanction in db.session.scalars(db.select(Sanction)):
            sanction.until = datetime.now(timezone.utc) - timedelta(seconds=1)
        db.session.commit()
    assert _reply(member, mw["threads"]["public"][0]).status_code == 201


@pytest.mark.parametrize("body", [{"reason": "x"}, {"until": "yesterday", "reason": "x"}, {"until": "2000-01-01T00:00:00Z", "reason": "x"}])
def test_mute_needs_a_future_end(mw, body):
    response = mw["moderator"].put(f"{API}/spaces/{mw['public']}/mutes/{mw['member'].id}", json=body)
    assert response.status_code == 422 and "until" in response.get_json()["errors"]


def test_ban_removes_the_member_and_refuses_rejoining(mw):
    member, moderator = mw["member"], mw["moderator"]
    thread_id, post_id = mw["threads"]["private"]
    banned = moderator.put(f"{API}/spaces/{mw['private']}/bans/{member.id}", json={"reason": "Harassment"})
    assert banned.status_code == 200 and banned.get_json()["until"] is None
    assert member.get(f"{API}/spaces/{mw['private']}").status_code == 404  # no longer a member of the private space
    assert _reply(member, thread_id).status_code == 404
    # A public space: readable like by any account, but no joining, posting or reacting.
    assert moderator.put(f"{API}/spaces/{mw['public']}/bans/{member.id}", json={"reason": "Spam", "until": LATER}).status_code == 200
    join = member.post(f"{API}/spaces/{mw['public']}/join")
    assert join.status_code == 403 and join.get_json()["type"] == "banned"
    assert _reply(member, mw["threads"]["public"][0]).status_code == 403
    entry = _last_action(moderator, mw["public"])
    assert entry["action"] == "member_banned" and entry["before"] == {"role": "member"} and entry["reason"] == "Spam"
    assert moderator.post(f"{API}/spaces/{mw['public']}/bans/{member.id}/lift", json={"reason": "Served"}).status_code == 204
    assert member.post(f"{API}/spaces/{mw['public']}/join").status_code == 200
    assert _reply(member, mw["threads"]["public"][0]).status_code == 201


def test_audited_suspension_signs_the_account_out(mw):
    admin, member = mw["admin"], mw["member"]
    response = admin.post(f"{API}/accounts/{member.id}/suspend", json={"reason": "Fraud"})
    assert response.status_code == 200 and response.get_json()["status"] == "suspended"
    assert member.get(f"{API}/me").status_code == 401
    again = admin.post(f"{API}/accounts/{member.id}/suspend", json={"reason": "Fraud"})
    assert again.status_code == 409
    assert admin.post(f"{API}/accounts/{member.id}/reinstate", json={"reason": "Cleared"}).status_code == 200
    entries = admin.get(f"{API}/moderation/audit").get_json()["items"]
    assert [(e["action"], e["target_id"], e["reason"], e["after"]) for e in entries[:2]] == [
        ("account_reinstated", member.id, "Cleared", {"status": "active"}),
        ("account_suspended", member.id, "Fraud", {"status": "suspended"}),
    ]
    assert admin.get(f"{API}/moderation/audit?action=account_suspended").get_json()["items"][0]["action"] == "account_suspended"


def test_slow_mode_one_post_per_interval_staff_exempt(app, mw):
    thread_id, _post = mw["threads"]["public"]
    member, moderator = mw["member"], mw["moderator"]
    settings = moderator.patch(f"{API}/spaces/{mw['public']}/moderation/settings", json={"slow_mode_seconds": 60, "reason": "Heated"})
    assert settings.status_code == 200 and settings.get_json()["slow_mode_seconds"] == 60
    assert member.get(f"{API}/spaces/{mw['public']}/moderation/settings").get_json()["slow_mode_seconds"] == 60
    assert _reply(member, thread_id, "one").status_code == 201
    refused = _reply(member, thread_id, "two")
    assert refused.status_code == 429 and refused.get_json()["type"] == "slow-mode"
    assert 55 <= int(refused.headers["Retry-After"]) <= 60
    assert member.post(f"{API}/spaces/{mw['public']}/threads", json={"title": "t", "body": "b"}).status_code == 429
    assert _reply(moderator, thread_id, "staff").status_code == 201 and _reply(moderator, thread_id, "again").status_code == 201
    _backdate(app, mw["public"], posts_by=member.id, seconds=61)
    assert _reply(member, thread_id, "two").status_code == 201
    entry = _last_action(moderator, mw["public"])
    assert entry["action"] == "space_settings_changed" and entry["before"] == {"slow_mode_seconds": 0}
    assert entry["after"] == {"slow_mode_seconds": 60}


@pytest.mark.parametrize("body", [{"reason": "x"}, {"slow_mode_seconds": -1, "reason": "x"},
                                  {"slow_mode_seconds": 86401, "reason": "x"}, {"slow_mode_seconds": "5", "reason": "x"}])
def test_settings_are_validated(mw, body):
    response = mw["moderator"].patch(f"{API}/spaces/{mw['public']}/moderation/settings", json=body)
    assert response.status_code == 422


def test_new_member_limits_in_their_first_day(app, mw, make_actor):
    app.config["NEW_MEMBER_POSTS_PER_HOUR"] = 2
    thread_id, _post = mw["threads"]["public"]
    newcomer = make_actor(handle="nia_new")
    assert newcomer.post(f"{API}/spaces/{mw['public']}/join").status_code == 200
    assert mw["moderator"].patch(f"{API}/spaces/{mw['public']}/moderation/settings",
                                 json={"new_member_limits": True, "reason": "Spam wave"}).status_code == 200
    links = _reply(newcomer, thread_id, "cheap stuff at https://spam.example")
    assert links.status_code == 403 and links.get_json()["type"] == "new-member-links"
    assert _reply(newcomer, thread_id, "see www.spam.example").status_code == 403
    assert _reply(newcomer, thread_id, "hello").status_code == 201
    assert _reply(newcomer, thread_id, "hello again").status_code == 201
    third = _reply(newcomer, thread_id, "and again")
    assert third.status_code == 429 and third.get_json()["type"] == "new-member-limit" and int(third.headers["Retry-After"]) > 3000
    # Older members are not limited; a newcomer is no longer new after a day.
    _backdate(app, mw["public"], mw["member"].id, hours=48)
    assert _reply(mw["member"], thread_id, "http://fine.example").status_code == 201
    _backdate(app, mw["public"], newcomer.id, hours=25)
    assert _reply(newcomer, thread_id, "https://now.example").status_code == 201


def test_lock_pin_and_staff_delete(mw):
    moderator, member = mw["moderator"], mw["member"]
    thread_id, post_id = mw["threads"]["public"]
    other_id, _p = start_thread(member, mw["public"], "Later thread")
    assert moderator.post(f"{API}/threads/{thread_id}/lock", json={"reason": "Done"}).get_json()["locked"] is True
    refused = _reply(member, thread_id)
    assert refused.status_code == 403 and refused.get_json()["type"] == "thread-locked"
    twice = moderator.post(f"{API}/threads/{thread_id}/lock", json={"reason": "Done"})
    assert twice.status_code == 409 and twice.get_json()["type"] == "already-locked"
    assert moderator.post(f"{API}/threads/{thread_id}/unlock", json={"reason": "Reopen"}).status_code == 200
    assert _reply(member, thread_id).status_code == 201
    titles = lambda: [t["id"] for t in member.get(f"{API}/spaces/{mw['public']}/threads").get_json()["items"]]  # noqa: E731
    assert moderator.post(f"{API}/threads/{other_id}/pin", json={"reason": "FAQ"}).get_json()["pinned"] is True
    _reply(member, thread_id, "bump")  # latest activity, yet the pinned thread stays on top
    assert titles() == [other_id, thread_id]
    removed = moderator.post(f"{API}/posts/{post_id}/remove", json={"reason": "Doxxing"})
    assert removed.status_code == 200 and removed.get_json()["deleted"] is True and removed.get_json()["body"] is None
    assert member.get(f"{API}/posts/{post_id}").get_json()["body"] is None
    entries = moderator.get(f"{API}/spaces/{mw['public']}/moderation/audit").get_json()["items"]
    actions = [e["action"] for e in entries if e["action"] != "member_role_changed"]  # the fixture's staff set-up
    assert actions == ["post_deleted", "thread_pinned", "thread_unlocked", "thread_locked"]


def test_move_renumbers_posts_in_the_target_space(app, mw):
    manager, member = mw["manager"], mw["member"]
    thread_id, post_id = mw["threads"]["public"]
    post_in(member, thread_id, "reply one")
    flag = member.post(f"{API}/posts/{post_id}/flags", json={"reason": "off_topic"})
    assert flag.status_code == 201
    target_last = manager.get(f"{API}/threads/{mw['threads']['walkers'][0]}/posts").get_json()["items"][-1]["seq"]
    moved = manager.post(f"{API}/threads/{thread_id}/move", json={"space_id": mw["walkers"], "reason": "Belongs there"})
    assert moved.status_code == 200 and moved.get_json()["space_id"] == mw["walkers"]
    posts = member.get(f"{API}/threads/{thread_id}/posts").get_json()["items"]
    assert [(p["space_id"], p["seq"]) for p in posts] == [(mw["walkers"], target_last + 1), (mw["walkers"], target_last + 2)]
    assert [p["body"] for p in posts] == ["Post in public", "reply one"]
    # The flag follows the post into the target space's queue; the thread left the source listing.
    queue = manager.get(f"{API}/spaces/{mw['walkers']}/moderation/queue").get_json()["items"]
    assert [i["post"]["id"] for i in queue] == [post_id]
    assert thread_id not in [t["id"] for t in member.get(f"{API}/spaces/{mw['public']}/threads").get_json()["items"]]
    from community import space_log

    with app.app_context():
        source = space_log.replay_after(mw["public"], 0).events
        target = space_log.replay_after(mw["walkers"], 0).events
    assert source[-1]["kind"] == "thread_moved" and source[-1]["data"]["to_space_id"] == mw["walkers"]
    assert all(e["data"].get("post", {}).get("body") is None for e in source if e["kind"] == "post_created")
    assert target[-1]["kind"] == "thread_moved" and target[-1]["data"]["thread"]["id"] == thread_id
    entry = _last_action(manager, mw["public"])
    assert entry["action"] == "thread_moved" and entry["after"] == {"space_id": mw["walkers"]}
    assert _reply(member, thread_id, "after the move").get_json()["space_id"] == mw["walkers"]


def test_move_to_an_unknown_or_invisible_space_gets_one_answer(mw):
    thread_id, _post = mw["threads"]["public"]
    manager = mw["manager"]
    for target in (mw["rival_core"], 424242):
        response = manager.post(f"{API}/threads/{thread_id}/move", json={"space_id": target, "reason": "x"})
        assert response.status_code == 422 and response.get_json()["errors"] == {"space_id": ["Unknown space."]}, target
    same = manager.post(f"{API}/threads/{thread_id}/move", json={"space_id": mw["public"], "reason": "x"})
    assert same.status_code == 422 and "space_id" in same.get_json()["errors"]


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="row locks need PostgreSQL (./test.sh's second pass sets TEST_DATABASE_URL)")
def test_opposite_moves_between_two_spaces_both_succeed(app, mw):
    """Each move numbers events in both spaces; without one lock order, two opposite moves deadlock."""
    import threading
    import time

    import psycopg

    low, high = sorted((mw["public"], mw["walkers"]))
    name_of = {mw["public"]: "public", mw["walkers"]: "walkers"}
    statuses = {}

    def move(source, target):
        client = app.test_client()  # one client per thread
        response = client.post(f"{API}/threads/{mw['threads'][name_of[source]][0]}/move", json={"space_id": target, "reason": "Tidy"},
                               headers={"Authorization": f"Bearer {mw['manager'].access_token}"})
        statuses[(source, target)] = response.status_code

    def wait_for_lock_waiters(monitor, count):
        deadline = time.monotonic() + 30
        while monitor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                              "AND wait_event_type = 'Lock'").fetchone()[0] < count:
            assert time.monotonic() < deadline, "the moves never queued on the row locks"
            time.sleep(0.01)

    with psycopg.connect(TEST_DATABASE_URL) as blocker, psycopg.connect(TEST_DATABASE_URL, autocommit=True) as monitor:
        # Another transaction holds the higher space's row, so the first move queues behind it
        # and the second starts while the first is still inside its transaction.
        blocker.execute("SELECT id FROM spaces WHERE id = %s FOR UPDATE", (high,))
        moves = [threading.Thread(target=move, args=pair) for pair in ((low, high), (high, low))]
        moves[0].start()
        wait_for_lock_waiters(monitor, 1)
        moves[1].start()
        wait_for_lock_waiters(monitor, 2)
        blocker.commit()
        for thread in moves:
            thread.join(timeout=60)
    assert statuses == {(low, high): 200, (high, low): 200}
    now_in = {n: mw["manager"].get(f"{API}/threads/{mw['threads'][n][0]}").get_json()["space_id"] for n in ("public", "walkers")}
    assert now_in == {"public": mw["walkers"], "walkers": mw["public"]}
