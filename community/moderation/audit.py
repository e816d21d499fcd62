"""The moderation audit log and the review queue: writing entries, telling moderators, reading both.

Every moderation action adds one ``AuditEntry`` in the transaction that makes the change;
the log is append-only (``community.models`` guards it in the ORM, migration 0005 in the
database). After the commit, the action is told to the space's moderators' room
(``space-mod:{space_id}``, joined by staff sockets that ``join`` the space) as a
``moderation`` event, and to the affected member's own room as a ``moderation_notice``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from community import access
from community.space_log import account_room
from community.models import Appeal, AuditEntry, Flag, Post, Space, Visibility
from community.moderation.schemas import AuditOut
from community.notifications import kinds, service as notifications
from core.accounts import Account
from core.outbox import on_commit
from core.extensions import db, socketio
from purpose.models import Purpose

MOD_EVENT = "moderation"
NOTICE_EVENT = "moderation_notice"


def moderators_room(space_id: int) -> str:
    return f"space-mod:{space_id}"


def audit(actor: Account | None, action: str, target_type: str, target_id: int, *, space: Space | None = None,
          brand_id: int | None = None, reason: str = "", before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits with its change)."""
    if space is not None and brand_id is None:
        brand_id = access.brand_of_space(space)
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None, action=action, target_type=target_type, target_id=target_id,
        space_id=space.id if space is not None else None, brand_id=brand_id, reason=reason, before=before, after=after,
    )
    db.session.add(entry)
    return entry


def tell_moderators(space_id: int, kind: str, data: dict) -> None:
    """Once the transaction commits: a ``moderation`` event to the staff sockets of the space."""
    on_commit(socketio.emit, MOD_EVENT, {"space_id": space_id, "kind": kind, "data": data}, to=moderators_room(space_id))


def tell_action(entry: AuditEntry, space_id: int | None = None) -> None:
    """Once the transaction commits: the action's audit entry to the moderators' room of its
    space (or of ``space_id``: a moved thread's new space)."""
    space_id = space_id or entry.space_id
    if space_id is not None:
        on_commit(_emit_action, space_id, entry)


def _emit_action(space_id: int, entry: AuditEntry) -> None:
    socketio.emit(MOD_EVENT, {"space_id": space_id, "kind": "action", "data": AuditOut().dump(entry)},
                  to=moderators_room(space_id))


def tell_member(account_id: int, entry: AuditEntry) -> None:
    """A ``moderation`` notification in the member's inbox (this transaction), and once the
    transaction commits a ``moderation_notice`` to every socket of the affected member."""
    if entry.actor_id != account_id:
        space = db.session.get(Space, entry.space_id) if entry.space_id is not None else None
        post = db.session.get(Post, entry.target_id) if entry.target_type == "post" else None
        notifications.notify(account_id, kinds.MODERATION, space=space, thread_id=post.thread_id if post else None,
                             post_id=post.id if post else None,
                             data={"action": entry.action, "reason": entry.reason, "after": entry.after})
    on_commit(_emit_notice, account_id, entry)


def _emit_notice(account_id: int, entry: AuditEntry) -> None:
    notice = {k: v for k, v in AuditOut().dump(entry).items() if k in ("action", "target_type", "target_id", "space_id", "reason", "after", "created_at")}
    socketio.emit(NOTICE_EVENT, notice, to=account_room(account_id))


# The review queue --------------------------------------------------------------------


@dataclass
class QueueItem:
    post: Post
    flags: list[Flag] = field(default_factory=list)
    appeal: Appeal | None = None

    @property
    def flag_count(self) -> int:
        return len(self.flags)

    @property
    def first_flagged_at(self) -> datetime | None:
        return min((f.created_at for f in self.flags), default=None)

    @property
    def waiting_since(self) -> datetime:
        times = [f.created_at for f in self.flags] + ([self.appeal.created_at] if self.appeal else [])
        return min(times)

    @property
    def order_key(self) -> int:
        """Oldest first, unique: microseconds since the epoch, then the post id."""
        return int(self.waiting_since.timestamp() * 1_000_000) * 2**31 + self.post.id


def review_queue(space_ids) -> list[QueueItem]:
    """Pending flags grouped by post, and pending appeals, for the given spaces (a subquery or list)."""
    items: dict[int, QueueItem] = {}
    flags = db.session.execute(
        select(Flag, Post).join(Post, Post.id == Flag.post_id)
        .where(Flag.space_id.in_(space_ids), Flag.resolved_at.is_(None)).order_by(Flag.id)
    )
    for flag, post in flags:
        items.setdefault(post.id, QueueItem(post)).flags.append(flag)
    appeals = db.session.execute(
        select(Appeal, Post).join(Post, Post.id == Appeal.post_id)
        .where(Post.space_id.in_(space_ids), Appeal.resolved_at.is_(None))
    )
    for appeal, post in appeals:
        items.setdefault(post.id, QueueItem(post)).appeal = appeal
    return list(items.values())


def direct_space_ids():
    return select(Space.id).where(Space.visibility == Visibility.direct)


#: Messages of context either side of a flagged message in the conversations' review queue.
DIRECT_CONTEXT = 5


def with_context(items: list[QueueItem], around: int = DIRECT_CONTEXT) -> list[QueueItem]:
    """Give each flagged message of a direct conversation the ``around`` messages before and
    after it in its thread: all an admin ever reads of a conversation."""
    for item in items:
        post = item.post
        same_thread = select(Post).where(Post.thread_id == post.thread_id)
        before = list(db.session.scalars(same_thread.where(Post.seq < post.seq).order_by(Post.seq.desc()).limit(around)))
        after = list(db.session.scalars(same_thread.where(Post.seq > post.seq).order_by(Post.seq).limit(around)))
        item.context_before, item.context_after = before[::-1], after
    return items


def brand_space_ids(brand_id: int):
    return select(Space.id).join(Purpose, Purpose.id == Space.purpose_id).where(Purpose.brand_id == brand_id)


def audit_query(*, space_id: int | None = None, brand_id: int | None = None):
    stmt = select(AuditEntry)
    if space_id is not None:
        stmt = stmt.where(AuditEntry.space_id == space_id)
    if brand_id is not None:
        stmt = stmt.where(AuditEntry.brand_id == brand_id)
    return stmt
