"""Ideas, their votes (one per member) and the history of their statuses."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db, string_enum, utcnow


class IdeaStatus(str, enum.Enum):
    new = "new"  # as submitted; never set by hand
    under_review = "under_review"
    planned = "planned"
    shipped = "shipped"  # closed: no more votes
    declined = "declined"  # closed: no more votes


#: Statuses in which an idea takes no votes.
CLOSED = (IdeaStatus.shipped, IdeaStatus.declined)


class Idea(db.Model):
    """An idea of a space. Its body is the opening post of its thread (``thread_id``, ``post_id``), so the
    post path (sequence numbers, real time, moderation, search) serves it and its comments are the thread's
    replies. ``votes`` is a counter changed only by ``UPDATE ideas SET votes = votes ± 1`` in the
    transaction that inserts or deletes the vote row.

    ``space_id`` is where the idea was submitted; the space its thread is in now decides who sees it and
    which space lists it (moderators may move the thread), so listings join ``threads``."""

    __tablename__ = "ideas"
    __table_args__ = (Index("ix_ideas_space_id", "space_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), unique=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    #: None once the author's account was erased.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[IdeaStatus] = mapped_column(string_enum(IdeaStatus), default=IdeaStatus.new)
    votes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[datetime | None]
    #: When the idea was first shipped: ``idea_shipped`` is sent once, when this is set.
    shipped_at: Mapped[datetime | None]


class IdeaVote(db.Model):
    __tablename__ = "idea_votes"
    __table_args__ = (UniqueConstraint("idea_id", "account_id", name="uq_idea_votes_idea_account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdeaStatusChange(db.Model):
    """One status change with its public reason, shown on the idea."""

    __tablename__ = "idea_status_changes"
    __table_args__ = (Index("ix_idea_status_changes_idea", "idea_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    from_status: Mapped[IdeaStatus] = mapped_column(string_enum(IdeaStatus))
    to_status: Mapped[IdeaStatus] = mapped_column(string_enum(IdeaStatus))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
