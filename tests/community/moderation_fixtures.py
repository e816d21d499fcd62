"""A community for moderation tests: two brands, roles on each, and a post by ``pat_poster`` in every space.

Spaces: ``public`` and ``private`` (the ``world`` fixture's: ``mod_maya`` moderates both),
``walkers`` (same brand, public, ``mod_maya`` is only a member), ``rivals`` (another brand,
public) and ``rival_core`` (another brand, private). ``mem_max`` and ``pat_poster`` are
members of every space; the analyst is assigned to the first brand.
"""

from __future__ import annotations

import pytest

SPACES = ("public", "private", "walkers", "rivals", "rival_core")


def start_thread(actor, space_id, title="Topic", body="Hello there"):
    response = actor.post(f"/api/v1/spaces/{space_id}/threads", json={"title": title, "body": body})
    assert response.status_code == 201, response.get_json()
    thread = response.get_json()
    first = actor.get(f"/api/v1/threads/{thread['id']}/posts").get_json()["items"][0]
    return thread["id"], first["id"]


def post_in(actor, thread_id, body="A reply"):
    response = actor.post(f"/api/v1/threads/{thread_id}/posts", json={"body": body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def mw(world, make_actor):
    admin, manager, member = world["admin"], world["manager"], world["member"]
    poster, rival_boss = make_actor(handle="pat_poster"), make_actor(handle="rival_boss")
    assert manager.put(f"/api/v1/brands/{world['brand']}/analysts/{world['analyst'].id}").status_code in (200, 201)
    walkers = manager.post(f"/api/v1/purposes/{world['life']}/spaces", json={"name": "Walkers", "slug": "walkers"}).get_json()
    rival = admin.post("/api/v1/brands", json={"name": "Rival"}).get_json()
    assert admin.put(f"/api/v1/brands/{rival['id']}/managers/{rival_boss.id}").status_code == 200
    purpose = rival_boss.post(f"/api/v1/brands/{rival['id']}/purposes", json={"kind": "life", "title": "Swim"}).get_json()
    rivals = rival_boss.post(f"/api/v1/purposes/{purpose['id']}/spaces", json={"name": "Rivals", "slug": "rivals"}).get_json()
    rival_core = rival_boss.post(
        f"/api/v1/purposes/{purpose['id']}/spaces", json={"name": "Rival core", "slug": "rival-core", "visibility": "private"}
    ).get_json()
    spaces = {**{k: world[k] for k in ("public", "private")}, "walkers": walkers["id"], "rivals": rivals["id"],
              "rival_core": rival_core["id"]}
    staff_of = {"walkers": manager, "rivals": rival_boss, "rival_core": rival_boss, "public": manager, "private": manager}
    for name, space_id in spaces.items():
        for person in (member, poster, world["moderator"]):
            if name in ("public", "private") and person is world["moderator"]:
                continue
            assert staff_of[name].put(f"/api/v1/spaces/{space_id}/members/{person.id}", json={"role": "member"}).status_code == 200
    threads = {name: start_thread(poster, space_id, f"In {name}", f"Post in {name}") for name, space_id in spaces.items()}
    return {**world, **spaces, "poster": poster, "rival_boss": rival_boss, "rival_brand": rival["id"], "threads": threads}
