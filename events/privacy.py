"""Events in exports and erasure (``purpose.privacy``'s registries and signals), wired by ``init_events``.

- A stakeholder's export (``GET /stakeholders/{id}/export``) gains ``events``: the guest records of the
  person (address, name, event, when invited) with their answers, and, for a member, their answers to
  the brand's events. An account's export (``GET /me/export``) gains ``events``: its answers everywhere,
  the invitations it sent (event and time; not the invitees' addresses) and its calendar feed addresses
  (space and time made; not the addresses, which are credentials).
- Erasing an account (``account_erasing``, in the erasure's transaction) deletes its answers (a seat it
  held goes to the next on the waitlist) and its calendar feed addresses, and forgets it as the inviter
  of its guests.
- Erasing a stakeholder (``person_erased``, after that commit) deletes the guest records made for them,
  with their answers (seats go to the waitlist); ``purpose.privacy.erase_person`` has already deleted
  their touchpoints.
"""

from __future__ import annotations

from sqlalchemy import select

from community.models import Space
from core.extensions import db
from events.models import Attendee, Event, EventGuest
from core.accounts import account_registered
from events import feeds, notices
from events.guests import link_registered_guest
from events.service import remove_attendee
from purpose.models import Purpose, Stakeholder
from purpose.privacy import account_erasing, person_erased, register_export_source


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return getattr(value, "value", value)


def _answers(where, brand_id: int | None = None) -> list[dict]:
    stmt = select(Attendee, Event.title).join(Event, Event.id == Attendee.event_id).where(where).order_by(Attendee.id)
    if brand_id is not None:
        stmt = stmt.join(Space, Space.id == Event.space_id).join(Purpose, Purpose.id == Space.purpose_id).where(
            Purpose.brand_id == brand_id)
    return [{"event_id": a.event_id, "event": title, "status": _plain(a.status), "responded_at": _plain(a.responded_at),
             "checked_in_at": _plain(a.checked_in_at), "check_in_code": a.check_in_code}
            for a, title in db.session.execute(stmt)]


def export_events(stakeholder: Stakeholder) -> tuple[str, dict]:
    guests = list(db.session.scalars(select(EventGuest).where(EventGuest.stakeholder_id == stakeholder.id)
                                     .order_by(EventGuest.id)))
    out = {"guest_records": [{"event_id": g.event_id, "email": g.email, "name": g.name, "invited_at": _plain(g.created_at),
                              "answers": _answers(Attendee.guest_id == g.id)} for g in guests]}
    if stakeholder.account_id is not None:
        out["answers"] = _answers(Attendee.account_id == stakeholder.account_id, stakeholder.brand_id)
    return "events", out


def export_account_events(account_id: int) -> tuple[str, dict]:
    sent = db.session.execute(select(EventGuest.event_id, EventGuest.created_at).where(
        EventGuest.invited_by == account_id).order_by(EventGuest.id))
    return "events", {"answers": _answers(Attendee.account_id == account_id),
                      "invitations_sent": [{"event_id": e, "invited_at": _plain(t)} for e, t in sent],
                      "calendar_feeds": feeds.export_feeds(account_id)}


def erase_account_events(account_id: int) -> None:
    for attendee in db.session.scalars(select(Attendee).where(Attendee.account_id == account_id)).all():
        remove_attendee(attendee)
    db.session.execute(db.update(EventGuest).where(EventGuest.invited_by == account_id).values(invited_by=None))
    feeds.erase_feeds(account_id)


def erase_guest_records(brand_id, *, stakeholder_id=None, **_) -> None:
    if stakeholder_id is None:
        return
    guests = db.session.scalars(select(EventGuest).where(EventGuest.stakeholder_id == stakeholder_id)).all()
    for guest in guests:
        for attendee in db.session.scalars(select(Attendee).where(Attendee.guest_id == guest.id)).all():
            remove_attendee(attendee)
        db.session.delete(guest)
    db.session.commit()


def init_events() -> None:
    """Called by ``create_app``: events join exports and erasure, and register their notification kinds
    (idempotent)."""
    notices.register_notification_kinds()
    register_export_source(export_events, account_source=export_account_events)
    account_erasing.connect(erase_account_events)
    person_erased.connect(erase_guest_records)
    account_registered.connect(link_registered_guest)
