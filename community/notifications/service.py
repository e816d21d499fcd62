"""Writing notifications in the caller's transaction, levels, reading and marking read.

Nothing here commits: the action that causes a notification (a post, a reaction, a
moderation outcome) writes it in its own transaction, so both are stored or neither. The
live ``notification`` event goes out after the commit (``core.outbox.on_commit``).

Who is told (docs/notifications.md):
- never the actor, never someone who muted or blocked the actor, never someone who cannot see
  the space, never someone who muted the space or the thread (except ``personal=False`` kinds,
  which concern the recipient's own standing: moderation outcomes);
- a mention or a reply to my post: at every level but muted; reactions to my post: one unread
  row per post, counted;
- a new thread: to those watching or tracking the space; a new post: to those watching the
  thread, or watching the space without a level of their own for the thread. One set-based
  ``INSERT ... SELECT`` writes them all: in the post's transaction when few watch, by a worker
  after the commit when many do (community/notifications/fanout.py, bench/notifications.py).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import Integer, and_, case, exists, func, insert, literal, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from community import access
from community.models import (
    Membership, Notification, NotificationFanout, NotificationLevel, PersonalFilter, Post, Space, SpaceNotificationLevel, Thread,
    ThreadNotificationLevel, Visibility,
)
from community.notifications import kinds
from community.notifications.schemas import NotificationOut
from community.space_log import account_room
from core.accounts import Account, GlobalRole
from core.cooperative import paced
from core.extensions import db, socketio, utcnow
from core.outbox import on_commit
from purpose.models import BrandStaff, Purpose, StaffRole

#: Socket.IO event to every socket of the recipient (docs/realtime.md).
EVENT = "notification"
READ_EVENT = "notifications_read"
_OUT = NotificationOut()

N = Notification.__table__
SL = SpaceNotificationLevel.__table__
TL = ThreadNotificationLevel.__table__
PF = PersonalFilter.__table__


def _dialect_insert(table):
    return (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)


# Visibility and levels ------------------------------------------------------------------


def visible_clause(recipient, space_id):
    """SQL: the account ``recipient`` may see space ``space_id`` (either may be a column), as
    ``community.access.can_see`` decides; true when ``space_id`` is NULL."""
    sp, ms, bs, pu, ac = (Space.__table__.alias(), Membership.__table__.alias(), BrandStaff.__table__.alias(),
                          Purpose.__table__.alias(), Account.__table__.alias())
    return or_(
        space_id.is_(None) if hasattr(space_id, "is_") else literal(space_id is None),
        exists().where(sp.c.id == space_id, sp.c.visibility == Visibility.public.value),
        exists().where(ms.c.space_id == space_id, ms.c.account_id == recipient),
        exists().where(ac.c.id == recipient, ac.c.role == GlobalRole.admin.value),
        exists().where(sp.c.id == space_id, pu.c.id == sp.c.purpose_id, bs.c.brand_id == pu.c.brand_id,
                       bs.c.account_id == recipient, bs.c.role == StaffRole.manager.value),
    )


def _filters_actor(recipient, actor_id):
    return exists().where(PF.c.owner_id == recipient, PF.c.target_id == actor_id)


def _space_muted(recipient, space_id):
    return exists().where(SL.c.space_id == space_id, SL.c.account_id == recipient, SL.c.level == NotificationLevel.muted.value)


def space_level(account_id: int, space_id: int) -> tuple[NotificationLevel, bool]:
    """The account's level for the space, and whether it chose it (no row: normal)."""
    level = db.session.scalar(select(SL.c.level).where(SL.c.space_id == space_id, SL.c.account_id == account_id))
    return (NotificationLevel(level), True) if level else (NotificationLevel.normal, False)


def _own_thread_level(account_id, thread_id):
    return select(TL.c.level).where(TL.c.thread_id == thread_id, TL.c.account_id == account_id).scalar_subquery()


def _space_level(account_id, space_id):
    return select(SL.c.level).where(SL.c.space_id == space_id, SL.c.account_id == account_id).scalar_subquery()


