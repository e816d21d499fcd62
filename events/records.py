"""The brand's record of who was invited to, answered and attended its events: stakeholders and touchpoints.

Every event touchpoint carries the event's reference (``event_ref``, ``platform-event:<id>``), so the
graph loader (``graph/load_rows.py``) ties co-attendees and inviter to invitee exactly as it does for
imported events. Kinds: ``invitation`` (from the inviter's record to the guest's), ``rsvp`` (an answer:
going, waitlisted, maybe or declined; one per person and event, dated by the latest answer) and
``event`` (attended: checked in). Members get a stakeholder record of the brand (kind ``member``,
source ``events``) the first time they take part, unless they already have one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core.extensions import db, utcnow
from purpose import stakeholders
from purpose.models import Stakeholder, StakeholderKind, Touchpoint, TouchpointKind
from purpose.snapshots import people_changed
from purpose.stakeholders import email_hash

SOURCE = "events"


def event_ref(event_id: int) -> str:
    return f"platform-event:{event_id}"


def member_record(brand_id: int, account_id: int) -> Stakeholder:
    """The brand's stakeholder record of a member, made from this wing's source when there is none yet."""
    return stakeholders.member_record(brand_id, account_id, SOURCE)


def guest_record(brand_id: int, email: str, name: str | None) -> Stakeholder:
    """The brand's record of an invited person: the one with the same email hash (an imported nonuser,
    an earlier guest, a member), else a new nonuser stakeholder of kind ``invited``."""
    hashed = email_hash(email)
    found = db.session.scalar(select(Stakeholder).where(
        Stakeholder.brand_id == brand_id, Stakeholder.email_hash == hashed, Stakeholder.erased_at.is_(None))
        .order_by(Stakeholder.account_id.is_(None), Stakeholder.id))
    if found is not None:
        return found
    stakeholder = Stakeholder(brand_id=brand_id, kind=StakeholderKind.invited, source=SOURCE, email=email,
                              email_hash=hashed, display_name=name)
    db.session.add(stakeholder)
    db.session.flush()
    people_changed(brand_id)  # a new person of the brand: its people snapshots are stale
    return stakeholder


def _upsert(brand_id: int, stakeholder_id: int, kind: TouchpointKind, external_id: str, event_id: int,
            purpose_id: int | None, when: datetime, other: int | None = None) -> None:
    touchpoint = db.session.scalar(select(Touchpoint).where(
        Touchpoint.brand_id == brand_id, Touchpoint.source == SOURCE, Touchpoint.external_id == external_id))
    if touchpoint is None:
        db.session.add(Touchpoint(brand_id=brand_id, stakeholder_id=stakeholder_id, kind=kind, occurred_at=when,
                                  purpose_id=purpose_id, other_stakeholder_id=other, event_ref=event_ref(event_id),
                                  source=SOURCE, external_id=external_id))
    else:
        touchpoint.stakeholder_id, touchpoint.occurred_at = stakeholder_id, when


def record_invitation(brand_id: int, purpose_id: int, event_id: int, guest_id: int, inviter: Stakeholder | None,
                      guest: Stakeholder) -> None:
    """The invitation as a touchpoint from the inviter's record to the guest's (the guest's own when the
    inviter has none: a platform admin's invitation still dates the guest's first contact)."""
    source = inviter.id if inviter is not None else guest.id
    other = guest.id if inviter is not None else None
    _upsert(brand_id, source, TouchpointKind.invitation, f"invitation:{guest_id}", event_id, purpose_id, utcnow(), other)


def record_answer(brand_id: int, purpose_id: int, event_id: int, stakeholder_id: int) -> None:
    """The person answered (whatever the outcome: a seat, the waitlist, maybe, no): one per person and event."""
    _upsert(brand_id, stakeholder_id, TouchpointKind.rsvp, f"rsvp:{event_id}:{stakeholder_id}", event_id, purpose_id,
            utcnow())


def record_attendance(brand_id: int, purpose_id: int, event_id: int, stakeholder: Stakeholder, when: datetime) -> None:
    """Checked in: an ``event`` touchpoint (co-attendance in the graph); an invited nonuser becomes an attendee."""
    _upsert(brand_id, stakeholder.id, TouchpointKind.event, f"attended:{event_id}:{stakeholder.id}", event_id, purpose_id, when)
    if stakeholder.account_id is None and stakeholder.kind is StakeholderKind.invited:
        stakeholder.kind = StakeholderKind.event_attendee
