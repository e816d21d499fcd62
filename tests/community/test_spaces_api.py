"""Spaces: listing by purpose kind, private spaces that cannot be probed, join, leave, members."""

from __future__ import annotations

import pytest


def _ids(response):
    return [item["id"] for item in response.get_json()["items"]]


def test_list_filters_by_purpose_kind(world):
    member = world["member"]
    assert _ids(member.get("/api/v1/spaces?kind=life")) == [world["public"]]
    assert _ids(member.get("/api/v1/spaces?kind=societal")) == [world["private"]]
    assert _ids(member.get(f"/api/v1/spaces?brand_id={world['brand']}")) == [world["public"], world["private"]]


@pytest.mark.parametrize(
    "who, sees_private", [("admin", True), ("manager", True), ("moderator", True), ("member", True), ("outsider", False), ("analyst", False)]
)
def test_private_space_is_invisible_to_non_members(world, who, sees_private):
    actor = world[who]
    listed = world["private"] in _ids(actor.get("/api/v1/spaces"))
    direct = actor.get(f"/api/v1/spaces/{world['private']}").status_code
    threads = actor.get(f"/api/v1/spaces/{world['private']}/threads").status_code
    members = actor.get(f"/api/v1/spaces/{world['private']}/members").status_code
    assert listed is sees_private
    assert (direct, threads, members) == ((200, 200, 200) if sees_private else (404, 404, 404))
    if not sees_private:
        # Not even joining reveals it: the answer is the same as for a space that does not exist.
        join = actor.post(f"/api/v1/spaces/{world['private']}/join")
        ghost = actor.post("/api/v1/spaces/424242/join")
        assert join.status_code == ghost.status_code == 404
        assert join.get_json()["detail"] == ghost.get_json()["detail"]


def test_join_is_idempotent_and_leave_removes(world):
    outsider, public = world["outsider"], world["public"]
    first = outsider.post(f"/api/v1/spaces/{public}/join")
    second = outsider.post(f"/api/v1/spaces/{public}/join")
    assert first.status_code == second.status_code == 200
    assert first.get_json()["role"] == "member"
    handles = [m["account"]["handle"] for m in outsider.get(f"/api/v1/spaces/{public}/members").get_json()["items"]]
    assert handles.count("out_olga") == 1
    assert outsider.post(f"/api/v1/spaces/{public}/leave").status_code == 204
    assert outsider.post(f"/api/v1/spaces/{public}/leave").status_code == 409
    handles = [m["account"]["handle"] for m in outsider.get(f"/api/v1/spaces/{public}/members").get_json()["items"]]
    assert "out_olga" not in handles