def thread_level_clause(account_id, thread_id, space_id):
    """SQL: the account's effective level for a thread (``thread_id`` and ``space_id`` may be the
    outer query's columns, to read a whole page of threads at once): in a muted space, muted
    whatever its threads say; else the thread's own level; else watching if the space is
    watched; else normal."""
    own, space = _own_thread_level(account_id, thread_id), _space_level(account_id, space_id)
    muted, watching = NotificationLevel.muted.value, NotificationLevel.watching.value
    return case((space == muted, muted), (own.is_not(None), own), (space == watching, watching),
                else_=NotificationLevel.normal.value)


def thread_level(account_id: int, thread: Thread) -> tuple[NotificationLevel, bool]:
    """The account's level for the thread (``thread_level_clause``), and whether it is the thread's
    own (else from the space; in a muted space, never the thread's own)."""
    level, own, space = db.session.execute(select(
        thread_level_clause(account_id, thread.id, thread.space_id), _own_thread_level(account_id, thread.id),
        _space_level(account_id, thread.space_id))).one()
    return NotificationLevel(level), own is not None and space != NotificationLevel.muted.value


def _upsert_level(table, key: dict, level: NotificationLevel) -> None:
    now = utcnow()
    stmt = _dialect_insert(table).values(**key, level=level.value, updated_at=now)
    db.session.execute(stmt.on_conflict_do_update(index_elements=list(key), set_={"level": level.value, "updated_at": now}))


def set_space_level(account: Account, space: Space, level: NotificationLevel) -> None:
    _upsert_level(SL, {"space_id": space.id, "account_id": account.id}, level)


def set_thread_level(account: Account, thread: Thread, level: NotificationLevel) -> None:
    _upsert_level(TL, {"thread_id": thread.id, "account_id": account.id}, level)


def track_thread(account_id: int, thread_id: int) -> None:
    """A thread I post in becomes ``tracking`` unless I chose a level for it."""
    stmt = _dialect_insert(TL).values(thread_id=thread_id, account_id=account_id, level=NotificationLevel.tracking.value,
                                      updated_at=utcnow())
    db.session.execute(stmt.on_conflict_do_nothing(index_elements=["thread_id", "account_id"]))


# Writing -------------------------------------------------------------------------------


def _may_notify(recipient: Account, kind: kinds.Kind, actor_id: int | None, space: Space | None,
                thread_id: int | None) -> bool:
    if not kind.personal:
        return True
    if actor_id is not None and db.session.scalar(select(_filters_actor(recipient.id, actor_id))):
        return False
    if space is None:
        return True
    if not access.can_see(recipient, space):
        return False
    muted = NotificationLevel.muted.value
    if db.session.scalar(select(_space_muted(recipient.id, space.id))):
        return False
    return thread_id is None or not db.session.scalar(select(exists().where(
        TL.c.thread_id == thread_id, TL.c.account_id == recipient.id, TL.c.level == muted)))


def notify(recipient_id: int, kind: kinds.Kind | str, *, actor: Account | None = None, space: Space | None = None,
           thread_id: int | None = None, post_id: int | None = None, data: dict | None = None) -> bool:
    """Write one notification in the current transaction unless the rules say no (returns whether
    it did); the recipient's sockets hear of it after the commit."""
    kind = kinds.kind(kind) if isinstance(kind, str) else kind
    actor_id = actor.id if actor is not None else None
    if recipient_id == actor_id:
        return False
    recipient = db.session.get(Account, recipient_id)
    if recipient is None or not _may_notify(recipient, kind, actor_id, space, thread_id):
        return False
    new_id = db.session.execute(insert(N).values(
        recipient_id=recipient_id, kind=kind.name, actor_id=actor_id, space_id=space.id if space else None,
        thread_id=thread_id, post_id=post_id, data=data, count=1, created_at=utcnow(),
    ).returning(N.c.id)).scalar_one()
    on_commit(_deliver_ids, current_app._get_current_object(), [new_id])
    _nudge_mail(kind)
    _push_after_commit(kind, ids=[new_id])
    return True


