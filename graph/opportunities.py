"""Rank light users and nonuser stakeholders worth engaging, with reasons and an action.

Pure: works on a community graph that follows the contract in ``docs/analytics.md``
(see also ``graph/metrics.py``) and on metric dicts computed from it.

Who can be ranked: members whose segment is ``light`` or ``lapsed``, and nonuser
stakeholders (``kind == "nonuser"``). Never ranked: anyone with ``objected=True`` (their
ties are not counted for others either) and anyone whose ``style_preference`` is
``"none"`` (they asked for no contact, so the only respectful action is none at all).

Score, each feature scaled to 0..1, weights in :data:`FEATURE_WEIGHTS` (they sum to 1)::

    score = sum(weight[f] * feature[f])
    heavy_ties = log1p(w) / log1p(max w)    w = decayed edge weight to heavy users
    proximity  = percentile of personalized PageRank seeded at heavy users
    core       = core number / largest core number in the graph
    bridging   = min(1, (distinct neighbouring communities - 1) / BRIDGING_SATURATION)
    alignment  = purpose_alignment
    recency    = 0.5 ** (days_since_activity / RECENCY_HALF_LIFE_DAYS), 0 when unknown
    value      = log1p(clv) / log1p(max clv)
    headroom   = (6 - pyramid_level) / 6    levels still to climb

Maxima and percentiles are taken over the candidates, so scores compare people within
one ranking. The suggested action is the step to the person's next pyramid level
(:data:`NEXT_LEVEL_ACTIONS`), never more intense than their declared preference allows
(:data:`CONTACT_CAP`); when it would be, the strongest allowed action replaces it.
"""

from __future__ import annotations

import math
from collections import Counter

from graph import metrics
from graph.reasons import KIND_PHRASES, reasons_with_evidence  # noqa: F401 (KIND_PHRASES: part of this module's API)
from purpose.relationship import PYRAMID_LEVELS

FEATURE_WEIGHTS = {"heavy_ties": 0.25, "proximity": 0.10, "core": 0.10, "bridging": 0.10,
                   "alignment": 0.15, "recency": 0.15, "value": 0.10, "headroom": 0.05}
RECENCY_HALF_LIFE_DAYS = 30.0
#: Neighbouring communities beyond the first at which the bridging feature is full.
BRIDGING_SATURATION = 3
CANDIDATE_SEGMENTS = ("light", "lapsed")
#: Action intensity: 1 light touch (one message, a thank-you), 2 ongoing conversation,
#: 3 long programme (co-creation, ambassador roles).
INTENSITY_NAMES = {1: "light touch", 2: "ongoing", 3: "long programme"}
#: Most intense action each declared contact style allows; None = never asked.
#: "none" allows nothing, so those people are not ranked at all.
CONTACT_CAP = {"none": 0, "fling": 1, "friendship": 2, "marriage": 3, None: 2}
#: next pyramid level -> (intensity, action). ``{space}`` is the person's main space.
NEXT_LEVEL_ACTIONS = {
    "utility": (1, "show the value: send the most useful thread or guide from {space}"),
    "convenience": (1, "offer convenience: one-click follow of {space} and a reminder of its next event"),
    "ease": (1, "make it easy: a personal welcome into {space} with one thread to answer"),
    "recognition": (1, "recognise: thank them publicly in {space} for what they brought"),
    "self_expression": (2, "invite them to share their own story or idea in {space}"),
    "co_creation": (3, "invite to co-create: a seat in {space}'s next project"),
    None: (1, "thank them and keep them involved in {space}"),
}
#: The strongest action allowed when the next level's action is too intense.
FALLBACK_ACTIONS = {1: "light touch: one message with the best of {space}, no follow-up",
                    2: "invite them to share their view in {space}"}



def is_candidate(attrs):
    """Whether a node with these attributes may be ranked at all."""
    if attrs.get("objected") or attrs.get("style_preference") == "none":
        return False
    return attrs.get("kind") == "nonuser" or (attrs.get("kind") == "member" and attrs.get("segment") in CANDIDATE_SEGMENTS)


