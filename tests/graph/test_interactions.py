"""graph/interactions.py: event co-attendance weighting (Newman 1/(n-1)) and its bounded rule above 50."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from graph.interactions import EVENT_ALL_PAIRS, EVENT_HALF_WINDOW, Interactions, event_pairs


def event_graph(n, *, t=0.0):
    rows = Interactions()
    rows.link_event([(t + i, 2 * i) for i in range(n)], context=0)
    u, v, w, kinds, contexts = rows.aggregate(np.arange(0, 2 * n, 2), as_of=t + n, half_life_days=1e9)
    G = nx.Graph()
    G.add_weighted_edges_from(zip(u, v, w))
    return G, kinds, contexts


@pytest.mark.parametrize("n", [2, 3, 20, EVENT_ALL_PAIRS])
def test_up_to_50_attendees_every_pair_is_tied_at_one_over_n_minus_1(n):
    G, kinds, contexts = event_graph(n)
    assert G.number_of_edges() == n * (n - 1) // 2
    assert all(w == pytest.approx(1 / (n - 1)) for _, _, w in G.edges(data="weight"))
    assert all(k == {"co_event": 1} for k in kinds) and all(c == {"co_event": [0]} for c in contexts)


@pytest.mark.parametrize("n", [51, 52, 120, 1000])
def test_above_50_each_attendee_keeps_50_ties_and_a_total_weight_of_one(n):
    G, _, _ = event_graph(n)
    degrees = {d for _, d in G.degree()}
    assert degrees == {min(n - 1, 2 * EVENT_HALF_WINDOW)}
    assert G.number_of_edges() == min(n * (n - 1) // 2, EVENT_HALF_WINDOW * n)  # linear in n, not quadratic
    strengths = [s for _, s in G.degree(weight="weight")]
    assert strengths == pytest.approx([1.0] * n)  # as under all pairs: 1 per attendee per event
    assert nx.is_connected(G)


def test_event_pairs_are_distinct_and_never_self():
    for n in (0, 1, 2, 50, 51, 77):
        i, j = event_pairs(n)
        assert not np.any(i == j)
        pairs = {tuple(sorted(p)) for p in zip(i.tolist(), j.tolist())}
        assert len(pairs) == len(i)
