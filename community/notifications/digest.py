"""Digest e-mails: daily or weekly, at a local hour, listing what a member missed.

A digest lists the member's unread notifications that were not e-mailed on their own
(``emailed_at`` NULL) and came after the last digest's cut-off (``last_digest_at``), of spaces
they may still see; nothing to list, no digest. Frequency (``notification_settings.digest``):
the member's own choice; else ``none`` if they turned notification e-mail off (``email`` =
``none``, which the one-click unsubscribe sets); else their relationship style's default: ``fling``
weekly, ``none`` none, ``friendship``/``marriage`` (or no declared style) daily. It goes out at
``digest_hour`` (default ``NOTIFICATION_DIGEST_HOUR``, 8) in the member's ``timezone`` (IANA;
default UTC): daily every day, weekly on Mondays.

The sweep (:func:`send_digests`) walks the members with something to list in batches, by id:

1. *claim*: for each member due (the period's local hour has passed, by less than
   ``NOTIFICATION_DIGEST_WINDOW_HOURS``, and its key, the period's local date, is not the last one
   sent), one conditional ``UPDATE notification_settings SET digest_claim = key, digest_claimed_at =
   now WHERE digest_period IS DISTINCT FROM key AND (digest_claimed_at IS NULL OR digest_claimed_at
   < now - lease)`` per key and batch, committed (members without a settings row get one first);
2. *send* the batch's messages over one SMTP connection, with no transaction open;
3. *mark* those sent: ``digest_period = key, last_digest_at = the claim's time, digest_claimed_at =
   NULL WHERE digest_claim = key AND digest_claimed_at = the claim's time``.

So each period is sent at most once per member while claims are fresh, and at least once:
twice only if a worker dies (or the mark fails) after the SMTP server accepted the batch's
messages and before the mark committed, and then only once the lease ran out and within the
period's window. A period missed entirely (no sweep for WINDOW hours) is skipped; its news is
in the next one, since the cut-off only moves when a digest is sent.

Runs from the Celery task ``notifications.send_digests`` (on Celery beat every
``NOTIFICATION_DIGEST_INTERVAL_SECONDS``: ``celery -A worker:celery_app beat``), from a background
task in embedded mode (``python app.py``), and from ``flask send-digests`` (safe beside them).
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from binascii import b2a_qp
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from html import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from celery import shared_task
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import and_, exists, or_, select, update

from community.models import DigestFrequency, EmailLevel, Notification, NotificationSettings, Thread
from community.notifications import kinds
from community.notifications.mail import unsubscribe_url
from community.notifications.service import visible_clause
from core import mail
from core.accounts import Account, AccountStatus
from core.extensions import db, utcnow
from core.schedule import every
from purpose.models import ContactPreference, Stakeholder

log = logging.getLogger(__name__)
N = Notification.__table__
S = NotificationSettings.__table__
A = Account.__table__
BATCH = 500
MAX_ITEMS = 20  # listed in one digest; the rest are counted

STYLE_DEFAULTS = {
    ContactPreference.none: DigestFrequency.none,
    ContactPreference.fling: DigestFrequency.weekly,
    ContactPreference.friendship: DigestFrequency.daily,
    ContactPreference.marriage: DigestFrequency.daily,
}
DEFAULT = DigestFrequency.daily


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
        return "/" in name or name == "UTC"
    except (ZoneInfoNotFoundError, ValueError):
        return False


def _deepest(styles) -> ContactPreference | None:
    order = list(ContactPreference)
    styles = [ContactPreference(s) for s in styles]
    return max(styles, key=order.index) if styles else None


def effective(digest: DigestFrequency | str | None, email: EmailLevel | str | None,
              style: ContactPreference | None) -> DigestFrequency:
    """The frequency in effect: the member's own; none if they turned e-mail off; else their style's default."""
    if digest is not None:
        return DigestFrequency(digest)
    if email is not None and EmailLevel(email) is EmailLevel.none:
        return DigestFrequency.none
    return STYLE_DEFAULTS[style] if style is not None else DEFAULT


def _styles(account_ids) -> dict[int, ContactPreference]:
    found: dict[int, list] = defaultdict(list)
    for account_id, style in db.session.execute(select(Stakeholder.account_id, Stakeholder.contact_preference).where(
            Stakeholder.account_id.in_(account_ids), Stakeholder.contact_preference.is_not(None))):
        found[account_id].append(style)
    return {a: _deepest(s) for a, s in found.items()}


def effective_for(account_id: int) -> DigestFrequency:
    settings = db.session.get(NotificationSettings, account_id)
    return effective(settings.digest if settings else None, settings.email if settings else None,
                     _styles([account_id]).get(account_id))


def period(now: datetime, frequency: DigestFrequency, zone_name: str | None, hour: int) -> tuple[str, datetime]:
    """The latest period that has begun at ``now``: its key (the local date it began) and its start in UTC."""
    local = now.astimezone(zone(zone_name))
    start = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if frequency is DigestFrequency.weekly:
        start -= timedelta(days=local.weekday())  # Monday
        if start > local:
            start -= timedelta(days=7)
    elif start > local:
        start -= timedelta(days=1)
    start = start.replace(tzinfo=local.tzinfo)  # wall-clock arithmetic, then the zone's offset on that day
    return start.date().isoformat(), start.astimezone(timezone.utc)


def save_settings(account: Account, **fields) -> NotificationSettings:
    """Change some of the member's notification settings, made when missing: the digest's (``digest``,
    ``timezone``, ``digest_hour``) and the push settings' (``push``, ``quiet_start``, ``quiet_end``)."""
    settings = db.session.get(NotificationSettings, account.id)
    if settings is None:
        settings = NotificationSettings(account_id=account.id)
        db.session.add(settings)
    for name, value in fields.items():
        setattr(settings, name, value)
    settings.updated_at = utcnow()
    return settings