def rank_opportunities(G, *, core_number=None, community_of=None, proximity=None, heavy=None,
                       limit=50, weights=None, scores=None):
    """Light users and nonusers most worth engaging, best first.

    Parameters
    ----------
    G : networkx.Graph
        The community graph (contract in ``docs/analytics.md``).
    core_number, proximity : dict, optional
        k-core numbers and personalized PageRank from heavy users; computed when missing.
    community_of : dict, optional
        Node -> community index; without it the bridging feature is 0 for everyone.
    heavy : set, optional
        Heavy users; default the nodes with ``segment == "heavy"``. Objected people are
        removed from the graph first (:func:`graph.metrics.analysable_graph`).
    limit : int or None
        Number of entries returned (None: all candidates).
    weights : dict, optional
        Overrides of :data:`FEATURE_WEIGHTS`.
    scores : dict, optional
        When given, filled with node -> (rank, score) for every candidate, not only the
        ``limit`` returned (a report's people table ranks everyone).

    Returns
    -------
    list of dict
        ``node, label, kind, segment, pyramid_level, next_level, style_preference, score,
        contributions`` (feature -> weight * value), ``reasons`` (sentences) with their ``evidence``
        (same order: who, which events and threads, the numbers; :mod:`graph.reasons`), ``suggested_action``,
        ``action_intensity`` and ``action_capped``. Ties are broken by node key.
    """
    w = {**FEATURE_WEIGHTS, **(weights or {})}
    G = metrics.analysable_graph(G)  # G itself when nobody objected (the usual case: metrics.analyse output)
    heavy = {v for v, s in G.nodes(data="segment") if s == "heavy"} if heavy is None else set(heavy)
    heavy = {v for v in heavy if v in G and not G.nodes[v].get("objected")}
    core_number = metrics.core_numbers(G) if core_number is None else core_number
    if proximity is None:
        proximity = metrics.personalized_influence(G, heavy) if heavy else {}
    candidates = sorted((v for v, a in G.nodes(data=True) if is_candidate(a)), key=str)
    bridges = {} if community_of is None else {
        v: len({community_of[u] for u, d in G[v].items() if u in community_of and interacted(d)}) for v in candidates}
    features = _features(G, candidates, heavy, core_number, bridges, proximity)
    scored = []
    for v in candidates:
        contributions = {f: w[f] * x for f, x in features[v].items()}
        scored.append((-sum(contributions.values()), str(v), v, contributions))
    scored.sort(key=lambda t: t[:2])
    if scores is not None:
        scores.update((v, (rank, -neg)) for rank, (neg, _, v, _c) in enumerate(scored, start=1))
    top = scored if limit is None else scored[:limit]
    return [_entry(G, v, -neg, contributions, heavy, bridges.get(v, 0)) for neg, _, v, contributions in top]


#: Edge kinds that say two people share an interest, not that they met: such an edge alone is no tie for
#: ``heavy_ties`` and ``bridging`` (the declared interest already counts in ``alignment``).
DECLARED_ONLY = frozenset({"shared_purpose"})


def interacted(edge: dict) -> bool:
    """Whether the pair did something together (any kind but a shared declared interest); an edge
    without ``kinds`` (hand-built graphs) counts."""
    kinds = edge.get("kinds")
    return not kinds or any(n for k, n in kinds.items() if k not in DECLARED_ONLY)


def _spend(G, candidates):
    """Each candidate's value as a customer: expected CLV, or, when no candidate has one (no fitted
    model: too few buyers), what they spent (RFM monetary). Nonusers count as much as members: a
    customer of the brand outside the community is a reason to invite them into it."""
    clv = {v: max(float(G.nodes[v].get("clv") or 0.0), 0.0) for v in candidates}
    if any(clv.values()):
        return clv
    return {v: max(float((G.nodes[v].get("rfm") or {}).get("monetary") or 0.0), 0.0) for v in candidates}


def has_signal(G, v, spend: float) -> bool:
    """Whether a nonuser shows anything that makes them worth engaging: a tie to anyone in the graph
    (heavy users, the core, co-attendees, the other side of a referral or invitation), an event
    attended, alignment with a purpose (declared or by taking part), or spend as a customer."""
    a = G.nodes[v]
    spent = spend > 0 or ((a.get("rfm") or {}).get("monetary") or 0.0) > 0
    return bool(G.degree(v) or a.get("events") or (a.get("purpose_alignment") or 0.0) > 0 or spent)


