"""The brand's side: brands, the people who manage them, and the purposes they state."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db, utcnow


class PurposeKind(str, enum.Enum):
    life = "life"  # helping people reach personal goals: fitness, cooking, learning
    societal = "societal"  # doing good for others: ocean clean-up, local food


class Brand(db.Model):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BrandManager(db.Model):
    """An account that manages every space of one brand."""

    __tablename__ = "brand_managers"
    __table_args__ = (UniqueConstraint("brand_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Purpose(db.Model):
    __tablename__ = "purposes"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PurposeKind] = mapped_column(
        db.Enum(PurposeKind, native_enum=False, length=16, validate_strings=True), index=True
    )
    title: Mapped[str] = mapped_column(String(120))
    statement: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
