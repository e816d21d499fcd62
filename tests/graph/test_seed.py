"""devtools/seed.py: a synthetic community written to the database comes back through graph/load.py."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from devtools.demo import DEMO_PASSWORD
from core.accounts import Account
from core.extensions import db
from graph import metrics
from graph.load import GraphScope, load_graph
from graph.opportunities import rank_opportunities
from devtools.seed import SYNTHETIC_FROM, BrandExists, seed_synthetic
from purpose.models import Brand
from purpose.relationship import STYLES


@pytest.fixture
def seeded(app):
    with app.app_context():
        result = seed_synthetic(800, seed=5)
        G = load_graph(GraphScope(result.brand_id))
    return result, G


def test_the_loaded_graph_has_every_planted_tie_and_no_objector(seeded):
    result, G = seeded
    from graph.synthetic import generate_community

    S, truth = generate_community(800, n_spaces=3, seed=5)
    objected = truth["objected"]
    assert set(G) == {result.node_of[v] for v in S if v not in objected}
    for u, v, d in S.edges(data=True):
        if u in objected or v in objected:
            continue
        loaded = G.edges[result.node_of[u], result.node_of[v]]
        assert set(d["kinds"]) <= set(loaded["kinds"]) | {"shared_purpose", "co_event"}
        if set(d["kinds"]) <= {"referral", "invitation"}:
            assert loaded["weight"] == pytest.approx(d["weight"], rel=1e-3)  # the tie's age came back
    for v in truth["style_none"] - objected:
        assert G.nodes[result.node_of[v]]["style_preference"] == "none"
    segments = {a: G.nodes[result.node_of[a]]["segment"] for a in truth["heavy"] - objected}
    assert sum(s == "heavy" for s in segments.values()) >= 0.8 * len(segments)


def test_planted_people_worth_engaging_rank_at_the_top_of_the_loaded_graph(seeded):
    result, G = seeded
    analysis = metrics.analyse(G, seed=1)
    ranked = rank_opportunities(G, core_number=analysis["core_number"], community_of=analysis["community_of"],
                                proximity=analysis["proximity"], limit=200)
    order = [e["node"] for e in ranked]
    planted = result.planted("planted_worth_engaging")
    nonusers = {v for v in planted if v.startswith("s:")}
    # Members and nonusers together: a nonuser's declared purpose and outside spend come back from the
    # database (purpose_ids, purchases), so planted nonusers rank with the planted members, not below them.
    assert len(planted & set(order[:len(planted)])) >= 0.8 * len(planted)
    assert nonusers and len(nonusers & set(order[:len(planted)])) >= 0.8 * len(nonusers)
    never = result.planted("objected") | result.planted("style_none")
    assert not never & set(order)
    assert all(e["style_preference"] in (None, *STYLES[1:]) for e in ranked)


def test_seed_demo_command_writes_a_synthetic_community_once(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--members", str(SYNTHETIC_FROM), "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert f"{SYNTHETIC_FROM:,} synthetic members" in result.output
    again = runner.invoke(args=["seed-demo", "--members", str(SYNTHETIC_FROM), "--seed", "2"])
    assert again.exit_code != 0 and "already exists; nothing seeded" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Brand)) == 1
        hashes = db.session.scalar(select(func.count(func.distinct(Account.password_hash))).where(
            Account.email.like("%@synthetic.example")))
        email = db.session.scalar(select(Account.email).where(Account.email.like("%@synthetic.example")).limit(1))
    assert hashes == 1  # one hash shared by every synthetic account: no argon2 per account
    for who in (email, "analyst@demo.example"):
        assert client.post("/api/v1/auth/login", json={"email": who, "password": DEMO_PASSWORD}).status_code == 200


def test_the_small_demo_is_still_hand_written_and_refuses_a_second_time(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--members", "12"]).exit_code == 0
    again = runner.invoke(args=["seed-demo", "--members", "12"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_seeding_a_brand_name_twice_raises_before_writing(app):
    with app.app_context():
        seed_synthetic(100, seed=1, name="Twice")
        before = db.session.scalar(select(func.count()).select_from(Account))
        with pytest.raises(BrandExists):
            seed_synthetic(100, seed=1, name="Twice")
        assert db.session.scalar(select(func.count()).select_from(Account)) == before
