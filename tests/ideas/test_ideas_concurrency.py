"""Many members vote for one idea at the same moment, some twice from two tabs: every member counts once.

On PostgreSQL each vote is its own request on its own connection: the unique key (idea, account) lets one
insert of a member's vote through (``ON CONFLICT DO NOTHING`` waits for the other and stores nothing), and
only a stored vote adds one with ``UPDATE ideas SET votes = votes + 1``.
"""

from __future__ import annotations

import threading

import pytest

from tests.helpers import TEST_DATABASE_URL
from tests.ideas.idea_fixtures import members, submit

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="concurrent writers need PostgreSQL (set TEST_DATABASE_URL)")

PEOPLE = 10


def _together(app, calls):
    """Run ``(method, url, actor)`` requests at once, each on its own client and connection."""
    start, results, errors = threading.Barrier(len(calls)), [], []

    def run(method, url, actor):
        client = app.test_client()
        start.wait()
        try:
            response = getattr(client, method)(url, headers={"Authorization": f"Bearer {actor.access_token}"})
            results.append(response.status_code)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == len(calls)
    return results


def test_concurrent_votes_never_double_count(app, world, make_actor):
    manager, member = world["manager"], world["member"]
    idea = submit(member, world["public"])
    people = members(make_actor, manager, world["public"], PEOPLE)
    url = f"/api/v1/ideas/{idea['id']}/vote"
    results = _together(app, [("put", url, p) for p in people] + [("put", url, p) for p in people[:4]])  # 4 vote twice
    assert set(results) == {200}
    seen = member.get(f"/api/v1/ideas/{idea['id']}").get_json()
    assert seen["votes"] == PEOPLE
    assert all(p.get(f"/api/v1/ideas/{idea['id']}").get_json()["my_vote"] for p in people)

    # Unvotes and new votes at once (some unvote twice): the count is the votes that remain.
    late = members(make_actor, manager, world["public"], 3)
    calls = [("delete", url, p) for p in people[:5]] + [("delete", url, p) for p in people[:2]] + [("put", url, p) for p in late]
    assert set(_together(app, calls)) == {200}
    assert member.get(f"/api/v1/ideas/{idea['id']}").get_json()["votes"] == PEOPLE - 5 + 3


def test_two_managers_shipping_at_once_ship_once(app, world):
    manager, admin, member = world["manager"], world["admin"], world["member"]
    idea = submit(member, world["public"])
    heard = []

    def on_shipped(sender, account_id, idea_id):
        heard.append((account_id, idea_id))

    from ideas.signals import idea_shipped

    idea_shipped.connect(on_shipped)
    start, results = threading.Barrier(2), []

    def ship(actor):
        client = app.test_client()
        start.wait()
        response = client.post(f"/api/v1/ideas/{idea['id']}/status", json={"status": "shipped", "reason": "Out"},
                               headers={"Authorization": f"Bearer {actor.access_token}"})
        results.append(response.status_code)

    try:
        threads = [threading.Thread(target=ship, args=(a,)) for a in (manager, admin)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        idea_shipped.disconnect(on_shipped)
    assert sorted(results) == [200, 409]  # the second waited for the row's lock, then found it shipped
    assert heard == [(member.id, idea["id"])]
    history = member.get(f"/api/v1/ideas/{idea['id']}").get_json()["history"]
    assert [(h["from"], h["to"]) for h in history] == [("new", "shipped")]