def notify_many(kind: kinds.Kind | str, recipients: list[int], *, data: dict | None = None) -> int:
    """The same notice of a kind that is not ``personal`` (the recipient's own standing: a badge) to many
    recipients at once: one multi-row INSERT in the current transaction (a background job granting
    thousands of badges writes them in one statement, not one round trip each); live events after
    the commit. Returns how many were written."""
    kind = kinds.kind(kind) if isinstance(kind, str) else kind
    if kind.personal:
        raise ValueError("notify_many is for kinds whose recipients' levels and blocks do not apply")
    if not recipients:
        return 0
    now = utcnow()
    ids = db.session.execute(insert(N).returning(N.c.id, sort_by_parameter_order=True), [
        {"recipient_id": r, "kind": kind.name, "actor_id": None, "space_id": None, "thread_id": None, "post_id": None,
         "data": data, "count": 1, "created_at": now} for r in recipients]).scalars().all()
    on_commit(_deliver_many_later, current_app._get_current_object(), list(ids))
    _nudge_mail(kind)
    return len(ids)


def notify_each(recipients, kind: kinds.Kind | str, *, actor: Account | None = None, space: Space | None = None,
                thread_id: int | None = None, post_id: int | None = None, data: dict | None = None) -> int:
    """``notify`` for every account ``recipients`` selects (a SELECT of one account-id column, duplicates
    allowed), as one ``INSERT ... SELECT`` in the current transaction with ``notify``'s rules as SQL: never the
    actor; for personal kinds, never who muted or blocked the actor, who cannot see the space, or who muted
    the space or the thread. Returns how many were stored; their live events go out after the commit, on a
    background task (other wings' fan-outs: the voters of an idea)."""
    kind = kinds.kind(kind) if isinstance(kind, str) else kind
    actor_id = actor.id if actor is not None else None
    candidates = recipients.subquery("candidates")
    account = select(list(candidates.c)[0].label("account_id")).distinct().subquery("recipients").c.account_id
    conditions = [account.is_not(None)]
    if actor_id is not None:
        conditions.append(account != actor_id)
    if kind.personal:
        if actor_id is not None:
            conditions.append(~_filters_actor(account, actor_id))
        if space is not None:
            conditions.append(~_space_muted(account, space.id))
            if space.visibility is not Visibility.public:
                conditions.append(visible_clause(account, space.id))
        if thread_id is not None:
            conditions.append(~exists().where(TL.c.thread_id == thread_id, TL.c.account_id == account,
                                              TL.c.level == NotificationLevel.muted.value))
    rows = select(account, literal(kind.name), literal(actor_id, Integer()), literal(space.id if space else None, Integer()),
                  literal(thread_id, Integer()), literal(post_id, Integer()), literal(data, N.c.data.type), literal(1),
                  literal(utcnow(), N.c.created_at.type)).where(*conditions)
    ids = list(db.session.scalars(insert(N).from_select(
        ["recipient_id", "kind", "actor_id", "space_id", "thread_id", "post_id", "data", "count", "created_at"], rows,
    ).returning(N.c.id)))
    if ids:
        on_commit(_deliver_many_later, current_app._get_current_object(), ids)
        _nudge_mail(kind)
    return len(ids)


def _push_after_commit(kind: kinds.Kind, *, ids: list[int] | None = None, post_id: int | None = None) -> None:
    """Web Push (community/notifications/push.py) after the commit, for kinds that may be pushed."""
    from community.notifications import push

    app = current_app._get_current_object()
    if kind.email is None or not push.enabled(app):
        return
    if ids is not None:
        on_commit(push.after_commit, app, ids)
    else:
        on_commit(_push_post, app, post_id, kind.name)


def _push_post(app, post_id: int, kind: str) -> None:
    from community.models import PushSubscription
    from community.notifications import push

    ids = list(db.session.scalars(select(N.c.id).where(
        N.c.post_id == post_id, N.c.kind == kind,
        N.c.recipient_id.in_(select(PushSubscription.account_id)))))  # only those with a browser to push to
    push.after_commit(app, ids)


