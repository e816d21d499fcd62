"""What events tell people: reminders, a seat from the waitlist, a cancellation.

Members get a notification (``community.notifications``; kinds registered by ``init_events``), written by
``notify_each`` in the cause's transaction as one ``INSERT ... SELECT`` with ``notify``'s rules (a member
who muted the space or can no longer see it is not told). Guests (no account) get an e-mail through the
path of their invitation (``core.mail``), with their signed link; after the commit, on a background task,
over one SMTP connection. The reminder sweep (events/reminders.py) sends its guests' e-mails itself,
with :func:`send_now`, to learn which the server accepted.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from community.models import Space
from community.notifications import service as notifications
from community.notifications.kinds import register_kind
from core import mail
from core.accounts import Account
from core.extensions import db, socketio
from core.outbox import on_commit
from events.links import event_summary, guest_link
from events.models import Attendee, AttendeeStatus, Event, EventGuest

log = logging.getLogger(__name__)

EVENT_REMINDER = "event_reminder"
EVENT_SEAT = "event_seat"
EVENT_CANCELLED = "event_cancelled"
#: Who hears of a cancellation: everyone who had not declined.
ANSWERED = (AttendeeStatus.going, AttendeeStatus.maybe, AttendeeStatus.waitlisted)


def _title(n: dict) -> str:
    return (n.get("data") or {}).get("title") or "an event"


def reminder_summary(n: dict) -> str:
    return f"Reminder: {_title(n)} starts soon"


def seat_summary(n: dict) -> str:
    return f"A seat freed up: you are going to {_title(n)}"


def cancelled_summary(n: dict) -> str:
    return f"{_title(n)} is cancelled"


def register_notification_kinds() -> None:
    """Called by ``init_events`` (idempotent). E-mailed at ``mentions_replies`` and ``all``: each concerns
    the member's own answer."""
    register_kind(EVENT_REMINDER, reminder_summary, email="mentions_replies")
    register_kind(EVENT_SEAT, seat_summary, email="mentions_replies")
    register_kind(EVENT_CANCELLED, cancelled_summary, email="mentions_replies")


def event_data(event: Event) -> dict:
    return {"event_id": event.id, "title": event.title, "starts_at": event.starts_at.isoformat(),
            "time_zone": event.time_zone}


@dataclass(frozen=True)
class GuestMail:
    attendee_id: int
    to: str
    subject: str
    text: str


def guest_mails(rows, subject: str, opening: str, event: Event) -> list[GuestMail]:
    """One e-mail per ``(attendee id, EventGuest)``: ``opening``, the event, and the guest's own link."""
    summary = event_summary(event)
    return [GuestMail(attendee_id, guest.email, subject,
                      f"Hello{' ' + guest.name if guest.name else ''},\n\n{opening}\n\n{summary}\n\nYour answer and, with "
                      f"a seat, your check-in code are at your link (no account needed):\n\n{guest_link(guest)}\n")
            for attendee_id, guest in rows]


def guests_of(where) -> list[tuple[int, EventGuest]]:
    """Guests (still without an account) of the answers ``where`` selects, with their answer's id."""
    return list(db.session.execute(select(Attendee.id, EventGuest).join(EventGuest, EventGuest.id == Attendee.guest_id)
                                   .where(where, EventGuest.account_id.is_(None)).order_by(Attendee.id)).all())


def tell_seated(event: Event, space: Space, seated: list[Attendee]) -> None:
    """Those the waitlist just seated (``events.service.promote``): a notice to members, an e-mail to guests."""
    ids = [a.id for a in seated]
    if not ids:
        return
    members = select(Attendee.account_id).where(Attendee.id.in_(ids), Attendee.account_id.is_not(None))
    notifications.notify_each(members, EVENT_SEAT, space=space, data=event_data(event))
    rows = guests_of(Attendee.id.in_(ids))
    if rows:
        on_commit(send_later, guest_mails(rows, f"You have a seat: {event.title}",
                                          "A seat freed up: you were next on the waitlist, and you are now going to", event))


def tell_cancelled(event: Event, space: Space, actor: Account) -> None:
    """Everyone going, maybe going or waitlisted, except the manager who cancelled."""
    answered = (Attendee.event_id == event.id) & Attendee.status.in_(ANSWERED)
    members = select(Attendee.account_id).where(answered, Attendee.account_id.is_not(None), Attendee.account_id != actor.id)
    notifications.notify_each(members, EVENT_CANCELLED, space=space, data=event_data(event))
    rows = guests_of(answered)
    if rows:
        on_commit(send_later, guest_mails(rows, f"Cancelled: {event.title}", "This event is cancelled:", event))


def send_later(mails: list[GuestMail]) -> None:
    """After the commit: the e-mails on a background task (logged instead without ``SMTP_URL``)."""
    socketio.start_background_task(_send_logged, current_app._get_current_object(), mails)


def _send_logged(app, mails: list[GuestMail]) -> None:
    with app.app_context():
        send_now(mails)


def send_now(mails: list[GuestMail]) -> set[int]:
    """Hand ``mails`` to the SMTP server over one connection (no transaction should be open); returns the
    attendee ids whose e-mail it accepted. Without ``SMTP_URL`` each is logged, and counts as sent."""
    cfg = current_app.config
    if not mails:
        return set()
    messages = [(m.attendee_id, mail.build_message(sender=cfg["MAIL_FROM"], to=m.to, subject=m.subject, text=m.text))
                for m in mails]
    if not cfg["SMTP_URL"]:
        for _id, message in messages:
            log.warning("SMTP_URL is not set; the e-mail is logged instead of sent:\n%s", message)
        return {i for i, _m in messages}
    accepted: set[int] = set()
    try:
        with mail.connect(mail.parse_smtp_url(cfg["SMTP_URL"]), timeout=cfg["SMTP_TIMEOUT_SECONDS"]) as smtp:
            for attendee_id, message in messages:
                try:
                    smtp.send_message(message)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError):
                    log.exception("The SMTP server refused the e-mail to %s (%s)", message["To"], message["Subject"])
                    continue
                accepted.add(attendee_id)
    except (OSError, smtplib.SMTPException):
        log.exception("Could not send event e-mails to guests")
    return accepted
