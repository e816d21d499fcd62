"""Actions on events: create, edit, cancel, answer (with the waitlist), check in. They never commit.

Concurrency: every change to an event's seats (an answer, a capacity change, a cancellation, an
erasure) first takes the event row's lock (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has
one writer at a time), then counts the seats taken and changes the answers. Two answers to one
event therefore run one after the other, and "going" never exceeds the capacity; answers to
different events do not wait for each other. The waitlist is ordered by ``queue_no`` (the event's
next number, taken under the same lock) and promoted in that order whenever a seat frees up; those
seated, and everyone who answered a cancelled event, are told (events/notices.py).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select

from community.access import brand_of_space, can_see, require_member
from community.models import Space
from core.accounts import Account
from core.errors import ApiError, conflict, not_found
from core.extensions import db, utcnow
from events import notices, records
from events.models import Attendee, AttendeeStatus, Event, EventGuest, EventMode, EventStatus
from purpose.access import is_brand_manager, require_brand_manager
from purpose.models import Stakeholder

#: Check-in codes: 8 characters without look-alikes (0/O, 1/I/L), about 39 bits.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


# ---- seeing and managing ---------------------------------------------------------------------------

def space_of(event: Event) -> Space:
    return db.session.get(Space, event.space_id)


def visible_event(account: Account, event_id: int, *, lock: bool = False) -> tuple[Event, Space]:
    """The event and its space, or 404 when either does not exist or the space is hidden from ``account``."""
    event = locked_event(event_id) if lock else db.session.get(Event, event_id)
    if event is None:
        raise not_found("event")
    space = space_of(event)
    if not can_see(account, space):
        raise not_found("event")
    return event, space


def locked_event(event_id: int) -> Event | None:
    """The event row, locked until the transaction ends (its attributes read afresh)."""
    return db.session.scalar(select(Event).where(Event.id == event_id).with_for_update()
                             .execution_options(populate_existing=True))


def can_manage(account: Account, space: Space) -> bool:
    return account.is_admin or is_brand_manager(account, brand_of_space(space))


def require_manager(account: Account, space: Space) -> None:
    require_brand_manager(account, brand_of_space(space))


def _check_fields(mode: EventMode, location, url, starts_at: datetime, ends_at: datetime) -> None:
    errors = {}
    if ends_at <= starts_at:
        errors["ends_at"] = ["Must be after starts_at."]
    if mode is EventMode.online and not url:
        errors["url"] = ["An online event needs a URL."]
    if mode is EventMode.in_person and not location:
        errors["location"] = ["An event in person needs a location."]
    if errors:
        raise ApiError(422, "The event's fields do not fit together.", errors=errors)


def do_create_event(account: Account, space: Space, args: dict) -> Event:
    require_manager(account, space)
    _check_fields(args["mode"], args.get("location"), args.get("url"), args["starts_at"], args["ends_at"])
    event = Event(space_id=space.id, created_by=account.id, **args)
    db.session.add(event)
    db.session.flush()
    return event


def do_edit_event(account: Account, event_id: int, changes: dict) -> Event:
    event, space = visible_event(account, event_id, lock=True)
    require_manager(account, space)
    if event.status is EventStatus.cancelled:
        raise conflict("The event is cancelled; it can no longer be changed.", "event-cancelled")
    merged = {k: changes.get(k, getattr(event, k)) for k in ("mode", "location", "url", "starts_at", "ends_at")}
    _check_fields(merged["mode"], merged["location"], merged["url"], merged["starts_at"], merged["ends_at"])
    moved = "starts_at" in changes and changes["starts_at"] != event.starts_at
    for key, value in changes.items():
        setattr(event, key, value)
    if moved:  # a new start time: everyone going is reminded again before it (events/reminders.py)
        db.session.execute(db.update(Attendee).where(Attendee.event_id == event.id).values(reminded_at=None)
                           .execution_options(synchronize_session=False))
    event.sequence += 1
    event.updated_at = utcnow()
    promote(event, space)  # more seats: the waitlist moves up (fewer seats never take one away)
    return event


def do_cancel_event(account: Account, event_id: int) -> Event:
    event, space = visible_event(account, event_id, lock=True)
    require_manager(account, space)
    if event.status is not EventStatus.cancelled:
        event.status, event.sequence, event.updated_at = EventStatus.cancelled, event.sequence + 1, utcnow()
        notices.tell_cancelled(event, space, account)  # the first time only: cancelling again tells no one
    return event


# ---- answers and the waitlist ----------------------------------------------------------------------

def seats_taken(event_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Attendee).where(
        Attendee.event_id == event_id, Attendee.status == AttendeeStatus.going)) or 0


def waitlist_position(attendee: Attendee) -> int | None:
    """1 for the next to be promoted; None when not waitlisted."""
    if attendee.status is not AttendeeStatus.waitlisted:
        return None
    ahead = db.session.scalar(select(func.count()).select_from(Attendee).where(
        Attendee.event_id == attendee.event_id, Attendee.status == AttendeeStatus.waitlisted,
        (Attendee.queue_no < attendee.queue_no) | ((Attendee.queue_no == attendee.queue_no) & (Attendee.id < attendee.id))))
    return (ahead or 0) + 1


def _seat(attendee: Attendee) -> None:
    attendee.status, attendee.queue_no = AttendeeStatus.going, None
    if attendee.check_in_code is None:
        attendee.check_in_code = new_code()  # unique per event (a constraint); 31^8 makes a clash a 409 in 10^12


def _stakeholder_of(attendee: Attendee, brand_id: int) -> Stakeholder | None:
    if attendee.account_id is not None:
        return records.member_record(brand_id, attendee.account_id)
    guest = db.session.get(EventGuest, attendee.guest_id)
    return db.session.get(Stakeholder, guest.stakeholder_id) if guest and guest.stakeholder_id else None


def _record_answer(attendee: Attendee, space: Space) -> None:
    brand_id = brand_of_space(space)
    stakeholder = _stakeholder_of(attendee, brand_id)
    if stakeholder is not None and stakeholder.erased_at is None:
        records.record_answer(brand_id, space.purpose_id, attendee.event_id, stakeholder.id)


def promote(event: Event, space: Space) -> list[Attendee]:
    """Seat the waitlist, first in line first, while seats are free (the event's lock is held)."""
    if event.status is EventStatus.cancelled:
        return []
    free = None if event.capacity is None else event.capacity - seats_taken(event.id)
    stmt = select(Attendee).where(Attendee.event_id == event.id, Attendee.status == AttendeeStatus.waitlisted).order_by(
        Attendee.queue_no, Attendee.id)
    if free is not None:
        if free <= 0:
            return []
        stmt = stmt.limit(free)
    promoted = list(db.session.scalars(stmt))
    for attendee in promoted:
        _seat(attendee)
        attendee.responded_at = utcnow()
    db.session.flush()
    for attendee in promoted:
        _record_answer(attendee, space)
    notices.tell_seated(event, space, promoted)
    return promoted


def answer(event: Event, space: Space, attendee: Attendee | None, status: AttendeeStatus, *, account_id=None,
           guest_id=None, recorded: bool = False) -> Attendee:
    """Record an answer under the event's lock: "going" takes a seat or a place in the waitlist.
    ``recorded``: the caller has recorded the answer's touchpoint already (before taking the lock)."""
    if event.status is EventStatus.cancelled:
        raise conflict("The event is cancelled.", "event-cancelled")
    if event.ends_at <= utcnow():
        raise conflict("The event is over.", "event-over")
    taken = seats_taken(event.id)  # before a new row could be flushed and counted
    if attendee is None:
        attendee = Attendee(event_id=event.id, account_id=account_id, guest_id=guest_id, status=status)
        db.session.add(attendee)
        previous = None
    else:
        previous = attendee.status
    if status is AttendeeStatus.going and previous in (AttendeeStatus.going, AttendeeStatus.waitlisted):
        return attendee  # asked again: keeps the seat, or the place in line
    attendee.responded_at = utcnow()
    if status is AttendeeStatus.going:
        full = event.capacity is not None and taken >= event.capacity
        if full:
            last = db.session.scalar(select(func.max(Attendee.queue_no)).where(Attendee.event_id == event.id)) or 0
            attendee.status, attendee.queue_no = AttendeeStatus.waitlisted, last + 1
        else:
            _seat(attendee)
    else:
        attendee.status, attendee.queue_no = status, None
    db.session.flush()
    if not recorded:
        _record_answer(attendee, space)
    if previous is AttendeeStatus.going and status is not AttendeeStatus.going:
        promote(event, space)
    return attendee


def do_answer(account: Account, event_id: int, status: AttendeeStatus) -> Attendee:
    """A member's answer (members of the event's space, its brand's managers and admins).

    The checks and the member's stakeholder record come first; the event's lock is taken only for
    the seats, so answers to one event wait for each other as briefly as possible."""
    event, space = visible_event(account, event_id)
    if not can_manage(account, space):
        require_member(account, space)
    brand_id = brand_of_space(space)
    stakeholder = records.member_record(brand_id, account.id)
    if stakeholder.erased_at is None:
        records.record_answer(brand_id, space.purpose_id, event.id, stakeholder.id)
    event = locked_event(event.id)
    if event is None:  # deleted with its space meanwhile
        raise not_found("event")
    mine = db.session.scalar(select(Attendee).where(Attendee.event_id == event.id, Attendee.account_id == account.id))
    return answer(event, space, mine, status, account_id=account.id, recorded=True)


def my_answer(account: Account, event_id: int) -> Attendee:
    event, _space = visible_event(account, event_id)
    mine = db.session.scalar(select(Attendee).where(Attendee.event_id == event.id, Attendee.account_id == account.id))
    if mine is None:
        raise not_found("answer")
    return mine


def remove_attendee(attendee: Attendee) -> None:
    """Delete an answer (erasure), seating the next in line when it held a seat."""
    event = locked_event(attendee.event_id)
    held = attendee.status is AttendeeStatus.going
    db.session.delete(attendee)
    db.session.flush()
    if held and event is not None:
        promote(event, space_of(event))


# ---- check-in --------------------------------------------------------------------------------------

def do_check_in(account: Account, event_id: int, code: str) -> Attendee:
    """Use a check-in code (the brand's managers and admins): once only, and only a seated person's."""
    event, space = visible_event(account, event_id)
    require_manager(account, space)
    if event.status is EventStatus.cancelled:
        raise conflict("The event is cancelled.", "event-cancelled")
    code, now = normalise_code(code), utcnow()
    used = db.session.execute(  # conditional: of two uses of one code at once, one checks in
        db.update(Attendee).where(Attendee.event_id == event.id, Attendee.check_in_code == code,
                                  Attendee.status == AttendeeStatus.going, Attendee.checked_in_at.is_(None))
        .values(checked_in_at=now).execution_options(synchronize_session=False)).rowcount
    attendee = db.session.scalar(select(Attendee).where(Attendee.event_id == event.id, Attendee.check_in_code == code)
                                 .execution_options(populate_existing=True))
    if attendee is None or attendee.status is not AttendeeStatus.going:
        raise ApiError(404, "No one holding a seat at this event has this code.", type_="unknown-check-in-code")
    if not used:
        raise conflict("This code was used already.", "already-checked-in")
    brand_id = brand_of_space(space)
    stakeholder = _stakeholder_of(attendee, brand_id)
    if stakeholder is not None and stakeholder.erased_at is None:
        records.record_attendance(brand_id, space.purpose_id, event.id, stakeholder, now)
    return attendee