# The sweep -----------------------------------------------------------------------------------


def _pending(account_id_col, cut_off_col, now):
    """SQL: the account has an unread, un-mailed notification after its cut-off (and by ``now``)."""
    return exists().where(N.c.recipient_id == account_id_col, N.c.read_at.is_(None), N.c.emailed_at.is_(None),
                          N.c.created_at <= now, or_(cut_off_col.is_(None), N.c.created_at > cut_off_col))


def _candidates(after: int, batch: int, now):
    return db.session.execute(
        select(A.c.id, S.c.digest, S.c.email, S.c.timezone, S.c.digest_hour, S.c.digest_period)
        .select_from(A.outerjoin(S, S.c.account_id == A.c.id))
        .where(A.c.id > after, A.c.status == AccountStatus.active.value, _pending(A.c.id, S.c.last_digest_at, now))
        .order_by(A.c.id).limit(batch)).all()


def _claim(now, due: dict[str, list[int]]) -> dict[int, str]:
    """Claim the due members' periods (committed); returns account id -> period key for those won."""
    cfg = current_app.config
    stale = now - timedelta(seconds=cfg["NOTIFICATION_DIGEST_LEASE_SECONDS"])
    everyone = [a for ids in due.values() for a in ids]
    present = set(db.session.scalars(select(S.c.account_id).where(S.c.account_id.in_(everyone))))
    missing = [a for a in everyone if a not in present]
    if missing:  # a row of defaults (NULLs) to hold the claim; a concurrent sweep may add the same
        from community.notifications.service import _dialect_insert

        db.session.execute(_dialect_insert(S).values([{"account_id": a, "updated_at": now} for a in missing])
                           .on_conflict_do_nothing(index_elements=["account_id"]))
    won: dict[int, str] = {}
    for key, ids in due.items():
        free = and_(S.c.account_id.in_(ids), or_(S.c.digest_period.is_(None), S.c.digest_period != key),
                    or_(S.c.digest_claimed_at.is_(None), S.c.digest_claimed_at < stale))
        for account_id in db.session.scalars(update(S).where(free).values(digest_claim=key, digest_claimed_at=now)
                                             .returning(S.c.account_id)):
            won[account_id] = key
    db.session.commit()
    return won


def _mark(now, won: dict[int, str]) -> None:
    by_key: dict[str, list[int]] = defaultdict(list)
    for account_id, key in won.items():
        by_key[key].append(account_id)
    for key, ids in by_key.items():
        db.session.execute(update(S).where(S.c.account_id.in_(ids), S.c.digest_claim == key, S.c.digest_claimed_at == now)
                           .values(digest_period=key, last_digest_at=now, digest_claimed_at=None))
    db.session.commit()


@dataclass
class _Item:
    summary: str
    link: str
    at: datetime


