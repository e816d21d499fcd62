"""A member's personal calendar feed address (events/feeds.py): read by calendar apps without signing in,
dead once replaced, revoked, or once its owner can no longer see the space."""

from __future__ import annotations

from urllib.parse import urlsplit

import icalendar

from tests.events.event_fixtures import new_event


def _path(url: str) -> str:
    return urlsplit(url).path


def _titles(response) -> set[str]:
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    return {str(v["summary"]) for v in icalendar.Calendar.from_ical(response.data).walk("VEVENT")}


def test_a_feed_address_works_without_signing_in_until_the_member_loses_the_space(world, client):
    manager, member = world["manager"], world["member"]
    new_event(manager, world["private"], title="Core team dinner")
    new_event(manager, world["public"], title="Public run")

    made = member.post(f"/api/v1/spaces/{world['private']}/calendar-feed")
    assert made.status_code == 201
    url = made.get_json()["url"]
    assert url.startswith("http") and member.get(f"/api/v1/spaces/{world['private']}/calendar-feed").get_json()["url"] == url
    assert _titles(client.get(_path(url))) == {"Core team dinner"}  # no bearer token: the address is the credential

    tampered = _path(url).replace("/events.ics", "x/events.ics")
    assert client.get(tampered).status_code == 404
    assert world["outsider"].post(f"/api/v1/spaces/{world['private']}/calendar-feed").status_code == 404

    assert manager.delete(f"/api/v1/spaces/{world['private']}/members/{member.id}").status_code in (200, 204)
    gone = client.get(_path(url))
    assert gone.status_code == 404 and gone.get_json()["type"] == "unknown-calendar-feed"
    assert manager.put(f"/api/v1/spaces/{world['private']}/members/{member.id}", json={"role": "member"}).status_code == 200
    assert _titles(client.get(_path(url))) == {"Core team dinner"}  # checked at read time: access back, address back


def test_a_new_address_replaces_the_old_and_a_revoked_one_stops(world, client):
    manager, member = world["manager"], world["member"]
    new_event(manager, world["public"], title="Public run")
    first = member.post(f"/api/v1/spaces/{world['public']}/calendar-feed").get_json()["url"]
    second = member.post(f"/api/v1/spaces/{world['public']}/calendar-feed").get_json()["url"]
    assert first != second
    assert client.get(_path(first)).status_code == 404
    assert _titles(client.get(_path(second))) == {"Public run"}

    assert member.delete(f"/api/v1/spaces/{world['public']}/calendar-feed").status_code == 204
    assert client.get(_path(second)).status_code == 404
    assert member.get(f"/api/v1/spaces/{world['public']}/calendar-feed").status_code == 404
    assert member.delete(f"/api/v1/spaces/{world['public']}/calendar-feed").status_code == 404


def test_a_suspended_members_address_stops_working(world, client):
    member = world["member"]
    url = member.post(f"/api/v1/spaces/{world['public']}/calendar-feed").get_json()["url"]
    assert client.get(_path(url)).status_code == 200
    assert world["admin"].post(f"/api/v1/accounts/{member.id}/suspend", json={"reason": "spam"}).status_code == 200
    assert client.get(_path(url)).status_code == 404
