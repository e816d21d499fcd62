"""graph/synthetic.py: the contract, determinism, and the planted truth the metrics must find."""

import bisect

import networkx as nx
import pytest

from graph import metrics, opportunities, synthetic
from purpose.relationship import STYLES

N = 2000


@pytest.fixture(scope="module")
def community():
    G, truth = synthetic.generate_community(N, seed=3)
    return G, truth, metrics.analyse(G, seed=0)


def _ranking(result, limit=None):
    return opportunities.rank_opportunities(
        result["graph"], core_number=result["core_number"], community_of=result["community_of"],
        proximity=result["proximity"], heavy=result["heavy"], limit=limit)


def test_sizes_and_the_node_contract(community):
    G, truth, _ = community
    members = [v for v, k in G.nodes(data="kind") if k == "member"]
    nonusers = [v for v, k in G.nodes(data="kind") if k == "nonuser"]
    assert len(members) == N and len(nonusers) == N // 4
    assert all(v.startswith("a:") for v in members) and all(v.startswith("s:") for v in nonusers)
    assert N * 1.5 < G.number_of_edges() < N * 3.5
    for v, a in G.nodes(data=True):
        assert a["segment"] in ("heavy", "medium", "light", "lapsed", "nonuser")
        assert 0 <= a["pyramid_level"] <= 6 and type(a["pyramid_level"]) is int
        assert a["style_preference"] in (None, *STYLES)
        assert type(a["objected"]) is bool and 0.0 <= a["purpose_alignment"] <= 1.0
        assert a["days_since_activity"] is None or a["days_since_activity"] >= 0
        assert type(a["clv"]) is float and type(a["posts"]) is int and type(a["events"]) is int
        assert isinstance(a["spaces"], list) and a["label"]
    for _, _, d in G.edges(data=True):
        assert d["weight"] > 0 and type(d["weight"]) is float
        assert d["kinds"] and set(d["kinds"]) <= set(synthetic.EDGE_KINDS)
    heavy_share = len(truth["heavy"]) / N
    assert 0.15 < heavy_share < 0.25
    heavy_ends = sum((u in truth["heavy"]) or (v in truth["heavy"]) for u, v in G.edges())
    assert heavy_ends / G.number_of_edges() > 0.6  # heavy users drive most interactions


def test_same_seed_same_graph_other_seed_other_graph():
    G1, t1 = synthetic.generate_community(300, seed=11)
    G2, t2 = synthetic.generate_community(300, seed=11)
    G3, _ = synthetic.generate_community(300, seed=12)
    assert nx.utils.graphs_equal(G1, G2) and t1 == t2
    assert not nx.utils.graphs_equal(G1, G3)


def test_truth_is_consistent_with_the_graph(community):
    G, truth, _ = community
    planted = truth["planted_worth_engaging"]
    assert len(planted) == N // 100 and len(truth["planted_bridges"]) >= 2
    assert not planted & (truth["objected"] | truth["style_none"])
    assert all(opportunities.is_candidate(G.nodes[v]) for v in planted)
    assert truth["objected"] == {v for v, o in G.nodes(data="objected") if o}
    assert truth["spaces"]["a:0"] == G.nodes["a:0"]["spaces"]


def test_objected_and_no_contact_people_are_never_ranked(community):
    _, truth, result = community
    ranked = {e["node"] for e in _ranking(result)}
    assert ranked
    assert not ranked & truth["objected"]
    assert not ranked & truth["style_none"]


def test_planted_worth_engaging_people_lead_the_ranking(community):
    _, truth, result = community
    planted = truth["planted_worth_engaging"]
    top = _ranking(result, limit=len(planted))
    precision = sum(e["node"] in planted for e in top) / len(planted)
    assert precision >= 0.8  # observed 1.0 for seeds 0..7 at n=2000
    assert all(e["reasons"] and e["suggested_action"] for e in top)


def test_planted_bridges_score_high_on_bridging_and_betweenness(community):
    _, truth, result = community

    def percentile(scores, v):
        ordered = sorted(scores.values())
        return bisect.bisect_left(ordered, scores[v]) / len(ordered)

    bridges = truth["planted_bridges"]
    assert sum(percentile(result["bridging"], v) for v in bridges) / len(bridges) >= 0.85
    assert min(percentile(result["betweenness"], v) for v in bridges) >= 0.9


def test_rejects_tiny_communities():
    with pytest.raises(ValueError):
        synthetic.generate_community(5, seed=0)
