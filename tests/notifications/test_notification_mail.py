"""Notification e-mail through a real SMTP server: who gets one, when, its headers, and the
one-click unsubscribe it carries (RFC 8058)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from community.notifications.mail import send_due
from core.extensions import db
from tests.notifications.test_notifications import _level, _post, _thread

#: Seconds a sweep process may take to start and send (importing the app under four busy test workers).
WORKER_START = 90


@pytest.fixture
def mail_world(make_app, smtp):
    """An app that e-mails notifications at once, sweeping only when the test says so."""
    return make_app(SMTP_URL=smtp.url, NOTIFICATION_EMAIL_DELAY_SECONDS=0, NOTIFICATION_EMAIL_NUDGE=False,
                    MAIL_FROM="community@example.com", PUBLIC_URL="https://community.example")


def _sweep(app) -> int:
    with app.app_context():
        try:
            return send_due()
        finally:
            db.session.remove()


@pytest.fixture
def app(mail_world):  # the world fixture and its actors use this app
    return mail_world


def test_unread_mentions_and_replies_are_mailed_once_with_unsubscribe(app, world, smtp):
    member, moderator = world["member"], world["moderator"]
    thread_id, first = _thread(member, world["public"], title="Trail shoes")
    _post(moderator, thread_id, "Agreed", parent_id=first)
    read_reply = _post(moderator, thread_id, "Also this", parent_id=first)
    note = next(n for n in member.get("/api/v1/notifications").get_json()["items"] if n["post_id"] == read_reply)
    member.post(f"/api/v1/notifications/{note['id']}/read")  # read in the app in time: no mail
    _level(member, "spaces", world["public"], "watching")
    _post(moderator, thread_id, "Plain post, watched")  # watched posts are not mailed by default

    assert _sweep(app) == 1
    assert _sweep(app) == 0  # idempotent: a second sweep sends nothing again
    recipients, message = smtp.next()
    assert recipients == [member.email] and smtp.empty()
    assert message["Subject"] == "@mod_maya replied to your post in \u201cTrail shoes\u201d"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"https://community.example/client/#/threads/{thread_id}" in text and "<a href=" in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://community.example/api/v1/notifications/unsubscribe?token=")

    # The link: a GET changes nothing, the one-click POST (no sign-in) turns e-mail off.
    path = urlsplit(link)
    token = parse_qs(path.query)["token"][0]
    client = app.test_client()
    assert client.get(path.path, query_string={"token": token}).get_json() == {"email": "mentions_replies", "unsubscribed": False}
    response = client.post(path.path, query_string={"token": token}, data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.get_json() == {"email": "none", "unsubscribed": True}
    assert client.post(path.path, query_string={"token": token + "x"}).status_code == 404
    assert member.get("/api/v1/me/notification-settings").get_json() == {"email": "none", "effective": "none"}
    _post(moderator, thread_id, "@mem_max are you there?")
    assert _sweep(app) == 0 and smtp.empty()


def test_settings_and_relationship_style_decide(app, world, smtp):
    from purpose.models import ContactPreference, Stakeholder

    member, moderator, manager = world["member"], world["moderator"], world["manager"]
    from sqlalchemy import select

    with app.app_context():  # the member told the brand they want a deep relationship ("marriage")
        record = db.session.scalar(select(Stakeholder).where(Stakeholder.brand_id == world["brand"],
                                                             Stakeholder.account_id == member.id))
        if record is None:
            record = Stakeholder(brand_id=world["brand"], kind="customer", account_id=member.id)
            db.session.add(record)
        record.contact_preference = ContactPreference.marriage
        db.session.commit()
    assert member.get("/api/v1/me/notification-settings").get_json() == {"email": None, "effective": "all"}
    _level(member, "spaces", world["public"], "watching")
    _thread(moderator, world["public"], title="Race day")
    assert _sweep(app) == 1
    assert smtp.next()[1]["Subject"].startswith("@mod_maya started a thread")
    # the member's own setting wins over the style
    assert member.put("/api/v1/me/notification-settings", json={"email": "mentions_replies"}).get_json() == {
        "email": "mentions_replies", "effective": "mentions_replies"}
    _thread(moderator, world["public"], title="Race night", body="cc @brand_boss")
    assert _sweep(app) == 1  # the manager's mention; not the member's new thread
    recipients, message = smtp.next()
    assert recipients == [manager.email] and "mentioned you" in message["Subject"]


def test_a_commit_plans_the_sweep_itself(app, world, smtp):
    app.config["NOTIFICATION_EMAIL_NUDGE"] = True  # as deployed: no sweep call from the test
    thread_id, first = _thread(world["member"], world["public"], title="Hills")
    _post(world["moderator"], thread_id, "Nice", parent_id=first)
    recipients, message = smtp.next()
    assert recipients == [world["member"].email] and "replied to your post" in message["Subject"]


def test_a_worker_killed_mid_send_loses_no_e_mail_and_sends_none_twice(app, world, smtp, database_url):
    """A real sweep process (``flask send-notification-emails``) is killed while the SMTP server
    holds its message unanswered: the e-mail is neither lost nor sent twice."""
    import os
    import signal
    import subprocess
    import sys
    import tempfile
    from datetime import timedelta
    from pathlib import Path

    from sqlalchemy import select, update

    from community.models import Notification
    from core.extensions import utcnow
    from tests.helpers import base_config

    thread_id, first = _thread(world["member"], world["public"])
    _post(world["moderator"], thread_id, "Hi", parent_id=first)
    settings = {**base_config(database_url), "SMTP_URL": smtp.url, "NOTIFICATION_EMAIL_DELAY_SECONDS": 0,
                "MAIL_FROM": "community@example.com", "PUBLIC_URL": "https://community.example"}
    env = {**os.environ, **{k: str(v) for k, v in settings.items()}, "NOTIFICATION_EMAIL_NUDGE": "0"}
    root = Path(__file__).resolve().parents[2]
    smtp.hold_next()
    log = tempfile.TemporaryFile()
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "send-notification-emails"], cwd=root,
                              env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    try:
        # The message is on the wire, unanswered (a process starting under four busy test workers: seconds).
        if not smtp.handler.holding.wait(WORKER_START):
            log.seek(0)
            raise AssertionError(f"the sweep sent nothing in {WORKER_START} s (exit {worker.poll()}): {log.read()[-2000:]!r}")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        smtp.release()
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    with app.app_context():
        row = db.session.execute(select(Notification.id, Notification.email_claimed_at, Notification.emailed_at)
                                 .where(Notification.recipient_id == world["member"].id)).one()
        db.session.remove()
    assert row.email_claimed_at is not None and row.emailed_at is None  # claimed by the dead worker, not sent
    assert _sweep(app) == 0 and smtp.empty()  # its lease still holds: nobody sends it meanwhile
    with app.app_context():  # the lease runs out
        lease = app.config["NOTIFICATION_EMAIL_LEASE_SECONDS"]
        db.session.execute(update(Notification).where(Notification.id == row.id)
                           .values(email_claimed_at=utcnow() - timedelta(seconds=lease + 1)))
        db.session.commit()
        db.session.remove()
    assert _sweep(app) == 1 and _sweep(app) == 0
    assert smtp.next()[0] == [world["member"].email] and smtp.empty()  # exactly once
