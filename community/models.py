"""The members' side: spaces, memberships and the conversations in them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts import Account
from purpose.models import Purpose

from core.extensions import db, string_enum, utcnow


class Visibility(str, enum.Enum):
    public = "public"
    private = "private"  # invisible to non-members: 404, never 403
    #: A direct conversation (community/conversations/direct.py): its participants only, never
    #: staff; belongs to no purpose, so no brand listing, analysis or report ever sees it.
    direct = "direct"


class SpaceRole(str, enum.Enum):
    member = "member"
    moderator = "moderator"
    manager = "manager"


class Space(db.Model):
    __tablename__ = "spaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for a direct conversation (``Visibility.direct``), which belongs to no purpose.
    purpose_id: Mapped[int | None] = mapped_column(ForeignKey("purposes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[Visibility] = mapped_column(string_enum(Visibility), default=Visibility.public, index=True)
    #: Last number handed out by the space's gap-free post sequence (``community.space_log.next_space_seq``).
    last_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Slow mode: a member may post at most once per this many seconds here (0: off; staff exempt).
    slow_mode_seconds: Mapped[int] = mapped_column(default=0)
    #: Members in their first NEW_MEMBER_HOURS here post at most NEW_MEMBER_POSTS_PER_HOUR, without links.
    new_member_limits: Mapped[bool] = mapped_column(default=False)
    #: The text-search configuration its posts and threads are indexed and searched in
    #: (``community.search_index.CONFIGS``: english, with stemming and stop words, or simple).
    search_config: Mapped[str] = mapped_column(String(16), default="english", server_default="english")

    #: Loaded on access (lists load it in one extra query): spaces show their purpose's tags.
    purpose: Mapped[Purpose | None] = relationship(lazy="select")


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("space_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role: Mapped[SpaceRole] = mapped_column(string_enum(SpaceRole), default=SpaceRole.member)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Direct conversations: the last sequence number the member has read (unread counts).
    read_seq: Mapped[int] = mapped_column(default=0, server_default="0")

    account: Mapped[Account] = relationship(lazy="joined", innerjoin=True)


class ConversationKind(str, enum.Enum):
    pair = "pair"  # one-to-one: one per pair of accounts, reused
    group = "group"  # up to DIRECT_MAX_PARTICIPANTS


class DirectConversation(db.Model):
    """What makes a ``Visibility.direct`` space a conversation: its kind, its one thread, and
    for a one-to-one its canonical pair (lower id, higher id), unique so that two people have
    one conversation however many times, and however concurrently, either starts it."""

    __tablename__ = "direct_conversations"
    __table_args__ = (UniqueConstraint("pair_low_id", "pair_high_id"),)

    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[ConversationKind] = mapped_column(string_enum(ConversationKind))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="SET NULL"))
    #: One-to-one only (NULL in groups, which the unique key then ignores).
    pair_low_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    pair_high_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    space: Mapped[Space] = relationship(lazy="joined", innerjoin=True)
    thread: Mapped[Thread | None] = relationship(lazy="joined")

    @property
    def id(self) -> int:
        return self.space_id

    @property
    def last_activity_at(self) -> datetime:
        return self.thread.last_activity_at if self.thread is not None else self.created_at


class Thread(db.Model):
    __tablename__ = "threads"
    __table_args__ = (Index("ix_threads_listing", "space_id", "pinned", "last_activity_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked: Mapped[bool] = mapped_column(default=False)
    pinned: Mapped[bool] = mapped_column(default=False)

    author: Mapped[Account] = relationship(lazy="joined", innerjoin=True)


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("space_id", "seq"),
        UniqueConstraint("author_id", "client_msg_id", name="uq_posts_author_client_msg"),
        Index("ix_posts_thread_seq", "thread_id", "seq"),
        # Unread counts (community/conversations/reading.py): a thread's posts after a read position,
        # counted from the index alone (an index-only scan on PostgreSQL, a covering index on SQLite).
        Index("ix_posts_thread_unread", "thread_id", "id", "author_id", "deleted", "hidden"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    seq: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted: Mapped[bool] = mapped_column(default=False)
    #: The sender's idempotency key: a resend with the same key returns this post.
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    #: Hidden by staff (or by reaching FLAG_HIDE_THRESHOLD flags: ``hidden_by_id`` is then None):
    #: only staff and the author still see it, with ``hidden_reason``.
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))

    author: Mapped[Account] = relationship(lazy="joined", innerjoin=True, foreign_keys=[author_id])


class Reaction(db.Model):
    __tablename__ = "reactions"
    __table_args__ = (UniqueConstraint("post_id", "account_id", "emoji"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    emoji: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mention(db.Model):
    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("post_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SpaceEvent(db.Model):
    """One entry of a space's event log: the gap-free sequence clients resume from.

    Every change a member can see (thread or post created, post edited or deleted,
    reaction added or removed) appends one event, numbered by ``next_space_seq`` in the
    same transaction as the change. Events older than the retention window are pruned;
    resuming from before the oldest kept event answers ``resync_required``.
    """

    __tablename__ = "space_events"
    __table_args__ = (UniqueConstraint("space_id", "seq"), Index("ix_space_events_created_at", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Moderation (docs/moderation.md) ---------------------------------------------------


class FlagReason(str, enum.Enum):
    spam = "spam"
    abuse = "abuse"
    off_topic = "off_topic"
    other = "other"


class Flag(db.Model):
    """A member's report of a post; pending until staff dismiss it or act on the post."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("post_id", "flagger_id"),
        Index("ix_flags_pending", "space_id", "resolved_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    flagger_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    reason: Mapped[FlagReason] = mapped_column(string_enum(FlagReason))
    text: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    #: "dismissed" or "actioned" once resolved.
    resolution: Mapped[str | None] = mapped_column(String(16))


class Appeal(db.Model):
    """An author's one appeal against the hiding of their post; it joins the review queue."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    #: "granted" (the post was unhidden) or "denied".
    resolution: Mapped[str | None] = mapped_column(String(16))


class SanctionKind(str, enum.Enum):
    mute = "mute"  # may read, may not post or react, until ``until``
    ban = "ban"  # removed from the space and may not rejoin, until ``until`` (None: for good)


class Sanction(db.Model):
    """A mute or ban of an account in a space; in force while not lifted and before ``until``."""

    __tablename__ = "sanctions"
    __table_args__ = (Index("ix_sanctions_account_space", "account_id", "space_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[SanctionKind] = mapped_column(string_enum(SanctionKind))
    until: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None]


class PersonalFilterKind(str, enum.Enum):
    mute = "mute"  # I do not want to read them
    block = "block"  # I do not want to read them, and they may not reply to or mention me


class PersonalFilter(db.Model):
    """One member's mute or block of another member, for themselves only."""

    __tablename__ = "personal_filters"
    __table_args__ = (UniqueConstraint("owner_id", "kind", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PersonalFilterKind] = mapped_column(string_enum(PersonalFilterKind))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    target: Mapped[Account] = relationship(lazy="joined", innerjoin=True, foreign_keys=[target_id])


class AuditEntry(db.Model):
    """One moderation action: append-only (an ORM guard here, database triggers in migration 0005)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_space", "space_id", "id"),
        Index("ix_audit_entries_brand", "brand_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None: the platform itself (a post hidden on reaching the flag threshold).
    #: Accounts are anonymised, never deleted, so the log keeps its actors.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int]
    #: Plain ids, no foreign keys: the log outlives what it names (a cascade would have to update it).
    space_id: Mapped[int | None]
    brand_id: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[Account | None] = relationship(lazy="joined", foreign_keys=[actor_id])


#: Database triggers that abort any UPDATE or DELETE of an audit entry, per dialect: (create, drop).
#: Migration 0005 creates the same ones; ``db.create_all`` (tests) creates them through ``after_create``.
AUDIT_GUARD_SQL = {
    "sqlite": (
        [
            "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
            "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END",
            "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
            "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END",
        ],
        ["DROP TRIGGER IF EXISTS audit_entries_no_update", "DROP TRIGGER IF EXISTS audit_entries_no_delete"],
    ),
    "postgresql": (
        [
            "CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END $$",
            "CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()",
        ],
        ["DROP TRIGGER IF EXISTS audit_entries_no_change ON audit_entries"],
    ),
}


@event.listens_for(AuditEntry.__table__, "after_create")
def _create_audit_guard(table, connection, **_kw) -> None:
    for statement in AUDIT_GUARD_SQL.get(connection.dialect.name, ([], []))[0]:
        connection.exec_driver_sql(statement)


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when anything tries to change or remove an audit entry."""


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_audit_change(_mapper, _connection, target) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} is append-only")


# Notifications (docs/notifications.md, community/notifications/) -------------------------


class NotificationLevel(str, enum.Enum):
    """How much a member hears of a space or thread (Discourse's levels)."""

    watching = "watching"  # every new post (a space: in every thread) and every new thread
    tracking = "tracking"  # a space: new threads; a thread: unread counts only; both: mentions and replies
    normal = "normal"  # mentions and replies only
    muted = "muted"  # nothing at all, mentions and replies included


class SpaceNotificationLevel(db.Model):
    """A member's level for a space; no row: ``normal``."""

    __tablename__ = "space_notification_levels"

    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True)
    level: Mapped[NotificationLevel] = mapped_column(string_enum(NotificationLevel))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ThreadNotificationLevel(db.Model):
    """A member's level for a thread; no row: from the space (watching a space watches its threads)."""

    __tablename__ = "thread_notification_levels"

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True)
    level: Mapped[NotificationLevel] = mapped_column(string_enum(NotificationLevel))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ThreadReadPosition(db.Model):
    """How far a member has read a thread: the highest post id read (never moves back; no row:
    nothing read). Unread counts of tracked and watched threads count the posts after it
    (community/conversations/reading.py). A post id, not a sequence number: a moved thread's
    posts are numbered again in the target space, but keep their ids. Direct conversations keep
    theirs as ``Membership.read_seq`` (a conversation is one thread that never moves)."""

    __tablename__ = "thread_read_positions"

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True)
    #: Not a foreign key: a position, which stays when its post is erased.
    post_id: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(db.Model):
    """One notice in a member's inbox, written in the transaction of what caused it.

    Reactions are batched: while a member has not read it, one row per post (``batch_key``
    ``reaction:<post id>``) counts the reactions and keeps the last actors in ``data``.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_recipient", "recipient_id", "id"),
        Index("uq_notifications_unread_batch", "recipient_id", "batch_key", unique=True,
              sqlite_where=text("read_at IS NULL AND batch_key IS NOT NULL"),
              postgresql_where=text("read_at IS NULL AND batch_key IS NOT NULL")),
        Index("ix_notifications_email_due", "created_at",
              sqlite_where=text("emailed_at IS NULL AND read_at IS NULL"),
              postgresql_where=text("emailed_at IS NULL AND read_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    space_id: Mapped[int | None] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict | None] = mapped_column(JSON)
    #: How many events this row stands for (reactions batched on one post; 1 otherwise).
    count: Mapped[int] = mapped_column(default=1)
    batch_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    #: When a mail worker claimed the row (a lease: another may claim it after EMAIL_LEASE_SECONDS).
    email_claimed_at: Mapped[datetime | None]
    #: When the e-mail was handed to the SMTP server (or skipped: settings said no).
    emailed_at: Mapped[datetime | None]

    actor: Mapped[Account | None] = relationship(lazy="joined", foreign_keys=[actor_id])


class NotificationFanout(db.Model):
    """A post's fan-out to the watchers of its space or thread, owed: written in the post's
    transaction (so it is as durable as the post), done by a worker that writes the notifications
    and deletes this row in one transaction, so it happens exactly once (community/notifications/fanout.py)."""

    __tablename__ = "notification_fanouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    new_thread: Mapped[bool] = mapped_column(default=False)
    #: Accounts already told by the post itself (mentioned, the parent's author): not told again.
    exclude: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class EmailLevel(str, enum.Enum):
    none = "none"
    mentions_replies = "mentions_replies"  # mentions of me and replies to my posts
    all = "all"  # and everything I watch


class DigestFrequency(str, enum.Enum):
    none = "none"
    daily = "daily"
    weekly = "weekly"  # on Mondays


class NotificationSettings(db.Model):
    """A member's own e-mail settings; no row (or ``email`` None): the default for their relationship style.

    Digests (community/notifications/digest.py): ``digest`` None follows the style too; ``timezone``
    (IANA, None: UTC) and ``digest_hour`` (None: ``NOTIFICATION_DIGEST_HOUR``) say when. The sweep's
    bookkeeping: ``digest_period`` is the key of the last period sent (its local date), ``digest_claim``
    / ``digest_claimed_at`` a worker's lease on the next, ``last_digest_at`` the cut-off of the last
    one sent (the next lists what came after it)."""

    __tablename__ = "notification_settings"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[EmailLevel | None] = mapped_column(string_enum(EmailLevel))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    digest: Mapped[DigestFrequency | None] = mapped_column(string_enum(DigestFrequency))
    timezone: Mapped[str | None] = mapped_column(String(64))
    digest_hour: Mapped[int | None]
    digest_period: Mapped[str | None] = mapped_column(String(16))
    digest_claim: Mapped[str | None] = mapped_column(String(16))
    digest_claimed_at: Mapped[datetime | None]
    last_digest_at: Mapped[datetime | None]
    # Web Push (community/notifications/push.py): None follows the style; quiet hours in ``timezone``
    push: Mapped[EmailLevel | None] = mapped_column(string_enum(EmailLevel))
    quiet_start: Mapped[int | None]
    quiet_end: Mapped[int | None]


class PushSubscription(db.Model):
    """A browser's Web Push subscription (RFC 8030 endpoint, RFC 8291 keys) for one member."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_sent_at: Mapped[datetime | None]


from community import search_index  # noqa: E402,F401  (its after_create hooks build the search index)
