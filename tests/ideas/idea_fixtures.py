"""Helpers the ideas tests share: members of a space, an idea, a vote."""

from __future__ import annotations


def members(make_actor, manager, space_id: int, count: int) -> list:
    people = [make_actor() for _ in range(count)]
    for person in people:
        assert manager.put(f"/api/v1/spaces/{space_id}/members/{person.id}", json={"role": "member"}).status_code == 200
    return people


def submit(actor, space_id: int, title: str = "Refill stations", body: str = "Water refills at every race.") -> dict:
    response = actor.post(f"/api/v1/spaces/{space_id}/ideas", json={"title": title, "body": body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def vote(actor, idea_id: int) -> dict:
    response = actor.put(f"/api/v1/ideas/{idea_id}/vote")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def set_status(actor, idea_id: int, status: str, reason: str = "Because.") -> dict:
    response = actor.post(f"/api/v1/ideas/{idea_id}/status", json={"status": status, "reason": reason})
    assert response.status_code == 200, response.get_json()
    return response.get_json()