def test_members_list_is_paginated_in_join_order(world, make_actor):
    public = world["public"]
    for _ in range(5):
        make_actor().post(f"/api/v1/spaces/{public}/join")
    seen, cursor = [], None
    while True:
        url = f"/api/v1/spaces/{public}/members?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = world["member"].get(url).get_json()
        assert len(page["items"]) <= 2
        seen += [m["account"]["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 8  # manager, moderator, member, 5 newcomers


@pytest.mark.parametrize("who, status", [("admin", 201), ("manager", 201), ("moderator", 403), ("member", 403), ("analyst", 403)])
def test_space_creation_matrix(world, who, status):
    response = world[who].post(f"/api/v1/purposes/{world['life']}/spaces", json={"name": "Yoga", "slug": f"yoga-{who}"})
    assert response.status_code == status


def test_space_slug_is_validated_and_unique(world):
    manager = world["manager"]
    assert manager.post(f"/api/v1/purposes/{world['life']}/spaces", json={"name": "X", "slug": "runners"}).status_code == 409
    bad = manager.post(f"/api/v1/purposes/{world['life']}/spaces", json={"name": "X", "slug": "Not A Slug!"})
    assert bad.status_code == 422 and "slug" in bad.get_json()["errors"]


def test_creator_becomes_manager_of_new_space(world):
    created = world["manager"].post(f"/api/v1/purposes/{world['life']}/spaces", json={"name": "Hikes", "slug": "hikes"}).get_json()
    members = world["manager"].get(f"/api/v1/spaces/{created['id']}/members").get_json()["items"]
    assert [(m["account"]["handle"], m["role"]) for m in members] == [("brand_boss", "manager")]


@pytest.mark.parametrize(
    "who, role, status",
    [("moderator", "member", 200), ("moderator", "manager", 403), ("manager", "manager", 200),
     ("member", "member", 403), ("analyst", "member", 404), ("outsider", "member", 404)],
)
def test_adding_members_to_a_private_space(world, make_actor, who, role, status):
    newcomer = make_actor()
    response = world[who].put(f"/api/v1/spaces/{world['private']}/members/{newcomer.id}", json={"role": role})
    assert response.status_code == status
    assert (newcomer.get(f"/api/v1/spaces/{world['private']}").status_code == 200) is (status == 200)


@pytest.mark.parametrize(
    "who, target, status",
    [("moderator", "member", 204), ("member", "moderator", 403), ("moderator", "moderator", 403),
     ("manager", "moderator", 204), ("outsider", "member", 404), ("manager", "outsider", 404)],
)
def test_removing_members_from_a_private_space(world, who, target, status):
    response = world[who].delete(f"/api/v1/spaces/{world['private']}/members/{world[target].id}")
    assert response.status_code == status
    removed = world[target].get(f"/api/v1/spaces/{world['private']}").status_code == 404
    assert removed is (status == 204 or target == "outsider")


def _audit(actor, space_id, action="member_role_changed"):
    response = actor.get(f"/api/v1/spaces/{space_id}/moderation/audit?action={action}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


@pytest.mark.parametrize("target_role", ["moderator", "manager"])
def test_a_moderator_cannot_demote_other_staff(world, make_actor, target_role):
    space, staff = world["public"], make_actor()
    assert world["manager"].put(f"/api/v1/spaces/{space}/members/{staff.id}", json={"role": target_role}).status_code == 200
    demoted = world["moderator"].put(f"/api/v1/spaces/{space}/members/{staff.id}", json={"role": "member"})
    assert demoted.status_code == 403 and demoted.get_json()["type"] == "forbidden"
    # Still staff: the ban that a demotion would have opened stays refused.
    ban = world["moderator"].put(f"/api/v1/spaces/{space}/bans/{staff.id}", json={"reason": "Takeover"})
    assert ban.status_code == 403 and ban.get_json()["type"] == "target-is-staff"
    # The space's manager, a brand manager, is out of a moderator's reach too.
    assert world["moderator"].put(f"/api/v1/spaces/{space}/members/{world['manager'].id}",
                                  json={"role": "member"}).status_code == 403


def test_brand_manager_changes_staff_roles_and_each_change_is_audited(world, make_actor):
    space, newcomer = world["public"], make_actor()
    assert world["moderator"].put(f"/api/v1/spaces/{space}/members/{newcomer.id}", json={"role": "member"}).status_code == 200
    demoted = world["manager"].put(f"/api/v1/spaces/{space}/members/{world['moderator'].id}",
                                   json={"role": "member", "reason": "Stepping back"})
    assert demoted.status_code == 200 and demoted.get_json()["role"] == "member"
    entries = _audit(world["manager"], space)
    assert [(e["target_id"], e["before"], e["after"], e["actor_id"]) for e in entries[:2]] == [
        (world["moderator"].id, {"role": "moderator"}, {"role": "member"}, world["manager"].id),
        (newcomer.id, None, {"role": "member"}, world["moderator"].id),
    ]
    assert entries[0]["reason"] == "Stepping back"
    # Setting the role a member already has changes nothing and logs nothing.
    assert world["manager"].put(f"/api/v1/spaces/{space}/members/{newcomer.id}", json={"role": "member"}).status_code == 200
    assert _audit(world["manager"], space) == entries


def test_role_is_required_to_change_a_membership(world):
    response = world["manager"].put(f"/api/v1/spaces/{world['public']}/members/{world['moderator'].id}", json={})
    assert response.status_code == 422 and "role" in response.get_json()["errors"]
    assert world["moderator"].get(f"/api/v1/spaces/{world['public']}/moderation/queue").status_code == 200  # still staff
