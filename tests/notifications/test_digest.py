"""Digest e-mails through a real SMTP server: what they list, when they go (local hour, daily or
weekly, the relationship style's default), once per period, and their one-click unsubscribe."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from community.models import NotificationSettings
from community.notifications.digest import _claim, send_digests
from community.notifications.mail import send_due
from core.extensions import db, utcnow
from tests.notifications.test_notifications import _level, _post, _thread


@pytest.fixture
def app(make_app, smtp):  # the world fixture and its actors use this app
    return make_app(SMTP_URL=smtp.url, NOTIFICATION_EMAIL_DELAY_SECONDS=0, NOTIFICATION_EMAIL_NUDGE=False,
                    MAIL_FROM="community@example.com", PUBLIC_URL="https://community.example")


def _run(app, fn, *args, **kwargs):
    with app.app_context():
        try:
            return fn(*args, **kwargs)
        finally:
            db.session.remove()


def _style(app, world, account_id, style):
    from purpose.models import ContactPreference, Stakeholder

    with app.app_context():
        record = db.session.scalar(select(Stakeholder).where(Stakeholder.brand_id == world["brand"],
                                                             Stakeholder.account_id == account_id))
        if record is None:
            record = Stakeholder(brand_id=world["brand"], kind="customer", account_id=account_id)
            db.session.add(record)
        record.contact_preference = ContactPreference(style)
        db.session.commit()
        db.session.remove()


def test_daily_digest_at_the_local_hour_lists_what_was_missed_once(app, world, smtp):
    member, moderator = world["member"], world["moderator"]
    for other in ("manager", "moderator"):  # they would get their own digests of the same posts
        assert world[other].put("/api/v1/me/digest-settings", json={"digest": "none"}).status_code == 200

    thread_id, first = _thread(member, world["public"], title="Trail shoes")
    _post(moderator, thread_id, "Agreed", parent_id=first)  # e-mailed on its own below: not in the digest
    assert _run(app, send_due) == 1
    smtp.next()
    read = _post(moderator, thread_id, "@mem_max seen this?")
    note = next(n for n in member.get("/api/v1/notifications").get_json()["items"] if n["post_id"] == read)
    member.post(f"/api/v1/notifications/{note['id']}/read")  # read in the app: not in the digest
    _level(member, "threads", thread_id, "watching")
    _post(moderator, thread_id, "Race is on Sunday")
    _post(moderator, thread_id, "Bring water")

    now = utcnow()
    tokyo_hour = now.astimezone(ZoneInfo("Asia/Tokyo")).hour  # the member's digest is due at this hour, Tokyo time
    response = member.put("/api/v1/me/digest-settings", json={"digest": "daily", "timezone": "Asia/Tokyo", "hour": tokyo_hour})
    assert response.status_code == 200 and response.get_json()["effective"] == "daily"
    assert member.put("/api/v1/me/digest-settings", json={"timezone": "Mars/Olympus"}).status_code == 422
    assert member.put("/api/v1/me/digest-settings", json={"hour": 24}).status_code == 422
    # an hour later in Tokyo, nothing goes yet; at the hour, one digest of the two watched posts
    assert member.put("/api/v1/me/digest-settings", json={"hour": (tokyo_hour + 1) % 24}).status_code == 200
    assert _run(app, send_digests, now) == 0
    assert member.put("/api/v1/me/digest-settings", json={"hour": tokyo_hour}).get_json()["hour"] == tokyo_hour
    assert _run(app, send_digests, now) == 1
    assert _run(app, send_digests, now) == 0  # the period is done: a re-run sends nothing
    assert _run(app, send_digests, now + timedelta(minutes=30)) == 0
    got = smtp.drain()
    assert list(got) == [member.email]
    message = got[member.email]
    assert message["Subject"] == "Your daily digest: 2 unread notifications"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text.count("@mod_maya posted in a thread you watch in \u201cTrail shoes\u201d") == 2
    assert "replied" not in text and "mentioned" not in text
    assert f"https://community.example/client/#/threads/{thread_id}" in text and "<li><a href=" in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip("<>")

    # the next day: only what came after the last digest
    _post(moderator, thread_id, "Results are up")
    assert _run(app, send_digests, now + timedelta(days=1)) == 1
    message = smtp.drain()[member.email]
    assert message["Subject"] == "Your daily digest: 1 unread notification"
    assert "Trail shoes" in message.get_body(("plain",)).get_content()
    export = member.get("/api/v1/me/export").get_json()["notifications"]["digest"]
    assert export["digest"] == "daily" and export["timezone"] == "Asia/Tokyo" and export["last_digest_at"]

    # one-click unsubscribe from the digest stops digests too
    path = urlsplit(link)
    assert app.test_client().post(path.path, query_string=parse_qs(path.query), data="List-Unsubscribe=One-Click",
                                  content_type="application/x-www-form-urlencoded").status_code == 200
    assert member.get("/api/v1/me/digest-settings").get_json()["effective"] == "none"
    _post(moderator, thread_id, "Photos")
    assert _run(app, send_digests, now + timedelta(days=2)) == 0 and smtp.empty()


def test_style_defaults_weekly_for_fling_daily_otherwise_own_setting_wins(app, world, smtp):
    member, moderator, manager = world["member"], world["moderator"], world["manager"]
    _style(app, world, member.id, "fling")
    assert member.get("/api/v1/me/digest-settings").get_json() == {
        "digest": None, "effective": "weekly", "timezone": None, "hour": None, "effective_hour": 8, "last_digest_at": None}
    assert moderator.put("/api/v1/me/notification-settings", json={"email": "none"}).status_code == 200
    assert moderator.get("/api/v1/me/digest-settings").get_json()["effective"] == "none"  # e-mail off: no digest

    thread_id, first = _thread(manager, world["public"], title="Gear swap")
    _post(member, thread_id, "Me too", parent_id=first)  # the manager (no style: daily) gets a reply
    _post(manager, thread_id, "@mem_max and @mod_maya welcome")  # the member (fling: weekly) and moderator (off)
    today = utcnow()
    monday = (today + timedelta(days=7 - today.weekday())).replace(hour=8, minute=10, second=0, microsecond=0)
    tuesday = monday + timedelta(days=1)
    assert _run(app, send_digests, tuesday) == 1  # daily for the manager; the member's week began yesterday
    got = smtp.drain()
    assert list(got) == [manager.email] and got[manager.email]["Subject"].startswith("Your daily digest")

    _run(app, lambda: (db.session.execute(update(NotificationSettings).values(last_digest_at=None, digest_period=None)),
                       db.session.commit()))
    assert _run(app, send_digests, monday) == 2  # Monday 08:10 UTC: the weekly one too
    got = smtp.drain()
    assert sorted(got) == sorted([member.email, manager.email])
    assert got[member.email]["Subject"] == "Your weekly digest: 1 unread notification"
    assert "mentioned you" in got[member.email].get_body(("plain",)).get_content()

    # the member's own setting wins over the style
    assert member.put("/api/v1/me/digest-settings", json={"digest": "daily"}).get_json()["effective"] == "daily"
    _post(manager, thread_id, "@mem_max one more")
    _run(app, lambda: (db.session.execute(update(NotificationSettings).values(last_digest_at=None, digest_period=None)),
                       db.session.commit()))
    assert _run(app, send_digests, tuesday) == 2
    assert sorted(smtp.drain()) == sorted([member.email, manager.email])


def test_a_claim_held_by_a_dead_worker_is_sent_once_after_its_lease(app, world, smtp):
    member, moderator = world["member"], world["moderator"]
    for person in (member, moderator, world["manager"]):
        assert person.put("/api/v1/me/digest-settings", json={"digest": "daily", "hour": 0}).status_code == 200
    thread_id, first = _thread(member, world["public"])
    _post(moderator, thread_id, "Hi", parent_id=first)
    now = utcnow().replace(hour=0, minute=30) + timedelta(days=1)
    key = now.date().isoformat()
    with app.app_context():  # a worker claims the member's digest, then dies before sending
        assert _claim(now - timedelta(seconds=1), {key: [member.id]}) == {member.id: key}
        db.session.remove()
    assert _run(app, send_digests, now) == 0 and smtp.empty()  # its claim is fresh: nobody else sends it
    later = now + timedelta(seconds=app.config["NOTIFICATION_DIGEST_LEASE_SECONDS"] + 1)
    assert _run(app, send_digests, later) == 1 and _run(app, send_digests, later) == 0
    assert smtp.drain().keys() == {member.email}
    # and the command line runs the same sweep (nothing is due any more)
    result = app.test_cli_runner().invoke(args=["send-digests"])
    assert result.exit_code == 0 and "sent 0 digest e-mail(s)" in result.output
