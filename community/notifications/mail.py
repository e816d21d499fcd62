"""Notification e-mail: a mention or reply (or, for those who asked, everything they watch)
still unread ``NOTIFICATION_EMAIL_DELAY_SECONDS`` after it happened is e-mailed once.

Delivery is a sweep (:func:`send_due`), run by the Celery task ``notifications.send_due``
(nudged after the commit of each notification that may need mail, ``countdown`` = the delay),
on a background task in embedded mode, and by ``flask send-notification-emails``. It is safe
to run any number at once and idempotent:

1. *claim*: one conditional ``UPDATE ... SET email_claimed_at = now WHERE emailed_at IS NULL AND
   read_at IS NULL AND (email_claimed_at IS NULL OR email_claimed_at < now - lease)``, committed.
   Two sweeps never claim the same row while a claim is fresh (PostgreSQL re-checks the
   condition on the locked row; SQLite has one writer);
2. *send*, with no transaction open, then *mark* ``emailed_at`` in a second conditional UPDATE.

So a message is sent at least once, and twice only when a worker dies (or the database
refuses the mark) after the SMTP server accepted it and before the mark committed; another
sweep then sends it again once the lease has run out. A notification read before its claim
is never mailed; settings that say no mark it ``emailed_at`` without sending.

Each message is multipart (text and HTML) with RFC 8058 one-click unsubscribe headers
(``List-Unsubscribe`` with a signed link, ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``);
the link's POST sets the member's e-mail setting to ``none``.
"""

from __future__ import annotations

import logging
import smtplib
import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape

import click
from celery import shared_task
from flask import current_app
from flask.cli import with_appcontext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, or_, select, update

from community.models import EmailLevel, Notification, NotificationSettings, Space, Thread
from community.notifications import kinds
from core import mail
from core.accounts import Account
from core.extensions import db, socketio, utcnow
from purpose.models import ContactPreference, Purpose, Stakeholder

log = logging.getLogger(__name__)
N = Notification.__table__
BATCH = 200

#: The default e-mail setting for a member's declared relationship style (purpose/relationship.py).
STYLE_DEFAULTS = {
    ContactPreference.none: EmailLevel.none,
    ContactPreference.fling: EmailLevel.none,
    ContactPreference.friendship: EmailLevel.mentions_replies,
    ContactPreference.marriage: EmailLevel.all,
}
DEFAULT = EmailLevel.mentions_replies


def _mailed_kinds(level: EmailLevel) -> set[str]:
    wanted = {EmailLevel.none: set(), EmailLevel.mentions_replies: {"mentions_replies"},
              EmailLevel.all: {"mentions_replies", "all"}}[level]
    return {k.name for k in kinds.kinds().values() if k.email in wanted}


def _maybe_mailed() -> list[str]:
    return [k.name for k in kinds.kinds().values() if k.email is not None]


def email_level(account_id: int, space_id: int | None = None) -> EmailLevel:
    """The member's own setting; else the default for the style they declared to the space's brand
    (or to any brand, the deepest); else mentions and replies."""
    settings = db.session.get(NotificationSettings, account_id)
    if settings is not None and settings.email is not None:
        return settings.email
    if space_id is not None:
        brand = select(Purpose.brand_id).join(Space, Space.purpose_id == Purpose.id).where(Space.id == space_id).scalar_subquery()
        stmt = select(Stakeholder.contact_preference).where(
            Stakeholder.account_id == account_id, Stakeholder.contact_preference.is_not(None), Stakeholder.brand_id == brand)
    else:
        stmt = select(Stakeholder.contact_preference).where(
            Stakeholder.account_id == account_id, Stakeholder.contact_preference.is_not(None))
    styles = list(db.session.scalars(stmt))
    if not styles:
        return DEFAULT
    order = list(ContactPreference)
    return STYLE_DEFAULTS[max(styles, key=order.index)]


def set_email_level(account: Account, level: EmailLevel | None) -> None:
    settings = db.session.get(NotificationSettings, account.id)
    if settings is None:
        settings = NotificationSettings(account_id=account.id)
        db.session.add(settings)
    settings.email, settings.updated_at = level, utcnow()


# Unsubscribe tokens ----------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="notification-unsubscribe")


def unsubscribe_token(account_id: int) -> str:
    return _serializer().dumps({"a": account_id})


