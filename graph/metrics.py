"""Pure graph metrics over the community graph: influence, core, communities, brokers.

The graph contract (see ``docs/analytics.md``): an undirected weighted ``nx.Graph`` of
people keyed ``"a:<id>"`` (account) or ``"s:<id>"`` (stakeholder). Node attributes:
``kind`` ("member" | "nonuser"), ``segment``, ``pyramid_level`` (0..6),
``style_preference`` (a ``STYLES`` value or None), ``objected`` (never in any output),
``purpose_alignment`` (0..1), ``days_since_activity`` (float or None), ``clv``,
``posts``, ``events``, ``spaces`` (list of names), ``label``. Edge attributes:
``weight`` (> 0, time-decayed, see :func:`decayed_weight`) and ``kinds`` (edge kind ->
count). Run metrics on :func:`analysable_graph` so objected people never show up.

Every function returns plain Python numbers, sets and dicts. Where a method trades
accuracy for speed, :func:`analysis_notes` states it in words for reports.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

#: Default cap on betweenness pivots: cost is bounded by this many BFS runs, whatever n is.
MAX_PIVOTS = 128
#: Sources processed together by the vectorised Brandes pass (memory ~ 5 * n * batch floats).
PIVOT_BATCH = 32


def decayed_weight(ages_days, *, half_life_days):
    """Sum of ``0.5 ** (age / half_life_days)`` over interaction ages (in days).

    An interaction today counts 1, one ``half_life_days`` old counts 0.5. The loader sums
    this per pair of people to get the edge ``weight``.
    """
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    ages = np.asarray(list(ages_days), dtype=float)
    return float(np.sum(0.5 ** (np.maximum(ages, 0.0) / half_life_days)))


def analysable_graph(G):
    """``G`` without the people who objected to analysis (``G`` itself when nobody did)."""
    objected = [v for v, o in G.nodes(data="objected") if o]
    if not objected:
        return G
    H = G.copy()
    H.remove_nodes_from(objected)
    return H


def influence(G, *, weight="weight", alpha=0.85, tol=1e-6):
    """Weighted PageRank, node -> float summing to 1 (scipy power iteration, ~linear)."""
    if len(G) == 0:
        return {}
    return {v: float(x) for v, x in nx.pagerank(G, alpha=alpha, weight=weight, tol=tol).items()}


def personalized_influence(G, seeds, *, weight="weight", alpha=0.85, tol=1e-6):
    """PageRank whose random jumps land only on ``seeds`` (e.g. heavy users, champions).

    High values mean "close to the seeds" through many strong paths.
    """
    seeds = [s for s in seeds if s in G]
    if not seeds:
        raise ValueError("no seed node is in the graph")
    jump = dict.fromkeys(seeds, 1.0)
    result = nx.pagerank(G, alpha=alpha, weight=weight, tol=tol, personalization=jump, dangling=jump)
    return {v: float(x) for v, x in result.items()}


def core_numbers(G):
    """k-core number of each node (``nx.core_number``); ignores weights and self-loops."""
    loops = list(nx.selfloop_edges(G))
    if loops:
        G = G.copy()
        G.remove_edges_from(loops)
    return {v: int(c) for v, c in nx.core_number(G).items()}


def core_nodes(core_number, *, shells=1):
    """Nodes in the ``shells`` highest k-shells (``shells=1``: the main core)."""
    levels = sorted(set(core_number.values()), reverse=True)[:shells]
    if not levels:
        return set()
    return {v for v, c in core_number.items() if c >= levels[-1]}


def communities(G, *, weight="weight", resolution=1.0, seed=None, prune_trees=True, core_number=None):
    """Louvain communities as a list of sets, largest first (ties by smallest node key).

    With ``prune_trees`` Louvain runs on the 2-core only; every node in a tree hanging
    off it joins the community of the 2-core node it hangs from, and a component with
    no 2-core is one community. Louvain would almost always put those nodes there
    anyway; on sparse interaction graphs this removes a quarter to a half of the nodes
    from the costly first pass. Pass ``core_number`` to reuse k-core numbers already computed.
    """
    if not prune_trees:
        found = nx.community.louvain_communities(G, weight=weight, resolution=resolution, seed=seed)
        return _sorted_sets(found)
    core = core_numbers(G) if core_number is None else core_number
    inner = nx.Graph()  # a plain copy with only the weights: much faster than copying a subgraph view
    inner.add_nodes_from(v for v in G if core[v] >= 2)
    inner.add_weighted_edges_from((u, v, 1.0 if weight is None else d.get(weight, 1.0))
                                  for u, v, d in G.edges(data=True) if core[u] >= 2 and core[v] >= 2)
    found = nx.community.louvain_communities(inner, resolution=resolution, seed=seed) if len(inner) else []
    label = {v: i for i, c in enumerate(found) for v in c}
    frontier = sorted(label, key=str)
    while frontier:  # breadth-first from the 2-core; hanging trees inherit its labels
        nxt = []
        for v in frontier:
            for u in G[v]:
                if u not in label:
                    label[u] = label[v]
                    nxt.append(u)
        frontier = nxt
    extra = [set(c) for c in nx.connected_components(G.subgraph([v for v in G if v not in label]))]
    grouped = [set() for _ in found]
    for v, i in label.items():
        grouped[i].add(v)
    return _sorted_sets(grouped + extra)


def _sorted_sets(sets):
    return sorted((set(s) for s in sets if s), key=lambda s: (-len(s), min(map(str, s))))


def community_index(communities):
    """Node -> index of its community in ``communities``."""
    return {v: i for i, c in enumerate(communities) for v in c}


def modularity(G, communities, *, weight="weight", resolution=1.0):
    """Modularity of a partition, as a float."""
    return float(nx.community.modularity(G, communities, weight=weight, resolution=resolution))


def pivots_for(n, *, max_pivots=MAX_PIVOTS):
    """Number of betweenness pivots: all ``n`` nodes when ``n <= max_pivots``, else the cap."""
    return min(n, max_pivots)


def brokers(G, *, k=None, seed=None, weight=None, max_pivots=MAX_PIVOTS):
    """Normalized betweenness centrality, exact or estimated from ``k`` pivot sources.

    Same estimator and scaling as ``nx.betweenness_centrality(G, k=k, seed=seed)``, and
    the same pivots for the same seed. ``k`` defaults to :func:`pivots_for`. With
    ``weight=None`` (hops; edge weights are tie strengths, not distances) the shortest
    paths of 32 sources at a time are counted with sparse matrix products, about 20x
    faster than networkx's per-source loop; with a distance ``weight`` networkx is used.

    Accuracy: each pivot's dependencies are an unbiased sample, so the estimate is
    unbiased with a relative standard error of roughly ``1 / sqrt(k)`` for nodes with
    large betweenness (Brandes & Pich 2007); the set of top brokers is stable across
    seeds while their values carry that sampling error. ``k >= n`` is exact.
    """
    n = len(G)
    k = pivots_for(n, max_pivots=max_pivots) if k is None else min(k, n)
    if n < 3:
        return dict.fromkeys(G, 0.0)
    if weight is not None:
        return {v: float(x) for v, x in nx.betweenness_centrality(G, k=None if k == n else k, seed=seed, weight=weight).items()}
    nodes = list(G)
    sources = nodes if k == n else nx.utils.create_py_random_state(seed).sample(nodes, k)
    totals = _dependency_sums(G, nodes, sources)
    if k == n:
        scale = np.full(n, 1.0 / ((n - 1) * (n - 2)))
    else:
        scale = np.full(n, 1.0 / (k * (n - 2)))
        index = {v: i for i, v in enumerate(nodes)}
        scale[[index[s] for s in sources]] = 1.0 / ((k - 1) * (n - 2)) if k > 1 else math.nan
    return dict(zip(nodes, (totals * scale).tolist()))


def _dependency_sums(G, nodes, sources):
    """Sum over sources of Brandes' dependency delta_s(v), by batched level-synchronous BFS."""
    A = nx.to_scipy_sparse_array(G, nodelist=nodes, weight=None, format="csr")
    A.setdiag(0)
    A.eliminate_zeros()
    A.data[:] = 1.0
    index = {v: i for i, v in enumerate(nodes)}
    src = np.array([index[s] for s in sources], dtype=np.int64)
    totals = np.zeros(len(nodes))
    for start in range(0, len(src), PIVOT_BATCH):
        totals += _batch_dependencies(A, src[start:start + PIVOT_BATCH])
    return totals