def _items(account_ids: list[int], now) -> tuple[dict[int, list[_Item]], dict[int, int]]:
    """What each member missed, newest first (at most MAX_ITEMS each), and how many in all."""
    personal = [k.name for k in kinds.kinds().values() if not k.personal]
    actor, thread = A.alias("actor"), Thread.__table__
    public = current_app.config["PUBLIC_URL"]
    rows = db.session.execute(
        select(N.c.recipient_id, N.c.kind, N.c.count, N.c.data, N.c.created_at, N.c.thread_id,
               actor.c.handle, thread.c.title)
        .select_from(N.join(S, S.c.account_id == N.c.recipient_id)
                     .outerjoin(actor, actor.c.id == N.c.actor_id).outerjoin(thread, thread.c.id == N.c.thread_id))
        .where(N.c.recipient_id.in_(account_ids), N.c.read_at.is_(None), N.c.emailed_at.is_(None), N.c.created_at <= now,
               or_(S.c.last_digest_at.is_(None), N.c.created_at > S.c.last_digest_at),
               or_(N.c.kind.in_(personal), visible_clause(N.c.recipient_id, N.c.space_id)))
        .order_by(N.c.recipient_id, N.c.id.desc()))
    items: dict[int, list[_Item]] = defaultdict(list)
    totals: dict[int, int] = defaultdict(int)
    for r in rows:
        totals[r.recipient_id] += 1
        if len(items[r.recipient_id]) >= MAX_ITEMS:
            continue
        try:
            summary = kinds.kind(r.kind).summary({"actor_handle": r.handle, "count": r.count, "data": r.data})
        except KeyError:  # a kind of a wing this process did not load
            summary = r.kind.replace("_", " ")
        if r.title:
            summary += f" in \u201c{r.title}\u201d"
        link = f"{public}/client/#/threads/{r.thread_id}" if r.thread_id else f"{public}/client/"
        items[r.recipient_id].append(_Item(summary, link, r.created_at))
    return items, totals


def _texts(recipient, frequency: str, items: list[_Item], total: int, unsubscribe: str) -> tuple[str, str, str]:
    """Subject, text and HTML of a digest."""
    public = current_app.config["PUBLIC_URL"]
    span = "today" if frequency == DigestFrequency.daily.value else "this week"
    plural = "s" if total != 1 else ""
    more = total - len(items)
    lines = "\n".join(f"- {i.summary}\n  {i.link}" for i in items)
    tail = f"\n...and {more} more: {public}/client/\n" if more > 0 else "\n"
    text = (f"Hello {recipient.display_name},\n\nYou have {total} unread notification{plural} "
            f"you have not seen {span}:\n\n{lines}\n{tail}\n"
            f"This is your {frequency} digest. Change it in your notification settings, or stop all "
            f"notification e-mails: {unsubscribe}\n")
    listed = "".join(f"<li><a href=\"{escape(i.link)}\">{escape(i.summary)}</a></li>" for i in items)
    html_more = f"<p><a href=\"{escape(public)}/client/\">and {more} more</a></p>" if more > 0 else ""
    html = (f"<p>Hello {escape(recipient.display_name)},</p><p>You have {total} unread notification{plural} "
            f"you have not seen {span}:</p><ul>{listed}</ul>{html_more}"
            f"<p style=\"font-size: small\">This is your {escape(frequency)} digest. "
            f"<a href=\"{escape(unsubscribe)}\">Stop all notification e-mails</a>.</p>\n")
    return f"Your {frequency} digest: {total} unread notification{plural}", text, html


def build(recipient, frequency: str, items: list[_Item], total: int) -> EmailMessage:
    """A multipart (text and HTML) digest with RFC 8058 one-click unsubscribe headers, as an ``EmailMessage``."""
    cfg = current_app.config
    unsubscribe = unsubscribe_url(recipient.id)
    subject, text, html = _texts(recipient, frequency, items, total, unsubscribe)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = cfg["MAIL_FROM"], recipient.email, subject
    message["Message-ID"] = make_msgid(domain=cfg["MAIL_FROM"].rpartition("@")[2].strip("> ") or None)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def render(recipient, frequency: str, items: list[_Item], total: int) -> bytes:
    """The same message as :func:`build`, rendered straight to MIME bytes (quoted-printable UTF-8 parts):
    the ``email`` package's builder costs about 5 ms a message, which is most of 100,000 digests."""
    cfg = current_app.config
    unsubscribe = unsubscribe_url(recipient.id)
    subject, text, html = _texts(recipient, frequency, items, total, unsubscribe)
    headers = (cfg["MAIL_FROM"], recipient.email, subject, unsubscribe)
    if not all(h.isascii() and "\n" not in h and "\r" not in h for h in headers):
        return bytes(build(recipient, frequency, items, total))  # encoded words: leave them to the email package
    boundary = f"=={secrets.token_hex(16)}=="
    domain = cfg["MAIL_FROM"].rpartition("@")[2].strip("> ") or "localhost"
    head = (f"From: {cfg['MAIL_FROM']}\nTo: {recipient.email}\nSubject: {subject}\n"
            f"Date: {formatdate(localtime=False)}\nMessage-ID: <{secrets.token_hex(12)}@{domain}>\n"
            f"List-Unsubscribe: <{unsubscribe}>\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
            f"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"{boundary}\"\n\n")
    part = "--{b}\nContent-Type: text/{t}; charset=\"utf-8\"\nContent-Transfer-Encoding: quoted-printable\n\n"
    raw = (head.encode() + part.format(b=boundary, t="plain").encode() + b2a_qp(text.encode(), istext=True)
           + b"\n" + part.format(b=boundary, t="html").encode() + b2a_qp(html.encode(), istext=True)
           + f"\n--{boundary}--\n".encode())
    return raw.replace(b"\n", b"\r\n")


