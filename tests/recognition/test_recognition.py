"""Recognition through the REST API and the CLI: automatic badges by rules (once, only when met), manual
badges by a brand's managers (audited), trust levels that change what a member may do on their next request,
exports and erasure."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from core.extensions import db, utcnow
from tests.events.event_fixtures import new_event, rsvp
from tests.helpers import PASSWORD

API = "/api/v1"


def _thread(actor, space_id, body="Hello there", title="Topic"):
    response = actor.post(f"{API}/spaces/{space_id}/threads", json={"title": title, "body": body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _reply(actor, thread_id, body="A reply"):
    return actor.post(f"{API}/threads/{thread_id}/posts", json={"body": body})


def _job(app) -> str:
    result = app.test_cli_runner().invoke(args=["grant-badges"])
    if result.exc_info and result.exit_code:
        import traceback
        traceback.print_exception(*result.exc_info)
    assert result.exit_code == 0, result.output
    return result.output


def _badges(viewer, account_id) -> dict:
    response = viewer.get(f"{API}/accounts/{account_id}/badges")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _held(viewer, account_id) -> set[tuple[str, str]]:
    return {(g["badge"]["key"], g["badge"]["tier"]) for g in _badges(viewer, account_id)["badges"]}


def _badge_notices(actor) -> list[dict]:
    return [n for n in actor.get(f"{API}/notifications").get_json()["items"] if n["kind"] == "badge"]


def test_rules_grant_once_and_only_when_met(app, world, make_actor):
    member, moderator, manager, outsider = world["member"], world["moderator"], world["manager"], world["outsider"]
    assert "granted 0 badge(s)" in _job(app)  # nobody has done anything yet
    thread_id = _thread(moderator, world["public"])
    reply = _reply(member, thread_id, "Count me in").get_json()
    assert _held(outsider, member.id) == set()  # the job has not run: nothing yet
    assert manager.post(f"{API}/posts/{reply['id']}/reactions", json={"emoji": "👍"}).status_code in (200, 201)
    # Checked in at an event (the events wing's table, read by SQL), and a membership a year old.
    event = new_event(manager, world["public"])
    code = rsvp(member, event["id"], "going")["check_in_code"]
    assert manager.post(f"{API}/events/{event['id']}/check-ins", json={"code": code}).status_code == 200
    with app.app_context():
        from community.models import Membership

        db.session.execute(update(Membership).where(Membership.account_id == moderator.id)
                           .values(joined_at=utcnow() - timedelta(days=400)))
        db.session.commit()

    assert "granted" in _job(app)
    assert _held(outsider, member.id) == {("first_post", "bronze"), ("well_received", "bronze"), ("events_attended", "bronze")}
    assert _held(outsider, moderator.id) == {("first_post", "bronze"), ("year_in_community", "bronze")}
    assert _held(outsider, outsider.id) == set()  # never posted, no reactions, no events
    profile = _badges(outsider, member.id)
    assert all(g["granted_by"] is None for g in profile["badges"])  # automatic
    assert {n["data"]["key"] for n in _badge_notices(member)} == {"first_post", "well_received", "events_attended"}

    # Re-running grants nothing new and tells nobody twice.
    assert "granted 0 badge(s)" in _job(app)
    assert len(_badges(outsider, member.id)["badges"]) == 3 and len(_badge_notices(member)) == 3
    # A threshold not met is not granted: one reactor is bronze, silver needs ten.
    assert ("well_received", "silver") not in _held(outsider, member.id)


def test_idea_shipped_is_awarded_once_by_the_receiver(app, world):
    from recognition.service import on_idea_shipped

    member = world["member"]
    with app.app_context():
        on_idea_shipped(None, account_id=member.id, idea_id=7)
        db.session.commit()
        on_idea_shipped(None, account_id=member.id, idea_id=8)  # held already: nothing more
        db.session.commit()
    assert [g["badge"]["key"] for g in _badges(member, member.id)["badges"]] == ["idea_shipped"]
    assert [n["data"]["key"] for n in _badge_notices(member)] == ["idea_shipped"]


def test_manual_badges_only_by_managers_and_audited(world):
    manager, member, moderator, brand = world["manager"], world["member"], world["moderator"], world["brand"]
    body = {"key": "helper", "name": "Helper of the month", "description": "Helped many.", "tier": "gold"}
    assert member.post(f"{API}/brands/{brand}/badges", json=body).status_code == 403
    badge = manager.post(f"{API}/brands/{brand}/badges", json=body)
    assert badge.status_code == 201 and badge.get_json()["automatic"] is False
    badge = badge.get_json()
    assert manager.post(f"{API}/brands/{brand}/badges", json=body).status_code == 409
    assert [b["key"] for b in member.get(f"{API}/brands/{brand}/badges").get_json()] == ["helper"]

    grants = f"{API}/badges/{badge['id']}/grants"
    assert moderator.post(grants, json={"account_id": member.id, "reason": "Me"}).status_code == 403  # not a manager
    assert manager.post(grants, json={"account_id": member.id}).status_code == 422  # a reason is required
    granted = manager.post(grants, json={"account_id": member.id, "reason": "Answered every newcomer"})
    assert granted.status_code == 201, granted.get_json()
    grant = granted.get_json()
    assert (grant["granted_by"], grant["reason"]) == (manager.id, "Answered every newcomer")
    again = manager.post(grants, json={"account_id": member.id, "reason": "Twice"})
    assert (again.status_code, again.get_json()["type"]) == (409, "badge-held")
    assert ("helper", "gold") in _held(moderator, member.id)
    notice = _badge_notices(member)[0]
    assert notice["data"]["reason"] == "Answered every newcomer"

    revoke = f"{API}/badge-grants/{grant['id']}/revoke"
    assert member.post(revoke, json={"reason": "No"}).status_code == 403
    assert manager.post(revoke, json={"reason": "Given by mistake"}).status_code == 204
    assert ("helper", "gold") not in _held(moderator, member.id)
    log = manager.get(f"{API}/brands/{brand}/moderation/audit").get_json()["items"]
    actions = [(e["action"], e["target_id"], e["reason"], e["actor_id"]) for e in log if e["action"].startswith("badge_")]
    assert sorted(actions) == [("badge_awarded", member.id, "Answered every newcomer", manager.id),
                               ("badge_revoked", member.id, "Given by mistake", manager.id)]


def test_trust_level_changes_privileges_on_the_next_request_and_a_lock_holds(app, world, make_actor):
    admin, moderator = world["admin"], world["moderator"]
    newcomer = make_actor(handle="nia_new")
    assert newcomer.post(f"{API}/spaces/{world['public']}/join").status_code == 200
    assert moderator.patch(f"{API}/spaces/{world['public']}/moderation/settings",
                           json={"new_member_limits": True, "reason": "Spam wave"}).status_code == 200
    thread_id = _thread(moderator, world["public"])
    refused = _reply(newcomer, thread_id, "see https://example.com/shoes")
    assert (refused.status_code, refused.get_json()["type"]) == (403, "new-member-links")
    assert _badges(newcomer, newcomer.id)["trust_level_name"] == "new"

    level = f"{API}/accounts/{newcomer.id}/trust-level"
    assert moderator.put(level, json={"level": 1, "locked": True}).status_code == 403  # admins only
    assert admin.put(level, json={"level": 4, "locked": True}).status_code == 422
    set_ = admin.put(level, json={"level": 1, "locked": True})
    assert set_.get_json() == {"account_id": newcomer.id, "trust_level": 1, "trust_level_name": "basic",
                               "trust_level_locked": True}
    assert _reply(newcomer, thread_id, "see https://example.com/shoes").status_code == 201  # the next request

    _job(app)  # locked: the job (which would compute level 0 for an account this young) leaves it
    assert _badges(newcomer, newcomer.id)["trust_level"] == 1
    assert admin.put(level, json={"level": 1, "locked": False}).status_code == 200
    _job(app)  # unlocked: computed again, and links are refused again
    assert _badges(newcomer, newcomer.id)["trust_level"] == 0
    assert _reply(newcomer, thread_id, "https://example.com/again").status_code == 403

    # Inviting event guests needs basic too.
    event = new_event(world["manager"], world["public"])
    invite = newcomer.post(f"{API}/events/{event['id']}/guests", json={"email": "friend@example.com", "name": "Fred"})
    assert (invite.status_code, invite.get_json()["type"]) == (403, "trust-level")
    assert admin.put(level, json={"level": 1, "locked": True}).status_code == 200
    assert newcomer.post(f"{API}/events/{event['id']}/guests", json={"email": "friend@example.com"}).status_code == 201


def test_trust_levels_are_computed_from_activity_and_upheld_flags(app, world, make_actor):
    app.config.update(TRUST_BASIC_DAYS=0, TRUST_BASIC_POSTS=1, TRUST_MEMBER_DAYS=0, TRUST_MEMBER_POSTS=2,
                      TRUST_MEMBER_REACTORS=2, TRUST_MEMBER_MAX_FLAGS_UPHELD=0, TRUST_BASIC_MAX_FLAGS_UPHELD=1)
    member, moderator, manager = world["member"], world["moderator"], world["manager"]
    thread_id = _thread(member, world["public"])
    second = _reply(member, thread_id, "More").get_json()
    _job(app)
    assert _badges(member, member.id)["trust_level_name"] == "basic"  # posts, but nobody reacted yet
    for actor in (moderator, manager):
        assert actor.post(f"{API}/posts/{second['id']}/reactions", json={"emoji": "🎉"}).status_code in (200, 201)
    _job(app)
    assert _badges(member, member.id)["trust_level_name"] == "member"
    # A flag upheld against them (staff acted on the flagged post) takes them back to basic.
    assert manager.post(f"{API}/posts/{second['id']}/flags", json={"reason": "spam"}).status_code in (200, 201)
    assert moderator.post(f"{API}/posts/{second['id']}/hide", json={"reason": "Spam"}).status_code == 200
    _job(app)
    assert _badges(member, member.id)["trust_level_name"] == "basic"


def test_export_and_erasure_cover_grants(app, world, make_actor):
    manager, brand = world["manager"], world["brand"]
    leaver = make_actor(handle="leo_leaves")
    assert manager.put(f"{API}/spaces/{world['public']}/members/{leaver.id}", json={"role": "member"}).status_code == 200
    _thread(leaver, world["public"])
    _job(app)
    badge = manager.post(f"{API}/brands/{brand}/badges", json={"key": "star", "name": "Star"}).get_json()
    assert manager.post(f"{API}/badges/{badge['id']}/grants", json={"account_id": leaver.id, "reason": "Shines"}).status_code == 201

    export = leaver.get(f"{API}/me/export").get_json()["recognition"]
    assert {(b["badge"], b["reason"]) for b in export["badges"]} >= {("star", "Shines")}
    assert {b["badge"] for b in export["badges"]} == {"first_post", "star"} and export["trust_level"] == 0
    assert [g["badge"] for g in manager.get(f"{API}/me/export").get_json()["recognition"]["badges_awarded"]] == ["star"]

    assert leaver.delete(f"{API}/me", json={"password": PASSWORD}).status_code == 204
    assert _badges(manager, leaver.id)["badges"] == []
    _job(app)  # an erased (suspended) account earns nothing again
    assert _badges(manager, leaver.id)["badges"] == []


def test_badges_count_as_recognition_in_the_pyramid(app, world):
    """A member answered twice by others is short of the recognition level (3); a brand badge is the third."""
    from purpose.people import _activity  # what every profile and report of the brand reads

    manager, member, moderator, brand = world["manager"], world["member"], world["moderator"], world["brand"]
    thread_id = _thread(member, world["public"])
    first = member.get(f"{API}/threads/{thread_id}/posts").get_json()["items"][0]
    for actor in (moderator, manager):
        assert actor.post(f"{API}/posts/{first['id']}/reactions", json={"emoji": "👍"}).status_code in (200, 201)

    def recognitions() -> int:
        with app.app_context():
            return _activity(brand, None)[member.id].recognitions_received

    assert recognitions() == 2
    _job(app)  # first_post is derived from counted posts: it adds nothing
    assert recognitions() == 2
    badge = manager.post(f"{API}/brands/{brand}/badges", json={"key": "mvp", "name": "MVP"}).get_json()
    assert manager.post(f"{API}/badges/{badge['id']}/grants", json={"account_id": member.id, "reason": "Great"}).status_code == 201
    assert recognitions() == 3
