"""An idea's status change telling its author and every voter, in the change's transaction.

    .venv/bin/python bench/ideas.py postgresql://postgres@127.0.0.1:5432/bench --voters 1000 --changes 6

On a fresh schema (the database's tables are dropped and created): ``--voters`` members of a public
space vote for one idea; a brand manager changes its status ``--changes`` times through the real action
(``ideas.service.do_set_status``) and commits, as a request does. Each change stores one ``idea_status``
notification per voter (``notifications.service.notify_each``: one ``INSERT ... SELECT`` with the
notification rules) and the status history row; its time from the call to the commit's return is what the manager waits for. Then, in the
same run, a bare bulk INSERT of the same number of notification rows (``executemany``, one transaction).

Printed: change p50 / max, the notices' ``INSERT ... SELECT`` alone, the live delivery (a background task
after the commit, waited for before the next change), the bare insert's p50, and bare / ours (1.0: as fast
as a bare insert).
Figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="a database URL whose tables may be dropped")
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=6)
    args = parser.parse_args()

    from sqlalchemy import insert, select, text

    from bench._common import brand_with_purpose, bulk_accounts, notice_app
    from community.models import Membership, Notification, Post, Space, Thread
    from core.accounts import Account
    from core.extensions import db, utcnow
    from ideas import service
    from ideas.models import Idea, IdeaStatus, IdeaVote
    from purpose.models import BrandStaff, StaffRole

    app = notice_app(args.url)
    with app.app_context():
        now = utcnow()
        manager_id, *voter_ids = bulk_accounts(args.voters + 1, "v")
        brand, purpose = brand_with_purpose()
        db.session.add(BrandStaff(brand_id=brand.id, account_id=manager_id, role=StaffRole.manager))
        space = Space(purpose_id=purpose.id, name="ideas", slug="ideas")
        db.session.add(space)
        db.session.flush()
        thread = Thread(space_id=space.id, title="An idea", author_id=voter_ids[0])
        db.session.add(thread)
        db.session.flush()
        post = Post(space_id=space.id, thread_id=thread.id, seq=1, author_id=voter_ids[0], body="Body", created_at=now)
        db.session.add(post)
        db.session.flush()
        idea = Idea(space_id=space.id, thread_id=thread.id, post_id=post.id, author_id=voter_ids[0], title="An idea",
                    votes=len(voter_ids))
        db.session.add(idea)
        db.session.flush()
        db.session.execute(insert(Membership.__table__), [
            {"space_id": space.id, "account_id": a, "role": "member", "joined_at": now} for a in voter_ids])
        db.session.execute(insert(IdeaVote.__table__), [
            {"idea_id": idea.id, "account_id": a, "created_at": now} for a in voter_ids])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        idea_id, space_id, thread_id = idea.id, space.id, thread.id
        dialect = db.engine.dialect.name

        from community.notifications import service as notifications
        from core.extensions import socketio

        background, deliveries, statement = [], [], []
        start_task, notify_each = socketio.start_background_task, notifications.notify_each

        def tracked_task(fn, *a, **kw):  # the live events go on a background task after the commit
            def timed():
                started = time.perf_counter()
                fn(*a, **kw)
                deliveries.append(time.perf_counter() - started)
            background.append(start_task(timed))
            return background[-1]

        def timed_notify_each(*a, **kw):  # the INSERT ... SELECT alone
            started = time.perf_counter()
            stored = notify_each(*a, **kw)
            statement.append(time.perf_counter() - started)
            return stored

        socketio.start_background_task, notifications.notify_each = tracked_task, timed_notify_each
        cycle = [IdeaStatus.under_review, IdeaStatus.planned]
        ours = []
        for n in range(args.changes + 1):  # the first is warm-up
            with app.test_request_context():
                manager = db.session.get(Account, manager_id)
                started = time.perf_counter()
                service.do_set_status(manager, idea_id, cycle[n % 2], f"Reason {n}")
                db.session.commit()
                elapsed = time.perf_counter() - started
                db.session.remove()
            while background:  # the live delivery finishes before the next change, so changes are timed alone
                background.pop().join()
            if n:
                ours.append(elapsed)
        stored = db.session.scalar(select(db.func.count()).select_from(Notification))
        expected = args.voters * (args.changes + 1)
        if stored != expected:
            print(f"stored {stored} notifications, expected {expected}")

        bare = []
        N = Notification.__table__
        for n in range(args.changes + 1):
            rows = [{"recipient_id": a, "kind": "idea_status", "actor_id": manager_id, "space_id": space_id,
                     "thread_id": thread_id, "post_id": None, "count": 1, "created_at": utcnow(),
                     "data": {"idea_id": idea_id, "title": "An idea", "from": "planned", "to": "under_review",
                              "reason": f"Reason {n}"}} for a in voter_ids]
            started = time.perf_counter()
            db.session.execute(insert(N), rows)
            db.session.commit()
            if n:
                bare.append(time.perf_counter() - started)

    p50, worst, base = statistics.median(ours), max(ours), statistics.median(bare)
    print(f"{args.voters} voters, {args.changes} status changes on {dialect}")
    print(f"status change (call to commit): p50 {p50 * 1000:.0f} ms, max {worst * 1000:.0f} ms")
    print(f"the INSERT ... SELECT alone:    p50 {statistics.median(statement[1:]) * 1000:.0f} ms")
    print(f"live events to all (background, after the commit): p50 {statistics.median(deliveries[1:]) * 1000:.0f} ms")
    print(f"bare insert of the same rows:   p50 {base * 1000:.0f} ms")
    print(f"bare / ours: {base / p50:.2f}")


if __name__ == "__main__":
    main()