def _features(G, candidates, heavy, core_number, bridges, proximity):
    """Feature values in 0..1 for every candidate."""
    ties = {v: sum(d.get("weight", 1.0) for u, d in G[v].items() if u in heavy and interacted(d)) for v in candidates}
    max_ties = math.log1p(max(ties.values(), default=0.0)) or 1.0
    max_core = max(core_number.values(), default=0) or 1
    spend = _spend(G, candidates)
    max_spend = math.log1p(max(spend.values(), default=0.0)) or 1.0
    ranks = _percentiles({v: proximity.get(v, 0.0) for v in candidates})
    result = {}
    for v in candidates:
        a = G.nodes[v]
        days = a.get("days_since_activity")
        result[v] = {
            "heavy_ties": math.log1p(ties[v]) / max_ties,
            "proximity": ranks[v],
            "core": core_number.get(v, 0) / max_core,
            "bridging": min(1.0, max(0, bridges.get(v, 0) - 1) / BRIDGING_SATURATION),
            "alignment": min(1.0, max(0.0, float(a.get("purpose_alignment") or 0.0))),
            "recency": 0.0 if days is None else 0.5 ** (max(days, 0.0) / RECENCY_HALF_LIFE_DAYS),
            "value": math.log1p(spend[v]) / max_spend,
            "headroom": (len(PYRAMID_LEVELS) - int(a.get("pyramid_level") or 0)) / len(PYRAMID_LEVELS),
        }
        if a.get("kind") == "nonuser" and not has_signal(G, v, spend[v]):
            # Only a name on a list: a recent newsletter and levels to climb say nothing of worth, so
            # such a nonuser scores 0 and never outranks one with any signal (who scores above 0).
            result[v].update(proximity=0.0, recency=0.0, headroom=0.0)
    return result


def _percentiles(values):
    """Node -> share of the other nodes with a strictly smaller value (0..1)."""
    ordered = sorted(values.values())
    first, previous = {}, None
    for i, x in enumerate(ordered):
        if x != previous:
            first[x], previous = i, x
    span = max(len(ordered) - 1, 1)
    return {v: first[x] / span for v, x in values.items()}


def _entry(G, v, score, contributions, heavy, bridging):
    a = G.nodes[v]
    level = int(a.get("pyramid_level") or 0)
    next_level = PYRAMID_LEVELS[level] if level < len(PYRAMID_LEVELS) else None
    heavy_edges = [(u, d) for u, d in G[v].items() if u in heavy]
    space = _main_space(G, a, [u for u, _ in heavy_edges])
    intensity, action, capped = suggest_action(next_level, a.get("style_preference"), space=space)
    texts, evidence = reasons_with_evidence(G, v, heavy_edges=heavy_edges, space=space, bridging=bridging)
    return {"node": v, "label": a.get("label", str(v)), "external_id": a.get("external_id"), "kind": a.get("kind"),
            "segment": a.get("segment"), "pyramid_level": level, "next_level": next_level, "style_preference": a.get("style_preference"),
            "score": float(score), "contributions": {f: float(c) for f, c in contributions.items()},
            "reasons": texts, "evidence": evidence,
            "suggested_action": action, "action_intensity": intensity, "action_capped": capped}


def suggest_action(next_level, style_preference, *, space="the community"):
    """``(intensity, text, capped)`` for reaching ``next_level`` within the contact cap."""
    cap = CONTACT_CAP.get(style_preference, CONTACT_CAP[None])
    if cap <= 0:
        raise ValueError("no contact allowed for style 'none'")
    intensity, template = NEXT_LEVEL_ACTIONS[next_level]
    if intensity <= cap:
        return intensity, template.format(space=space), False
    return cap, FALLBACK_ACTIONS[cap].format(space=space), True


def _main_space(G, attrs, heavy_neighbours):
    """The space most shared with heavy neighbours (own spaces first), else the first own one."""
    own = list(attrs.get("spaces") or [])
    counts = Counter(s for u in heavy_neighbours for s in G.nodes[u].get("spaces") or ())
    if counts:
        return min(counts, key=lambda s: (s not in own, -counts[s], s))
    return own[0] if own else "the community"
