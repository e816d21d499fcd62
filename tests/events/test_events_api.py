"""Events through the REST API: who may create and change them, answers with a waitlist, check-in codes, iCalendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from tests.events.event_fixtures import START, members, new_event, rsvp


def test_brand_managers_create_edit_and_cancel_events_and_others_may_not(world):
    manager, member, outsider = world["manager"], world["member"], world["outsider"]
    body = {"title": "Run", "mode": "online", "url": "https://meet.example/run", "starts_at": START.isoformat(),
            "ends_at": (START + timedelta(hours=1)).isoformat(), "time_zone": "America/New_York"}
    assert member.post(f"/api/v1/spaces/{world['public']}/events", json=body).status_code == 403
    event = new_event(manager, world["public"], **body, location=None, capacity=10)
    assert (event["mode"], event["time_zone"], event["capacity"], event["going"]) == ("online", "America/New_York", 10, 0)
    assert outsider.get(f"/api/v1/events/{event['id']}").status_code == 200  # a public space's event
    hidden = new_event(manager, world["private"])
    assert outsider.get(f"/api/v1/events/{hidden['id']}").status_code == 404  # a private space's: not there for outsiders
    assert member.get(f"/api/v1/events/{hidden['id']}").status_code == 200

    # The fields must fit together: online needs a URL, in person a location, the end follows the start.
    bad = manager.post(f"/api/v1/spaces/{world['public']}/events", json={**body, "url": None})
    assert bad.status_code == 422 and "url" in bad.get_json()["errors"]
    assert manager.post(f"/api/v1/spaces/{world['public']}/events",
                        json={**body, "ends_at": START.isoformat()}).status_code == 422
    zone = manager.post(f"/api/v1/spaces/{world['public']}/events", json={**body, "time_zone": "Mars/Olympus"})
    assert zone.status_code == 422 and "time_zone" in zone.get_json()["errors"]
    naive = manager.post(f"/api/v1/spaces/{world['public']}/events", json={**body, "starts_at": "2030-01-01T10:00:00"})
    assert naive.status_code == 422

    assert member.patch(f"/api/v1/events/{event['id']}", json={"title": "Mine now"}).status_code == 403
    edited = manager.patch(f"/api/v1/events/{event['id']}", json={"title": "Long run", "mode": "in_person"})
    assert edited.status_code == 422  # in person without a location
    edited = manager.patch(f"/api/v1/events/{event['id']}", json={"title": "Long run"})
    assert edited.status_code == 200 and edited.get_json()["title"] == "Long run"

    assert member.post(f"/api/v1/events/{event['id']}/cancel").status_code == 403
    cancelled = manager.post(f"/api/v1/events/{event['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    refused = member.put(f"/api/v1/events/{event['id']}/rsvp", json={"status": "going"})
    assert refused.status_code == 409 and refused.get_json()["type"] == "event-cancelled"

    listed = member.get(f"/api/v1/spaces/{world['public']}/events").get_json()
    assert [e["id"] for e in listed["items"]] == [event["id"]] and listed["items"][0]["status"] == "cancelled"


def test_answers_need_membership_and_waitlist_is_promoted_in_order(world, make_actor):
    manager, outsider = world["manager"], world["outsider"]
    event = new_event(manager, world["public"], capacity=2)
    a, b, c, d = members(make_actor, manager, world["public"], 4)
    assert outsider.put(f"/api/v1/events/{event['id']}/rsvp", json={"status": "going"}).status_code == 403
    assert a.put(f"/api/v1/events/{event['id']}/rsvp", json={"status": "waitlisted"}).status_code == 422

    assert rsvp(a, event["id"], "going")["status"] == "going"
    assert rsvp(b, event["id"], "going")["check_in_code"]
    third, fourth = rsvp(c, event["id"], "going"), rsvp(d, event["id"], "going")
    assert (third["status"], third["waitlist_position"], third["check_in_code"]) == ("waitlisted", 1, None)
    assert (fourth["status"], fourth["waitlist_position"]) == ("waitlisted", 2)
    assert rsvp(d, event["id"], "going")["waitlist_position"] == 2  # asking again keeps the place in line

    rsvp(a, event["id"], "declined")  # a seat frees up: the first in line gets it
    mine = c.get(f"/api/v1/events/{event['id']}/rsvp").get_json()
    assert mine["status"] == "going" and mine["check_in_code"]
    assert d.get(f"/api/v1/events/{event['id']}/rsvp").get_json()["waitlist_position"] == 1
    assert rsvp(a, event["id"], "going")["waitlist_position"] == 2  # coming back: behind those already waiting

    grown = manager.patch(f"/api/v1/events/{event['id']}", json={"capacity": 4}).get_json()
    assert (grown["going"], grown["waitlisted"]) == (4, 0)
    assert d.get(f"/api/v1/events/{event['id']}/rsvp").get_json()["status"] == "going"
    rsvp(b, event["id"], "maybe")
    listed = manager.get(f"/api/v1/events/{event['id']}/attendees").get_json()["items"]
    assert {x["account_id"]: x["status"] for x in listed} == {a.id: "going", b.id: "maybe", c.id: "going", d.id: "going"}
    assert all("check_in_code" not in x for x in listed)
    assert world["member"].get(f"/api/v1/events/{event['id']}/attendees").status_code == 403


def test_a_check_in_code_works_once_and_only_for_its_event(world, make_actor):
    manager, member = world["manager"], world["member"]
    event, other = new_event(manager, world["public"]), new_event(manager, world["public"])
    code = rsvp(member, event["id"], "going")["check_in_code"]
    assert member.post(f"/api/v1/events/{event['id']}/check-ins", json={"code": code}).status_code == 403
    wrong = manager.post(f"/api/v1/events/{other['id']}/check-ins", json={"code": code})
    assert wrong.status_code == 404 and wrong.get_json()["type"] == "unknown-check-in-code"
    first = manager.post(f"/api/v1/events/{event['id']}/check-ins", json={"code": code.lower()})
    assert first.status_code == 200 and first.get_json()["checked_in_at"]
    again = manager.post(f"/api/v1/events/{event['id']}/check-ins", json={"code": code})
    assert again.status_code == 409 and again.get_json()["type"] == "already-checked-in"
    assert member.get(f"/api/v1/events/{event['id']}/rsvp").get_json()["checked_in_at"] == first.get_json()["checked_in_at"]


def test_ics_files_parse_back_with_the_events_zone_and_times(world):
    manager, member = world["manager"], world["member"]
    paris = new_event(manager, world["public"], title="Run, then croissants")
    tokyo = new_event(manager, world["public"], title="Online talk", mode="online", url="https://meet.example/t",
                      location=None, time_zone="Asia/Tokyo", starts_at=(START + timedelta(days=1)).isoformat(),
                      ends_at=(START + timedelta(days=1, hours=1)).isoformat())
    manager.post(f"/api/v1/events/{tokyo['id']}/cancel")

    response = member.get(f"/api/v1/events/{paris['id']}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(response.data)
    (vevent,) = cal.walk("VEVENT")
    start, end = vevent.decoded("dtstart"), vevent.decoded("dtend")
    assert start.tzinfo == ZoneInfo("Europe/Paris") and vevent["dtstart"].params["TZID"] == "Europe/Paris"
    assert start == datetime.fromisoformat(paris["starts_at"]) and end - start == timedelta(hours=2)
    assert str(vevent["summary"]) == "Run, then croissants" and str(vevent["location"]) == "Pier 3, Brest"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]

    feed = icalendar.Calendar.from_ical(member.get(f"/api/v1/spaces/{world['public']}/events.ics").data)
    by_title = {str(v["summary"]): v for v in feed.walk("VEVENT")}
    assert set(by_title) == {"Run, then croissants", "Online talk"}
    talk = by_title["Online talk"]
    assert talk.decoded("dtstart").tzinfo == ZoneInfo("Asia/Tokyo") and str(talk["status"]) == "CANCELLED"
    assert talk.decoded("dtstart") == START + timedelta(days=1) and int(talk["sequence"]) == 1
    assert {tz["TZID"] for tz in feed.walk("VTIMEZONE")} == {"Europe/Paris", "Asia/Tokyo"}
    assert world["outsider"].get(f"/api/v1/spaces/{world['private']}/events.ics").status_code == 404


def test_a_direct_conversation_has_no_events(make_actor):
    ada, bob = make_actor(handle="ev_ada"), make_actor(handle="ev_bob")
    conversation = ada.post("/api/v1/conversations", json={"handles": ["ev_bob"], "body": "hi"}).get_json()
    body = {"title": "Run", "mode": "online", "url": "https://example.com/run", "starts_at": "2031-01-01T10:00:00+00:00",
            "ends_at": "2031-01-01T11:00:00+00:00", "time_zone": "UTC"}
    for path in (f"/api/v1/spaces/{conversation['id']}/events", f"/api/v1/spaces/{conversation['id']}/events.ics"):
        assert ada.get(path).status_code == 404 and bob.get(path).status_code == 404
    assert ada.post(f"/api/v1/spaces/{conversation['id']}/events", json=body).status_code == 404
