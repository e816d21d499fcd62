"""What several bench scripts share: the people-paging scripts' arguments, an app on a fresh
schema, accounts written in one statement, a brand with one purpose, and a percentile.

Imported after the script has put the repository root on ``sys.path``."""

from __future__ import annotations

import argparse
import os
import tempfile


def paging_args(doc: str) -> argparse.Namespace:
    """``--people``, ``--pages`` and ``--database-url`` (a temporary SQLite file by default, in ``url``)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    args.url = args.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "people.db")
    return args


def fresh_app(config: dict):
    """The app on ``config`` with its tables dropped and created again."""
    from app import create_app
    from core.extensions import db

    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def paging_app(url: str):
    """A fresh app for the paging benches: no rate limits, quiet logs."""
    return fresh_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret-" * 4, "LOG_LEVEL": "WARNING",
                      "RATELIMIT_ENABLED": False})


def notice_app(url: str):
    """A fresh app for the notification benches: no e-mail nudges, limits kept in memory."""
    from tests.helpers import base_config

    return fresh_app({**base_config(url), "RATELIMIT_STORAGE_URI": "memory://", "NOTIFICATION_EMAIL_NUDGE": False})


def bulk_accounts(count: int, prefix: str) -> list[int]:
    """``count`` active member accounts in one statement (no password hashing); their ids in order."""
    from sqlalchemy import insert, select

    from core.accounts import Account
    from core.extensions import db, utcnow

    now = utcnow()
    db.session.execute(insert(Account.__table__), [
        {"email": f"{prefix}{i}@bench.example", "handle": f"{prefix}{i}", "display_name": f"{prefix.upper()}{i}",
         "password_hash": "x", "role": "member", "status": "active", "interests": [], "created_at": now}
        for i in range(count)])
    return list(db.session.scalars(select(Account.id).order_by(Account.id)))


def brand_with_purpose(name: str = "Bench"):
    """A brand and one life purpose of it, flushed (ids set)."""
    from core.extensions import db
    from purpose.models import Brand, Purpose, PurposeKind

    brand = Brand(name=name)
    db.session.add(brand)
    db.session.flush()
    purpose = Purpose(brand_id=brand.id, kind=PurposeKind.life, title=name, tags=[])
    db.session.add(purpose)
    db.session.flush()
    return brand, purpose


def percentile(values, q: float) -> float:
    """The ``q`` quantile (0 to 1) by rank: the value below which a share ``q`` of ``values`` fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def page_through(client, path: str, query: dict, pages: int, check=None) -> list[float]:
    """Seconds per page for up to ``pages`` pages of 50 of ``path`` followed by ``next_cursor``;
    ``check(body)``, when given, asserts each page's body."""
    import time

    times, cursor = [], None
    for _ in range(pages):
        params = {**query, "limit": 50, **({"cursor": cursor} if cursor else {})}
        start = time.perf_counter()
        response = client.get(path, query_string=params)
        times.append(time.perf_counter() - start)
        body = response.get_json()
        assert response.status_code == 200, body
        if check is not None:
            check(body)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    return times


def bare_pages(app, sql: str, count: int) -> list[float]:
    """Seconds per run of ``sql`` on a raw DBAPI cursor, ``count`` times: the page without the API."""
    import time

    from core.extensions import db

    with app.app_context():
        raw = db.engine.raw_connection()
        cur, times = raw.cursor(), []
        for _ in range(count):
            start = time.perf_counter()
            cur.execute(sql)
            cur.fetchall()
            times.append(time.perf_counter() - start)
        raw.close()
    return times


def paging_line(name: str, ours: list[float], bare: list[float], width: int) -> str:
    """One listing's figures: p50 and p99 of ours and of the bare query, and their p50 ratio."""
    import statistics

    return (f"{name:>{width}}: ours p50 {statistics.median(ours) * 1e3:6.1f} ms p99 {percentile(ours, 0.99) * 1e3:6.1f} ms "
            f"| bare SQL p50 {statistics.median(bare) * 1e3:6.1f} ms p99 {percentile(bare, 0.99) * 1e3:6.1f} ms "
            f"| ratio bare/ours p50 {statistics.median(bare) / statistics.median(ours):.2f} ({len(ours)} pages)")
