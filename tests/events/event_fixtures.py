"""Helpers the events tests share: an event a week from now, and members of a space."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

START = (datetime.now(timezone.utc) + timedelta(days=7)).replace(hour=16, minute=30, second=0, microsecond=0)


def new_event(manager, space_id: int, **overrides) -> dict:
    body = {"title": "Beach clean-up", "description": "Bring gloves.", "mode": "in_person", "location": "Pier 3, Brest",
            "starts_at": START.isoformat(), "ends_at": (START + timedelta(hours=2)).isoformat(),
            "time_zone": "Europe/Paris", "capacity": None, **overrides}
    response = manager.post(f"/api/v1/spaces/{space_id}/events", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def members(make_actor, manager, space_id: int, count: int) -> list:
    people = [make_actor() for _ in range(count)]
    for person in people:
        assert manager.put(f"/api/v1/spaces/{space_id}/members/{person.id}", json={"role": "member"}).status_code == 200
    return people


def rsvp(actor, event_id: int, status: str) -> dict:
    response = actor.put(f"/api/v1/events/{event_id}/rsvp", json={"status": status})
    assert response.status_code == 200, response.get_json()
    return response.get_json()
