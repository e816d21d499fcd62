"""The community graph of a brand, a purpose or a space, loaded from the database.

The only module of ``graph/`` that reads the database. Rows are streamed as tuples with
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

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

import networkx as nx
import numpy as np
from flask import current_app
from sqlalchemy import Float, String, cast, func, or_, select, type_coerce, union
from sqlalchemy.orm import aliased

from community.models import Membership, Mention, Post, Reaction, Space, Thread, Visibility
from core.accounts import Account
from core.extensions import db, utcnow
from core.rows import json_list, plain_chunks, plain_rows
from graph.interactions import DAY, EDGE_KINDS, ActivityLog, Interactions, edge_attributes, latest_events, node_key
from graph.node_attributes import iso, person_attributes, unknown_member_attributes
from purpose.models import Purpose, Stakeholder, Touchpoint
from purpose.profiles import Scope, build_profiles, holdout_check

#: Shared purpose: members declaring the same tag of a purpose they belong to, each linked to
#: the SHARED_PURPOSE_WINDOW previous ones in account order.
SHARED_PURPOSE_WINDOW = 2
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


def _epoch(moment: datetime) -> float:
    """Seconds since the epoch; a naive time is UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def _seconds(column):
    """The column as seconds since the epoch, computed by the database (no datetime per row)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (func.julianday(column) - 2440587.5) * DAY
    return cast(func.extract("epoch", column), Float)


@dataclass
class _Facts:
    """What the loader learns about people while streaming interactions."""

    activity: ActivityLog = field(default_factory=ActivityLog)
    posts: Counter = field(default_factory=Counter)
    events: Counter = field(default_factory=Counter)
    recognitions: Counter = field(default_factory=Counter)
    participants: set = field(default_factory=set)
    spaces: dict = field(default_factory=dict)
    first_seen: dict = field(default_factory=dict)
    last_seen: dict = field(default_factory=dict)
    event_codes: dict = field(default_factory=dict)  # event_ref -> context code of its co_event rows
    attended: dict = field(default_factory=lambda: defaultdict(dict))  # node -> event_ref -> first time


def _scope_spaces(scope: GraphScope):
    """(space id -> (name, purpose id)) in scope, and the purpose whose profiles apply."""
    stmt = select(Space.id, Space.name, Space.purpose_id).join(Purpose, Purpose.id == Space.purpose_id).where(
        Purpose.brand_id == scope.brand_id)
    if scope.purpose_id is not None:
        stmt = stmt.where(Space.purpose_id == scope.purpose_id)
    if scope.space_id is not None:
        stmt = stmt.where(Space.id == scope.space_id)
    if scope.private_spaces is not None:
        stmt = stmt.where(or_(Space.visibility == Visibility.public, Space.id.in_(list(scope.private_spaces))))
    spaces = {sid: (name, pid) for sid, name, pid in db.session.execute(stmt)}
    if scope.space_id is not None and not spaces:
        raise ValueError(f"space {scope.space_id} is not in brand {scope.brand_id}'s scope")
    purpose_id = scope.purpose_id if scope.space_id is None else next(iter(spaces.values()))[1]
    return spaces, purpose_id


def _within(column, scope: GraphScope, as_of: datetime):
    return (column <= as_of,) + ((column >= scope.since,) if scope.since is not None else ())


def _community_rows(scope, as_of, spaces, rows: Interactions, facts: _Facts) -> None:
    """Replies, mentions, reactions and thread co-participation in the spaces in scope."""
    in_spaces = Post.space_id.in_(list(spaces))
    shown = (in_spaces, Post.deleted.is_(False), Post.hidden.is_(False))
    live = (*shown, *_within(Post.created_at, scope, as_of))
    parent = aliased(Post)
    replies = select(parent.author_id, Post.author_id, _seconds(Post.created_at)).join(
        parent, Post.parent_id == parent.id).where(*live, parent.deleted.is_(False))
    mentions = select(Mention.account_id, Post.author_id, _seconds(Post.created_at)).join(
        Mention, Mention.post_id == Post.id).where(*live)
    reactions = select(Post.author_id, Reaction.account_id, _seconds(Reaction.created_at)).join(
        Post, Post.id == Reaction.post_id).where(*shown, *_within(Reaction.created_at, scope, as_of))
    for kind, stmt in (("reply", replies), ("mention", mentions), ("reaction", reactions)):
        for chunk in plain_chunks(stmt):  # (who is recognised, who acts, when)
            block = np.array(chunk, dtype=np.float64).reshape(-1, 3)
            target, actor, t = 2 * block[:, 0].astype(np.int64), 2 * block[:, 1].astype(np.int64), block[:, 2]
            rows.extend(target, actor, kind, t)
            facts.recognitions.update(target[target != actor].tolist())
            facts.participants.update(target.tolist())
            if kind == "reaction":
                facts.participants.update(actor.tolist())
                facts.activity.extend(actor, t)
    _thread_rows(select(Post.thread_id, Post.author_id, _seconds(Post.created_at)).where(*live).order_by(
        Post.thread_id, Post.seq), rows, facts)


def _thread_rows(stmt, rows: Interactions, facts: _Facts) -> None:
    """Each thread's new author links to its first author and the CO_WINDOW distinct authors before."""
    current, authors = None, {}
    for chunk in plain_chunks(stmt):
        block = np.array(chunk, dtype=np.float64).reshape(-1, 3)
        nodes = 2 * block[:, 1].astype(np.int64)
        facts.activity.extend(nodes, block[:, 2])
        facts.posts.update(nodes.tolist())
        facts.participants.update(nodes.tolist())
        for thread_id, node, t in zip(block[:, 0].tolist(), nodes.tolist(), block[:, 2].tolist()):
            if thread_id != current:
                _link_thread(rows, current, authors)
                current, authors = thread_id, {}
            authors.setdefault(node, t)
    _link_thread(rows, current, authors)


