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

from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import networkx as nx
import numpy as np
from sqlalchemy import or_, select, union
from sqlalchemy.orm import aliased

from community.models import Membership, Mention, Post, Reaction, Space
from core.accounts import Account
from core.extensions import db, utcnow
from purpose.models import Purpose, Stakeholder, Touchpoint, TouchpointKind
from purpose.people import STREAM_BATCH
from purpose.profiles import Scope, build_profiles
from purpose.relationship import Person, purpose_alignment, pyramid_position

EDGE_KINDS = ("reply", "mention", "reaction", "co_thread", "referral", "invitation", "co_event", "shared_purpose")
_K = {name: code for code, name in enumerate(EDGE_KINDS)}
#: Co-participation: each new author of a thread is linked to the thread's first author and
#: to the previous CO_WINDOW distinct authors; attendees of an event likewise to the previous ones.
CO_WINDOW = 3
#: Groups (event attendees) up to this size are linked pair by pair; larger ones by CO_WINDOW.
SMALL_GROUP = 6
#: Shared purpose: members declaring the same tag of a purpose they belong to, each linked to
#: the SHARED_PURPOSE_WINDOW previous ones in account order.
SHARED_PURPOSE_WINDOW = 2
#: Anonymised accounts (``core.accounts.anonymise_account``) have an address in this reserved domain.
ERASED_EMAIL_DOMAIN = "@erased.invalid"
ID_CHUNK = 5000
_EPOCH = datetime(1970, 1, 1)

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class GraphScope:
    """What to load: a brand, optionally one purpose or one space, and a time window."""

    brand_id: int
    purpose_id: int | None = None
    space_id: int | None = None
    since: datetime | None = None  # time window start (UTC); None = everything
    as_of: datetime | None = None  # snapshot time; None = now


def account_node(account_id: int) -> str:
    return f"a:{account_id}"


def stakeholder_node(stakeholder_id: int) -> str:
    return f"s:{stakeholder_id}"


def _key(code: int) -> str:
    """Node codes are integers while loading: 2*account id for members, 2*stakeholder id + 1 for nonusers."""
    return account_node(code >> 1) if code % 2 == 0 else stakeholder_node(code >> 1)


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is not None:
        return moment.timestamp()
    return (moment - _EPOCH).total_seconds()  # stored naive means UTC


def _stream(stmt):
    return db.session.execute(stmt.execution_options(yield_per=STREAM_BATCH))