def _nudge_mail(kind: kinds.Kind) -> None:
    if kind.email is not None:
        from community.notifications import mail

        on_commit(mail.nudge, current_app._get_current_object())


def notify_reaction(post: Post, space: Space, actor: Account, emoji: str) -> bool:
    """A reaction to my post: while unread, one row per post counts them and keeps the last three actors."""
    recipient = db.session.get(Account, post.author_id)
    if recipient is None or recipient.id == actor.id or not _may_notify(recipient, kinds.REACTION, actor.id, space, post.thread_id):
        return False
    key = f"reaction:{post.id}"
    unread = (N.c.recipient_id == recipient.id) & (N.c.batch_key == key) & N.c.read_at.is_(None)
    for _ in range(2):  # a concurrent first reaction may insert between our read and our insert
        row = db.session.execute(select(N.c.id, N.c.data).where(unread).with_for_update()).first()
        if row is not None:
            actors = [actor.id] + [a for a in (row.data or {}).get("actors", []) if a != actor.id]
            db.session.execute(update(N).where(N.c.id == row.id).values(
                count=N.c.count + 1, actor_id=actor.id, data={"actors": actors[:3], "emoji": emoji}))
            on_commit(_deliver_ids, current_app._get_current_object(), [row.id])
            return True
        stmt = _dialect_insert(N).values(
            recipient_id=recipient.id, kind=kinds.REACTION.name, actor_id=actor.id, space_id=space.id,
            thread_id=post.thread_id, post_id=post.id, data={"actors": [actor.id], "emoji": emoji}, count=1,
            batch_key=key, created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["recipient_id", "batch_key"],
                                 index_where=N.c.read_at.is_(None) & N.c.batch_key.is_not(None)).returning(N.c.id)
        new_id = db.session.execute(stmt).scalar()
        if new_id is not None:
            on_commit(_deliver_ids, current_app._get_current_object(), [new_id])
            return True
    return False


def notify_post(post: Post, thread: Thread, space: Space, author: Account, mentioned: list[int], *, new_thread: bool) -> None:
    """Everything a new post causes, in its transaction: mentions, the reply to the parent's
    author, the followers of the thread or space; and the author now tracks the thread."""
    told: set[int] = set()
    for account_id in mentioned:
        if notify(account_id, kinds.MENTION, actor=author, space=space, thread_id=thread.id, post_id=post.id):
            told.add(account_id)
    if post.parent_id is not None:
        parent_author = db.session.scalar(select(Post.author_id).where(Post.id == post.parent_id))
        if parent_author is not None and parent_author not in told and notify(
                parent_author, kinds.REPLY, actor=author, space=space, thread_id=thread.id, post_id=post.id):
            told.add(parent_author)
    from community.notifications.fanout import fan_out

    fan_out(post, thread, space, author, new_thread=new_thread, exclude=told | set(mentioned))
    track_thread(author.id, thread.id)


def notify_mentions(post: Post, space: Space, author: Account, mentioned: list[int]) -> None:
    """Mentions added by an edit."""
    for account_id in mentioned:
        notify(account_id, kinds.MENTION, actor=author, space=space, thread_id=post.thread_id, post_id=post.id)


def forget_post(post_id: int) -> None:
    """A post hidden or deleted: notifications about it go, except its author's moderation outcomes,
    and so does its fan-out if still owed."""
    db.session.execute(db.delete(Notification).where(Notification.post_id == post_id,
                                                     Notification.kind != kinds.MODERATION.name))
    db.session.execute(db.delete(NotificationFanout).where(NotificationFanout.post_id == post_id))


def move_thread(thread_id: int, space_id: int) -> None:
    """A thread moved: its notifications follow it, so the target space's visibility applies to them."""
    db.session.execute(update(N).where(N.c.thread_id == thread_id).values(space_id=space_id))


# Reading -------------------------------------------------------------------------------