def _link_thread(rows: Interactions, thread_id, authors: dict) -> None:
    """co_thread ties of one thread's authors (author -> first post time), naming the thread."""
    if thread_id is not None:
        rows.link_group([(when, who) for who, when in authors.items()], "co_thread", anchor=True, context=int(thread_id))


def _touchpoint_rows(scope, as_of, purpose_id, node_of: dict, rows: Interactions, facts: _Facts) -> None:
    """Referrals and invitations (person to person), event co-attendance, and every touchpoint's time."""
    lookup = np.full(max(node_of, default=0) + 2, -1, dtype=np.int64)
    lookup[list(node_of)] = list(node_of.values())
    stmt = select(Touchpoint.stakeholder_id, func.coalesce(Touchpoint.other_stakeholder_id, 0),
                  _seconds(Touchpoint.occurred_at), type_coerce(Touchpoint.kind, String), Touchpoint.event_ref).where(
        Touchpoint.brand_id == scope.brand_id, *_within(Touchpoint.occurred_at, scope, as_of))
    if purpose_id is not None:
        stmt = stmt.where(Touchpoint.purpose_id == purpose_id)
    events = defaultdict(dict)
    for chunk in plain_chunks(stmt):
        numbers = np.array([row[:3] for row in chunk], dtype=np.float64).reshape(-1, 3)
        sids, others = numbers[:, 0].astype(np.int64), numbers[:, 1].astype(np.int64)
        nodes = lookup[np.minimum(sids, len(lookup) - 1)]
        other_nodes = lookup[np.minimum(others, len(lookup) - 1)]
        kinds = np.array([row[3] for row in chunk])
        known = nodes >= 0  # the others objected or were erased
        facts.activity.extend(nodes[known], numbers[known, 2])
        for kind in ("referral", "invitation"):
            pick = known & (kinds == kind) & (other_nodes >= 0)
            rows.extend(nodes[pick], other_nodes[pick], kind, numbers[pick, 2])
        for i in np.flatnonzero(known & (kinds == "event")).tolist():
            node, ref = int(nodes[i]), chunk[i][4]
            facts.events[node] += 1
            if ref and node not in events[ref]:
                events[ref][node] = float(numbers[i, 2])
    for ref, attendance in events.items():
        code = facts.event_codes.setdefault(ref, len(facts.event_codes))
        for node, t in attendance.items():
            facts.attended[node][ref] = t
        rows.link_event(sorted((t, node) for node, t in attendance.items()), context=code)


def _membership_rows(scope, as_of, spaces, facts: _Facts) -> dict:
    """Spaces of each member; returns (purpose id, account node) -> earliest join, for shared purpose."""
    joined = {}
    stmt = select(Membership.account_id, Membership.space_id, _seconds(Membership.joined_at)).where(
        Membership.space_id.in_(list(spaces)), Membership.joined_at <= as_of)
    since = _epoch(scope.since) if scope.since is not None else None
    for account_id, space_id, t in plain_rows(stmt):
        node, (name, purpose_id) = 2 * account_id, spaces[space_id]
        facts.participants.add(node)
        facts.spaces.setdefault(node, []).append(name)
        if since is None or t >= since:
            facts.activity.add(node, t)
        key = (purpose_id, node)
        joined[key] = min(joined.get(key, t), t)
    return joined


def _shared_purpose_rows(joined: dict, interests: dict, tags: dict, rows: Interactions) -> None:
    """Members of a purpose who declared the same one of its tags, chained in account order."""
    groups = defaultdict(list)
    for (purpose_id, node), t in joined.items():
        for tag in set(interests.get(node) or ()) & set(tags.get(purpose_id) or ()):
            groups[(purpose_id, tag)].append((node, t))
    for members in groups.values():
        members.sort()
        for i, (node, t) in enumerate(members):
            for earlier, then in members[max(0, i - SHARED_PURPOSE_WINDOW):i]:
                rows.add(earlier, node, "shared_purpose", max(t, then))


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


def _nodes_in_scope(scope, candidates: set, facts: _Facts, edges) -> set:
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
    spaces, purpose_id = _scope_spaces(scope)
    tags = dict(db.session.execute(select(Purpose.id, Purpose.tags).where(Purpose.brand_id == scope.brand_id)).all())
    profiles, model = build_profiles(Scope(scope.brand_id, purpose_id, as_of, transactions))
    report("profiles", 30)
    node_of = {sid: 2 * p.stakeholder.account_id if p.stakeholder.account_id else 2 * sid + 1 for sid, p in profiles.items()}
    rows, facts = Interactions(), _Facts()
    if spaces:
        _community_rows(scope, as_of, spaces, rows, facts)
    report("community", 60)
    _touchpoint_rows(scope, as_of, purpose_id, node_of, rows, facts)
    joined = _membership_rows(scope, as_of, spaces, facts) if spaces else {}
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
    _shared_purpose_rows(joined, interests, tags, rows)
    excluded = _excluded_accounts(scope.brand_id) | erased
    keep = {v for v in candidates if v not in excluded and (v % 2 or v in labels)}
    edges = rows.aggregate(np.fromiter(keep, dtype=np.int64, count=len(keep)), _epoch(as_of), half_life_days)
    nodes = _nodes_in_scope(scope, keep, facts, edges)
    profile_of = {node_of[sid]: p for sid, p in profiles.items()}
    now = _epoch(as_of)

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
