"""The recognition job (badges and trust levels) over a synthetic community.

    .venv/bin/python bench/recognition.py postgresql://postgres@127.0.0.1:5432/bench --members 20000

On a fresh schema (the database's tables are dropped and created): ``devtools.seed.seed_synthetic``
writes a community of ``--members`` members (posts, replies, reactions). Then, in one run:
the first job (``recognition.service.run_recognition``: every rule's ``INSERT ... SELECT ... ON CONFLICT``,
one ``badge`` notification per grant, the trust levels), a second job (nothing new to grant: the cost of
re-running), and a bare baseline: the same number of grant rows and notification rows written with one
``executemany`` each (psycopg / sqlite3), no rules evaluated. Printed: the three times and bare / first
job (1.0: the job costs no more than writing its rows). Figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="a database URL whose tables may be dropped")
    parser.add_argument("--members", type=int, default=20_000)
    args = parser.parse_args()

    from sqlalchemy import delete, func, insert, select

    from app import create_app
    from community.models import Notification, Post, Reaction
    from core.extensions import db, utcnow
    from devtools.seed import seed_synthetic
    from recognition.models import BadgeGrant
    from recognition.service import run_recognition
    from tests.helpers import base_config

    app = create_app({**base_config(args.url), "RATELIMIT_STORAGE_URI": "memory://", "NOTIFICATION_EMAIL_NUDGE": False,
                      "RECOGNITION_INTERVAL_SECONDS": 0})
    with app.app_context():
        db.drop_all()
        db.create_all()
        seed_synthetic(args.members, seed=3)
        posts = db.session.scalar(select(func.count()).select_from(Post))
        reactions = db.session.scalar(select(func.count()).select_from(Reaction))
        print(f"{args.members} members, {posts} posts, {reactions} reactions ({db.engine.dialect.name})")

        started = time.perf_counter()
        first = run_recognition()
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        second = run_recognition()
        second_s = time.perf_counter() - started
        print(f"first job:  {first_s:.2f} s  {first}")
        print(f"second job: {second_s:.2f} s  {second}")

        grants = [dict(r._mapping) for r in db.session.execute(
            select(BadgeGrant.account_id, BadgeGrant.badge_id, BadgeGrant.granted_at, BadgeGrant.reason))]
        notes = [dict(r._mapping) for r in db.session.execute(
            select(Notification.recipient_id, Notification.kind, Notification.data, Notification.count,
                   Notification.created_at).where(Notification.kind == "badge"))]
        db.session.execute(delete(Notification).where(Notification.kind == "badge"))
        db.session.execute(delete(BadgeGrant))
        db.session.commit()
        now = utcnow()
        started = time.perf_counter()
        db.session.execute(insert(BadgeGrant), [{**g, "granted_at": now} for g in grants])
        db.session.execute(insert(Notification), notes)
        db.session.commit()
        bare_s = time.perf_counter() - started
        print(f"bare insert of the same {len(grants)} grants and {len(notes)} notifications: {bare_s:.2f} s")
        print(f"bare / first job: {bare_s / first_s:.2f}x")


if __name__ == "__main__":
    main()