def account_of_token(token: str) -> int | None:
    try:
        return int(_serializer().loads(token)["a"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def unsubscribe_url(account_id: int) -> str:
    return f"{current_app.config['PUBLIC_URL']}/api/v1/notifications/unsubscribe?token={unsubscribe_token(account_id)}"


# Messages -----------------------------------------------------------------------------------


def build(notification: Notification, recipient: Account) -> EmailMessage:
    cfg = current_app.config
    actor = notification.actor
    summary = kinds.kind(notification.kind).summary({
        "actor_handle": actor.handle if actor else None, "count": notification.count, "data": notification.data})
    thread = db.session.get(Thread, notification.thread_id) if notification.thread_id else None
    link = f"{cfg['PUBLIC_URL']}/client/#/threads/{thread.id}" if thread else cfg["PUBLIC_URL"]
    about = f" in \u201c{thread.title}\u201d" if thread else ""
    unsubscribe = unsubscribe_url(recipient.id)
    text = (f"Hello {recipient.display_name},\n\n{summary}{about}.\n\nRead it: {link}\n\n"
            f"You get these e-mails for mentions and replies you have not read. "
            f"Change that in your notification settings, or stop all of them: {unsubscribe}\n")
    message = EmailMessage()
    message["From"], message["To"] = cfg["MAIL_FROM"], recipient.email
    message["Subject"] = f"{summary}{about}"
    message["Message-ID"] = make_msgid(domain=cfg["MAIL_FROM"].rpartition("@")[2].strip("> ") or None)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(
        f"<p>Hello {escape(recipient.display_name)},</p><p>{escape(summary)}{escape(about)}.</p>"
        f"<p><a href=\"{escape(link)}\">Read it</a></p>"
        f"<p style=\"font-size: small\">You get these e-mails for mentions and replies you have not read. "
        f"<a href=\"{escape(unsubscribe)}\">Stop all notification e-mails</a>.</p>", subtype="html")
    return message


# The sweep ----------------------------------------------------------------------------------


def _claim(now, batch: int) -> list[int]:
    cfg = current_app.config
    due = now - timedelta(seconds=cfg["NOTIFICATION_EMAIL_DELAY_SECONDS"])
    stale = now - timedelta(seconds=cfg["NOTIFICATION_EMAIL_LEASE_SECONDS"])
    claimable = and_(N.c.emailed_at.is_(None), N.c.read_at.is_(None),
                     or_(N.c.email_claimed_at.is_(None), N.c.email_claimed_at < stale))
    candidates = (select(N.c.id).where(claimable, N.c.created_at <= due, N.c.kind.in_(_maybe_mailed()))
                  .order_by(N.c.id).limit(batch))
    ids = list(db.session.scalars(update(N).where(N.c.id.in_(candidates), claimable)
                                  .values(email_claimed_at=now).returning(N.c.id)))
    db.session.commit()
    return sorted(ids)


def send_due(*, batch: int = BATCH) -> int:
    """Claim, send and mark due notification e-mails until none is left; returns how many were sent."""
    sent = 0
    cfg = current_app.config
    while ids := _claim(utcnow(), batch):
        for notification in db.session.scalars(select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)):
            recipient = db.session.get(Account, notification.recipient_id)
            wanted = recipient is not None and recipient.is_active and \
                notification.kind in _mailed_kinds(email_level(recipient.id, notification.space_id))
            message = build(notification, recipient) if wanted else None
            db.session.commit()  # no transaction open while the SMTP server answers
            if message is not None:
                if not _deliver(message, cfg):
                    continue  # the claim runs out and a later sweep tries again
                sent += 1
            db.session.execute(update(N).where(N.c.id == notification.id, N.c.emailed_at.is_(None))
                               .values(emailed_at=utcnow()))
            db.session.commit()
        if len(ids) < batch:
            break
    return sent


def _deliver(message: EmailMessage, cfg) -> bool:
    if not cfg["SMTP_URL"]:
        log.warning("SMTP_URL is not set; a notification e-mail to %s is logged instead of sent:\n%s", message["To"], message)
        return True
    try:
        mail.deliver(mail.parse_smtp_url(cfg["SMTP_URL"]), message, timeout=cfg["SMTP_TIMEOUT_SECONDS"])
        return True
    except (OSError, smtplib.SMTPException):
        log.exception("Could not send a notification e-mail to %s", message["To"])
        return False


@shared_task(name="notifications.send_due", acks_late=True)
def send_due_task() -> int:
    return send_due()


_scheduled: set[tuple[int, int]] = set()  # (app, 10-second slot) with a sweep already planned in this process


def nudge(app) -> None:
    """After a commit that wrote a notification that may be mailed: sweep once it is due (one
    sweep per 10-second slot and process; a sweep sends everything due by then)."""
    if not app.config["NOTIFICATION_EMAIL_NUDGE"]:
        return
    delay = app.config["NOTIFICATION_EMAIL_DELAY_SECONDS"]
    if delay >= 60:  # coalesce: one sweep at the end of each 10-second slot
        slot = (id(app), int(time.time() + delay) // 10)
        if slot in _scheduled:
            return
        _scheduled.add(slot)
        delay = slot[1] * 10 + 10 - time.time()
    if app.config.get("REDIS_URL"):
        send_due_task.apply_async(countdown=delay + 1)
    else:  # embedded: a background task waits, then sweeps in its own app context
        socketio.start_background_task(_sweep_later, app, delay)


def _sweep_later(app, delay: float) -> None:
    socketio.sleep(max(0.0, delay))
    with app.app_context():
        try:
            send_due()
        except Exception:
            log.exception("The notification e-mail sweep failed; the next one retries")
        finally:
            db.session.remove()


@click.command("send-notification-emails")
@with_appcontext
def send_notification_emails_command() -> None:
    """Send the notification e-mails that are due (safe beside running workers)."""
    click.echo(f"sent {send_due()} notification e-mail(s)")
