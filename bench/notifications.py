"""Fan-out of a post to a space's watchers: the poster's ack, and when every watcher is told.

    .venv/bin/python bench/notifications.py postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/notifications.py URL --watchers 10000 --posts 15

On a fresh schema (the database's tables are dropped and created): ``--watchers`` accounts
watch space A; space B has no watchers. The same author posts, alternately in A and B, through
the real action (``do_create_post``) and commits, as a request does; each post's time from
the call to the commit's return (and its after-commit effects) is what the poster waits for
before the ack. In A that transaction owes the fan-out (a ``notification_fanouts`` row, past
``NOTIFICATION_FANOUT_INLINE_MAX`` watchers) and the worker (here the embedded mode's background
task) stores one notification per watcher with one ``INSERT ... SELECT``; "stored" is that
worker's commit, timed from the post's start. Then, in the same run, bare bulk INSERTs of the
same number of notification rows (psycopg ``executemany`` and ``COPY``, each with its commit).

Printed: ack p50 / max in both spaces, when all were stored, the fan-out statement alone, the
bare inserts, and bare / fan-out (1.0: as fast as a bare insert; the goal is >= 0.5).
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
    parser.add_argument("url", help="a PostgreSQL database URL whose tables may be dropped")
    parser.add_argument("--watchers", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=15, help="posts per space")
    args = parser.parse_args()

    from sqlalchemy import insert, select, text

    from bench._common import brand_with_purpose, bulk_accounts, notice_app
    from community.conversations import service
    from community.models import (
        Membership, Notification, NotificationLevel, Space, SpaceNotificationLevel, Thread,
    )
    from core.accounts import Account
    from core.extensions import db, utcnow

    app = notice_app(args.url)
    with app.app_context():
        now = utcnow()
        author_id, *watcher_ids = bulk_accounts(args.watchers + 1, "w")
        _brand, purpose = brand_with_purpose()
        places = []
        for slug in ("watched", "quiet"):
            space = Space(purpose_id=purpose.id, name=slug, slug=slug)
            db.session.add(space)
            db.session.flush()
            db.session.add(Membership(space_id=space.id, account_id=author_id))
            thread = Thread(space_id=space.id, title="Bench", author_id=author_id)
            db.session.add(thread)
            db.session.flush()
            places.append((space.id, thread.id))
        db.session.execute(insert(Membership.__table__), [
            {"space_id": places[0][0], "account_id": a, "role": "member", "joined_at": now} for a in watcher_ids])
        db.session.execute(insert(SpaceNotificationLevel.__table__), [
            {"space_id": places[0][0], "account_id": a, "level": NotificationLevel.watching.value, "updated_at": now}
            for a in watcher_ids])
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()

        from community.notifications import fanout

        fanout_times: list[float] = []
        write = fanout._write

        def timed_write(*a, **kw):  # the INSERT ... SELECT, as the worker runs it
            started = time.perf_counter()
            told = write(*a, **kw)
            if told:
                fanout_times.append(time.perf_counter() - started)
            return told

        fanout._write = timed_write

        from core.extensions import socketio

        background, deliveries, stored_at = [], [], []
        start_task = socketio.start_background_task

        def tracked_task(fn, *a, **kw):  # the fan-out's worker, then the live events, go on background tasks
            def timed():
                started = time.perf_counter()
                fn(*a, **kw)
                ended = time.perf_counter()
                (stored_at if fn is fanout._run_in else deliveries).append(ended if fn is fanout._run_in else ended - started)
            background.append(start_task(timed))
            return background[-1]

        socketio.start_background_task = tracked_task
        stored: list[float] = []
        acks: dict[str, list[float]] = {"watched": [], "quiet": []}
        commits: dict[str, list[float]] = {"watched": [], "quiet": []}
        for n in range(args.posts + 2):  # the first two of each are warm-up
            for name, (space_id, thread_id) in zip(("watched", "quiet"), places):
                with app.test_request_context():
                    author = db.session.get(Account, author_id)
                    space, thread = db.session.get(Space, space_id), db.session.get(Thread, thread_id)
                    started = time.perf_counter()
                    service.do_create_post(author, thread, space, f"post {n}", None)
                    db.session.flush()
                    committing = time.perf_counter()
                    db.session.commit()
                    elapsed = time.perf_counter() - started
                    commit_time = time.perf_counter() - committing
                    db.session.remove()
                while background:  # let the fan-out and live delivery finish before the next post: posts timed alone
                    background.pop().join()
                if n >= 2:
                    acks[name].append(elapsed)
                    commits[name].append(commit_time)
                    if name == "watched":
                        stored.append(stored_at[-1] - started)
        count = db.session.scalar(select(db.func.count()).select_from(Notification).where(
            Notification.space_id == places[0][0]))
        if count != args.watchers * (args.posts + 2):
            print(f"stored {count} notifications, expected {args.watchers * (args.posts + 2)}")
        statement_times = fanout_times[2:]

        # The bare baseline: the same rows, one executemany in one transaction, same table and indexes.
        # Two bare ways, each including its commit: executemany (psycopg pipelines it) and COPY.
        bare_times: dict[str, list[float]] = {"executemany": [], "copy": []}
        columns = "recipient_id, kind, actor_id, space_id, thread_id, post_id, count, created_at"
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for n in range(5):
                rows = [(a, "watched_post", author_id, places[0][0], places[0][1], None, 1, utcnow()) for a in watcher_ids]
                started = time.perf_counter()
                cursor.executemany(f"INSERT INTO notifications ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
                raw.commit()
                bare_times["executemany"].append(time.perf_counter() - started)
                started = time.perf_counter()
                with cursor.copy(f"COPY notifications ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                raw.commit()
                bare_times["copy"].append(time.perf_counter() - started)
        finally:
            raw.close()

    def ms(values, q=0.5):
        return 1000 * statistics.quantiles(values, n=100)[int(q * 100) - 1] if q != 0.5 else 1000 * statistics.median(values)

    bare = min(statistics.median(v) for v in bare_times.values())
    print(f"watchers: {args.watchers}, posts per space: {args.posts} (after 2 warm-up)")
    print(f"ack (post + commit), no watchers:      p50 {ms(acks['quiet']):7.1f} ms  max {1000 * max(acks['quiet']):7.1f} ms")
    print(f"ack (post + commit), {args.watchers} watchers: p50 {ms(acks['watched']):7.1f} ms  max {1000 * max(acks['watched']):7.1f} ms")
    print(f"all {args.watchers} stored (worker's commit), from the post's start: p50 {ms(stored):7.1f} ms"
          f"  max {1000 * max(stored):7.1f} ms")
    print(f"fan-out INSERT ... SELECT alone:       p50 {ms(statement_times):7.1f} ms")
    if deliveries[2:]:
        print(f"live events to all {args.watchers} (background, after the ack): p50 {ms(deliveries[2:]):7.1f} ms")
    print(f"  of which the commit:                 p50 {ms(commits['watched']):7.1f} ms (no watchers: {ms(commits['quiet']):.1f} ms)")
    for how, times in bare_times.items():
        print(f"bare {how} of {args.watchers} rows + commit: p50 {1000 * statistics.median(times):7.1f} ms")
    extra = statistics.median(acks["watched"]) - statistics.median(acks["quiet"])
    print(f"ratio bare (the faster) / fan-out statement: {bare / statistics.median(statement_times):.2f}x;"
          f" bare / post-to-stored: {bare / statistics.median(stored):.2f}x;"
          f" watchers add {1000 * extra:.2f} ms to the ack (p50)")


if __name__ == "__main__":
    main()
