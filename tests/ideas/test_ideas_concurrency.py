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
