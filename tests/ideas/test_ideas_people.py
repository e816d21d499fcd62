"""Ideas in the brand's view of its people: the relationship pyramid, exports and erasure."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from tests.helpers import PASSWORD, register
from tests.ideas.idea_fixtures import members, set_status, submit, vote


def _touchpoints(manager, brand, rows):
    body = "\n".join(json.dumps(r) for r in rows) + "\n"
    response = manager.post(f"/api/v1/brands/{brand}/imports/touchpoints?source=crm&stakeholder_source=manual",
                            data=body.encode(), content_type="application/x-ndjson")
    assert response.status_code == 200 and response.get_json()["accepted"] == len(rows), response.get_json()


def test_a_member_whose_idea_shipped_is_placed_at_co_creation(world, client):
    manager, brand, space = world["manager"], world["brand"], world["public"]
    made = manager.post(f"/api/v1/brands/{brand}/stakeholders",
                        json={"kind": "prospect", "email": "maker@example.com", "external_id": "mk-1"})
    assert made.status_code == 201
    maker = register(client, "maker")  # links the record: a member
    assert maker.post(f"/api/v1/spaces/{space}/join").status_code in (200, 201)
    when = (datetime.now(timezone.utc) - timedelta(days=30)).isoformat()
    _touchpoints(manager, brand, [  # the levels below: a subscription (convenience), a resolved question (ease)
        {"external_id": "sub-1", "stakeholder_external_id": "mk-1", "kind": "subscription", "occurred_at": when},
        {"external_id": "sup-1", "stakeholder_external_id": "mk-1", "kind": "support", "occurred_at": when}])
    ideas = [submit(maker, space, f"Idea number {i}") for i in range(3)]  # three ideas: three posts (self-expression)
    for person in (world["member"], world["moderator"], manager):  # recognition: answered by others three times
        reply = person.post(f"/api/v1/threads/{ideas[0]['thread_id']}/posts",
                            json={"body": "Yes!", "parent_id": ideas[0]["post_id"]})
        assert reply.status_code == 201

    stakeholder = made.get_json()["id"]
    before = manager.get(f"/api/v1/stakeholders/{stakeholder}/profile").get_json()["pyramid"]
    assert (before["level"], before["name"], before["next"]) == (5, "self_expression", "co_creation")

    set_status(manager, ideas[1]["id"], "shipped", "In the shop.")
    after = manager.get(f"/api/v1/stakeholders/{stakeholder}/profile").get_json()["pyramid"]
    assert (after["level"], after["name"], after["next"]) == (6, "co_creation", None)
    touchpoints = manager.get(f"/api/v1/stakeholders/{stakeholder}/export").get_json()["touchpoints"]
    assert [(t["kind"], t["source"], t["external_id"]) for t in touchpoints if t["source"] == "ideas"] == [
        ("co_creation", "ideas", f"idea-shipped:{ideas[1]['id']}")]

    set_status(manager, ideas[1]["id"], "planned", "Pulled back.")  # no longer shipped: no longer counted
    assert manager.get(f"/api/v1/stakeholders/{stakeholder}/profile").get_json()["pyramid"]["level"] == 5


def test_exports_list_ideas_and_votes_and_erasure_removes_votes_and_the_ideas_text(world, make_actor):
    manager, member, space = world["manager"], world["member"], world["public"]
    author, voter = members(make_actor, manager, space, 2)
    mine = submit(author, space, "Night runs", "Lit routes for night runs.")
    theirs = submit(member, space, "Kids' races")
    vote(author, theirs["id"])
    vote(voter, mine["id"])
    vote(member, mine["id"])
    comment = member.post(f"/api/v1/threads/{mine['thread_id']}/posts", json={"body": "I'd come"})
    assert comment.status_code == 201
    set_status(manager, mine["id"], "planned", "Autumn.")

    export = author.get("/api/v1/me/export").get_json()["ideas"]
    assert [(i["id"], i["title"], i["status"], i["votes"]) for i in export["ideas"]] == [(mine["id"], "Night runs", "planned", 2)]
    assert [(v["idea_id"], v["title"]) for v in export["votes"]] == [(theirs["id"], "Kids' races")]

    # The voter goes: their vote with them, the count follows.
    assert voter.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204
    assert member.get(f"/api/v1/ideas/{mine['id']}").get_json()["votes"] == 1
    # The author goes: their vote goes, the idea stays without its text or author; others' comments and votes stay.
    assert author.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204
    assert member.get(f"/api/v1/ideas/{theirs['id']}").get_json()["votes"] == 0
    kept = member.get(f"/api/v1/ideas/{mine['id']}").get_json()
    assert (kept["author_id"], kept["title"], kept["body"], kept["votes"], kept["my_vote"]) == (None, "Erased idea", None, 1, True)
    assert [h["reason"] for h in kept["history"]] == ["Autumn."]
    assert member.get(f"/api/v1/threads/{mine['thread_id']}").get_json()["title"] == "Erased idea"
    posts = member.get(f"/api/v1/threads/{mine['thread_id']}/posts").get_json()["items"]
    assert [p["body"] for p in posts if not p.get("deleted")] == ["I'd come"]
    assert "Lit routes" not in json.dumps(posts)
    listed = member.get(f"/api/v1/spaces/{space}/ideas").get_json()["items"]
    assert {i["title"] for i in listed} == {"Erased idea", "Kids' races"}
