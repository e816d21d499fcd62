"""Realistic synthetic communities with planted ground truth (bench, demo, tests).

The graph follows the contract of ``docs/analytics.md``: an undirected weighted
``nx.Graph`` of people keyed ``"a:<i>"`` (members) and ``"s:<i>"`` (nonuser
stakeholders), with the node attributes ``kind``, ``segment``, ``pyramid_level``,
``style_preference``, ``objected``, ``purpose_alignment``, ``days_since_activity``,
``clv``, ``posts``, ``events``, ``spaces``, ``label`` and the edge attributes ``weight``
(time-decayed interaction count) and ``kinds`` (edge kind -> count).

How it is built, all in numpy and linear in the number of interactions:

- every member has a home space (sizes are heavy-tailed); heavy users (20%) carry most
  of the activity (Pareto activity weights), so they take part in most interactions;
- interactions pick a space, then two of its members by activity weight (a few cross
  spaces), so spaces become dense clusters around their heavy users;
- nonuser stakeholders join through referrals, invitations, event co-attendance or a
  shared purpose with members, mostly heavy ones;
- planted **bridges** are medium members tied to heavy users of three spaces;
- planted **worth engaging** people are light members or nonusers with strong, recent
  ties to several heavy users of one space, high purpose alignment and a contact
  preference that allows contact; **distractors** look the same but objected to
  analysis or declared style ``"none"``, so a correct ranking must leave them out.

Raw interactions are aggregated per pair with ``np.unique``/``np.bincount`` and added with
one ``add_edges_from`` call; there is no per-pair Python work beyond building attribute
dicts, so a million members with ~5 interactions each takes tens of seconds.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from purpose.relationship import STYLES

#: Edge kinds, in the order used for the integer codes inside the generator.
EDGE_KINDS = ("reply", "mention", "reaction", "co_thread", "referral", "invitation", "co_event", "shared_purpose")
SPACE_NAMES = ("Ocean Clean-up", "Urban Gardens", "Repair Cafe", "Trail Runners", "Zero Waste Kitchen",
               "Bike to Work", "Solar Neighbours", "Book Swap", "Wildlife Watch", "Makers Guild")
MEMBER_SEGMENTS = ("heavy", "medium", "light", "lapsed")
SEGMENT_SHARES = (0.20, 0.25, 0.40, 0.15)
#: Half-life of the decay applied to interaction ages when aggregating edge weights.
HALF_LIFE_DAYS = 90.0
_K = {name: code for code, name in enumerate(EDGE_KINDS)}
_STYLE_CHOICES = (None,) + STYLES
_STYLE_P = (0.45, 0.05, 0.2, 0.2, 0.1)


def space_names(n_spaces):
    """Display names for ``n_spaces`` spaces (cycling the base names with a number)."""
    return [SPACE_NAMES[i % len(SPACE_NAMES)] + ("" if i < len(SPACE_NAMES) else f" {i // len(SPACE_NAMES) + 1}")
            for i in range(n_spaces)]


def _member_table(rng, n, n_spaces):
    """Segment code, home space and activity weight of every member."""
    segment = rng.choice(4, size=n, p=SEGMENT_SHARES)
    space_weight = rng.pareto(1.2, size=n_spaces) + 1.0
    home = rng.choice(n_spaces, size=n, p=space_weight / space_weight.sum())
    base = np.array([4.0, 2.0, 1.0, 0.4])[segment]
    activity = base * np.where(segment == 0, rng.pareto(1.5, size=n) + 1.0, rng.uniform(0.5, 1.5, size=n))
    return segment, home, activity


def _pick_in_space(rng, spaces, order, cum, bounds):
    """One member per entry of ``spaces``, chosen by activity weight inside that space."""
    lo, hi = bounds[spaces], bounds[spaces + 1]
    u = lo + rng.random(len(spaces)) * (hi - lo)
    return order[np.minimum(np.searchsorted(cum, u, side="right"), len(order) - 1)]


def _background_rows(rng, home, activity, n_rows, n_spaces):
    """Member-member interactions inside spaces (3% cross spaces) as (u, v, kind, age)."""
    order = np.lexsort((np.arange(len(home)), home))
    cum = np.cumsum(activity[order])
    starts = np.searchsorted(home[order], np.arange(n_spaces + 1))
    bounds = np.concatenate(([0.0], cum))[starts]
    mass = np.diff(bounds)
    sp = rng.choice(n_spaces, size=n_rows, p=mass / mass.sum())
    other = np.where(rng.random(n_rows) < 0.03, rng.choice(n_spaces, size=n_rows, p=mass / mass.sum()), sp)
    u = _pick_in_space(rng, sp, order, cum, bounds)
    v = _pick_in_space(rng, other, order, cum, bounds)
    kind = rng.choice(4, size=n_rows, p=(0.4, 0.15, 0.3, 0.15))
    return u, v, kind, rng.exponential(120.0, size=n_rows), (order, cum, bounds)


def _heavy_by_space(segment, home, n_spaces):
    heavy = np.flatnonzero(segment == 0)
    return [heavy[home[heavy] == s] for s in range(n_spaces)]


def _tie_rows(rng, people, heavies, kinds, counts, mean_age):
    """Strong ties: each person gets ``counts`` interactions with heavy users from ``heavies``."""
    rows = []
    for p, pool in zip(people, heavies):
        if len(pool) == 0:
            continue
        partners = rng.choice(pool, size=min(len(pool), int(rng.integers(3, 7))), replace=False)
        for h in partners:
            c = int(rng.integers(*counts))
            rows.append((np.full(c, p), np.full(c, h), rng.choice(kinds, size=c), rng.exponential(mean_age, size=c)))
    return rows


def _plant(rng, segment, home, n, n_nonusers, n_spaces, n_planted):
    """Choose planted people and return them with their tie rows."""
    heavy_of = _heavy_by_space(segment, home, n_spaces)
    light = np.flatnonzero(segment >= 2)
    nonusers = n + np.arange(n_nonusers)
    pool = np.concatenate((rng.choice(light, size=min(len(light), 2 * n_planted), replace=False),
                           rng.choice(nonusers, size=min(n_nonusers, n_planted), replace=False)))
    rng.shuffle(pool)
    n_distract = max(2, n_planted // 4)
    worth, objected, style_none = pool[:n_planted], pool[n_planted:n_planted + n_distract], \
        pool[n_planted + n_distract:n_planted + 2 * n_distract]
    chosen = np.concatenate((worth, objected, style_none))
    space_of = np.where(chosen < n, home[np.minimum(chosen, n - 1)], rng.integers(0, n_spaces, size=len(chosen)))
    member_kinds = [_K["reply"], _K["mention"], _K["co_thread"], _K["co_event"]]
    nonuser_kinds = [_K["referral"], _K["invitation"], _K["co_event"], _K["shared_purpose"]]
    rows = []
    for group, kinds in ((chosen < n, member_kinds), (chosen >= n, nonuser_kinds)):
        rows += _tie_rows(rng, chosen[group], [heavy_of[s] for s in space_of[group]], kinds, (2, 6), 12.0)
    medium = np.flatnonzero(segment == 1)
    bridges = rng.choice(medium, size=min(len(medium), max(2, n_spaces // 2)), replace=False)
    for b in bridges:
        others = rng.choice(n_spaces, size=min(n_spaces, 3), replace=False)
        rows += _tie_rows(rng, [b] * len(others), [heavy_of[s] for s in others], member_kinds, (2, 5), 30.0)
    return worth, objected, style_none, bridges, space_of[:n_planted], rows


def _nonuser_rows(rng, n, n_nonusers, sampler, n_spaces):
    """Each nonuser gets 1-3 referral/invitation/co_event/shared_purpose ties to members."""
    order, cum, bounds = sampler
    ties = rng.integers(1, 4, size=n_nonusers)
    s = np.repeat(n + np.arange(n_nonusers), ties)
    space = np.repeat(rng.integers(0, n_spaces, size=n_nonusers), ties)
    m = _pick_in_space(rng, space, order, cum, bounds)
    kind = rng.choice([_K["referral"], _K["invitation"], _K["co_event"], _K["shared_purpose"]], size=len(s))
    return s, m, kind, rng.exponential(150.0, size=len(s))


def _aggregate(u, v, kind, age, n_nodes):
    """Sum decayed weights and count kinds per unordered pair; drops self-pairs."""
    keep = u != v
    u, v, kind, age = u[keep], v[keep], kind[keep], age[keep]
    a, b = np.minimum(u, v).astype(np.int64), np.maximum(u, v).astype(np.int64)
    keys, inv = np.unique(a * n_nodes + b, return_inverse=True)
    weight = np.bincount(inv, weights=0.5 ** (age / HALF_LIFE_DAYS))
    kcodes, kcounts = np.unique(inv.astype(np.int64) * len(EDGE_KINDS) + kind, return_counts=True)
    kinds = [{} for _ in range(len(keys))]
    for code, count in zip(kcodes.tolist(), kcounts.tolist()):
        kinds[code // len(EDGE_KINDS)][EDGE_KINDS[code % len(EDGE_KINDS)]] = count
    return keys // n_nodes, keys % n_nodes, weight, kinds


def _node_attributes(rng, segment, home, names, n, n_nonusers, extra_spaces):
    """Attribute dicts for members then nonusers (vectorised draws, one dict per node)."""
    levels = np.array([(4, 7), (3, 6), (1, 4), (1, 3)])[segment]
    level = rng.integers(levels[:, 0], levels[:, 1])
    days = np.array([3.0, 15.0, 60.0, 400.0])[segment] * rng.exponential(1.0, size=n)
    days[segment == 3] += 365.0
    clv = np.array([400.0, 150.0, 40.0, 10.0])[segment] * rng.lognormal(0.0, 0.6, size=n)
    posts = rng.poisson(np.array([30.0, 8.0, 0.4, 1.0])[segment])
    events = rng.poisson(np.array([3.0, 1.0, 0.2, 0.1])[segment])
    align = rng.beta(np.array([5.0, 3.0, 2.0, 1.5])[segment], 3.0)
    style = rng.choice(len(_STYLE_CHOICES), size=n + n_nonusers, p=_STYLE_P)
    objected = rng.random(n + n_nonusers) < 0.02
    attrs = []
    for i in range(n):
        spaces = [names[home[i]]] + ([names[extra_spaces[i]]] if extra_spaces[i] != home[i] else [])
        attrs.append({"kind": "member", "segment": MEMBER_SEGMENTS[segment[i]], "pyramid_level": int(level[i]),
                      "style_preference": _STYLE_CHOICES[style[i]], "objected": bool(objected[i]),
                      "purpose_alignment": float(align[i]), "days_since_activity": float(days[i]),
                      "clv": float(clv[i]), "posts": int(posts[i]), "events": int(events[i]),
                      "spaces": spaces, "label": f"Member {i}"})
    nl = rng.integers(0, 2, size=n_nonusers)
    nalign, nclv = rng.beta(2.0, 3.0, size=n_nonusers), 60.0 * rng.lognormal(0.0, 0.8, size=n_nonusers)
    for j in range(n_nonusers):
        attrs.append({"kind": "nonuser", "segment": "nonuser", "pyramid_level": int(nl[j]),
                      "style_preference": _STYLE_CHOICES[style[n + j]], "objected": bool(objected[n + j]),
                      "purpose_alignment": float(nalign[j]), "days_since_activity": None, "clv": float(nclv[j]),
                      "posts": 0, "events": 0, "spaces": [], "label": f"Stakeholder {j}"})
    return attrs


def _apply_planted(rng, attrs, worth, objected, style_none, bridges, worth_space, names):
    """Overwrite the attributes of planted people so they match what was planted."""
    allowed = [s for s in _STYLE_CHOICES if s != "none"]
    for i, node in enumerate(worth.tolist()):
        a = attrs[node]
        a.update(purpose_alignment=float(rng.uniform(0.75, 1.0)), objected=False,
                 style_preference=allowed[int(rng.integers(len(allowed)))],
                 clv=float(a["clv"] * rng.uniform(1.5, 3.0)),
                 events=int(a["events"] + rng.integers(1, 4)))
        if a["kind"] == "member":
            a.update(days_since_activity=float(rng.uniform(0.0, 10.0)))
        else:
            a.update(days_since_activity=float(rng.uniform(0.0, 20.0)), spaces=[names[worth_space[i]]])
    for group, changes in ((objected, {"objected": True}), (style_none, {"style_preference": "none", "objected": False})):
        for node in group.tolist():
            attrs[node].update(purpose_alignment=0.95, days_since_activity=1.0, **changes)
    for node in bridges.tolist():
        attrs[node].update(objected=False)


def _active_at_interactions(attrs, rows, n_nodes):
    """A person was active no longer ago than their most recent interaction: ``days_since_activity``
    is at most the age of the youngest one (nonusers, who have no drawn activity, get that age), so
    the attribute agrees with the ties, as it does when the same community is loaded from the database."""
    u, v, _kind, age = rows
    youngest = np.full(n_nodes, np.inf)
    np.minimum.at(youngest, u.astype(np.int64), age)
    np.minimum.at(youngest, v.astype(np.int64), age)
    for i, y in enumerate(youngest.tolist()):
        if y != np.inf:
            days = attrs[i]["days_since_activity"]
            attrs[i]["days_since_activity"] = float(y if days is None else min(days, y))


def generate_community(n_members, *, n_spaces=None, nonuser_ratio=0.25, interactions_per_member=5.0,
                       planted_share=0.01, seed=None):
    """A synthetic community graph with planted ground truth.

    Parameters
    ----------
    n_members : int
        Number of member accounts (nodes ``"a:0"`` ...).
    n_spaces : int, optional
        Number of spaces; default ``max(2, n_members // 250)``.
    nonuser_ratio : float
        Nonuser stakeholders per member (nodes ``"s:0"`` ...).
    interactions_per_member : float
        Mean number of background interactions a member takes part in (each interaction
        involves two people, so there are ``n_members * interactions_per_member / 2``).
    planted_share : float
        Share of members planted as worth engaging (at least 5).
    seed : int, optional
        Seed for ``numpy.random.default_rng``; the same seed gives the same graph.

    Returns
    -------
    G : networkx.Graph
        The community graph, following the contract in ``docs/analytics.md``.
    truth : dict
        ``planted_worth_engaging``, ``planted_bridges``, ``objected`` (every objected
        node), ``style_none`` (every node with style ``"none"``), ``heavy`` (heavy
        members) as sets of node keys, and ``spaces``: node key -> list of space names.
    """
    if n_members < 10:
        raise ValueError("n_members must be at least 10")
    rng = np.random.default_rng(seed)
    n_spaces = n_spaces or max(2, n_members // 250)
    n_nonusers = int(round(n_members * nonuser_ratio))
    names = space_names(n_spaces)
    segment, home, activity = _member_table(rng, n_members, n_spaces)
    u, v, kind, age, sampler = _background_rows(rng, home, activity, int(n_members * interactions_per_member / 2), n_spaces)
    parts = [(u, v, kind, age), _nonuser_rows(rng, n_members, n_nonusers, sampler, n_spaces)]
    n_planted = max(5, int(n_members * planted_share))
    worth, objected, style_none, bridges, worth_space, tie_rows = _plant(
        rng, segment, home, n_members, n_nonusers, n_spaces, n_planted)
    parts += tie_rows
    n_nodes = n_members + n_nonusers
    rows = [np.concatenate(col) for col in zip(*parts)]
    a, b, weight, kinds = _aggregate(*rows, n_nodes)
    extra = np.where(rng.random(n_members) < 0.15, rng.integers(0, n_spaces, size=n_members), home)
    attrs = _node_attributes(rng, segment, home, names, n_members, n_nonusers, extra)
    _apply_planted(rng, attrs, worth, objected, style_none, bridges, worth_space, names)
    _active_at_interactions(attrs, rows, n_nodes)
    keys = [f"a:{i}" for i in range(n_members)] + [f"s:{j}" for j in range(n_nonusers)]
    G = nx.Graph()
    G.add_nodes_from(zip(keys, attrs))
    G.add_edges_from((keys[x], keys[y], {"weight": w, "kinds": k})
                     for x, y, w, k in zip(a.tolist(), b.tolist(), weight.tolist(), kinds))
    return G, _truth(G, keys, worth, bridges)


def _truth(G, keys, worth, bridges):
    nodes = G.nodes
    return {
        "planted_worth_engaging": {keys[i] for i in worth.tolist()},
        "planted_bridges": {keys[i] for i in bridges.tolist()},
        "objected": {x for x, a in nodes(data="objected") if a},
        "style_none": {x for x, s in nodes(data="style_preference") if s == "none"},
        "heavy": {x for x, s in nodes(data="segment") if s == "heavy"},
        "spaces": {x: list(s) for x, s in nodes(data="spaces")},
    }
