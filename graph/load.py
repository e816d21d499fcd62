"""The community graph of a brand, a purpose or a space, loaded from the database.

With ``graph.load_rows`` (the row readers), the only module of ``graph/`` that reads the database. Rows are streamed as tuples with
Core selects (no ORM object per row); every interaction becomes one (person, person, kind,
time) row in flat arrays, aggregated per pair with numpy (decayed weight, count per kind),
and the ``nx.Graph`` is built once with ``add_nodes_from``/``add_edges_from``. Node and
edge attributes follow the contract in ``docs/analytics.md`` ("Loading" says which rows
make which edge and how groups are kept sparse).

People who objected to analysis or were erased never appear: stakeholders are read through
``purpose.people.analysable``, accounts linked to an objecting stakeholder of the brand and
anonymised accounts are dropped, and so is every edge touching them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import networkx as nx
import numpy as np
from flask import current_app
from sqlalchemy import String, or_, select, type_coerce, union

from community.models import Membership, Mention, Post, Reaction, Space, Thread, Visibility
from core.accounts import Account
from core.extensions import db, utcnow
from core.rows import json_list, plain_rows
from graph.interactions import DAY, EDGE_KINDS, Interactions, edge_attributes, latest_events, node_key
from graph.load_rows import Facts, community_rows, epoch, membership_rows, scope_spaces, shared_purpose_rows, touchpoint_rows
from graph.node_attributes import iso, person_attributes, unknown_member_attributes
from purpose.models import Purpose, Stakeholder
from purpose.profiles import Scope, build_profiles, holdout_check

#: Events named per person (node attribute ``event_refs``): the most recent ones.
MAX_EVENT_REFS = 10
#: Anonymised accounts (``core.accounts.anonymise_account``) have an address in this reserved domain.
ERASED_EMAIL_DOMAIN = "@erased.invalid"

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class GraphScope:
    """What to load: a brand, optionally one purpose or one space, and a time window."""

    brand_id: int
    purpose_id: int | None = None
    space_id: int | None = None
    since: datetime | None = None  # time window start (UTC); None = everything
    as_of: datetime | None = None  # snapshot time; None = now
    #: The private spaces that may be loaded (graph.access: those the requester may see);
    #: None = all of them (bench, scripts). Public spaces are always loaded.
    private_spaces: frozenset[int] | None = None


def _excluded_accounts(brand_id: int) -> set[int]:
    """Account nodes of the brand's people who objected (erased ones lost their account link)."""
    stmt = select(Stakeholder.account_id).where(
        Stakeholder.brand_id == brand_id, Stakeholder.account_id.is_not(None),
        or_(Stakeholder.objected.is_(True), Stakeholder.erased_at.is_not(None)))
    return {2 * account_id for (account_id,) in db.session.execute(stmt)}


def _accounts(brand_id: int, spaces, nodes: set) -> tuple[dict, dict, set]:
    """Labels and declared interests of the member nodes, and the anonymised ones among them.

    One query over the accounts the brand or its spaces know of (an IN list of 100k ids
    costs more than the scan), kept when they are among ``nodes``.
    """
    space_ids = list(spaces)
    known = [select(Stakeholder.account_id).where(Stakeholder.brand_id == brand_id, Stakeholder.account_id.is_not(None))]
    if space_ids:
        known += [select(Membership.account_id).where(Membership.space_id.in_(space_ids)),
                  select(Post.author_id).where(Post.space_id.in_(space_ids)),
                  select(Reaction.account_id).join(Post, Post.id == Reaction.post_id).where(Post.space_id.in_(space_ids)),
                  select(Mention.account_id).join(Post, Post.id == Mention.post_id).where(Post.space_id.in_(space_ids))]
    stmt = select(Account.id, Account.display_name, type_coerce(Account.interests, String), Account.email,
                  Account.handle).where(Account.id.in_(union(*known).scalar_subquery()))
    labels, interests, erased = {}, {}, set()
    for account_id, name, declared, email, handle in plain_rows(stmt):
        node = 2 * account_id
        if node not in nodes:
            continue
        if email.endswith(ERASED_EMAIL_DOMAIN):
            erased.add(node)
        labels[node] = (name, handle)
        interests[node] = json_list(declared)
    return labels, interests, erased


def _nodes_in_scope(scope, candidates: set, facts: Facts, edges) -> set:
    """Space scope: its participants and whoever they are tied to. A window keeps only people active in it."""
    a, b = edges[0], edges[1]
    if scope.space_id is not None:
        inner = facts.participants & candidates
        candidates = inner | {x for pair in zip(a, b) if pair[0] in inner or pair[1] in inner for x in pair}
    if scope.since is not None:
        active = set(facts.last_seen) | set(a) | set(b)
        candidates = {v for v in candidates if v in active}
    return candidates