def inbox_clause(account: Account):
    """The account's notifications that it may still see (a space it lost access to drops out)."""
    personal = [k.name for k in kinds.kinds().values() if not k.personal]
    return and_(Notification.recipient_id == account.id,
                or_(Notification.kind.in_(personal), visible_clause(account.id, Notification.space_id)))


def missed_clause(account: Account, after: int):
    """SQL: the account's notifications that a client which saw up to id ``after`` may have missed.

    Those with a greater id, and those with a smaller one made at most
    ``NOTIFICATION_RESUME_OVERLAP_SECONDS`` before the newest the client could have seen: an id is
    taken when a row is written, so a transaction that wrote a notification and committed after
    a shorter one that took a greater id shows it late. Clients keep notifications by id, so one
    they already have is harmless. (A batched reaction's row that gained a reaction keeps its id
    and time: its new count comes live, or with the inbox.)"""
    seen_at = db.session.scalar(select(N.c.created_at).where(N.c.recipient_id == account.id, N.c.id <= after)
                                .order_by(N.c.id.desc()).limit(1))
    if seen_at is None:
        return N.c.id > after
    overlap = timedelta(seconds=current_app.config["NOTIFICATION_RESUME_OVERLAP_SECONDS"])
    return or_(N.c.id > after, and_(N.c.id < after, N.c.created_at >= seen_at - overlap))


def missed(account: Account, after: int, limit: int) -> tuple[list[Notification], bool]:
    """Up to ``limit`` notifications the client may have missed (``missed_clause``), oldest first, and
    whether there are more (ask again after the last id)."""
    rows = list(db.session.scalars(select(Notification).where(inbox_clause(account), missed_clause(account, after))
                                   .order_by(Notification.id).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def unread_count(account: Account) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        inbox_clause(account), Notification.read_at.is_(None)))


