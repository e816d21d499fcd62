"""Guests: invited by e-mail (a real SMTP server), answering through a signed link, recorded as the brand's
nonuser stakeholders with touchpoints that the graph loader turns into ties; conversion, export and erasure."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from core.extensions import db
from graph.load import GraphScope, load_graph
from purpose.models import Stakeholder, Touchpoint
from tests.events.event_fixtures import members, new_event, rsvp
from tests.helpers import PASSWORD

INVITES_PER_DAY = 3


@pytest.fixture
def app(make_app, smtp):
    return make_app(SMTP_URL=smtp.url, EVENT_INVITES_PER_DAY=INVITES_PER_DAY, PUBLIC_URL="https://tidewater.example")


def basic(world, actor) -> None:
    """Inviting guests needs trust level basic (recognition/trust.py): an admin sets it."""
    response = world["admin"].put(f"/api/v1/accounts/{actor.id}/trust-level", json={"level": 1, "locked": True})
    assert response.status_code == 200


@pytest.fixture(autouse=True)
def _member_may_invite(request):
    if "world" in request.fixturenames:
        world = request.getfixturevalue("world")
        basic(world, world["member"])


def invite(actor, event_id: int, email: str, smtp, name: str | None = "Gwen Guest") -> tuple[dict, str]:
    """Invite ``email`` and return the guest and the token of the link the e-mail carries."""
    response = actor.post(f"/api/v1/events/{event_id}/guests", json={"email": email, "name": name})
    assert response.status_code == 201, response.get_json()
    recipients, message = smtp.next()
    assert recipients == [email.lower()]
    text = message.get_body(("plain",)).get_content()
    link = next(line for line in text.splitlines() if line.startswith("https://tidewater.example/"))
    assert urlsplit(link).path == f"/events/{event_id}/guest"
    return response.get_json(), urlsplit(link).fragment.removeprefix("token=")


def guest_answer(client, event_id: int, token: str, status: str):
    return client.put(f"/api/v1/events/{event_id}/guest/rsvp", json={"token": token, "status": status})


def test_a_guest_answers_through_their_link_which_works_for_no_other_event_or_person(app, client, world, smtp):
    manager, member = world["manager"], world["member"]
    event, other = new_event(manager, world["public"], capacity=1), new_event(manager, world["public"])
    guest, token = invite(member, event["id"], "Gwen@Example.org", smtp)
    assert guest["email"] == "gwen@example.org"
    _, other_token = invite(member, event["id"], "olaf@example.org", smtp, name=None)

    seen = client.get(f"/api/v1/events/{event['id']}/guest", query_string={"token": token})
    assert seen.status_code == 200 and seen.get_json()["name"] == "Gwen Guest" and seen.get_json()["answer"] is None
    going = guest_answer(client, event["id"], token, "going")
    assert going.status_code == 200 and going.get_json()["status"] == "going" and going.get_json()["check_in_code"]
    # Olaf's link answers for Olaf only: the event is full, so he waits, and Gwen keeps her seat.
    assert guest_answer(client, event["id"], other_token, "going").get_json()["status"] == "waitlisted"
    assert client.get(f"/api/v1/events/{event['id']}/guest", query_string={"token": token}).get_json()["answer"]["status"] == "going"

    for bad_event, bad_token in ((other["id"], token), (event["id"], token[:-2] + "xx"), (event["id"], "not-a-token")):
        refused = guest_answer(client, bad_event, bad_token, "declined")
        assert refused.status_code == 400 and refused.get_json()["type"] == "invalid-guest-link"
        assert client.get(f"/api/v1/events/{bad_event}/guest", query_string={"token": bad_token}).status_code == 400
    with app.app_context():  # a link signed long ago has expired
        class Earlier(TimestampSigner):
            def get_timestamp(self):
                return int(time.time()) - 61 * 86400  # signed 61 days ago; links live 60

        old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="event-guest", signer=Earlier).dumps(
            {"e": event["id"], "g": guest["id"]})
    assert guest_answer(client, event["id"], old, "declined").status_code == 400

    # The guest's code checks them in once, like a member's.
    code = going.get_json()["check_in_code"]
    assert manager.post(f"/api/v1/events/{event['id']}/check-ins", json={"code": code}).status_code == 200
    assert manager.post(f"/api/v1/events/{event['id']}/check-ins", json={"code": code}).status_code == 409
    assert member.post(f"/api/v1/events/{event['id']}/guests", json={"email": "gwen@example.org"}).status_code == 409


def test_invitations_per_member_per_day_are_limited(world, smtp, make_actor):
    member = world["member"]
    event = new_event(world["manager"], world["public"])
    for i in range(INVITES_PER_DAY):
        invite(member, event["id"], f"friend{i}@example.org", smtp)
    over = member.post(f"/api/v1/events/{event['id']}/guests", json={"email": "one.more@example.org"})
    assert over.status_code == 429 and over.get_json()["type"] == "invite-limit" and int(over.headers["Retry-After"]) > 3600
    assert smtp.empty()
    (other,) = members(make_actor, world["manager"], world["public"], 1)  # another member's budget is their own
    basic(world, other)
    invite(other, event["id"], "one.more@example.org", smtp)
    assert world["outsider"].post(f"/api/v1/events/{event['id']}/guests", json={"email": "x@example.org"}).status_code == 403


def test_guest_becomes_a_nonuser_stakeholder_tied_to_members_in_the_graph_and_converts(app, client, world, smtp):
    manager, member = world["manager"], world["member"]
    event = new_event(manager, world["public"])
    _, token = invite(member, event["id"], "gwen@example.org", smtp)
    guest_code = guest_answer(client, event["id"], token, "going").get_json()["check_in_code"]
    member_code = rsvp(member, event["id"], "going")["check_in_code"]
    for code in (guest_code, member_code):
        assert manager.post(f"/api/v1/events/{event['id']}/check-ins", json={"code": code}).status_code == 200

    with app.app_context():
        gwen = db.session.scalar(select(Stakeholder).where(Stakeholder.brand_id == world["brand"],
                                                           Stakeholder.account_id.is_(None)))
        mine = db.session.scalar(select(Stakeholder).where(Stakeholder.account_id == member.id))
        assert (gwen.kind.value, gwen.display_name, gwen.source) == ("event_attendee", "Gwen Guest", "events")
        assert mine.kind.value == "member"
        ref = f"platform-event:{event['id']}"
        touchpoints = {(t.stakeholder_id, t.kind.value, t.other_stakeholder_id, t.event_ref, t.purpose_id)
                       for t in db.session.scalars(select(Touchpoint))}
        assert touchpoints == {(mine.id, "invitation", gwen.id, ref, world["life"]),
                               (gwen.id, "rsvp", None, ref, world["life"]), (mine.id, "rsvp", None, ref, world["life"]),
                               (gwen.id, "event", None, ref, world["life"]), (mine.id, "event", None, ref, world["life"])}
        graph = load_graph(GraphScope(world["brand"]))
        tie = graph.edges[f"a:{member.id}", f"s:{gwen.id}"]
        assert set(tie["kinds"]) == {"co_event", "invitation"} and tie["events"] == [ref]
        assert graph.nodes[f"s:{gwen.id}"]["event_refs"] == [ref]
        gwen_id = gwen.id

    # Gwen registers later with the invited address: the brand's record of her is hers, as a conversion.
    response = client.post("/api/v1/auth/register", json={"email": "GWEN@example.org", "handle": "gwen",
                                                          "display_name": "Gwen", "password": PASSWORD})
    assert response.status_code == 201
    with app.app_context():
        gwen = db.session.get(Stakeholder, gwen_id)
        assert gwen.account_id == response.get_json()["account"]["id"]
        assert (gwen.kind.value, gwen.converted_from.value) == ("member", "event_attendee") and gwen.converted_at
    # Her answer is her account's now (with its check-in), and the guest link sends her to sign in.
    mine = client.get(f"/api/v1/events/{event['id']}/rsvp",
                      headers={"Authorization": f"Bearer {response.get_json()['access_token']}"}).get_json()
    assert (mine["status"], mine["check_in_code"]) == ("going", guest_code) and mine["checked_in_at"]
    moved = guest_answer(client, event["id"], token, "declined")
    assert moved.status_code == 409 and moved.get_json()["type"] == "guest-registered"


def test_export_and_erasure_cover_answers_guest_records_and_invitations(app, client, world, smtp, make_actor):
    manager, member = world["manager"], world["member"]
    event = new_event(manager, world["public"], capacity=1)
    _, token = invite(member, event["id"], "gwen@example.org", smtp)
    guest_answer(client, event["id"], token, "going")
    (waiting,) = members(make_actor, manager, world["public"], 1)
    assert rsvp(waiting, event["id"], "going")["status"] == "waitlisted"
    assert rsvp(member, event["id"], "going")["waitlist_position"] == 2

    mine = member.get("/api/v1/me/export").get_json()["events"]
    assert [a["status"] for a in mine["answers"]] == ["waitlisted"]
    assert [i["event_id"] for i in mine["invitations_sent"]] == [event["id"]]
    with app.app_context():
        gwen_id = db.session.scalar(select(Stakeholder.id).where(Stakeholder.account_id.is_(None)))
    export = manager.get(f"/api/v1/stakeholders/{gwen_id}/export").get_json()
    (record,) = export["events"]["guest_records"]
    assert (record["email"], record["event_id"], record["answers"][0]["status"]) == ("gwen@example.org", event["id"], "going")
    assert {t["kind"] for t in export["touchpoints"]} == {"invitation", "rsvp"}

    # Erasing Gwen: her guest record and answer go, her seat goes to the first in line, her link stops working.
    assert manager.delete(f"/api/v1/stakeholders/{gwen_id}").status_code == 204
    assert guest_answer(client, event["id"], token, "declined").status_code == 400
    assert waiting.get(f"/api/v1/events/{event['id']}/rsvp").get_json()["status"] == "going"
    assert manager.get(f"/api/v1/stakeholders/{gwen_id}/export").get_json()["events"] == {"guest_records": []}

    # Erasing the member: their answers go, and their guests no longer name them.
    assert member.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204
    listed = manager.get(f"/api/v1/events/{event['id']}/attendees").get_json()["items"]
    assert [x["account_id"] for x in listed] == [waiting.id]
    with app.app_context():
        from events.models import EventGuest

        assert db.session.scalar(select(EventGuest)) is None
