"""The members' side: spaces, memberships and the conversations in them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts import Account
from purpose.models import Purpose

from core.extensions import db, string_enum, utcnow


class Visibility(str, enum.Enum):
    public = "public"
    private = "private"  # invisible to non-members: 404, never 403


class SpaceRole(str, enum.Enum):
    member = "member"
    moderator = "moderator"
    manager = "manager"


class Space(db.Model):
    __tablename__ = "spaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose_id: Mapped[int] = mapped_column(ForeignKey("purposes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[Visibility] = mapped_column(string_enum(Visibility), default=Visibility.public, index=True)
    #: Last number handed out by the space's gap-free post sequence (see ``next_post_seq``).
    last_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    #: Loaded on access (lists load it in one extra query): spaces show their purpose's tags.
    purpose: Mapped[Purpose] = relationship(lazy="select")


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("space_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role: Mapped[SpaceRole] = mapped_column(string_enum(SpaceRole), default=SpaceRole.member)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship(lazy="joined", innerjoin=True)


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

    author: Mapped[Account] = relationship(lazy="joined", innerjoin=True)


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
