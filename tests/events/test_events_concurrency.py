"""Many members answer "going" to one event at the same moment: the seats are never overbooked.

On PostgreSQL each answer locks the event's row (``SELECT ... FOR UPDATE``) before counting the seats,
so concurrent requests, each on its own connection, run one after the other for that event.
"""

from __future__ import annotations

import threading

import pytest

from tests.events.event_fixtures import members, new_event
from tests.helpers import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="concurrent writers need PostgreSQL (set TEST_DATABASE_URL)")

CAPACITY, PEOPLE = 3, 12


def test_concurrent_going_answers_never_exceed_the_capacity(app, world, make_actor):
    manager = world["manager"]
    event = new_event(manager, world["public"], capacity=CAPACITY)
    people = members(make_actor, manager, world["public"], PEOPLE)
    start, answers, errors = threading.Barrier(PEOPLE), {}, []

    def go(person):
        client = app.test_client()  # one client (and one connection) per thread
        start.wait()
        try:
            response = client.put(f"/api/v1/events/{event['id']}/rsvp", json={"status": "going"},
                                  headers={"Authorization": f"Bearer {person.access_token}"})
            answers[person.id] = (response.status_code, response.get_json())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(answers) == PEOPLE
    assert {status for status, _ in answers.values()} == {200}
    statuses = [body["status"] for _, body in answers.values()]
    assert statuses.count("going") == CAPACITY and statuses.count("waitlisted") == PEOPLE - CAPACITY
    places = sorted(body["waitlist_position"] for _, body in answers.values() if body["status"] == "waitlisted")
    assert places == list(range(1, PEOPLE - CAPACITY + 1))  # one line, no two in the same place
    codes = {body["check_in_code"] for _, body in answers.values() if body["status"] == "going"}
    assert len(codes) == CAPACITY
    seen = manager.get(f"/api/v1/events/{event['id']}").get_json()
    assert (seen["going"], seen["waitlisted"]) == (CAPACITY, PEOPLE - CAPACITY)

    # And the same when seats free up at the same moment as newcomers ask: still never above capacity.
    going = [p for p in people if answers[p.id][1]["status"] == "going"]
    late = members(make_actor, manager, world["public"], 4)
    start2 = threading.Barrier(len(going) + len(late))
    results = []

    def act(person, status):
        client = app.test_client()
        start2.wait()
        r = client.put(f"/api/v1/events/{event['id']}/rsvp", json={"status": status},
                       headers={"Authorization": f"Bearer {person.access_token}"})
        results.append(r.status_code)

    threads = [threading.Thread(target=act, args=(p, "declined")) for p in going]
    threads += [threading.Thread(target=act, args=(p, "going")) for p in late]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count(200) == len(threads)
    seen = manager.get(f"/api/v1/events/{event['id']}").get_json()
    assert (seen["going"], seen["waitlisted"]) == (CAPACITY, PEOPLE - CAPACITY + len(late) - CAPACITY)
    # The freed seats went to the first in line, not to the late-comers.
    first_in_line = sorted((b["waitlist_position"], pid) for pid, (_, b) in answers.items() if b["status"] == "waitlisted")
    for _, pid in first_in_line[:CAPACITY]:
        person = next(p for p in people if p.id == pid)
        assert person.get(f"/api/v1/events/{event['id']}/rsvp").get_json()["status"] == "going"
