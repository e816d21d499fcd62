"""Events of a space, the people who answered (members and guests), and the guests invited by e-mail."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db, string_enum, utcnow


class EventMode(str, enum.Enum):
    online = "online"  # has a URL
    in_person = "in_person"  # has a location


class EventStatus(str, enum.Enum):
    scheduled = "scheduled"
    cancelled = "cancelled"  # kept (calendars show it as cancelled); no more answers


class AttendeeStatus(str, enum.Enum):
    going = "going"  # holds a seat and a check-in code
    waitlisted = "waitlisted"  # asked for "going" when the event was full; promoted in queue order
    maybe = "maybe"
    declined = "declined"


class Event(db.Model):
    """One event of a space. Answers to it take this row's lock (``SELECT ... FOR UPDATE``)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_space_start", "space_id", "starts_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[EventMode] = mapped_column(string_enum(EventMode))
    location: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(500))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    #: The IANA zone the event is held in (``Europe/Paris``): calendars show its times in it.
    time_zone: Mapped[str] = mapped_column(String(64))
    #: Seats for "going"; None: no limit.
    capacity: Mapped[int | None]
    status: Mapped[EventStatus] = mapped_column(string_enum(EventStatus), default=EventStatus.scheduled)
    #: iCalendar SEQUENCE: raised by every edit and the cancellation, so calendars take the newest.
    sequence: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventGuest(db.Model):
    """A person without an account whom a member invited by e-mail; they answer through a signed link."""

    __tablename__ = "event_guests"
    __table_args__ = (
        UniqueConstraint("event_id", "email_hash", name="uq_event_guests_event_email"),
        Index("ix_event_guests_inviter_time", "invited_by", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    email_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(120))
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    #: The brand's record of the guest (a nonuser stakeholder, found by email hash or made on invitation).
    stakeholder_id: Mapped[int | None] = mapped_column(ForeignKey("stakeholders.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The account the guest registered later with the invited address: their answer moved to it
    #: (``events.guests.link_registered_guest``) and the link no longer works.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))


class Attendee(db.Model):
    """One person's answer to an event: a member (``account_id``) or a guest (``guest_id``)."""

    __tablename__ = "event_attendees"
    __table_args__ = (
        UniqueConstraint("event_id", "account_id", name="uq_event_attendees_event_account"),
        UniqueConstraint("event_id", "guest_id", name="uq_event_attendees_event_guest"),
        UniqueConstraint("event_id", "check_in_code", name="uq_event_attendees_event_code"),
        Index("ix_event_attendees_event_status", "event_id", "status", "queue_no"),
        CheckConstraint("(account_id IS NULL) <> (guest_id IS NULL)", name="one_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    guest_id: Mapped[int | None] = mapped_column(ForeignKey("event_guests.id", ondelete="CASCADE"))
    status: Mapped[AttendeeStatus] = mapped_column(string_enum(AttendeeStatus))
    #: Place in the waitlist (the event's next number when the person was waitlisted); lower goes first.
    queue_no: Mapped[int | None]
    #: One-time code shown at the door (given with a seat); single use, checked by the brand's managers.
    check_in_code: Mapped[str | None] = mapped_column(String(16))
    checked_in_at: Mapped[datetime | None]
    responded_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the reminder before the event went to this person (events/reminders.py): set by the
    #: conditional UPDATE that claims it, so a re-run or a second worker never reminds twice; cleared
    #: when the event moves to another start time.
    reminded_at: Mapped[datetime | None]


class CalendarFeed(db.Model):
    """A member's personal, signed address of a space's calendar feed (events/feeds.py): at most one per
    member and space; the link names ``nonce``, so a new one (rotation) or none (revocation) stops the old."""

    __tablename__ = "event_calendar_feeds"
    __table_args__ = (UniqueConstraint("account_id", "space_id", name="uq_event_calendar_feeds_account_space"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
