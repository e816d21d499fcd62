"""The badge catalogue and the grants of badges to accounts.

A badge is one (key, tier): ``well_received`` bronze, silver and gold are three rows. Platform badges
(``brand_id`` null) are the automatic ones of ``recognition.rules`` plus ``idea_shipped``; a brand's
managers define manual badges of their brand (``brand_id`` set). A grant is unique per account and
badge, so a rule re-run or a second award can never grant the same badge twice.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db, string_enum, utcnow


class BadgeTier(str, enum.Enum):
    bronze = "bronze"
    silver = "silver"
    gold = "gold"


class Badge(db.Model):
    __tablename__ = "badges"
    __table_args__ = (
        UniqueConstraint("brand_id", "key", "tier", name="uq_badges_brand_key_tier"),
        # platform badges: NULL brand ids are distinct in a unique constraint, so a partial index
        Index("uq_badges_platform_key_tier", "key", "tier", unique=True,
              sqlite_where=text("brand_id IS NULL"), postgresql_where=text("brand_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(300), default="")
    tier: Mapped[BadgeTier] = mapped_column(string_enum(BadgeTier))
    #: True: granted by a rule (the background job) or by code (``award``); False: by a brand's managers.
    automatic: Mapped[bool] = mapped_column(default=True)
    #: The brand whose managers award it (manual badges); None: a platform badge.
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BadgeGrant(db.Model):
    """One badge held by one account. The row with ``granted_by`` and ``reason`` is the grant's
    record; awards and revocations of manual badges are also in the moderation audit log."""

    __tablename__ = "badge_grants"
    __table_args__ = (
        UniqueConstraint("account_id", "badge_id", name="uq_badge_grants_account_badge"),
        Index("ix_badge_grants_badge", "badge_id", "granted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id", ondelete="CASCADE"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Who awarded it; None for automatic grants (and once the awarder is erased).
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500), default="")
