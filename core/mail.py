"""Outgoing e-mail over SMTP (``SMTP_URL``, ``MAIL_FROM``), sent after the request's commit.

``SMTP_URL`` is ``smtp://[user:password@]host[:port]`` (plain, or ``?starttls=1`` to upgrade
with STARTTLS; port 25 by default, 587 with STARTTLS) or ``smtps://...`` (TLS from the first
byte; port 465). Without it, embedded mode logs each message instead of sending it (with
``PLATFORM_ENV=production`` only that one was not sent: its text may hold a secret such as a
reset link). A message is built from plain settings and sent on a background task, so no
request waits for the mail server and no database transaction is held across it.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from core.config import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str  # "plain", "starttls" or "ssl"
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpServer:
    """The server an ``SMTP_URL`` names; ``ConfigError`` for anything else."""
    parts = urlsplit(url)
    options = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"SMTP_URL must be smtp://host[:port] or smtps://host[:port], not {url!r}")
    starttls = options.get("starttls", "0") in ("1", "true", "yes", "on")
    security = "ssl" if parts.scheme == "smtps" else "starttls" if starttls else "plain"
    port = parts.port or {"ssl": 465, "starttls": 587, "plain": 25}[security]
    user = unquote(parts.username) if parts.username else None
    return SmtpServer(parts.hostname, port, security, user, unquote(parts.password) if parts.password else None)


def build_message(*, sender: str, to: str, subject: str, text: str) -> EmailMessage:
    """A multipart/alternative message: the text, and the same text as escaped HTML."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message.set_content(text)
    message.add_alternative(f"<pre style=\"font-family: sans-serif\">{escape(text)}</pre>", subtype="html")
    return message


def connect(server: SmtpServer, *, timeout: float) -> smtplib.SMTP:
    """An open, signed-in SMTP connection (use it as a context manager; it quits on exit)."""
    context = ssl.create_default_context()
    if server.security == "ssl":
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
    try:
        if server.security == "starttls":
            smtp.starttls(context=context)
        if server.username:
            smtp.login(server.username, server.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def deliver(server: SmtpServer, message: EmailMessage, *, timeout: float) -> None:
    """Hand ``message`` to the SMTP server (blocking network I/O: call it off any transaction)."""
    with connect(server, timeout=timeout) as smtp:
        smtp.send_message(message)


def send_later(*, to: str, subject: str, text: str) -> None:
    """Send a message on a background task (or log it without ``SMTP_URL``); returns at once.

    Call it after the commit: the message goes whether or not the caller's request later fails."""
    from core.extensions import socketio

    cfg = current_app.config
    message = build_message(sender=cfg["MAIL_FROM"], to=to, subject=subject, text=text)
    if not cfg["SMTP_URL"]:
        if cfg["PLATFORM_ENV"] == "production":
            log.warning("SMTP_URL is not set: an e-mail to %s (%s) was not sent", to, subject)
        else:
            log.warning("SMTP_URL is not set; the e-mail is logged instead of sent:\n%s", message)
        return
    server, timeout = parse_smtp_url(cfg["SMTP_URL"]), cfg["SMTP_TIMEOUT_SECONDS"]
    socketio.start_background_task(_deliver_logged, server, message, timeout)


def _deliver_logged(server: SmtpServer, message: EmailMessage, timeout: float) -> None:
    try:
        deliver(server, message, timeout=timeout)
    except (OSError, smtplib.SMTPException):
        log.exception("Could not send an e-mail to %s (%s) through %s:%s",
                      message["To"], message["Subject"], server.host, server.port)
