"""What events tell people (events/notices.py, events/reminders.py): a reminder before the event to those
going, once, members in their inbox and guests by e-mail (a real SMTP server); a seat from the waitlist;
a cancellation."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from core.extensions import db
from events.reminders import send_reminders
from tests.events.event_fixtures import members, new_event, rsvp
from tests.events.test_events_guests import basic, guest_answer, invite

SOON = (datetime.now(timezone.utc) + timedelta(hours=12)).replace(second=0, microsecond=0)


@pytest.fixture
def app(make_app, smtp):
    return make_app(SMTP_URL=smtp.url, PUBLIC_URL="https://tidewater.example", NOTIFICATION_EMAIL_NUDGE=False)


def _sweep(app) -> dict:
    with app.app_context():
        try:
            return send_reminders()
        finally:
            db.session.remove()


def _notices(actor, kind: str) -> list[dict]:
    return [n for n in actor.get("/api/v1/notifications").get_json()["items"] if n["kind"] == kind]


def _soon(manager, space_id, hours: float = 0, **overrides) -> dict:
    start = SOON + timedelta(hours=hours)
    return new_event(manager, space_id, starts_at=start.isoformat(), ends_at=(start + timedelta(hours=2)).isoformat(),
                     **overrides)


def test_those_going_are_reminded_once_members_in_the_inbox_guests_by_email(app, world, make_actor, smtp):
    manager, member, moderator = world["manager"], world["member"], world["moderator"]
    basic(world, member)
    maybe, declined = members(make_actor, manager, world["public"], 2)
    event = _soon(manager, world["public"])
    later = _soon(manager, world["public"], hours=48, title="Next month's run")  # outside the 24 hours
    cancelled = _soon(manager, world["public"], title="Called off")
    for actor in (member, moderator):
        rsvp(actor, event["id"], "going")
        rsvp(actor, later["id"], "going")
    rsvp(moderator, cancelled["id"], "going")
    rsvp(maybe, event["id"], "maybe")
    rsvp(declined, event["id"], "declined")
    _guest, token = invite(member, event["id"], "gwen@example.org", smtp)
    assert guest_answer(app.test_client(), event["id"], token, "going").status_code == 200
    _other, other_token = invite(member, event["id"], "olaf@example.org", smtp, name="Olaf")
    assert guest_answer(app.test_client(), event["id"], other_token, "declined").status_code == 200
    assert manager.post(f"/api/v1/events/{cancelled['id']}/cancel").status_code == 200
    assert len(_notices(moderator, "event_cancelled")) == 1  # told of the cancellation, not reminded of it (below)

    assert _sweep(app) == {"members": 2, "guests": 1}
    for actor in (member, moderator):
        [notice] = _notices(actor, "event_reminder")
        assert notice["data"]["event_id"] == event["id"] and notice["data"]["title"] == "Beach clean-up"
        assert notice["space_id"] == world["public"]
    for actor in (maybe, declined, manager):
        assert _notices(actor, "event_reminder") == []
    mails = smtp.drain()
    assert list(mails) == ["gwen@example.org"]
    text = mails["gwen@example.org"].get_body(("plain",)).get_content()
    assert "Beach clean-up" in text and f"https://tidewater.example/events/{event['id']}/guest#token=" in text
    assert mails["gwen@example.org"]["Subject"] == "Reminder: Beach clean-up"

    # Run again: nobody is told twice. A member who answers "going" late is reminded by the next sweep.
    assert _sweep(app) == {"members": 0, "guests": 0}
    rsvp(maybe, event["id"], "going")
    assert _sweep(app) == {"members": 1, "guests": 0}
    assert len(_notices(maybe, "event_reminder")) == 1 and len(_notices(member, "event_reminder")) == 1
    assert smtp.empty()

    # Moved to another start: reminded again before the new time.
    moved = SOON + timedelta(hours=3)
    assert manager.patch(f"/api/v1/events/{event['id']}", json={"starts_at": moved.isoformat(),
                                                                 "ends_at": (moved + timedelta(hours=1)).isoformat()}).status_code == 200
    assert _sweep(app) == {"members": 3, "guests": 1}
    assert len(_notices(member, "event_reminder")) == 2


def test_two_sweeps_at_once_remind_each_person_once(app, world, make_actor):
    manager = world["manager"]
    people = members(make_actor, manager, world["public"], 6)
    event = _soon(manager, world["public"])
    for person in people:
        rsvp(person, event["id"], "going")
    start, results = threading.Barrier(2), []

    def sweep():
        start.wait()
        results.append(_sweep(app))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["members"] for r in results) == [0, 6]
    assert all(len(_notices(person, "event_reminder")) == 1 for person in people)


def test_the_waitlist_seats_are_announced_to_members_and_guests(app, world, smtp):
    manager, member, moderator = world["manager"], world["member"], world["moderator"]
    basic(world, member)
    event = new_event(manager, world["public"], capacity=1)
    rsvp(member, event["id"], "going")
    assert rsvp(moderator, event["id"], "going")["status"] == "waitlisted"
    _guest, token = invite(member, event["id"], "gwen@example.org", smtp)
    assert guest_answer(app.test_client(), event["id"], token, "going").get_json()["status"] == "waitlisted"

    rsvp(member, event["id"], "declined")  # the moderator, first in line, gets the seat and is told
    [notice] = _notices(moderator, "event_seat")
    assert notice["data"]["event_id"] == event["id"]
    assert _notices(member, "event_seat") == [] and smtp.empty()

    rsvp(moderator, event["id"], "maybe")  # now the guest: by e-mail, with their link
    _to, message = smtp.next()
    assert _to == ["gwen@example.org"] and message["Subject"] == "You have a seat: Beach clean-up"
    assert f"/events/{event['id']}/guest#token=" in message.get_body(("plain",)).get_content()
    seen = app.test_client().get(f"/api/v1/events/{event['id']}/guest", query_string={"token": token}).get_json()
    assert seen["answer"]["status"] == "going" and seen["answer"]["check_in_code"]


def test_a_cancellation_tells_everyone_who_had_not_declined(app, world, make_actor, smtp):
    manager, member, moderator = world["manager"], world["member"], world["moderator"]
    basic(world, member)
    waiting, declined = members(make_actor, manager, world["public"], 2)
    event = _soon(manager, world["public"], capacity=1)
    rsvp(member, event["id"], "going")
    rsvp(moderator, event["id"], "maybe")
    assert rsvp(waiting, event["id"], "going")["status"] == "waitlisted"
    rsvp(declined, event["id"], "declined")
    rsvp(manager, event["id"], "maybe")
    _guest, token = invite(member, event["id"], "gwen@example.org", smtp)
    guest_answer(app.test_client(), event["id"], token, "maybe")

    assert manager.post(f"/api/v1/events/{event['id']}/cancel").status_code == 200
    for actor in (member, moderator, waiting):
        [notice] = _notices(actor, "event_cancelled")
        assert notice["data"]["title"] == "Beach clean-up"
    assert _notices(declined, "event_cancelled") == [] and _notices(manager, "event_cancelled") == []
    _to, message = smtp.next()
    assert _to == ["gwen@example.org"] and message["Subject"] == "Cancelled: Beach clean-up"

    assert manager.post(f"/api/v1/events/{event['id']}/cancel").status_code == 200  # again: no one is told twice
    assert len(_notices(member, "event_cancelled")) == 1
    assert _sweep(app) == {"members": 0, "guests": 0}  # and nobody is reminded of it
    assert smtp.empty()
