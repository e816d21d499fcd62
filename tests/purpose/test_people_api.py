"""The brand's people over REST: analyst scoping, imports, relationship profiles, segment summaries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from core.accounts import Account
from core.extensions import db
from purpose.stakeholders import link_registration
from tests.helpers import register
from tests.purpose.test_clv import simulate

NOW = datetime.now(timezone.utc)


def upload(actor, brand_id, what, body: str, content_type="text/csv", **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return actor.post(f"/api/v1/brands/{brand_id}/imports/{what}?{qs}", data=body.encode(), content_type=content_type)


def jsonl(rows) -> str:
    return "\n".join(json.dumps(r) for r in rows) + "\n"


def stakeholders_csv(rows) -> str:
    return "external_id,kind,email,contact_preference\n" + "".join(f"{e},{k},{m or ''},{p or ''}\n" for e, k, m, p in rows)


def purchase(ext, who, days_ago, amount, **extra):
    when = (NOW - timedelta(days=days_ago)).isoformat()
    return {"external_id": ext, "stakeholder_external_id": who, "kind": "purchase", "occurred_at": when,
            "amount": amount, "currency": "EUR", **extra}


@pytest.fixture
def people(world):
    """Five customers with different buying patterns, a prospect, a nonuser NGO contact."""
    manager, brand = world["manager"], world["brand"]
    rows = [("big", "customer", "big@example.com", None), ("mid", "customer", None, None),
            ("small", "customer", None, "marriage"), ("old", "customer", None, None),
            ("p1", "prospect", "pros@example.com", None), ("ngo1", "ngo", None, "fling")]
    assert upload(manager, brand, "stakeholders", stakeholders_csv(rows), source="crm").status_code == 200
    buys = [purchase(f"big-{i}", "big", 5 + 10 * i, 400) for i in range(6)]
    buys += [purchase(f"mid-{i}", "mid", 20 + 30 * i, 60) for i in range(3)]
    buys += [purchase("small-0", "small", 40, 15), purchase("old-0", "old", 800, 90)]
    buys.append({"external_id": "ev-1", "stakeholder_external_id": "ngo1", "kind": "event",
                 "occurred_at": (NOW - timedelta(days=3)).isoformat(), "event_ref": "beach-day"})
    response = upload(manager, brand, "touchpoints", jsonl(buys), "application/x-ndjson", source="crm")
    assert response.get_json()["accepted"] == len(buys)
    return world


def profiles(actor, brand, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    response = actor.get(f"/api/v1/brands/{brand}/stakeholders?{qs}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_analysts_see_only_the_brands_they_are_assigned_to(people, make_actor, admin):
    brand, analyst, manager = people["brand"], people["analyst"], people["manager"]
    urls = [f"/api/v1/brands/{brand}/stakeholders", f"/api/v1/brands/{brand}/segments"]
    for url in urls:
        assert analyst.get(url).status_code == 403
        assert people["member"].get(url).status_code == 403
    assert analyst.put(f"/api/v1/brands/{brand}/analysts/{analyst.id}").status_code == 403
    assert manager.put(f"/api/v1/brands/{brand}/analysts/{analyst.id}").status_code == 200
    for url in urls:
        assert analyst.get(url).status_code == 200
    other = admin.post("/api/v1/brands", json={"name": "Elsewhere"}).get_json()["id"]
    assert analyst.get(f"/api/v1/brands/{other}/stakeholders").status_code == 403
    assert analyst.get("/api/v1/brands/999999/segments").status_code == 404
    # Reading is not changing: an analyst cannot import, erase or record objections.
    some = profiles(analyst, brand)["items"][0]["stakeholder"]["id"]
    assert upload(analyst, brand, "stakeholders", stakeholders_csv([("z", "prospect", None, None)])).status_code == 403
    assert analyst.delete(f"/api/v1/stakeholders/{some}").status_code == 403
    assert analyst.get(f"/api/v1/stakeholders/{some}/export").status_code == 403
    assert manager.delete(f"/api/v1/brands/{brand}/analysts/{analyst.id}").status_code == 204
    assert analyst.get(urls[0]).status_code == 403


def test_profiles_carry_segment_pyramid_style_and_filter(people):
    manager, brand = people["manager"], people["brand"]
    page = profiles(manager, brand)
    kinds = {p["stakeholder"]["kind"] for p in page["items"]}
    assert {"customer", "prospect", "ngo"} <= kinds
    segment_of = {p["rfm"]["monetary"]: p["segment"] for p in page["items"] if p["rfm"]["frequency"]}
    assert segment_of[2400.0] == "heavy" and segment_of[90.0] == "lapsed"
    heavy = profiles(manager, brand, segment="heavy")["items"]
    assert [p["rfm"]["monetary"] for p in heavy] == [2400.0]
    assert heavy[0]["pyramid"]["level"] >= 2 and heavy[0]["pyramid"]["name"] == "convenience"
    assert heavy[0]["pyramid"]["next"] == "ease" and heavy[0]["pyramid"]["to_next"]
    nonusers = profiles(manager, brand, segment="nonuser")["items"]
    assert {p["stakeholder"]["kind"] for p in nonusers} == {"prospect", "ngo"}
    declared = [p for p in page["items"] if p["style_declared"]]
    assert sorted(p["style"] for p in declared) == ["fling", "marriage"]
    assert {p["stakeholder"]["kind"] for p in profiles(manager, brand, level=0)["items"]} == {"prospect", "ngo"}
    assert all(p["style"] == "fling" for p in profiles(manager, brand, style="fling")["items"])
    assert all(p["clv"] is None for p in page["items"])  # five buyers: too few for the models
    assert "email" not in json.dumps(page)


def test_profiles_page_with_signed_cursors(people):
    manager, brand = people["manager"], people["brand"]
    first = profiles(manager, brand, limit=4)
    assert len(first["items"]) == 4 and first["next_cursor"]
    second = profiles(manager, brand, limit=4, cursor=first["next_cursor"])
    ids = [p["stakeholder"]["id"] for p in first["items"] + second["items"]]
    assert ids == sorted(set(ids)) and second["next_cursor"] is None
    tampered = manager.get(f"/api/v1/brands/{brand}/stakeholders?segment=heavy&cursor={first['next_cursor']}")
    assert tampered.status_code == 422 and "cursor" in tampered.get_json()["errors"]


@pytest.mark.parametrize("query, field", [("segment=whale", "segment"), ("level=7", "level"), ("style=affair", "style"),
                                          ("kind=alien", "kind"), ("limit=0", "limit")])
def test_bad_filters_are_422_naming_the_field(people, query, field):
    response = people["manager"].get(f"/api/v1/brands/{people['brand']}/stakeholders?{query}")
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_segment_summary_counts_revenue_pareto_and_conversions(people, client):
    manager, brand = people["manager"], people["brand"]
    register(client, "pros")  # pros@example.com was a known prospect: now a member
    summary = manager.get(f"/api/v1/brands/{brand}/segments").get_json()
    segments = {s["segment"]: s for s in summary["segments"]}
    assert segments["heavy"]["revenue"] == 2400.0 and segments["lapsed"]["count"] == 1
    assert summary["people"] == 6 and summary["buyers"] == 4
    assert summary["pareto_share"] == pytest.approx(2400 / (2400 + 180 + 15 + 90), abs=1e-4)
    assert summary["clv_model"] == "too-few-buyers" and summary["customer_equity"] is None
    assert summary["conversions"] == {"total": 1, "from": {"prospect": 1}}
    assert sum(level["count"] for level in summary["pyramid"]) == 6


def test_purpose_scope_counts_only_that_purposes_touchpoints_and_spaces(people):
    manager, brand, life = people["manager"], people["brand"], people["life"]
    summary = manager.get(f"/api/v1/brands/{brand}/segments?purpose_id={life}").get_json()
    # No touchpoint is tagged with the purpose: only the space's members are in scope.
    assert summary["purpose_id"] == life and summary["buyers"] == 0
    other = people["admin"].post("/api/v1/brands", json={"name": "Other"}).get_json()["id"]
    foreign = people["admin"].post(f"/api/v1/brands/{other}/purposes", json={"kind": "life", "title": "X"}).get_json()["id"]
    response = manager.get(f"/api/v1/brands/{brand}/segments?purpose_id={foreign}")
    assert response.status_code == 422 and "purpose_id" in response.get_json()["errors"]


def test_members_state_goals_and_causes(world):
    member = world["member"]
    assert member.patch("/api/v1/me", json={"interests": ["Fitness", "cooking"]}).get_json()["interests"] == ["cooking", "fitness"]
    assert member.patch("/api/v1/me", json={"display_name": "Max"}).get_json()["interests"] == ["cooking", "fitness"]
    assert member.get("/api/v1/me").get_json()["display_name"] == "Max"
    assert member.patch("/api/v1/me", json={"interests": ["no spaces"]}).status_code == 422
    assert member.patch("/api/v1/me", json={"interests": [f"t{i}" for i in range(21)]}).status_code == 422
    assert member.patch("/api/v1/me", json={"role": "admin"}).status_code == 422


def test_linked_member_profile_reflects_posts_recognition_and_alignment(world, client, app):
    manager, brand, life = world["manager"], world["brand"], world["life"]
    assert manager.post(f"/api/v1/brands/{brand}/stakeholders",
                        json={"kind": "prospect", "email": "newbie@example.com", "external_id": "n-1"}).status_code == 201
    newbie = register(client, "newbie")  # links the prospect and records the conversion
    newbie.patch("/api/v1/me", json={"interests": ["fitness"]})
    assert newbie.post(f"/api/v1/spaces/{world['public']}/join").status_code in (200, 201)
    thread = newbie.post(f"/api/v1/spaces/{world['public']}/threads", json={"title": "Hello", "body": "one"}).get_json()
    newbie.post(f"/api/v1/threads/{thread['id']}/posts", json={"body": "two"})
    posts = newbie.get(f"/api/v1/threads/{thread['id']}/posts").get_json()["items"]
    newbie.post(f"/api/v1/threads/{thread['id']}/posts", json={"body": "three"})
    for person in (world["member"], world["moderator"], manager):
        person.post(f"/api/v1/threads/{thread['id']}/posts", json={"body": "hi!", "parent_id": posts[0]["id"]})
    (mine,) = [p for p in profiles(manager, brand)["items"] if p["stakeholder"]["account_id"] == newbie.id]
    assert mine["stakeholder"]["kind"] == "member" and mine["stakeholder"]["converted_from"] == "prospect"
    # utility (member) -> convenience needs a second purchase or a subscription: stuck at level 1,
    # although the posts and recognition for higher levels are there (levels count only in order).
    assert mine["pyramid"]["level"] == 1 and mine["pyramid"]["next"] == "convenience"
    alignment = {a["purpose_id"]: a["score"] for a in mine["alignment"]}
    assert alignment[life] == pytest.approx(0.6 * 1 + 0.4 * 0.3)  # states fitness; 3 posts of 10
    assert alignment[world["societal"]] == 0.0


def simulated_purchases(n: int, seed: int) -> list[dict]:
    """Purchases of n customers drawn from BG/NBD (timing) and Gamma-Gamma (spend) over 39 weeks."""
    rng = np.random.default_rng(seed)
    x, t_x, T, _future = simulate(n, 39.0, 0.0, seed=seed)
    rows = []
    for i in range(n):
        nu = rng.gamma(4.0, 1 / 20.0)  # the customer's spend rate: nu ~ Gamma(q=4, v=20)
        weeks = [0.0, *sorted(rng.uniform(0, t_x[i], size=max(0, int(x[i]) - 1))), t_x[i]][: int(x[i]) + 1]
        for k, week in enumerate(weeks):
            days_ago = (T[i] - week) * 7
            rows.append(purchase(f"o{i}-{k}", f"c{i}", days_ago, round(float(rng.gamma(6.0, 1 / nu)), 2)))
    return rows


def test_clv_is_fitted_when_there_are_enough_buyers(world):
    manager, brand = world["manager"], world["brand"]
    rows = [(f"c{i}", "customer", None, None) for i in range(150)]
    assert upload(manager, brand, "stakeholders", stakeholders_csv(rows), source="shop").status_code == 200
    buys = simulated_purchases(150, seed=2)
    assert upload(manager, brand, "touchpoints", jsonl(buys), "application/x-ndjson", source="shop").get_json()["rejected"] == 0
    summary = manager.get(f"/api/v1/brands/{brand}/segments").get_json()
    assert summary["clv_model"] == "fitted" and summary["buyers"] == 150
    items = profiles(manager, brand, limit=200)["items"]
    values = [p["clv"]["value"] for p in items]
    # Each request refits at its own "now": the optimiser's tolerance moves the total by under 2 %.
    assert summary["customer_equity"] == pytest.approx(sum(values), rel=0.02)
    assert all(0 <= p["clv"]["probability_alive"] <= 1 and p["clv"]["value"] > 0 for p in items)
    frequent = max(items, key=lambda p: p["rfm"]["frequency"])
    once = min(items, key=lambda p: (p["rfm"]["frequency"], -p["rfm"]["recency_days"]))
    assert frequent["clv"]["expected_purchases"] > once["clv"]["expected_purchases"]


def test_imports_by_api_report_bad_rows_and_are_idempotent(world):
    manager, brand = world["manager"], world["brand"]
    body = stakeholders_csv([("a", "customer", "a@example.com", None), ("b", "martian", None, None),
                             ("c", "prospect", "not-an-email", None)])
    report = upload(manager, brand, "stakeholders", body).get_json()
    assert (report["accepted"], report["rejected"]) == (1, 2)
    assert [e["line"] for e in report["errors"]] == [3, 4] and "kind" in report["errors"][0]["reason"]
    again = upload(manager, brand, "stakeholders", body).get_json()
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert upload(manager, brand, "stakeholders", body, content_type="application/pdf").status_code == 415
    bad = manager.post(f"/api/v1/brands/{brand}/imports/stakeholders", data=b"external_id,kind\n\xff\xfe,customer\n",
                       content_type="text/csv")
    assert bad.status_code == 400 and bad.get_json()["type"].endswith("not-utf8")
    assert upload(manager, brand, "stakeholders", body, source="x" * 41).status_code == 422


def test_export_erase_and_objection(people, client):
    manager, brand = people["manager"], people["brand"]
    big = next(p for p in profiles(manager, brand)["items"] if p["rfm"]["monetary"] == 2400.0)["stakeholder"]["id"]
    exported = manager.get(f"/api/v1/stakeholders/{big}/export").get_json()
    assert exported["stakeholder"]["email"] == "big@example.com" and len(exported["touchpoints"]) == 6

    assert manager.put(f"/api/v1/stakeholders/{big}/objection", json={"objected": True}).get_json()["objected"] is True
    assert big not in {p["stakeholder"]["id"] for p in profiles(manager, brand)["items"]}
    assert manager.get(f"/api/v1/stakeholders/{big}/profile").status_code == 404
    assert manager.get(f"/api/v1/brands/{brand}/segments").get_json()["buyers"] == 3
    manager.put(f"/api/v1/stakeholders/{big}/objection", json={"objected": False})
    assert manager.get(f"/api/v1/stakeholders/{big}/profile").status_code == 200
    assert manager.put(f"/api/v1/stakeholders/{big}/objection", json={"objected": "maybe"}).status_code == 422

    assert manager.delete(f"/api/v1/stakeholders/{big}").status_code == 204
    after = manager.get(f"/api/v1/stakeholders/{big}/export").get_json()
    assert after["stakeholder"]["email"] is None and after["touchpoints"] == []
    assert after["stakeholder"]["external_id"].startswith("erased:") and "big" not in after["stakeholder"]["external_id"]
    assert manager.get(f"/api/v1/stakeholders/{big}/profile").status_code == 404
    # Importing the CRM file again does not bring the person back; registering with their email links nothing.
    again = upload(manager, brand, "stakeholders", stakeholders_csv([("big", "customer", "big@example.com", None)]), source="crm")
    assert again.get_json() | {"errors": []} == {"accepted": 0, "duplicates": 1, "rejected": 0, "errors": []}
    register(client, "big")
    assert all(p["stakeholder"]["kind"] != "member" for p in profiles(manager, brand)["items"])
    assert manager.get("/api/v1/stakeholders/999999/export").status_code == 404


def test_spaces_show_their_purposes_tags(world):
    spaces = {s["id"]: s for s in world["member"].get("/api/v1/spaces").get_json()["items"]}
    assert spaces[world["public"]]["tags"] == ["fitness"] and spaces[world["public"]]["purpose_kind"] == "life"
    assert world["member"].get(f"/api/v1/spaces/{world['private']}").get_json()["purpose_kind"] == "societal"


def test_a_member_exports_and_erases_themselves(world, client):
    manager, brand, member = world["manager"], world["brand"], world["member"]
    upload(manager, brand, "stakeholders", stakeholders_csv([("m1", "customer", member.email, "friendship")]), source="crm")
    # The CRM row came after the registration: link it as a registration would have.
    with client.application.app_context():
        link_registration(db.session.get(Account, member.id))
    upload(manager, brand, "touchpoints", jsonl([purchase("o1", "m1", 3, 20)]), "application/x-ndjson", source="crm")
    thread = member.post(f"/api/v1/spaces/{world['public']}/threads", json={"title": "Mine", "body": "my words"}).get_json()
    theirs = world["moderator"].post(f"/api/v1/threads/{thread['id']}/posts", json={"body": "a reply"}).get_json()
    member.post(f"/api/v1/posts/{theirs['id']}/reactions", json={"emoji": "👍"})

    exported = member.get("/api/v1/me/export").get_json()
    assert exported["account"]["email"] == member.email
    assert [b["stakeholder"]["external_id"] for b in exported["brands"]] == ["m1"]
    assert len(exported["brands"][0]["touchpoints"]) == 1
    assert [p["body"] for p in exported["community"]["posts"]] == ["my words"]
    assert len(exported["community"]["reactions"]) == 1 and len(exported["community"]["memberships"]) == 2

    wrong = member.delete("/api/v1/me", json={"password": "not it"})
    assert wrong.status_code == 403 and member.get("/api/v1/me").status_code == 200
    assert member.delete("/api/v1/me", json={}).status_code == 422
    assert member.delete("/api/v1/me", json={"password": "correct horse battery staple"}).status_code == 204

    assert member.get("/api/v1/me").status_code == 401  # every session was revoked
    login = client.post("/api/v1/auth/login", json={"email": member.email, "password": "correct horse battery staple"})
    assert login.status_code == 401
    posts = world["moderator"].get(f"/api/v1/threads/{thread['id']}/posts").get_json()["items"]
    mine = next(p for p in posts if p["id"] != theirs["id"])
    assert mine["deleted"] is True and "my words" not in json.dumps(posts)
    assert mine["author"]["handle"].startswith("erased_") and member.handle not in json.dumps(posts)
    assert next(p for p in posts if p["id"] == theirs["id"])["reactions"] == []
    record = manager.get(f"/api/v1/stakeholders/{exported['brands'][0]['stakeholder']['id']}/export").get_json()
    assert record["stakeholder"]["email"] is None and record["touchpoints"] == [] and "account" not in record
    members = world["manager"].get(f"/api/v1/spaces/{world['public']}/members").get_json()["items"]
    assert member.id not in {m["account"]["id"] for m in members}


def test_scoring_a_large_brand_lets_the_process_serve_its_sockets_meanwhile(app, admin, loop_turns):
    """Under gevent, a request that scores a brand's people (seconds for a large brand) must not
    stall every socket of its process: each stage lets the event loop run between one person
    and the next (core/cooperative.py)."""
    import gevent

    from core.cooperative import paced
    from devtools.seed import seed_synthetic
    from purpose.people import load_people
    from purpose.profiles import _clv_model, _profiles, summarise_segments
    from purpose.relationship import rfm

    def turns(work):
        before = len(loop_turns)
        done = work()
        gevent.idle()  # the other greenlet's last turn may still be due: count it in this stage
        return done, len(loop_turns) - before

    with app.app_context():
        brand = seed_synthetic(300, seed=3).brand_id
        as_of = datetime.now(timezone.utc)
        people, reading = turns(lambda: load_people(brand, as_of=as_of))
        model, fitting = turns(lambda: _clv_model(people, as_of))
        _scores, scoring = turns(lambda: rfm(list(people.persons.values()), as_of, pace=paced))  # as profiles call it
        profiles, building = turns(lambda: _profiles(people, as_of, model))
        _summary, summarising = turns(lambda: summarise_segments(profiles, model))
    n = len(people.persons)
    assert n > 300 and model.status == "fitted"
    assert min(reading, scoring, building, summarising) >= n and fitting >= model.buyers
    before = len(loop_turns)
    assert admin.get(f"/api/v1/brands/{brand}/stakeholders?limit=5").status_code == 200
    assert len(loop_turns) - before >= 4 * n


def test_only_analyst_role_holders_are_appointed_and_the_appointment_lapses_with_the_role(world):
    """Issue 23, item 8: a brand manager could make any plain member an analyst."""
    brand, manager, admin, analyst, member = (world[k] for k in ("brand", "manager", "admin", "analyst", "member"))
    stakeholders, reports = f"/api/v1/brands/{brand}/stakeholders", f"/api/v1/reports?brand_id={brand}"
    refused = manager.put(f"/api/v1/brands/{brand}/analysts/{member.id}")
    assert refused.status_code == 409 and refused.get_json()["type"] == "not-an-analyst", refused.get_json()
    assert refused.mimetype == "application/problem+json"
    assert member.get(stakeholders).status_code == 403 and member.get(reports).status_code == 403
    assert manager.put(f"/api/v1/brands/{brand}/analysts/{admin.id}").status_code == 200  # admins hold every right anyway
    assert manager.put(f"/api/v1/brands/{brand}/analysts/{analyst.id}").status_code == 200
    assert analyst.get(stakeholders).status_code == 200 and analyst.get(reports).status_code == 200
    assert admin.put(f"/api/v1/accounts/{analyst.id}/role", json={"role": "member"}).status_code == 200
    for url in (stakeholders, reports, f"/api/v1/brands/{brand}/segments"):
        assert analyst.get(url).status_code == 403, url  # the appointment no longer counts
    assert admin.put(f"/api/v1/accounts/{analyst.id}/role", json={"role": "analyst"}).status_code == 200
    assert analyst.get(stakeholders).status_code == 200  # and counts again with the role


def test_buyers_without_heterogeneity_are_valued_through_the_import_and_the_people_listing(world, app):
    """Everyone buying at one rate, spend independent of the customer, imported as a brand would: the
    fits end at their limit model, and every buyer listed still has a CLV and the one rate's expected
    purchases (the closed form's hypergeometric function was NaN there: every CLV came back null)."""
    manager, brand = world["manager"], world["brand"]
    rng, weekly, customers = np.random.default_rng(5), 0.3, 400
    rows, buys = [], []
    for i in range(customers):
        rows.append((f"h{i}", "customer", None, None))
        count = max(1, int(rng.poisson(weekly * 52)))
        for k, days_ago in enumerate(sorted(rng.uniform(0, 364, count), reverse=True)):
            buys.append(purchase(f"h{i}-{k}", f"h{i}", float(days_ago), round(float(rng.gamma(2.0, 20.0)), 2)))
    assert upload(manager, brand, "stakeholders", stakeholders_csv(rows), source="shop").status_code == 200
    assert upload(manager, brand, "touchpoints", jsonl(buys), "application/x-ndjson", source="shop").get_json()["rejected"] == 0
    summary = manager.get(f"/api/v1/brands/{brand}/segments").get_json()
    assert summary["clv_model"] == "fitted", summary.get("clv_fit")
    items, cursor = [], None
    while True:
        page = profiles(manager, brand, limit=200, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    valued = [p["clv"] for p in items if p["rfm"]["frequency"]]
    assert len(valued) == customers and all(c is not None and c["value"] > 0 for c in valued)
    expected = np.array([c["expected_purchases"] for c in valued])
    assert expected.mean() == pytest.approx(weekly * 52, rel=0.15)
