"""Brands, managers and purposes: who may create them and who may read them."""

from __future__ import annotations

import pytest


def test_admin_creates_brand_and_names_are_unique(admin):
    created = admin.post("/api/v1/brands", json={"name": "Seabird", "description": "Kayaks"})
    assert created.status_code == 201
    assert created.get_json()["name"] == "Seabird"
    assert admin.post("/api/v1/brands", json={"name": "Seabird"}).status_code == 409


@pytest.mark.parametrize("who", ["member", "analyst", "manager", "moderator"])
def test_only_admins_create_brands_and_assign_managers(world, who):
    actor = world[who]
    assert actor.post("/api/v1/brands", json={"name": f"Brand of {who}"}).status_code == 403
    assert actor.put(f"/api/v1/brands/{world['brand']}/managers/{actor.id}").status_code == 403


@pytest.mark.parametrize("who, status", [("admin", 201), ("manager", 201), ("moderator", 403), ("member", 403), ("analyst", 403)])
def test_purpose_creation_matrix(world, who, status):
    response = world[who].post(
        f"/api/v1/brands/{world['brand']}/purposes", json={"kind": "life", "title": "Cook at home", "tags": ["Cooking", "cooking"]}
    )
    assert response.status_code == status
    if status == 201:
        assert response.get_json()["tags"] == ["cooking"]


def test_manager_of_one_brand_cannot_touch_another(world, admin):
    other = admin.post("/api/v1/brands", json={"name": "Other brand"}).get_json()
    response = world["manager"].post(f"/api/v1/brands/{other['id']}/purposes", json={"kind": "societal", "title": "X"})
    assert response.status_code == 403


def test_anyone_signed_in_reads_brands_and_purposes(world, client):
    outsider = world["outsider"]
    assert outsider.get(f"/api/v1/brands/{world['brand']}").status_code == 200
    purposes = outsider.get(f"/api/v1/brands/{world['brand']}/purposes").get_json()["items"]
    assert {p["kind"] for p in purposes} == {"life", "societal"}
    only_life = outsider.get(f"/api/v1/brands/{world['brand']}/purposes?kind=life").get_json()["items"]
    assert [p["kind"] for p in only_life] == ["life"]
    assert outsider.get(f"/api/v1/purposes/{world['life']}").get_json()["tags"] == ["fitness"]
    assert client.get("/api/v1/brands").status_code == 401


def test_purpose_kind_must_be_life_or_societal(world):
    response = world["manager"].post(f"/api/v1/brands/{world['brand']}/purposes", json={"kind": "profit", "title": "X"})
    assert response.status_code == 422 and "kind" in response.get_json()["errors"]


def test_unknown_brand_is_404(world):
    assert world["admin"].post("/api/v1/brands/4242/purposes", json={"kind": "life", "title": "X"}).status_code == 404
    assert world["admin"].put(f"/api/v1/brands/4242/managers/{world['member'].id}").status_code == 404


def test_removing_a_manager_takes_effect_at_once(world):
    manager = world["manager"]
    world["admin"].delete(f"/api/v1/brands/{world['brand']}/managers/{manager.id}")
    response = manager.post(f"/api/v1/brands/{world['brand']}/purposes", json={"kind": "life", "title": "X"})
    assert response.status_code == 403