def load_graph(scope: GraphScope, *, half_life_days: float = 90.0, progress: Progress | None = None,
               transactions: str = "daily", holdout_until: datetime | None = None) -> nx.Graph:
    """The people of ``scope`` and their time-decayed ties, following ``docs/analytics.md``.

    ``progress(step, percent)`` is called as loading goes (percent of the loading, 0..100).
    ``transactions`` is the CLV fit's purchase preparation (``purpose.clv.TRANSACTIONS``). With
    ``holdout_until`` the CLV fit, calibrated up to ``as_of``, is checked on the purchases made up to
    then (``purpose.profiles.holdout_check``; graph attribute ``clv_holdout``).
    Raises ``ValueError`` for a space outside the brand or a non-positive half-life.
    """
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    report = progress or (lambda step, percent: None)
    configure_backend(current_app.config.get("NETWORKX_BACKEND"))
    as_of = scope.as_of or utcnow()
    spaces, purpose_id = scope_spaces(scope)
    tags = dict(db.session.execute(select(Purpose.id, Purpose.tags).where(Purpose.brand_id == scope.brand_id)).all())
    profiles, model = build_profiles(Scope(scope.brand_id, purpose_id, as_of, transactions))
    report("profiles", 30)
    node_of = {sid: 2 * p.stakeholder.account_id if p.stakeholder.account_id else 2 * sid + 1 for sid, p in profiles.items()}
    rows, facts = Interactions(), Facts()
    if spaces:
        community_rows(scope, as_of, spaces, rows, facts)
    report("community", 60)
    touchpoint_rows(scope, as_of, purpose_id, node_of, rows, facts)
    joined = membership_rows(scope, as_of, spaces, facts) if spaces else {}
    facts.first_seen, facts.last_seen = facts.activity.span()
    report("touchpoints", 75)
    graph = _assemble(scope, as_of, half_life_days, (spaces, purpose_id, tags), profiles, node_of, rows, facts, joined)
    graph.graph.update(_graph_attrs(scope, as_of, half_life_days, model.status, graph))
    graph.graph.update(purposes={str(pid): name for pid, name in db.session.execute(
        select(Purpose.id, Purpose.title).where(Purpose.brand_id == scope.brand_id))},
        threads=_thread_names(spaces, graph) if spaces else {}, clv_fit=model.fit,
        clv_holdout=None if holdout_until is None else holdout_check(Scope(scope.brand_id, purpose_id, as_of, transactions),
                                                                      holdout_until))
    report("build", 100)
    return graph


def _assemble(scope, as_of, half_life_days, where, profiles, node_of, rows, facts, joined) -> nx.Graph:
    """Drop excluded people, add shared-purpose ties, aggregate pairs and build the graph once."""
    spaces, purpose_id, tags = where
    candidates = (set(node_of.values()) if scope.space_id is None else set()) | facts.participants
    candidates |= set(rows.endpoints().tolist())
    labels, interests, erased = _accounts(scope.brand_id, spaces, candidates)
    shared_purpose_rows(joined, interests, tags, rows)
    excluded = _excluded_accounts(scope.brand_id) | erased
    keep = {v for v in candidates if v not in excluded and (v % 2 or v in labels)}
    edges = rows.aggregate(np.fromiter(keep, dtype=np.int64, count=len(keep)), epoch(as_of), half_life_days)
    nodes = _nodes_in_scope(scope, keep, facts, edges)
    profile_of = {node_of[sid]: p for sid, p in profiles.items()}
    now = epoch(as_of)

    def attrs(v: int) -> dict:
        out = (person_attributes(profile_of[v], purpose_id) if v in profile_of else unknown_member_attributes(
            first_seen=facts.first_seen.get(v), recognitions=facts.recognitions[v], posts=facts.posts[v],
            interests=interests.get(v, []), tags=tags, purpose_id=purpose_id, as_of=as_of))
        last = facts.last_seen.get(v)
        out.update(posts=int(facts.posts[v]), events=int(facts.events[v]), spaces=sorted(set(facts.spaces.get(v, ()))),
                   days_since_activity=None if last is None else max(0.0, (now - last) / DAY),
                   event_refs=latest_events(facts.attended.get(v), MAX_EVENT_REFS))
        if v % 2 == 0:
            out["label"], out["handle"] = labels[v]
        return out

    G = nx.Graph()
    G.add_nodes_from((node_key(v), attrs(v)) for v in sorted(nodes))
    refs = sorted(facts.event_codes, key=facts.event_codes.get)
    G.add_edges_from((node_key(a), node_key(b), edge_attributes(w, k, c, refs))
                     for a, b, w, k, c in zip(*edges) if a in nodes and b in nodes)
    return G


def _thread_names(spaces: dict, G: nx.Graph) -> dict:
    """``str(thread id) -> {"space", "title"}`` for the threads named on edges; titles of public spaces only
    (a report names a private space's thread by number, never shows what its members wrote)."""
    wanted = {t for _, _, ids in G.edges(data="threads") if ids for t in ids}
    if not wanted:
        return {}
    stmt = select(Thread.id, Thread.title, Space.name, type_coerce(Space.visibility, String)).join(
        Space, Space.id == Thread.space_id).where(Thread.space_id.in_(list(spaces)))
    return {str(tid): {"space": name, "title": title if visibility == Visibility.public.name else None}
            for tid, title, name, visibility in plain_rows(stmt) if tid in wanted}


def _graph_attrs(scope: GraphScope, as_of: datetime, half_life_days: float, clv_status: str, G: nx.Graph) -> dict:
    snapshot = iso(as_of)
    return {"scope": {"brand_id": scope.brand_id, "purpose_id": scope.purpose_id, "space_id": scope.space_id,
                      "since": iso(scope.since), "as_of": snapshot},
            "snapshot_at": snapshot, "half_life_days": float(half_life_days), "clv_status": clv_status,
            "customer_equity": float(sum(c for _, c in G.nodes(data="clv"))), "edge_kinds": list(EDGE_KINDS)}


def configure_backend(name: str | None) -> None:
    """Let networkx dispatch to a backend (``"parallel"``: nx-parallel, ``"cugraph"``: nx-cugraph).

    ``load_graph`` applies the app's ``NETWORKX_BACKEND`` setting when there is one, so the
    metrics that follow in the same process dispatch there. ``None`` or ``""`` leaves
    networkx's own setting (the ``NETWORKX_BACKEND_PRIORITY`` environment variable, read at
    import) alone. The backend must be installed.
    """
    if name:
        nx.config.backend_priority.algos = [name]