def mark_read(account: Account, notification_id: int | None = None, up_to: int | None = None) -> int:
    """Mark one notification (or all, or all up to an id) read; returns how many changed."""
    stmt = update(N).where(N.c.recipient_id == account.id, N.c.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(N.c.id == notification_id)
    if up_to is not None:
        stmt = stmt.where(N.c.id <= up_to)
    changed = db.session.execute(stmt.values(read_at=utcnow())).rowcount
    if changed:
        on_commit(_tell_read, current_app._get_current_object(), account.id)
    return changed


# Live delivery (after the commit) -------------------------------------------------------


def payload(notification: Notification) -> dict:
    return _OUT.dump(notification)


def _emit_for(rows: list[Notification]) -> None:
    counts: dict[int, int] = {}
    for row in rows:
        if row.recipient_id not in counts:
            account = db.session.get(Account, row.recipient_id)
            counts[row.recipient_id] = unread_count(account)
        socketio.emit(EVENT, {"notification": payload(row), "unread": counts[row.recipient_id]},
                      to=account_room(row.recipient_id))


def _deliver_ids(app, ids: list[int]) -> None:
    """Right after the commit (on the committing session): the notification to its recipient's sockets."""
    _emit_for(list(db.session.scalars(select(Notification).where(Notification.id.in_(ids)))))


def _deliver_post_later(app, post_id: int, kind: str) -> None:
    """A fan-out's live events go on a background task, so the poster's ack never waits for
    thousands of emits."""
    socketio.start_background_task(_deliver_post, app, post_id, kind)


def _deliver_post(app, post_id: int, kind: str) -> None:
    with app.app_context():
        try:
            ids = list(db.session.scalars(select(N.c.id).where(N.c.post_id == post_id, N.c.kind == kind)))
        finally:
            db.session.remove()
    _deliver_many(app, ids)


def _deliver_many_later(app, ids: list[int]) -> None:
    """Live events of many notices (``notify_many``, ``notify_each``) on a background task: the commit
    that wrote them does not wait for thousands of emits."""
    socketio.start_background_task(_deliver_many, app, ids)


def _deliver_many(app, ids: list[int], chunk: int = 2000) -> None:
    """Emit each notice to its recipient's sockets with their unread count, ``chunk`` at a time."""
    with app.app_context():
        try:
            for start in range(0, len(ids), chunk):
                part = ids[start:start + chunk]
                rows = list(db.session.scalars(select(Notification).where(Notification.id.in_(part))))
                recipients = {row.recipient_id for row in rows}
                counts = dict(db.session.execute(
                    select(N.c.recipient_id, func.count()).where(
                        N.c.recipient_id.in_(recipients), N.c.read_at.is_(None),
                        or_(N.c.kind.in_([k.name for k in kinds.kinds().values() if not k.personal]),
                            visible_clause(N.c.recipient_id, N.c.space_id)))
                    .group_by(N.c.recipient_id)).all())
                for row in paced(rows):
                    socketio.emit(EVENT, {"notification": payload(row), "unread": counts.get(row.recipient_id, 0)},
                                  to=account_room(row.recipient_id))
                db.session.rollback()  # no transaction held between chunks
        finally:
            db.session.remove()


def _tell_read(app, account_id: int) -> None:
    account = db.session.get(Account, account_id)
    socketio.emit(READ_EVENT, {"unread": unread_count(account)}, to=account_room(account_id))


# The member's rights over their data ------------------------------------------------------


def export_notifications(account_id: int) -> tuple[str, dict]:
    """For the account's own export: its inbox, levels, e-mail, digest and push settings, push subscriptions."""
    from community.models import NotificationSettings, PushSubscription

    def plain(value):
        return value.isoformat() if hasattr(value, "isoformat") else getattr(value, "value", value)

    def rows(stmt, fields):
        return [{f: plain(getattr(r, f)) for f in fields} for r in db.session.scalars(stmt)]

    settings = db.session.get(NotificationSettings, account_id)
    return "notifications", {
        "inbox": rows(select(Notification).where(Notification.recipient_id == account_id).order_by(Notification.id),
                      ("id", "kind", "actor_id", "space_id", "thread_id", "post_id", "data", "count", "created_at",
                       "read_at", "emailed_at")),
        "space_levels": rows(select(SpaceNotificationLevel).where(SpaceNotificationLevel.account_id == account_id),
                             ("space_id", "level", "updated_at")),
        "thread_levels": rows(select(ThreadNotificationLevel).where(ThreadNotificationLevel.account_id == account_id),
                              ("thread_id", "level", "updated_at")),
        "email": settings.email.value if settings is not None and settings.email is not None else None,
        "digest": {f: plain(getattr(settings, f)) if settings is not None else None
                   for f in ("digest", "timezone", "digest_hour", "last_digest_at")},
        "push": {f: plain(getattr(settings, f)) if settings is not None else None
                 for f in ("push", "quiet_start", "quiet_end")},
        "push_subscriptions": rows(select(PushSubscription).where(PushSubscription.account_id == account_id)
                                   .order_by(PushSubscription.id), ("endpoint", "created_at", "expires_at", "last_sent_at")),
    }


def erase_notifications(account_id: int) -> None:
    """Before an account is erased: its inbox, levels, settings (digest and push included) and push
    subscriptions go; notifications it caused for others lose their actor and the actor's handle."""
    from community.models import NotificationSettings, PushSubscription

    for stmt in (
        db.delete(PushSubscription).where(PushSubscription.account_id == account_id),
        db.delete(Notification).where(Notification.recipient_id == account_id),
        db.delete(SpaceNotificationLevel).where(SpaceNotificationLevel.account_id == account_id),
        db.delete(ThreadNotificationLevel).where(ThreadNotificationLevel.account_id == account_id),
        db.delete(NotificationSettings).where(NotificationSettings.account_id == account_id),
        update(N).where(N.c.actor_id == account_id).values(actor_id=null(), data=null()),
    ):
        db.session.execute(stmt)


def init_notifications() -> None:
    """Called by ``create_app``: erasure and exports reach notifications (idempotent)."""
    from community.notifications import digest, fanout, mail, push  # noqa: F401 (registers the Celery tasks)
    from purpose.privacy import account_erasing, register_export_source

    account_erasing.connect(erase_notifications)
    register_export_source(account_source=export_notifications)
