"""graph/metrics.py on small graphs with known answers (pure: no app, no database)."""

import math

import networkx as nx
import pytest

from graph import metrics

FACTIONS = ("Mr. Hi", "Officer")


def _faction_matches(G, found):
    """Nodes whose community's majority faction is their own faction."""
    return sum(max(sum(G.nodes[v]["club"] == f for v in c) for f in FACTIONS) for c in found)


def test_decayed_weight_halves_every_half_life():
    assert metrics.decayed_weight([0, 30, 60], half_life_days=30) == pytest.approx(1.75)
    assert metrics.decayed_weight([], half_life_days=30) == 0.0
    with pytest.raises(ValueError):
        metrics.decayed_weight([1], half_life_days=0)


def test_louvain_low_resolution_recovers_the_two_karate_factions():
    G = nx.karate_club_graph()
    found = metrics.communities(G, resolution=0.5, seed=1)
    assert len(found) == 2
    assert _faction_matches(G, found) >= 32
    assert metrics.modularity(G, found) > 0.3


def test_louvain_default_resolution_merges_to_the_factions():
    G = nx.karate_club_graph()
    found = metrics.communities(G, seed=1)
    assert len(found) >= 3
    assert _faction_matches(G, found) / len(G) >= 0.9
    assert [len(c) for c in found] == sorted((len(c) for c in found), reverse=True)


def test_communities_partition_every_node_including_trees_and_isolates():
    G = nx.union(nx.complete_graph(5), nx.complete_graph(range(5, 10)))
    G.add_edge(4, 5)
    G.add_edges_from([(0, "t1"), ("t1", "t2"), ("t1", "t3")])  # a tree hanging off clique 0..4
    G.add_edges_from([("x", "y"), ("y", "z")])  # a component with no 2-core
    G.add_node("alone")
    found = metrics.communities(G, seed=0)
    index = metrics.community_index(found)
    assert sorted(map(str, index)) == sorted(map(str, G))
    assert sum(len(c) for c in found) == len(G)
    assert index["t1"] == index["t2"] == index["t3"] == index[0] != index[9]
    assert index["x"] == index["z"] != index["alone"]
    assert metrics.communities(G, seed=0) == found  # deterministic for a seed


def test_sampled_betweenness_with_k_equal_n_is_exact():
    for G in (nx.karate_club_graph(), nx.les_miserables_graph(), nx.path_graph(6)):
        fast, exact = metrics.brokers(G, k=len(G)), nx.betweenness_centrality(G)
        assert all(fast[v] == pytest.approx(exact[v], abs=1e-12) for v in G)
        assert all(type(x) is float for x in fast.values())


def test_sampled_betweenness_uses_networkx_pivots_and_scaling():
    G = nx.les_miserables_graph()
    fast = metrics.brokers(G, k=12, seed=3)
    reference = nx.betweenness_centrality(G, k=12, seed=3)
    assert all(fast[v] == pytest.approx(reference[v], abs=1e-12) for v in G)


def test_weighted_betweenness_delegates_to_networkx():
    G = nx.les_miserables_graph()
    assert metrics.brokers(G, k=len(G), weight="weight") == pytest.approx(nx.betweenness_centrality(G, weight="weight"))


def _two_groups_with_a_bridge():
    G = nx.disjoint_union(nx.gnp_random_graph(30, 0.3, seed=1), nx.gnp_random_graph(30, 0.3, seed=2))
    G.add_edges_from([("bridge", 0), ("bridge", 1), ("bridge", 2), ("bridge", 30), ("bridge", 31), ("bridge", 32)])
    return G


def test_top_brokers_include_the_planted_bridge():
    G = _two_groups_with_a_bridge()
    for k in (16, len(G)):
        scores = metrics.brokers(G, k=k, seed=0)
        top5 = sorted(G, key=lambda v: (-scores[v], str(v)))[:5]
        assert "bridge" in top5
    index = metrics.community_index(metrics.communities(G, seed=0))
    bridging = metrics.bridging(G, index)
    assert bridging["bridge"] == 2
    assert max(bridging[v] for v in G if v != "bridge") <= 2


def test_pagerank_and_personalized_pagerank():
    G = nx.barbell_graph(5, 2)
    pagerank = metrics.influence(G)
    assert sum(pagerank.values()) == pytest.approx(1.0)
    assert all(type(x) is float for x in pagerank.values())
    near = metrics.personalized_influence(G, [0])
    assert near[1] > near[11]
    with pytest.raises(ValueError):
        metrics.personalized_influence(G, ["missing"])


def test_core_numbers_ignore_self_loops_and_core_nodes_take_top_shells():
    G = nx.complete_graph(4)
    G.add_edges_from([(3, 4), (4, 5), (0, 0)])
    core = metrics.core_numbers(G)
    assert core == {0: 3, 1: 3, 2: 3, 3: 3, 4: 1, 5: 1}
    assert metrics.core_nodes(core) == {0, 1, 2, 3}
    assert metrics.core_nodes(core, shells=2) == set(G)


def test_community_reach_counts_outside_neighbours_and_key_members():
    G = nx.Graph([("a", "b"), ("b", "c"), ("a", "c"), ("c", "x"), ("c", "y"), ("x", "y"), ("a", "y")])
    found = [{"a", "b", "c"}, {"x", "y"}]
    reach = metrics.community_reach(G, found, pagerank=metrics.influence(G), top=1)
    assert [r["reach"] for r in reach] == [2, 2]
    assert reach[0]["reach_share"] == 1.0
    assert reach[0]["key_members"] == ["c"]


def test_analyse_leaves_objected_people_out_of_every_output():
    G = nx.karate_club_graph()
    nx.set_node_attributes(G, "medium", "segment")
    G.nodes[0].update(segment="heavy")
    G.nodes[33].update(objected=True)
    result = metrics.analyse(G, seed=1)
    assert 33 not in result["graph"] and 33 in G
    for key in ("pagerank", "core_number", "proximity", "community_of", "betweenness", "bridging"):
        assert 33 not in result[key]
    assert all(33 not in c for c in result["communities"])
    assert all(33 not in r["key_members"] for r in result["reach"])
    assert "exact" in " ".join(result["notes"])


def test_analysis_notes_state_the_sampling_error():
    notes = " ".join(metrics.analysis_notes(nx.path_graph(1000), pivots=64))
    assert "64 of 1000" in notes and f"{1 / math.sqrt(64):.0%}" in notes
    assert metrics.pivots_for(50) == 50 and metrics.pivots_for(10**6) == metrics.MAX_PIVOTS


def test_analyse_a_graph_without_ties_says_so_instead_of_failing():
    G = nx.Graph()
    G.add_nodes_from([("a", {"segment": "heavy"}), ("b", {"segment": "light"}), ("c", {"segment": "light"})])
    result = metrics.analyse(G, seed=1)
    assert result["communities"] == [{"a"}, {"b"}, {"c"}] and result["modularity"] == 0.0
    assert result["pagerank"] == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    assert result["heavy"] == {"a"} and set(result["betweenness"].values()) == {0.0}
    assert "no ties" in " ".join(result["notes"])
    assert metrics.analyse(nx.Graph(), seed=1)["communities"] == []
