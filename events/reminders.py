"""Reminders before an event: ``EVENT_REMINDER_HOURS`` (24) before it starts, everyone going is told once.

The sweep (:func:`send_reminders`) takes the scheduled events that start within the next
``EVENT_REMINDER_HOURS`` and still have someone going who was not reminded, and for each one:

1. takes the event's lock (so a cancellation or a second sweep waits), checks it is still scheduled and
   not started, and *claims* its unreminded seats: ``UPDATE event_attendees SET reminded_at = :now WHERE
   event_id = :e AND status = 'going' AND reminded_at IS NULL RETURNING ...``;
2. tells the members among them (notification kind ``event_reminder``: one ``notify_each`` ``INSERT ...
   SELECT``) in the same transaction, and commits: a member's claim and notice are stored together, so a
   re-run or a second worker (its UPDATE finds ``reminded_at`` set) never tells anyone twice;
3. e-mails the guests among them with no transaction open (their signed link in it), and gives back the
   claims of the messages the SMTP server did not accept, so the next sweep tries those again. A guest is
   e-mailed twice only if a worker dies between the server's acceptance and that; never, if it dies after
   the claim and before the send (then that guest is not reminded).

Declined, maybe and waitlisted answers, cancelled events and events already started get no reminder; a
waitlisted person seated inside the window is reminded by the next sweep. Moving an event's start clears
its claims (events/service.py), so people are reminded before the new time.

Runs from the Celery task ``events.send_reminders`` on Celery beat every ``EVENT_REMINDER_INTERVAL_SECONDS``
(900), from a background task in embedded mode (``python app.py``), and from ``flask send-event-reminders``
(safe beside both).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from celery import shared_task
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import exists, select, update

from community.notifications import service as notifications
from core.extensions import db, utcnow
from core.schedule import every
from events import notices
from events.models import Attendee, AttendeeStatus, Event, EventStatus
from events.service import locked_event, space_of


def due_events(now: datetime) -> list[int]:
    """Scheduled events starting within ``EVENT_REMINDER_HOURS`` with someone going not yet reminded."""
    horizon = now + timedelta(hours=current_app.config["EVENT_REMINDER_HOURS"])
    pending = exists().where(Attendee.event_id == Event.id, Attendee.status == AttendeeStatus.going,
                             Attendee.reminded_at.is_(None))
    return list(db.session.scalars(select(Event.id).where(
        Event.status == EventStatus.scheduled, Event.starts_at > now, Event.starts_at <= horizon, pending,
    ).order_by(Event.starts_at, Event.id)))


def send_reminders(now: datetime | None = None) -> dict:
    """Remind those going to the events due at ``now`` (default: the time); returns how many members were
    notified and how many guests e-mailed."""
    now = now or utcnow()
    told = {"members": 0, "guests": 0}
    for event_id in due_events(now):
        members, guests = remind_event(event_id, now)
        told["members"] += members
        told["guests"] += guests
    db.session.commit()
    return told


def remind_event(event_id: int, now: datetime) -> tuple[int, int]:
    """Claim, tell and commit one event's reminders, then e-mail its guests."""
    event = locked_event(event_id)
    if event is None or event.status is not EventStatus.scheduled or event.starts_at <= now:
        db.session.commit()
        return 0, 0
    claimed = db.session.execute(update(Attendee).where(
        Attendee.event_id == event.id, Attendee.status == AttendeeStatus.going, Attendee.reminded_at.is_(None),
    ).values(reminded_at=now).returning(Attendee.id, Attendee.account_id, Attendee.guest_id)
        .execution_options(synchronize_session=False)).all()
    member_rows = [i for i, account_id, _g in claimed if account_id is not None]
    guest_rows = [i for i, _a, guest_id in claimed if guest_id is not None]
    members = 0
    if member_rows:
        members = notifications.notify_each(
            select(Attendee.account_id).where(Attendee.id.in_(member_rows)), notices.EVENT_REMINDER,
            space=space_of(event), data=notices.event_data(event))
    mails = notices.guest_mails(notices.guests_of(Attendee.id.in_(guest_rows)), f"Reminder: {event.title}",
                                "A reminder: you are going to", event) if guest_rows else []
    db.session.commit()  # claims and notices together; no transaction open while the SMTP server answers
    accepted = notices.send_now(mails)
    refused = [m.attendee_id for m in mails if m.attendee_id not in accepted]
    if refused:  # the next sweep tries these again
        db.session.execute(update(Attendee).where(Attendee.id.in_(refused), Attendee.reminded_at == now)
                           .values(reminded_at=None).execution_options(synchronize_session=False))
        db.session.commit()
    return members, len(accepted)


@shared_task(name="events.send_reminders", acks_late=True)
def send_reminders_task() -> dict:
    return send_reminders()


def run_embedded(app) -> None:
    """Embedded mode (no worker, no beat): a background task sweeps every ``EVENT_REMINDER_INTERVAL_SECONDS``."""
    every(app, "EVENT_REMINDER_INTERVAL_SECONDS", send_reminders, "The event reminder sweep")


@click.command("send-event-reminders")
@with_appcontext
def send_reminders_command() -> None:
    """Remind those going to events that start within EVENT_REMINDER_HOURS (safe beside workers and beat)."""
    told = send_reminders()
    click.echo(f"reminded {told['members']} member(s) and e-mailed {told['guests']} guest(s)")
