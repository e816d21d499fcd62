"""Event answers under contention: many members answer "going" to one event at once.

    .venv/bin/python bench/events.py --database-url postgresql://postgres@127.0.0.1:5432/bench_events

Ours: ``events.service.do_answer`` and the commit, per answer, on THREADS threads (visibility and
membership checks, the event's row lock, seats, waitlist number, check-in code, the member's
stakeholder record and ``rsvp`` touchpoint). The bare baseline does only the locking and the row on
the same threads with psycopg: ``SELECT ... FOR UPDATE`` on the event, count the seats, insert the
answer, commit. Both must end with exactly ``capacity`` seated; the ratio is ours / bare throughput.
PostgreSQL only (SQLite has one writer at a time: nothing to measure).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _run(threads: int, jobs: list, work) -> float:
    chunks = [jobs[i::threads] for i in range(threads)]
    start_line = threading.Barrier(threads + 1)

    def worker(chunk):
        start_line.wait()
        for job in chunk:
            work(job)

    pool = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in pool:
        t.start()
    start_line.wait()
    began = time.perf_counter()
    for t in pool:
        t.join()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--members", type=int, default=400)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("PostgreSQL only")

    import psycopg

    from app import create_app
    from community.models import Membership, Space
    from core.accounts import Account, AccountStatus, GlobalRole
    from core.extensions import db
    from events import service
    from events.models import AttendeeStatus, Event, EventMode
    from purpose.models import Brand, Purpose, PurposeKind

    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "bench-secret-" * 4, "LOG_LEVEL": "WARNING",
                      "DATABASE_POOL_SIZE": args.threads + 2})
    capacity = args.members // 2
    start = datetime.now(timezone.utc) + timedelta(days=7)
    with app.app_context():
        db.drop_all()
        db.create_all()
        brand = Brand(name="bench")
        db.session.add(brand)
        db.session.flush()
        purpose = Purpose(brand_id=brand.id, kind=PurposeKind.life, title="Run")
        db.session.add(purpose)
        db.session.flush()
        space = Space(purpose_id=purpose.id, name="Runners", slug="runners")
        db.session.add(space)
        db.session.flush()
        events = [Event(space_id=space.id, title=f"Run {i}", mode=EventMode.in_person, location="Pier", starts_at=start,
                        ends_at=start + timedelta(hours=1), time_zone="Europe/Paris", capacity=capacity) for i in range(2)]
        db.session.add_all(events)
        accounts = [Account(email=f"m{i}@bench.example", handle=f"m_{i}", display_name=f"M {i}", password_hash="x",
                            role=GlobalRole.member, status=AccountStatus.active) for i in range(args.members)]
        db.session.add_all(accounts)
        db.session.flush()
        db.session.add_all(Membership(space_id=space.id, account_id=a.id) for a in accounts)
        db.session.commit()
        ours_event, bare_event = events[0].id, events[1].id
        account_ids = [a.id for a in accounts]

    def ours(account_id):
        with app.app_context():
            service.do_answer(db.session.get(Account, account_id), ours_event, AttendeeStatus.going)
            db.session.commit()

    local = threading.local()

    def bare(account_id):
        conn = getattr(local, "conn", None) or psycopg.connect(args.database_url)
        local.conn = conn
        with conn.transaction():
            conn.execute("SELECT id FROM events WHERE id = %s FOR UPDATE", (bare_event,))
            (taken,) = conn.execute("SELECT count(*) FROM event_attendees WHERE event_id = %s AND status = 'going'",
                                    (bare_event,)).fetchone()
            conn.execute("INSERT INTO event_attendees (event_id, account_id, status, responded_at) "
                         "VALUES (%s, %s, %s, now())", (bare_event, account_id, "going" if taken < capacity else "waitlisted"))

    ours_s = _run(args.threads, account_ids, ours)
    bare_s = _run(args.threads, account_ids, bare)
    with psycopg.connect(args.database_url) as conn:
        for event_id in (ours_event, bare_event):
            (seated,) = conn.execute("SELECT count(*) FROM event_attendees WHERE event_id = %s AND status = 'going'",
                                     (event_id,)).fetchone()
            assert seated == capacity, (event_id, seated)
    print(f"\n{args.members} members answer 'going' to one event of {capacity} seats on {args.threads} threads (PostgreSQL)")
    print(f"ours (do_answer + commit):             {args.members / ours_s:>8,.0f} answers/s")
    print(f"bare (lock, count, insert, commit):    {args.members / bare_s:>8,.0f} answers/s")
    print(f"ratio ours / bare: {bare_s / ours_s:.2f}; seats taken exactly {capacity} in both")


if __name__ == "__main__":
    main()