def _batch_dependencies(A, src):
    """Dependencies of a batch of sources; every step touches only the rows at one BFS level."""
    n, b = A.shape[0], len(src)
    cols = np.arange(b)
    dist = np.full((n, b), -1, dtype=np.int32)
    sigma = np.zeros((n, b))
    dist[src, cols], sigma[src, cols] = 0, 1.0
    levels, seen = [np.unique(src)], np.zeros(n, dtype=bool)
    while True:  # forward: count shortest paths level by level
        rows, depth = levels[-1], len(levels) - 1
        sub = A[rows]
        reached = (sub.T @ np.where(dist[rows] == depth, sigma[rows], 0.0))
        seen[:] = False
        seen[sub.indices] = True
        near = np.flatnonzero(seen)
        d, s, r = dist[near], sigma[near], reached[near]
        new = (d < 0) & (r > 0)
        if not new.any():
            break
        d[new], s[new] = depth + 1, r[new]
        dist[near], sigma[near] = d, s
        levels.append(near[new.any(axis=1)])
    delta = np.zeros((n, b))
    for depth in range(len(levels) - 1, 0, -1):  # backward: accumulate dependencies
        rows, up = levels[depth], levels[depth - 1]
        at = dist[rows] == depth
        coef = np.where(at, (1.0 + delta[rows]) / np.where(at, sigma[rows], 1.0), 0.0)
        pushed = (A[rows].T @ coef)[up]
        delta[up] += np.where(dist[up] == depth - 1, sigma[up] * pushed, 0.0)
    delta[src, cols] = 0.0
    return delta.sum(axis=1)


