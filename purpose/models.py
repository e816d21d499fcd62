"""The brand's side: brands, the people who manage them, and the purposes they state."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db, string_enum, utcnow


class PurposeKind(str, enum.Enum):
    life = "life"  # helping people reach personal goals: fitness, cooking, learning
    societal = "societal"  # doing good for others: ocean clean-up, local food


class Brand(db.Model):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffRole(str, enum.Enum):
    manager = "manager"  # runs every space of the brand: moderation, people, imports, reports
    analyst = "analyst"  # reads the brand's people and reports (while holding the platform's analyst role)


class BrandStaff(db.Model):
    """An account's role at one brand (one row per role held)."""

    __tablename__ = "brand_staff"
    __table_args__ = (UniqueConstraint("brand_id", "account_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role: Mapped[StaffRole] = mapped_column(string_enum(StaffRole))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Purpose(db.Model):
    __tablename__ = "purposes"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PurposeKind] = mapped_column(
        string_enum(PurposeKind), index=True
    )
    title: Mapped[str] = mapped_column(String(120))
    statement: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StakeholderKind(str, enum.Enum):
    member = "member"  # linked to an account
    customer = "customer"
    prospect = "prospect"
    invited = "invited"
    event_attendee = "event_attendee"
    partner = "partner"
    ngo = "ngo"
    employee = "employee"
    local_community = "local_community"


class LegalBasis(str, enum.Enum):
    consent = "consent"
    contract = "contract"
    legitimate_interest = "legitimate_interest"
    none = "none"


class ContactPreference(str, enum.Enum):
    """The depth of relationship a person says they want (purpose.relationship.STYLES)."""

    none = "none"
    fling = "fling"
    friendship = "friendship"
    marriage = "marriage"


class Stakeholder(db.Model):
    """Every person a brand knows: members (linked to an account) and nonusers."""

    __tablename__ = "stakeholders"
    __table_args__ = (
        UniqueConstraint("brand_id", "source", "external_id", name="uq_stakeholders_brand_source_external"),
        UniqueConstraint("brand_id", "account_id", name="uq_stakeholders_brand_account"),
        Index("ix_stakeholders_brand_kind", "brand_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    kind: Mapped[StakeholderKind] = mapped_column(string_enum(StakeholderKind, 24))
    source: Mapped[str] = mapped_column(String(40), default="manual")
    external_id: Mapped[str | None] = mapped_column(String(128))
    #: The person's name as the brand knows them (imports, the API): shown to the brand's staff
    #: (profiles, reports, exports), never to members; cleared on erasure.
    display_name: Mapped[str | None] = mapped_column(String(120))
    #: Interests the person declared to the brand (tags, compared with purposes' tags) and the
    #: brand's purposes they declared as their own (ids): purpose alignment for people without an account.
    interests: Mapped[list[str] | None] = mapped_column(JSON)
    purpose_ids: Mapped[list[int] | None] = mapped_column(JSON)
    email: Mapped[str | None] = mapped_column(String(254))
    #: Keyed hash of the normalised email: matches imports and registrations without reading emails.
    email_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    legal_basis: Mapped[LegalBasis] = mapped_column(string_enum(LegalBasis, 24), default=LegalBasis.none)
    contact_preference: Mapped[ContactPreference | None] = mapped_column(string_enum(ContactPreference, 24))
    #: An objection to processing: the person is left out of every later analysis.
    objected: Mapped[bool] = mapped_column(default=False)
    objected_at: Mapped[datetime | None]
    #: Set when the person's data was erased: the row stays as an anonymous tombstone (so a
    #: re-import of the same source row is a duplicate) and is never analysed again.
    erased_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When a nonuser became a member, and what they were before (the funnel).
    converted_at: Mapped[datetime | None]
    converted_from: Mapped[StakeholderKind | None] = mapped_column(string_enum(StakeholderKind, 24))


class TouchpointKind(str, enum.Enum):
    purchase = "purchase"
    subscription = "subscription"
    contract = "contract"
    event = "event"
    referral = "referral"
    invitation = "invitation"
    support = "support"
    newsletter = "newsletter"
    rsvp = "rsvp"  # an answer to an event's invitation (events/records.py); attending is ``event``
    co_creation = "co_creation"  # an idea or feedback the brand took up (ideas/records.py: a shipped idea)


class Touchpoint(db.Model):
    """One contact between the brand and a stakeholder (or, for referrals and invitations, two)."""

    __tablename__ = "touchpoints"
    __table_args__ = (
        UniqueConstraint("brand_id", "source", "external_id", name="uq_touchpoints_brand_source_external"),
        Index("ix_touchpoints_stakeholder_time", "stakeholder_id", "occurred_at"),
        Index("ix_touchpoints_brand_kind_time", "brand_id", "kind", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    stakeholder_id: Mapped[int] = mapped_column(ForeignKey("stakeholders.id", ondelete="CASCADE"))
    kind: Mapped[TouchpointKind] = mapped_column(string_enum(TouchpointKind, 24))
    occurred_at: Mapped[datetime]
    amount: Mapped[float | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    purpose_id: Mapped[int | None] = mapped_column(ForeignKey("purposes.id", ondelete="SET NULL"), index=True)
    #: The other person of a referral or invitation.
    other_stakeholder_id: Mapped[int | None] = mapped_column(ForeignKey("stakeholders.id", ondelete="CASCADE"), index=True)
    #: Identifies an event, so attendees of the same event can be connected.
    event_ref: Mapped[str | None] = mapped_column(String(128), index=True)
    source: Mapped[str] = mapped_column(String(40), default="manual")
    external_id: Mapped[str | None] = mapped_column(String(128))
