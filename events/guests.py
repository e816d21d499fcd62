"""Guests: people without an account whom members invite by e-mail, and their signed links.

A guest link carries ``{"e": event id, "g": guest id}`` signed with ``SECRET_KEY`` (itsdangerous,
timestamped, salt ``event-guest``; made in ``events.links``), as the password-reset links are (core/passwords.py). It works
for that event and that guest only (the path's event must be the link's, and the guest row must
still belong to it), for ``EVENT_GUEST_LINK_DAYS`` days; anything else is 400 ``invalid-guest-link``.
The link lets the guest see the event, answer and read their check-in code; a changed or forged
link fails the signature. The invitation e-mail goes after the commit (``core.mail.send_later``).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature
from sqlalchemy import func, select

from community.access import brand_of_space, require_member
from community.models import Space
from core import mail
from core.accounts import Account, TrustLevel
from core.errors import ApiError, TooSoon, conflict, forbidden
from core.extensions import db, utcnow
from core.outbox import on_commit
from events import records
from events.links import event_summary, guest_link, guest_serializer
from events.models import Attendee, AttendeeStatus, Event, EventGuest, EventStatus
from events.service import answer, can_manage, locked_event, space_of, visible_event
from purpose.models import Stakeholder
from purpose.stakeholders import email_hash


def _invalid() -> ApiError:
    return ApiError(400, "This guest link is invalid, expired or not for this event; ask the person who invited "
                         "you for a new one.", type_="invalid-guest-link")


def guest_from_token(event_id: int, token: str, *, lock: bool = False) -> tuple[Event, Space, EventGuest]:
    """The event, its space and the guest a link names, checked against the event in the path."""
    max_age = current_app.config["EVENT_GUEST_LINK_DAYS"] * 86400
    try:
        claims = guest_serializer().loads(token, max_age=max_age)
        linked_event, guest_id = int(claims["e"]), int(claims["g"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise _invalid() from None
    if linked_event != event_id:
        raise _invalid()
    event = locked_event(event_id) if lock else db.session.get(Event, event_id)
    guest = db.session.get(EventGuest, guest_id)
    if event is None or guest is None or guest.event_id != event.id:
        raise _invalid()  # the guest's data was erased, or the event deleted
    if guest.account_id is not None:
        raise conflict("You have an account now: sign in to see or change your answer (it moved to your account).",
                       "guest-registered")
    return event, space_of(event), guest


def do_invite(account: Account, event_id: int, email: str, name: str | None) -> EventGuest:
    """Invite a person by e-mail (members of the space, the brand's managers): ``EVENT_INVITES_PER_DAY``
    per member per 24 hours; inviting the same address to the same event twice is a 409."""
    event, space = visible_event(account, event_id)
    if not can_manage(account, space):
        require_member(account, space)
        if account.trust_level < TrustLevel.basic:  # the account row of this request (recognition/trust.py)
            raise forbidden("Inviting guests needs trust level basic: take part a little first.", "trust-level")
    if event.status is EventStatus.cancelled:
        raise conflict("The event is cancelled.", "event-cancelled")
    limit = current_app.config["EVENT_INVITES_PER_DAY"]
    since = utcnow() - timedelta(days=1)
    sent = db.session.scalar(select(func.count()).select_from(EventGuest).where(
        EventGuest.invited_by == account.id, EventGuest.created_at > since)) or 0
    if sent >= limit:
        oldest = db.session.scalar(select(func.min(EventGuest.created_at)).where(
            EventGuest.invited_by == account.id, EventGuest.created_at > since))
        wait = max(1.0, (oldest + timedelta(days=1) - utcnow()).total_seconds())
        raise TooSoon(f"You may invite {limit} people a day; try again later.", "invite-limit", wait)
    hashed = email_hash(email)
    if db.session.scalar(select(EventGuest.id).where(EventGuest.event_id == event.id, EventGuest.email_hash == hashed)):
        raise conflict("This address is invited to this event already.", "already-invited")
    brand_id = brand_of_space(space)
    stakeholder = records.guest_record(brand_id, email, name)
    guest = EventGuest(event_id=event.id, email=email, email_hash=hashed, name=name, invited_by=account.id,
                       stakeholder_id=stakeholder.id)
    db.session.add(guest)
    db.session.flush()
    inviter = db.session.scalar(select(Stakeholder).where(Stakeholder.brand_id == brand_id,
                                                          Stakeholder.account_id == account.id))
    if inviter is None and not account.is_admin:
        inviter = records.member_record(brand_id, account.id)
    records.record_invitation(brand_id, space.purpose_id, event.id, guest.id, inviter, stakeholder)
    on_commit(_send_invitation, email, account.display_name, event_summary(event), guest_link(guest))
    return guest


def _send_invitation(to: str, inviter: str, summary: str, link: str) -> None:
    text = (f"Hello,\n\n{inviter} invites you to an event:\n\n{summary}\n\nTo answer (going, maybe or not) and get your "
            f"check-in code, open this link; no account is needed:\n\n{link}\n\nThe link is yours: it works for this "
            "event only. If you did not expect this e-mail, ignore it.\n")
    mail.send_later(to=to, subject="You are invited", text=text)


def guest_attendee(event_id: int, guest: EventGuest) -> Attendee | None:
    return db.session.scalar(select(Attendee).where(Attendee.event_id == event_id, Attendee.guest_id == guest.id))


def do_guest_answer(event_id: int, token: str, status: AttendeeStatus) -> tuple[Event, EventGuest, Attendee]:
    event, space, guest = guest_from_token(event_id, token, lock=True)
    attendee = answer(event, space, guest_attendee(event.id, guest), status, guest_id=guest.id)
    return event, guest, attendee


def link_registered_guest(account: Account, **_kwargs) -> None:
    """``account_registered``: a guest who registers with the invited address becomes that account at
    their events: each answer (seat, waitlist place, check-in code and check-in) moves to the account,
    and the guest links stop working. The brand's stakeholder record is linked as a conversion by
    ``purpose.stakeholders`` (the same signal)."""
    guests = db.session.scalars(select(EventGuest).where(EventGuest.email_hash == email_hash(account.email),
                                                         EventGuest.account_id.is_(None))).all()
    for guest in guests:
        guest.account_id = account.id
        attendee = guest_attendee(guest.event_id, guest)
        taken = db.session.scalar(select(Attendee.id).where(Attendee.event_id == guest.event_id,
                                                            Attendee.account_id == account.id))
        if attendee is not None and taken is None:
            attendee.guest_id, attendee.account_id = None, account.id
    if guests:
        db.session.commit()