def bridging(G, community_of):
    """Number of distinct communities among each node's neighbours (exact, O(edges))."""
    return {v: len({community_of[u] for u in G[v]}) for v in G}


def community_reach(G, communities, *, pagerank, top=5):
    """Per community: size, reach and key members, in the order of ``communities``.

    ``reach`` is the number of distinct people outside the community one hop from it;
    ``reach_share`` is that over the number of people outside it. ``key_members`` are the
    ``top`` members by ``pagerank`` (ties by node key).
    """
    community_of = community_index(communities)
    outside = [set() for _ in communities]
    for u, v in G.edges():
        cu, cv = community_of[u], community_of[v]
        if cu != cv:
            outside[cu].add(v)
            outside[cv].add(u)
    n, result = len(G), []
    for i, members in enumerate(communities):
        ranked = sorted(members, key=lambda x: (-pagerank.get(x, 0.0), str(x)))
        rest = n - len(members)
        result.append({"index": i, "size": len(members), "reach": len(outside[i]),
                       "reach_share": len(outside[i]) / rest if rest else 0.0, "key_members": ranked[:top]})
    return result


def analysis_notes(G, *, pivots, resolution=1.0, seed=None, prune_trees=True, tol=1e-6):
    """Plain-language accuracy-for-speed statements for the parameters used."""
    n = len(G)
    notes = [f"PageRank by power iteration to tolerance {tol:g} (weighted by decayed tie strength).",
             "k-core numbers ignore edge weights and self-loops (nx.core_number).",
             f"Communities by Louvain (resolution {resolution:g}, seed {seed}): a heuristic maximising "
             "modularity; another seed can move nodes at the edges of communities."]
    if prune_trees:
        notes.append("Louvain ran on the 2-core; people in trees hanging off it joined the community "
                     "they hang from (what Louvain almost always does, at a fraction of the cost).")
    if pivots >= n:
        notes.append("Betweenness is exact (all nodes used as sources), counted in hops.")
    else:
        notes.append(f"Betweenness estimated from {pivots} of {n} source nodes (Brandes-Pich sampling), in "
                     f"hops: unbiased, relative error about 1/sqrt({pivots}) = {1 / math.sqrt(pivots):.0%} "
                     "for large values; the ranking of top brokers is stable, exact values are not.")
    notes.append("Bridging (distinct neighbouring communities) is exact.")
    return notes


def analyse(G, *, seed=None, resolution=1.0, max_pivots=MAX_PIVOTS, heavy=None, top=5):
    """Every metric above on ``analysable_graph(G)``, plus the notes, as one dict.

    ``heavy`` seeds the personalized PageRank ``proximity``; defaults to heavy-segment nodes.
    A graph without ties (a new brand) gets the trivial answer: modularity and PageRank's
    iteration are undefined there, so everyone is their own community with equal influence.
    """
    H = analysable_graph(G)
    heavy = {v for v, s in H.nodes(data="segment") if s == "heavy"} if heavy is None else set(heavy) & set(H)
    if not H.number_of_edges():
        return _analyse_without_ties(H, heavy, top)
    pagerank, core = influence(H), core_numbers(H)
    found = communities(H, resolution=resolution, seed=seed, core_number=core)
    community_of = community_index(found)
    pivots = pivots_for(len(H), max_pivots=max_pivots)
    return {
        "graph": H, "pagerank": pagerank, "core_number": core, "main_core": core_nodes(core),
        "proximity": personalized_influence(H, heavy) if heavy else dict.fromkeys(H, 0.0),
        "communities": found, "community_of": community_of,
        "modularity": modularity(H, found, resolution=resolution),
        "betweenness": brokers(H, k=pivots, seed=seed), "bridging": bridging(H, community_of),
        "reach": community_reach(H, found, pagerank=pagerank, top=top), "heavy": heavy,
        "notes": analysis_notes(H, pivots=pivots, resolution=resolution, seed=seed),
    }


def _analyse_without_ties(H, heavy, top) -> dict:
    found = [{v} for v in sorted(H, key=str)]
    pagerank = dict.fromkeys(H, 1.0 / len(H)) if len(H) else {}
    zeros = dict.fromkeys(H, 0)
    return {"graph": H, "pagerank": pagerank, "core_number": zeros, "main_core": set(), "proximity": dict.fromkeys(H, 0.0),
            "communities": found, "community_of": community_index(found), "modularity": 0.0,
            "betweenness": dict.fromkeys(H, 0.0), "bridging": dict(zeros),
            "reach": community_reach(H, found, pagerank=pagerank, top=top), "heavy": heavy,
            "notes": ["The graph has no ties yet: everyone is their own community and only counts are meaningful."]}
