"""graph/load.py on real rows made through the API: edge kinds, decay, scopes, objections, conversions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import networkx as nx
import pytest
from sqlalchemy import select

from core.extensions import db
from graph.load import GraphScope, load_graph
from purpose.models import Stakeholder
from tests.helpers import register

NOW = datetime.now(timezone.utc)


def graph(app, brand, **scope):
    with app.app_context():
        return load_graph(GraphScope(brand, **scope))


def thread(actor, space, body="Who is coming to the Saturday run?"):
    created = actor.post(f"/api/v1/spaces/{space}/threads", json={"title": "Saturday", "body": body})
    assert created.status_code == 201, created.get_json()
    first = actor.get(f"/api/v1/threads/{created.get_json()['id']}/posts").get_json()["items"][0]
    return created.get_json()["id"], first["id"]


def post(actor, thread_id, body, parent=None):
    response = actor.post(f"/api/v1/threads/{thread_id}/posts", json={"body": body, "parent_id": parent})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def stakeholders(app, actor, brand, rows):
    body = "external_id,kind,email,contact_preference\n" + "".join(f"{e},{k},{m or ''},\n" for e, k, m in rows)
    response = actor.post(f"/api/v1/brands/{brand}/imports/stakeholders?source=crm", data=body.encode(), content_type="text/csv")
    assert response.get_json()["accepted"] == len(rows), response.get_json()
    with app.app_context():  # profiles do not show external ids: read them back
        stmt = select(Stakeholder.external_id, Stakeholder.id).where(Stakeholder.brand_id == brand)
        return dict(db.session.execute(stmt).all())


def touchpoints(actor, brand, rows):
    body = "\n".join(json.dumps(r) for r in rows) + "\n"
    response = actor.post(f"/api/v1/brands/{brand}/imports/touchpoints?source=crm", data=body.encode(),
                          content_type="application/x-ndjson")
    assert response.get_json()["accepted"] == len(rows), response.get_json()


def touch(ext, who, kind, days_ago, **extra):
    return {"external_id": ext, "stakeholder_external_id": who, "kind": kind,
            "occurred_at": (NOW - timedelta(days=days_ago)).isoformat(), **extra}


def kinds(G, u, v):
    return G.edges[u, v]["kinds"] if G.has_edge(u, v) else {}


@pytest.fixture
def talk(world):
    """In the public space: the moderator opens a thread, the member replies mentioning the manager,
    who reacts to the reply."""
    mod, member, manager = world["moderator"], world["member"], world["manager"]
    thread_id, first = thread(mod, world["public"])
    reply = post(member, thread_id, "Count me in, @brand_boss are you coming?", parent=first)
    assert manager.post(f"/api/v1/posts/{reply}/reactions", json={"emoji": "👍"}).status_code == 201
    return world


def test_replies_mentions_reactions_and_threads_become_typed_edges_that_decay(app, talk):
    mod, member, manager = (f"a:{talk[k].id}" for k in ("moderator", "member", "manager"))
    G = graph(app, talk["brand"])
    assert kinds(G, mod, member) == {"reply": 1, "co_thread": 1}
    assert kinds(G, member, manager) == {"mention": 1, "reaction": 1}
    assert not G.has_edge(mod, manager)  # the manager never posted in the thread
    assert G.edges[mod, member]["weight"] == pytest.approx(2.0, abs=1e-3)  # two interactions, just now
    later = graph(app, talk["brand"], as_of=NOW + timedelta(days=90))
    assert later.edges[mod, member]["weight"] == pytest.approx(1.0, abs=1e-3)  # one half-life later
    with app.app_context():
        slow = load_graph(GraphScope(talk["brand"], as_of=NOW + timedelta(days=90)), half_life_days=180)
    assert slow.edges[mod, member]["weight"] == pytest.approx(2 * 0.5 ** 0.5, abs=1e-3)
    person = G.nodes[member]
    assert (person["kind"], person["label"], person["posts"]) == ("member", "Mem_Max", 1)
    assert person["spaces"] == ["Core team", "Runners"] and person["days_since_activity"] < 0.01
    assert G.nodes[mod]["posts"] == 1 and G.nodes[manager]["posts"] == 0


def test_a_big_thread_links_each_author_to_the_starter_and_a_few_before_not_everyone(app, world, make_actor):
    manager, space = world["manager"], world["public"]
    people = [make_actor(handle=f"runner_{i}") for i in range(12)]
    for person in people:
        assert manager.put(f"/api/v1/spaces/{space}/members/{person.id}", json={"role": "member"}).status_code == 200
    thread_id, _first = thread(people[0], space)
    for person in people[1:]:
        post(person, thread_id, "Me too!")
    G = graph(app, world["brand"])
    co = [(u, v) for u, v, k in G.edges(data="kinds") if "co_thread" in k]
    assert len(co) == 1 + 2 + 3 + 8 * 4  # authors 2-4 link to all before; later ones to the starter and 3 before
    starter = f"a:{people[0].id}"
    assert all(G.has_edge(starter, f"a:{p.id}") for p in people[1:])
    assert not G.has_edge(f"a:{people[1].id}", f"a:{people[11].id}")


def test_referrals_invitations_and_events_link_people(app, world):
    manager, brand = world["manager"], world["brand"]
    ids = stakeholders(app, manager, brand, [(f"p{i}", "customer", None) for i in range(10)])
    touchpoints(manager, brand, [
        touch("r1", "p0", "referral", 90, other_stakeholder_external_id="p1"),
        touch("i1", "p0", "invitation", 0, other_stakeholder_external_id="p2"),
        touch("e1", "p1", "event", 5, event_ref="beach-day"), touch("e2", "p2", "event", 5, event_ref="beach-day"),
        *[touch(f"f{i}", f"p{i}", "event", 30, event_ref="big-fair") for i in range(10)],
    ])
    G = graph(app, brand, as_of=NOW)
    s = {ext: f"s:{sid}" for ext, sid in ids.items()}
    assert kinds(G, s["p0"], s["p1"]) == {"referral": 1, "co_event": 1}
    assert kinds(G, s["p0"], s["p2"]) == {"invitation": 1, "co_event": 1}
    # the referral 90 days ago, and the ten-person fair 30 days ago at 1/(10-1) per pair
    assert G.edges[s["p0"], s["p1"]]["weight"] == pytest.approx(0.5 + 0.5 ** (30 / 90) / 9, abs=1e-3)
    assert kinds(G, s["p1"], s["p2"]) == {"co_event": 2}  # the small event and the fair
    assert G.edges[s["p1"], s["p2"]]["weight"] == pytest.approx(0.5 ** (5 / 90) + 0.5 ** (30 / 90) / 9, abs=1e-3)
    assert G.edges[s["p1"], s["p2"]]["events"] == ["beach-day", "big-fair"]  # newest first
    fair = [(u, v) for u, v, k in G.edges(data="kinds") if k.get("co_event")]
    assert len(fair) == 10 * 9 // 2  # every pair of the ten attendees
    node = G.nodes[s["p1"]]
    assert (node["kind"], node["segment"], node["events"], node["stakeholder_id"]) == ("nonuser", "nonuser", 2, ids["p1"])
    assert node["label"] == f"customer #{ids['p1']}" and node["rfm"]["frequency"] == 0


def test_a_20_person_event_ties_every_pair_with_weight_one_over_19(app, world):
    manager, brand = world["manager"], world["brand"]
    ids = stakeholders(app, manager, brand, [(f"g{i}", "event_attendee", None) for i in range(20)])
    touchpoints(manager, brand, [touch(f"meet{i}", f"g{i}", "event", 0, event_ref="spring-meetup") for i in range(20)])
    G = graph(app, brand, as_of=NOW)
    people = [f"s:{ids[f'g{i}']}" for i in range(20)]
    ties = [G.edges[u, v] for i, u in enumerate(people) for v in people[i + 1:] if G.has_edge(u, v)]
    assert len(ties) == 190  # all 20 * 19 / 2 pairs
    assert all(t["kinds"] == {"co_event": 1} and t["events"] == ["spring-meetup"] for t in ties)
    assert all(t["weight"] == pytest.approx(1 / 19, rel=1e-3) for t in ties)
    # one event adds a total tie weight of 1 to each attendee, whatever its size
    assert G.degree(people[7], weight="weight") == pytest.approx(1.0, rel=1e-3)


def test_members_who_declared_a_purpose_tag_are_tied_by_shared_purpose(app, world, make_actor):
    for actor in (world["moderator"], world["member"], make_actor(handle="not_a_member")):
        assert actor.patch("/api/v1/me", json={"interests": ["fitness"]}).status_code == 200
    G = graph(app, world["brand"])
    mod, member = f"a:{world['moderator'].id}", f"a:{world['member'].id}"
    assert kinds(G, mod, member) == {"shared_purpose": 1}
    assert G.nodes[member]["purpose_alignment"] > 0
    assert not any(v.endswith(f":{world['outsider'].id}") for v in G)


def test_scope_by_brand_purpose_space_and_window(app, talk, admin, make_actor):
    member, mod = talk["member"], talk["moderator"]
    thread_id, first = thread(mod, talk["private"], "Plan for the clean-up")  # private space: Oceans purpose
    post(member, thread_id, "I'll bring bags", parent=first)
    other = admin.post("/api/v1/brands", json={"name": "Elsewhere"}).get_json()["id"]
    boss = make_actor(handle="other_boss")
    assert admin.put(f"/api/v1/brands/{other}/managers/{boss.id}").status_code == 200
    purpose = boss.post(f"/api/v1/brands/{other}/purposes", json={"kind": "life", "title": "Swim"}).get_json()["id"]
    pool = boss.post(f"/api/v1/purposes/{purpose}/spaces", json={"name": "Pool", "slug": "pool"}).get_json()["id"]
    assert member.post(f"/api/v1/spaces/{pool}/join").status_code in (200, 201)
    elsewhere, _ = thread(boss, pool)
    post(member, elsewhere, "Hello from the pool")
    pair = (f"a:{mod.id}", f"a:{member.id}")
    brand = graph(app, talk["brand"])
    assert kinds(brand, *pair) == {"reply": 2, "co_thread": 2}  # private content counts for the brand's analysts
    assert f"a:{boss.id}" not in brand and brand.nodes[pair[1]]["posts"] == 2  # the other brand's post is not counted
    life = graph(app, talk["brand"], purpose_id=talk["life"])
    assert kinds(life, *pair) == {"reply": 1, "co_thread": 1}
    space = graph(app, talk["brand"], space_id=talk["private"])
    assert kinds(space, *pair) == {"reply": 1, "co_thread": 1}
    assert space.degree(f"a:{talk['manager'].id}") == 0  # a member here; the mention and reaction were elsewhere
    assert space.graph["scope"]["space_id"] == talk["private"]
    later = graph(app, talk["brand"], since=NOW + timedelta(days=1), as_of=NOW + timedelta(days=2))
    assert later.number_of_edges() == 0 and len(later) == 0
    with pytest.raises(ValueError):
        graph(app, talk["brand"], space_id=pool)


def test_objected_and_erased_people_are_never_in_the_graph(app, talk):
    manager, brand, member = talk["manager"], talk["brand"], talk["member"]
    ids = stakeholders(app, manager, brand, [("max", "customer", member.email), ("n1", "ngo", None), ("n2", "prospect", None)])
    with app.app_context():  # the member's account is already registered: link it as a registration would
        from core.accounts import Account
        from purpose.stakeholders import link_registration

        link_registration(db.session.get(Account, member.id))
    touchpoints(manager, brand, [touch("r", "n1", "referral", 1, other_stakeholder_external_id="max"),
                                 touch("e1", "n1", "event", 1, event_ref="x"), touch("e2", "n2", "event", 1, event_ref="x")])
    G = graph(app, brand)
    assert {f"a:{member.id}", f"s:{ids['n1']}", f"s:{ids['n2']}"} <= set(G)
    assert manager.put(f"/api/v1/stakeholders/{ids['max']}/objection", json={"objected": True}).status_code == 200
    assert manager.delete(f"/api/v1/stakeholders/{ids['n2']}").status_code == 204
    G = graph(app, brand)
    assert f"a:{member.id}" not in G and f"s:{ids['max']}" not in G and f"s:{ids['n2']}" not in G
    assert f"s:{ids['n1']}" in G and G.degree(f"s:{ids['n1']}") == 0
    assert all(a["objected"] is False for _, a in G.nodes(data=True))


def test_a_converted_member_keeps_stakeholder_id_and_conversion_time(app, world, client):
    manager, brand = world["manager"], world["brand"]
    ids = stakeholders(app, manager, brand, [("lead", "prospect", "newbie@example.com")])
    newbie = register(client, "newbie")
    assert manager.put(f"/api/v1/spaces/{world['public']}/members/{newbie.id}", json={"role": "member"}).status_code == 200
    G = graph(app, brand)
    node = G.nodes[f"a:{newbie.id}"]
    assert f"s:{ids['lead']}" not in G
    assert (node["kind"], node["stakeholder_id"], node["segment"]) == ("member", ids["lead"], "light")
    assert datetime.fromisoformat(node["converted_at"]) > NOW - timedelta(minutes=5)
    assert G.graph["snapshot_at"] == G.graph["scope"]["as_of"] and G.graph["clv_status"] == "too-few-buyers"


def test_progress_is_reported_up_to_done(app, talk):
    seen = []
    with app.app_context():
        load_graph(GraphScope(talk["brand"]), progress=lambda step, percent: seen.append((step, percent)))
    assert [p for _, p in seen] == sorted(p for _, p in seen) and seen[-1] == ("build", 100)


def test_the_configured_networkx_backend_is_applied_and_an_unknown_one_is_refused_by_name(app, talk):
    app.config["NETWORKX_BACKEND"] = "no-such-backend"
    try:
        with pytest.raises(ValueError, match="no-such-backend"):
            graph(app, talk["brand"])
    finally:
        app.config["NETWORKX_BACKEND"] = ""
    assert nx.config.backend_priority.algos == []  # networkx's own dispatch is left as it was
    assert graph(app, talk["brand"]).number_of_nodes() > 0


def test_threads_on_edges_are_named_with_their_space_and_only_public_titles(app, world):
    mod, member = world["moderator"], world["member"]
    public_id, public_first = thread(mod, world["public"], body="Open to all")
    post(member, public_id, "Sure", parent=public_first)
    private_id, private_first = thread(mod, world["private"], body="Core only")
    post(member, private_id, "Agreed", parent=private_first)
    G = graph(app, world["brand"])
    edge = G.edges[f"a:{mod.id}", f"a:{member.id}"]
    assert sorted(edge["threads"]) == sorted([private_id, public_id])
    assert G.graph["threads"][str(public_id)] == {"space": "Runners", "title": "Saturday"}
    assert G.graph["threads"][str(private_id)] == {"space": "Core team", "title": None}
    assert G.nodes[f"a:{member.id}"]["handle"] == "mem_max"
