"""Digest e-mails for 100,000 members, built and handed to a real SMTP server by one worker.

    .venv/bin/python bench/digest.py postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/digest.py URL --members 100000 --per-member 3

On a fresh schema (the database's tables are dropped and created): ``--members`` accounts, each
with ``--per-member`` unread mentions in a public space's thread (written with COPY,
core/rows.py ``insert_plain``), no settings rows (the default: daily at 08:00 UTC). The SMTP
server is aiosmtpd in a separate process that accepts and discards every message (a sink: what
a relay costs is not ours). Timed: one ``send_digests`` at 08:10 UTC, as one Celery worker runs
it (one process, one database connection, one SMTP connection per batch of 500), from the first
query to the last mark. Then, in the same run, a bare baseline: the same number of digests of the same size, rendered
beforehand, sent over one SMTP connection (no database, no building): the floor of handing them
to the server. For scale, the cost of building one with the ``email`` package's ``EmailMessage``.

Printed: members, messages, seconds, messages per second, the bare baseline, and bare / ours
(1.0: as fast as sending prepared messages). The issue's goal: under 5 minutes for 100,000.
Figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _sink(port: int, ready) -> None:
    import asyncio

    from aiosmtpd.controller import Controller

    class Discard:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    controller = Controller(Discard(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    asyncio.run(asyncio.sleep(10**6))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="a PostgreSQL (or SQLite) database URL whose tables may be dropped")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--per-member", type=int, default=3)
    args = parser.parse_args()

    from sqlalchemy import func, select, text

    from app import create_app
    from community.models import Notification, NotificationSettings, Space, Thread
    from community.notifications.digest import send_digests
    from core.accounts import Account
    from core.extensions import db, utcnow
    from core.rows import insert_plain
    from purpose.models import Brand, Purpose, PurposeKind
    from tests.helpers import base_config
    from tests.live import free_port

    port = free_port()
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(port, ready), daemon=True)
    sink.start()
    ready.wait(30)

    app = create_app({**base_config(args.url), "RATELIMIT_STORAGE_URI": "memory://", "NOTIFICATION_EMAIL_NUDGE": False,
                      "SMTP_URL": f"smtp://127.0.0.1:{port}", "MAIL_FROM": "community@bench.example",
                      "PUBLIC_URL": "https://community.bench.example", "LOG_LEVEL": "ERROR"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        now = utcnow()
        started = time.perf_counter()
        insert_plain("accounts", ["id", "email", "handle", "display_name", "password_hash", "role", "status", "interests",
                                  "created_at"],
                     [(i, f"m{i}@bench.example", f"m{i}", f"Member {i}", "x", "member", "active", "[]", now)
                      for i in range(1, args.members + 2)])
        brand = Brand(name="Bench")
        db.session.add(brand)
        db.session.flush()
        purpose = Purpose(brand_id=brand.id, kind=PurposeKind.life, title="Bench", tags=[])
        db.session.add(purpose)
        db.session.flush()
        space = Space(purpose_id=purpose.id, name="Runners", slug="runners")
        db.session.add(space)
        db.session.flush()
        thread = Thread(space_id=space.id, title="Trail shoes", author_id=1)
        db.session.add(thread)
        db.session.flush()
        created = now - timedelta(hours=2)
        insert_plain("notifications", ["recipient_id", "kind", "actor_id", "space_id", "thread_id", "count", "created_at"],
                     [(m, "mention", 1, space.id, thread.id, 1, created)
                      for m in range(2, args.members + 2) for _ in range(args.per_member)])
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SELECT setval('accounts_id_seq', (SELECT max(id) FROM accounts))"))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"setup: {args.members} members, {args.members * args.per_member} notifications "
              f"in {time.perf_counter() - started:.1f} s", flush=True)

        at = now.replace(hour=8, minute=10, second=0, microsecond=0)
        if at < now:
            at += timedelta(days=1)
        started = time.perf_counter()
        sent = send_digests(at)
        ours = time.perf_counter() - started
        db.session.remove()
        marked = db.session.scalar(select(func.count()).select_from(NotificationSettings).where(
            NotificationSettings.last_digest_at.is_not(None)))
        again = send_digests(at)
        total = db.session.scalar(select(func.count()).select_from(Notification))
        db.session.remove()

    # the bare baseline: the same number of digests, already rendered (no database, no building), over one
    # SMTP connection: what handing them to the server costs at the least
    from community.notifications.digest import _Item, _Recipient, build, render

    items = [_Item("@m1 mentioned you in \u201cTrail shoes\u201d", "https://community.bench.example/client/#/threads/1", now)
             for _ in range(args.per_member)]
    with app.test_request_context():
        ready_made = [(f"m{i}@bench.example", render(_Recipient(i, f"m{i}@bench.example", f"Member {i}"), "daily", items,
                                                     args.per_member)) for i in range(sent)]
        started = time.perf_counter()
        for i in range(min(sent, 1000)):  # for scale: the email package's builder (EmailMessage), 1,000 messages
            bytes(build(_Recipient(i, f"m{i}@bench.example", f"Member {i}"), "daily", items, args.per_member))
        package = (time.perf_counter() - started) / max(1, min(sent, 1000))
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for to, raw in ready_made:
            smtp.sendmail("community@bench.example", [to], raw)
    bare = time.perf_counter() - started
    sink.terminate()

    print(f"digests sent: {sent} of {args.members} members ({total} notifications); marked {marked}; a re-run sent {again}")
    print(f"ours: {ours:.1f} s ({sent / ours:.0f} messages/s); goal: under 300 s for 100,000")
    print(f"bare (rendered messages over one SMTP connection, no database): {bare:.1f} s ({sent / bare:.0f} messages/s)")
    print(f"for scale, the email package's EmailMessage builder: {package * 1000:.1f} ms a message "
          f"({package * sent:.0f} s for {sent})")
    print(f"bare / ours: {bare / ours:.2f}")


if __name__ == "__main__":
    main()
