"""The brand's side: brands, the people who manage them, and the purposes they state."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
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
    #: Bumped in the transaction of every change to the brand's people (imports, stakeholders added,
    #: erased or objecting, registrations linked): a people snapshot built from an older version is stale.
    people_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))


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


class SnapshotStatus(str, enum.Enum):
    building = "building"
    ready = "ready"
    failed = "failed"


class PeopleSnapshot(db.Model):
    """Every person's profile of a brand (or of one purpose) computed once, off the request
    (``purpose/snapshots.py``): its people are ``SnapshotPerson`` rows. Built under a lease like a
    graph report; ``people_version`` is the brand's version it was built from."""

    __tablename__ = "people_snapshots"
    __table_args__ = (Index("ix_people_snapshots_brand_id_purpose_id_status", "brand_id", "purpose_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    purpose_id: Mapped[int | None] = mapped_column(ForeignKey("purposes.id", ondelete="CASCADE"))
    status: Mapped[SnapshotStatus] = mapped_column(string_enum(SnapshotStatus), default=SnapshotStatus.building)
    people_version: Mapped[int | None]
    #: The moment the profiles were computed as of (touchpoints after it are not in them).
    as_of: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    built_at: Mapped[datetime | None]
    people: Mapped[int] = mapped_column(default=0)
    #: The done graph report whose community, PageRank and opportunity rank the rows carry (None: none).
    report_id: Mapped[int | None]
    clv_model: Mapped[str | None] = mapped_column(String(40))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(400))


class SnapshotPerson(db.Model):
    """One person's profile in a snapshot, flat and indexed for the people listing's filters and sorts.
    An erased or objecting person's rows are deleted in the erasure's (objection's) transaction."""

    __tablename__ = "snapshot_people"
    __table_args__ = (
        Index("ix_snapshot_people_snapshot_id_clv", "snapshot_id", "clv", "stakeholder_id"),
        Index("ix_snapshot_people_snapshot_id_last_active_at", "snapshot_id", "last_active_at", "stakeholder_id"),
        Index("ix_snapshot_people_snapshot_id_opportunity_rank", "snapshot_id", "opportunity_rank", "stakeholder_id"),
        Index("ix_snapshot_people_snapshot_id_recency_days", "snapshot_id", "recency_days", "stakeholder_id"),
        Index("ix_snapshot_people_snapshot_id_segment", "snapshot_id", "segment"),
        Index("ix_snapshot_people_snapshot_id_pyramid_level", "snapshot_id", "pyramid_level"),
        Index("ix_snapshot_people_snapshot_id_community", "snapshot_id", "community"),
    )

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("people_snapshots.id", ondelete="CASCADE"), primary_key=True)
    stakeholder_id: Mapped[int] = mapped_column(primary_key=True, index=True)  # index: erasure deletes by it
    account_id: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(16))  # member or nonuser
    display_name: Mapped[str | None] = mapped_column(String(120))
    external_id: Mapped[str | None] = mapped_column(String(128))
    segment: Mapped[str] = mapped_column(String(16))
    recency_days: Mapped[float | None] = mapped_column(Float)
    frequency: Mapped[int] = mapped_column(default=0)
    monetary: Mapped[float] = mapped_column(Float, default=0.0)
    pyramid_level: Mapped[int] = mapped_column(default=0)
    style: Mapped[str] = mapped_column(String(16))
    purpose_alignment: Mapped[float] = mapped_column(Float, default=0.0)
    clv: Mapped[float | None] = mapped_column(Float)
    last_active_at: Mapped[datetime | None]
    community: Mapped[int | None]
    pagerank: Mapped[float | None] = mapped_column(Float)
    opportunity_rank: Mapped[int | None]
    # The rest of the profile, which GET /stakeholders/{id}/profile answers from (null in rows built before 0021):
    rfm_r: Mapped[int | None]
    rfm_f: Mapped[int | None]
    rfm_m: Mapped[int | None]
    style_declared: Mapped[bool | None]
    clv_expected_purchases: Mapped[float | None] = mapped_column(Float)  # null: no CLV for them
    clv_probability_alive: Mapped[float | None] = mapped_column(Float)
    pyramid_to_next: Mapped[list | None] = mapped_column(JSON)  # what the next pyramid level asks of them
    alignment: Mapped[list | None] = mapped_column(JSON)  # [[purpose id, score], ...] over the brand's purposes