class _Interactions:
    """Flat arrays of (node code, node code, kind code, epoch seconds), one row per interaction."""

    def __init__(self):
        self.u, self.v, self.kind, self.t = array("q"), array("q"), array("b"), array("d")

    def add(self, u: int, v: int, kind: str, moment: datetime) -> None:
        if u != v:
            self.u.append(u), self.v.append(v), self.kind.append(_K[kind]), self.t.append(_epoch(moment))

    def link_group(self, members: list[tuple[float, int]], kind: str, moments: list[datetime]) -> None:
        """Link a time-ordered group: all pairs when small, else each to the CO_WINDOW before it."""
        window = len(members) if len(members) <= SMALL_GROUP else CO_WINDOW
        for i, (_t, node) in enumerate(members):
            for _s, earlier in members[max(0, i - window):i]:
                self.add(earlier, node, kind, moments[i])

    def aggregate(self, keep: set[int], as_of: float, half_life_days: float):
        """Per unordered pair with both ends in ``keep``: decayed weight and counts per kind."""
        u, v = np.frombuffer(self.u, dtype=np.int64), np.frombuffer(self.v, dtype=np.int64)
        kind, t = np.frombuffer(self.kind, dtype=np.int8).astype(np.int64), np.frombuffer(self.t, dtype=np.float64)
        if len(u) == 0:
            return [], [], [], []
        kept = np.fromiter(keep, dtype=np.int64, count=len(keep))
        mask = np.isin(u, kept) & np.isin(v, kept) & (t <= as_of)
        u, v, kind, t = u[mask], v[mask], kind[mask], t[mask]
        a, b = np.minimum(u, v), np.maximum(u, v)
        pairs, inv = np.unique(np.stack((a, b), axis=1), axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        weight = np.bincount(inv, weights=0.5 ** ((as_of - t) / 86400.0 / half_life_days), minlength=len(pairs))
        codes, counts = np.unique(inv.astype(np.int64) * len(EDGE_KINDS) + kind, return_counts=True)
        kinds = [{} for _ in range(len(pairs))]
        for code, count in zip(codes.tolist(), counts.tolist()):
            kinds[code // len(EDGE_KINDS)][EDGE_KINDS[code % len(EDGE_KINDS)]] = count
        return pairs[:, 0].tolist(), pairs[:, 1].tolist(), weight.tolist(), kinds


@dataclass
class _Facts:
    """What the loader learns about people while streaming interactions."""

    last_seen: dict
    posts: Counter
    events: Counter
    recognitions: Counter
    participants: set
    first_seen: dict
    spaces: dict


def _scope_spaces(scope: GraphScope):
    """(space id -> (name, purpose id)) in scope, and the purpose whose profiles apply."""
    stmt = select(Space.id, Space.name, Space.purpose_id).join(Purpose, Purpose.id == Space.purpose_id).where(
        Purpose.brand_id == scope.brand_id)
    if scope.purpose_id is not None:
        stmt = stmt.where(Space.purpose_id == scope.purpose_id)
    if scope.space_id is not None:
        stmt = stmt.where(Space.id == scope.space_id)
    spaces = {sid: (name, pid) for sid, name, pid in db.session.execute(stmt)}
    if scope.space_id is not None and not spaces:
        raise ValueError(f"space {scope.space_id} is not in brand {scope.brand_id}'s scope")
    purpose_id = scope.purpose_id if scope.space_id is None else next(iter(spaces.values()))[1]
    return spaces, purpose_id


def _within(column, scope: GraphScope, as_of: datetime):
    return (column <= as_of,) + ((column >= scope.since,) if scope.since is not None else ())


def _community_rows(scope, as_of, spaces, rows: _Interactions, facts: _Facts) -> None:
    """Replies, mentions, reactions and thread co-participation in the spaces in scope."""
    in_spaces = Post.space_id.in_(list(spaces))
    live = (in_spaces, Post.deleted.is_(False), Post.hidden.is_(False), *_within(Post.created_at, scope, as_of))
    parent = aliased(Post)
    replies = select(parent.author_id, Post.author_id, Post.created_at).join(parent, Post.parent_id == parent.id).where(
        *live, parent.deleted.is_(False))
    mentions = select(Post.author_id, Mention.account_id, Post.created_at).join(Mention, Mention.post_id == Post.id).where(*live)
    for kind, stmt in (("reply", replies), ("mention", mentions)):
        for a, b, moment in _stream(stmt):
            rows.add(2 * a, 2 * b, kind, moment)
            facts.participants.add(2 * a)
            facts.recognitions[2 * (a if kind == "reply" else b)] += 1
    reactions = select(Reaction.account_id, Post.author_id, Reaction.created_at).join(Post, Post.id == Reaction.post_id).where(
        in_spaces, Post.deleted.is_(False), Post.hidden.is_(False), *_within(Reaction.created_at, scope, as_of))
    for reactor, author, moment in _stream(reactions):
        rows.add(2 * reactor, 2 * author, "reaction", moment)
        _seen(facts, 2 * reactor, moment)
        facts.participants.update((2 * reactor, 2 * author))
        if reactor != author:
            facts.recognitions[2 * author] += 1
    _thread_rows(select(Post.thread_id, Post.author_id, Post.created_at).where(*live).order_by(Post.thread_id, Post.seq),
                 rows, facts)


def _seen(facts: _Facts, node: int, moment: datetime) -> None:
    t = _epoch(moment)
    if t > facts.last_seen.get(node, -1e18):
        facts.last_seen[node] = t
    if t < facts.first_seen.get(node, 1e18):
        facts.first_seen[node] = t


def _thread_rows(stmt, rows: _Interactions, facts: _Facts) -> None:
    """Each thread's new author links to its first author and the CO_WINDOW distinct authors before."""
    current, authors = None, []
    for thread_id, author_id, moment in _stream(stmt):
        node = 2 * author_id
        facts.posts[node] += 1
        facts.participants.add(node)
        _seen(facts, node, moment)
        if thread_id != current:
            current, authors = thread_id, []
        if node in authors:
            continue
        for earlier in {*authors[:1], *authors[-CO_WINDOW:]}:
            rows.add(earlier, node, "co_thread", moment)
        authors.append(node)


def _touchpoint_rows(scope, as_of, purpose_id, node_of: dict, rows: _Interactions, facts: _Facts) -> None:
    """Referrals and invitations (person to person), event co-attendance, and every touchpoint's time."""
    stmt = select(Touchpoint.stakeholder_id, Touchpoint.kind, Touchpoint.occurred_at, Touchpoint.other_stakeholder_id,
                  Touchpoint.event_ref).where(Touchpoint.brand_id == scope.brand_id,
                                              *_within(Touchpoint.occurred_at, scope, as_of))
    if purpose_id is not None:
        stmt = stmt.where(Touchpoint.purpose_id == purpose_id)
    events = defaultdict(list)
    for sid, kind, moment, other, event_ref in _stream(stmt):
        node = node_of.get(sid)
        if node is None:  # objected or erased
            continue
        _seen(facts, node, moment)
        if kind in (TouchpointKind.referral, TouchpointKind.invitation) and other in node_of:
            rows.add(node, node_of[other], kind.value, moment)
        elif kind is TouchpointKind.event:
            facts.events[node] += 1
            if event_ref:
                events[event_ref].append((_epoch(moment), node, moment))
    for attendance in events.values():
        attendance.sort(key=lambda x: (x[0], x[1]))
        firsts = {}
        for t, node, moment in attendance:
            firsts.setdefault(node, (t, node, moment))
        ordered = list(firsts.values())
        rows.link_group([(t, n) for t, n, _ in ordered], "co_event", [m for _, _, m in ordered])


def _membership_rows(scope, as_of, spaces, facts: _Facts) -> dict:
    """Spaces of each member; returns (purpose id, account node) -> earliest join, for shared purpose."""
    joined = {}
    stmt = select(Membership.account_id, Membership.space_id, Membership.joined_at).where(
        Membership.space_id.in_(list(spaces)), Membership.joined_at <= as_of)
    for account_id, space_id, moment in _stream(stmt):
        node, (name, purpose_id) = 2 * account_id, spaces[space_id]
        facts.participants.add(node)
        facts.spaces.setdefault(node, []).append(name)
        if scope.since is None or moment >= scope.since:
            _seen(facts, node, moment)
        key = (purpose_id, node)
        joined[key] = min(joined.get(key, moment), moment)
    return joined


def _shared_purpose_rows(joined: dict, interests: dict, tags: dict, rows: _Interactions) -> None:
    """Members of a purpose who declared the same one of its tags, chained in account order."""
    groups = defaultdict(list)
    for (purpose_id, node), moment in joined.items():
        for tag in set(interests.get(node) or ()) & set(tags.get(purpose_id) or ()):
            groups[(purpose_id, tag)].append((node, moment))
    for members in groups.values():
        members.sort()
        for i, (node, moment) in enumerate(members):
            for earlier, then in members[max(0, i - SHARED_PURPOSE_WINDOW):i]:
                rows.add(earlier, node, "shared_purpose", max(moment, then))


def _excluded_accounts(brand_id: int) -> set[int]:
    """Account nodes of the brand's people who objected (erased ones lost their account link)."""
    stmt = select(Stakeholder.account_id).where(
        Stakeholder.brand_id == brand_id, Stakeholder.account_id.is_not(None),
        or_(Stakeholder.objected.is_(True), Stakeholder.erased_at.is_not(None)))
    return {2 * account_id for (account_id,) in db.session.execute(stmt)}


def _accounts(nodes) -> tuple[dict, dict, set]:
    """Labels and declared interests of the member nodes, and the anonymised ones among them."""
    ids = sorted(code >> 1 for code in nodes if code % 2 == 0)
    labels, interests, erased = {}, {}, set()
    for start in range(0, len(ids), ID_CHUNK):
        stmt = select(Account.id, Account.display_name, Account.interests, Account.email).where(
            Account.id.in_(ids[start:start + ID_CHUNK]))
        for account_id, name, declared, email in _stream(stmt):
            node = 2 * account_id
            if email.endswith(ERASED_EMAIL_DOMAIN):
                erased.add(node)
            labels[node], interests[node] = name, list(declared or [])
    return labels, interests, erased


def _person_attrs(profile, purpose_id) -> dict:
    """Contract attributes from a relationship profile (``purpose.profiles``)."""
    known, rfm = profile.stakeholder, profile.rfm
    alignment = (max(profile.alignment.values(), default=0.0) if purpose_id is None
                 else profile.alignment.get(purpose_id, 0.0))
    return {"kind": "member" if known.account_id else "nonuser", "segment": profile.segment,
            "pyramid_level": int(profile.pyramid["level"]), "style_preference": known.contact_preference,
            "objected": False, "purpose_alignment": float(alignment),
            "clv": float(profile.clv["value"]) if profile.clv else 0.0,
            "rfm": {"recency": rfm["recency_days"], "frequency": int(rfm["frequency"]), "monetary": float(rfm["monetary"])},
            "stakeholder_id": known.id, "converted_at": _iso(known.converted_at),
            "label": f"{known.kind.replace('_', ' ')} #{known.id}"}


def _unknown_member_attrs(node, facts: _Facts, interests, tags, purpose_id, as_of) -> dict:
    """A member the brand has no stakeholder row for: a member without purchases ("light")."""
    first = facts.first_seen.get(node)
    person = Person(id=0, is_member=True, first_seen=None if first is None else datetime.fromtimestamp(first, timezone.utc),
                    recognitions_received=facts.recognitions[node], posts=facts.posts[node])
    wanted = [tags.get(purpose_id, [])] if purpose_id is not None else list(tags.values())
    alignment = max((purpose_alignment(interests.get(node, []), t, interactions=facts.posts[node]) for t in wanted), default=0.0)
    return {"kind": "member", "segment": "light", "pyramid_level": pyramid_position(person, as_of).level,
            "style_preference": None, "objected": False, "purpose_alignment": float(alignment), "clv": 0.0,
            "rfm": None, "stakeholder_id": None, "converted_at": None}


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


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


def load_graph(scope: GraphScope, *, half_life_days: float = 90.0, progress: Progress | None = None) -> nx.Graph:
    """The people of ``scope`` and their time-decayed ties, following ``docs/analytics.md``.

    ``progress(step, percent)`` is called as loading goes (percent of the loading, 0..100).
    Raises ``ValueError`` for a space outside the brand or a non-positive half-life.
    """
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    report = progress or (lambda step, percent: None)
    as_of = scope.as_of or utcnow()
    spaces, purpose_id = _scope_spaces(scope)
    tags = dict(db.session.execute(select(Purpose.id, Purpose.tags).where(Purpose.brand_id == scope.brand_id)).all())
    profiles, model = build_profiles(Scope(scope.brand_id, purpose_id, as_of))
    report("profiles", 30)
    node_of = {sid: 2 * p.stakeholder.account_id if p.stakeholder.account_id else 2 * sid + 1 for sid, p in profiles.items()}
    rows, facts = _Interactions(), _Facts({}, Counter(), Counter(), Counter(), set(), {}, {})
    if spaces:
        _community_rows(scope, as_of, spaces, rows, facts)
    report("community", 60)
    _touchpoint_rows(scope, as_of, purpose_id, node_of, rows, facts)
    joined = _membership_rows(scope, as_of, spaces, facts) if spaces else {}
    report("touchpoints", 75)
    graph = _assemble(scope, as_of, half_life_days, purpose_id, profiles, node_of, rows, facts, joined, tags)
    graph.graph.update(_graph_attrs(scope, as_of, half_life_days, model.status, graph))
    report("build", 100)
    return graph


def _assemble(scope, as_of, half_life_days, purpose_id, profiles, node_of, rows, facts, joined, tags) -> nx.Graph:
    """Drop excluded people, add shared-purpose ties, aggregate pairs and build the graph once."""
    ends = np.unique(np.concatenate((np.frombuffer(rows.u, dtype=np.int64), np.frombuffer(rows.v, dtype=np.int64))))
    candidates = (set(node_of.values()) if scope.space_id is None else set()) | facts.participants | set(ends.tolist())
    labels, interests, erased = _accounts(candidates)
    _shared_purpose_rows(joined, interests, tags, rows)
    excluded = _excluded_accounts(scope.brand_id) | erased
    keep = {v for v in candidates if v not in excluded and (v % 2 or v in labels)}
    edges = rows.aggregate(keep, _epoch(as_of), half_life_days)
    nodes = _nodes_in_scope(scope, keep, facts, edges)
    profile_of = {node_of[sid]: p for sid, p in profiles.items()}
    now = _epoch(as_of)

    def attrs(v: int) -> dict:
        out = (_person_attrs(profile_of[v], purpose_id) if v in profile_of
               else _unknown_member_attrs(v, facts, interests, tags, purpose_id, as_of))
        last = facts.last_seen.get(v)
        out.update(posts=int(facts.posts[v]), events=int(facts.events[v]), spaces=sorted(set(facts.spaces.get(v, ()))),
                   days_since_activity=None if last is None else max(0.0, (now - last) / 86400.0))
        if v % 2 == 0:
            out["label"] = labels[v]
        return out

    G = nx.Graph()
    G.add_nodes_from((_key(v), attrs(v)) for v in sorted(nodes))
    G.add_edges_from((_key(a), _key(b), {"weight": w, "kinds": k})
                     for a, b, w, k in zip(*edges) if a in nodes and b in nodes)
    return G


def _graph_attrs(scope: GraphScope, as_of: datetime, half_life_days: float, clv_status: str, G: nx.Graph) -> dict:
    snapshot = _iso(as_of)
    return {"scope": {"brand_id": scope.brand_id, "purpose_id": scope.purpose_id, "space_id": scope.space_id,
                      "since": _iso(scope.since), "as_of": snapshot},
            "snapshot_at": snapshot, "half_life_days": float(half_life_days), "clv_status": clv_status,
            "customer_equity": float(sum(c for _, c in G.nodes(data="clv"))), "edge_kinds": list(EDGE_KINDS)}


def configure_backend(name: str | None) -> None:
    """Let networkx dispatch to a backend (``"parallel"``: nx-parallel, ``"cugraph"``: nx-cugraph).

    ``None`` or ``""`` leaves networkx's own setting (the ``NETWORKX_BACKEND_PRIORITY``
    environment variable, read at import) alone. The backend must be installed.
    """
    if name:
        nx.config.backend_priority.algos = [name]