@dataclass
class _Recipient:
    id: int
    email: str
    display_name: str


def send_digests(now: datetime | None = None, *, batch: int = BATCH) -> int:
    """Claim, send and mark the digests due at ``now`` (default: the time); returns how many were sent."""
    cfg = current_app.config
    now = now or utcnow()
    window = timedelta(hours=cfg["NOTIFICATION_DIGEST_WINDOW_HOURS"])
    default_hour = cfg["NOTIFICATION_DIGEST_HOUR"]
    sent, after = 0, 0
    while rows := _candidates(after, batch, now):
        after = rows[-1].id
        styles = _styles([r.id for r in rows if r.digest is None])
        due: dict[str, list[int]] = defaultdict(list)
        frequencies: dict[int, str] = {}
        for r in rows:
            frequency = effective(r.digest, r.email, styles.get(r.id))
            if frequency is DigestFrequency.none:
                continue
            key, start = period(now, frequency, r.timezone, default_hour if r.digest_hour is None else r.digest_hour)
            if key != r.digest_period and now - start < window:
                due[key].append(r.id)
                frequencies[r.id] = frequency.value
        won = _claim(now, due) if due else {}
        if won:
            sent += _send_batch(now, won, frequencies, cfg)
        if len(rows) < batch:
            break
    return sent


def _send_batch(now, won: dict[int, str], frequencies: dict[int, str], cfg) -> int:
    ids = sorted(won)
    people = {r.id: _Recipient(r.id, r.email, r.display_name)
              for r in db.session.execute(select(A.c.id, A.c.email, A.c.display_name).where(A.c.id.in_(ids)))}
    items, totals = _items(ids, now)
    messages = [(a, people[a].email, render(people[a], frequencies[a], items[a], totals[a])) for a in ids if items.get(a)]
    empty = {a: won[a] for a in ids if not items.get(a)}  # nothing visible left: done without a message
    db.session.commit()  # no transaction open while the SMTP server answers
    done = dict(empty)
    for account_id in _deliver_all(messages, cfg):
        done[account_id] = won[account_id]
    if done:
        _mark(now, done)
    return len(done) - len(empty)


def _deliver_all(messages: list[tuple[int, str, bytes]], cfg):
    """Hand the messages to the SMTP server over one connection; yields the accounts whose message it accepted."""
    if not messages:
        return
    if not cfg["SMTP_URL"]:
        for account_id, to, message in messages:
            log.warning("SMTP_URL is not set; a digest to %s is logged instead of sent:\n%s", to, message.decode())
            yield account_id
        return
    sender = parseaddr(cfg["MAIL_FROM"])[1] or cfg["MAIL_FROM"]
    try:
        with mail.connect(mail.parse_smtp_url(cfg["SMTP_URL"]), timeout=cfg["SMTP_TIMEOUT_SECONDS"]) as smtp:
            for account_id, to, message in messages:
                try:
                    smtp.sendmail(sender, [to], message)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError):
                    log.exception("The SMTP server refused the digest to %s; retried after the lease", to)
                    continue
                yield account_id
    except (OSError, smtplib.SMTPException):
        log.exception("Could not send digests; those not accepted are retried after the lease")


@shared_task(name="notifications.send_digests", acks_late=True)
def send_digests_task() -> int:
    return send_digests()


def run_embedded(app) -> None:
    """Embedded mode (no worker, no beat): a background task sweeps every ``NOTIFICATION_DIGEST_INTERVAL_SECONDS``."""
    every(app, "NOTIFICATION_DIGEST_INTERVAL_SECONDS", send_digests, "The digest sweep")


@click.command("send-digests")
@with_appcontext
def send_digests_command() -> None:
    """Send the digest e-mails that are due (safe beside running workers and beat)."""
    click.echo(f"sent {send_digests()} digest e-mail(s)")
