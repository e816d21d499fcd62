"""The loader's row readers: community, thread, touchpoint, membership and shared-purpose rows,
streamed from the database into ``graph.interactions``' flat arrays, and what the loader learns
about people on the way (``Facts``). ``graph.load`` decides the scope, calls these and builds the graph.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from sqlalchemy import Float, String, cast, func, or_, select, type_coerce
from sqlalchemy.orm import aliased

from community.models import Membership, Mention, Post, Reaction, Space, Visibility
from core.extensions import db
from core.rows import plain_chunks, plain_rows
from graph.interactions import DAY, ActivityLog, Interactions
from purpose.models import Purpose, Touchpoint

if TYPE_CHECKING:
    from graph.load import GraphScope

#: Shared purpose: members declaring the same tag of a purpose they belong to, each linked to
#: the SHARED_PURPOSE_WINDOW previous ones in account order.
SHARED_PURPOSE_WINDOW = 2


def epoch(moment: datetime) -> float:
    """Seconds since the epoch; a naive time is UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def seconds(column):
    """The column as seconds since the epoch, computed by the database (no datetime per row)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (func.julianday(column) - 2440587.5) * DAY
    return cast(func.extract("epoch", column), Float)


@dataclass
class Facts:
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


def scope_spaces(scope: GraphScope):
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


def within(column, scope: GraphScope, as_of: datetime):
    return (column <= as_of,) + ((column >= scope.since,) if scope.since is not None else ())


def community_rows(scope, as_of, spaces, rows: Interactions, facts: Facts) -> None:
    """Replies, mentions, reactions and thread co-participation in the spaces in scope."""
    in_spaces = Post.space_id.in_(list(spaces))
    shown = (in_spaces, Post.deleted.is_(False), Post.hidden.is_(False))
    live = (*shown, *within(Post.created_at, scope, as_of))
    parent = aliased(Post)
    replies = select(parent.author_id, Post.author_id, seconds(Post.created_at)).join(
        parent, Post.parent_id == parent.id).where(*live, parent.deleted.is_(False))
    mentions = select(Mention.account_id, Post.author_id, seconds(Post.created_at)).join(
        Mention, Mention.post_id == Post.id).where(*live)
    reactions = select(Post.author_id, Reaction.account_id, seconds(Reaction.created_at)).join(
        Post, Post.id == Reaction.post_id).where(*shown, *within(Reaction.created_at, scope, as_of))
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
    thread_rows(select(Post.thread_id, Post.author_id, seconds(Post.created_at)).where(*live).order_by(
        Post.thread_id, Post.seq), rows, facts)


def thread_rows(stmt, rows: Interactions, facts: Facts) -> None:
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
                link_thread(rows, current, authors)
                current, authors = thread_id, {}
            authors.setdefault(node, t)
    link_thread(rows, current, authors)


def link_thread(rows: Interactions, thread_id, authors: dict) -> None:
    """co_thread ties of one thread's authors (author -> first post time), naming the thread."""
    if thread_id is not None:
        rows.link_group([(when, who) for who, when in authors.items()], "co_thread", anchor=True, context=int(thread_id))


def touchpoint_rows(scope, as_of, purpose_id, node_of: dict, rows: Interactions, facts: Facts) -> None:
    """Referrals and invitations (person to person), event co-attendance, and every touchpoint's time."""
    lookup = np.full(max(node_of, default=0) + 2, -1, dtype=np.int64)
    lookup[list(node_of)] = list(node_of.values())
    stmt = select(Touchpoint.stakeholder_id, func.coalesce(Touchpoint.other_stakeholder_id, 0),
                  seconds(Touchpoint.occurred_at), type_coerce(Touchpoint.kind, String), Touchpoint.event_ref).where(
        Touchpoint.brand_id == scope.brand_id, *within(Touchpoint.occurred_at, scope, as_of))
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


def membership_rows(scope, as_of, spaces, facts: Facts) -> dict:
    """Spaces of each member; returns (purpose id, account node) -> earliest join, for shared purpose."""
    joined = {}
    stmt = select(Membership.account_id, Membership.space_id, seconds(Membership.joined_at)).where(
        Membership.space_id.in_(list(spaces)), Membership.joined_at <= as_of)
    since = epoch(scope.since) if scope.since is not None else None
    for account_id, space_id, t in plain_rows(stmt):
        node, (name, purpose_id) = 2 * account_id, spaces[space_id]
        facts.participants.add(node)
        facts.spaces.setdefault(node, []).append(name)
        if since is None or t >= since:
            facts.activity.add(node, t)
        key = (purpose_id, node)
        joined[key] = min(joined.get(key, t), t)
    return joined


def shared_purpose_rows(joined: dict, interests: dict, tags: dict, rows: Interactions) -> None:
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
