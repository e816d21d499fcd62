"""What several bench scripts share: the people-paging scripts' arguments, an app on a fresh
schema, accounts written in one statement, a brand with one purpose, and a percentile.

Imported after the script has put the repository root on ``sys.path``."""

from __future__ import annotations

import argparse
import os
import tempfile


def paging_args(doc: str) -> argparse.Namespace:
    """``--people``, ``--pages``, ``--database-url`` (a temporary SQLite file by default, in ``url``) and
    ``--json`` (a file for the figures)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", help="write the figures to this file")
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


def flask_floor(page: dict, count: int) -> list[float]:
    """Seconds per request of a bare Flask app (no authentication, no validation, no database) whose one
    route answers ``page`` (a page's JSON, computed once) through the test client, as
    :func:`page_through` measures ours: what any Flask endpoint pays to answer a page, before it reads it."""
    import time

    from flask import Flask

    bare = Flask("floor")
    bare.add_url_rule("/page", "page", lambda: page)
    client, times = bare.test_client(), []
    for _ in range(count):
        start = time.perf_counter()
        response = client.get("/page", query_string={"limit": 50})
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
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


def query_pages(app, listing, parent_id: int, query: dict, pages: int, scope: str) -> list[float]:
    """Seconds per page of ``listing.page`` (``core.listing``: the statement, its run, the rows as JSON
    values) for up to ``pages`` pages of 50 following the cursors: our query path without the request.
    All pages run in one transaction, as :func:`bare_keyset_pages` runs its queries (a request begins
    and ends its transaction once, around its other lookups too: the request's figures include that)."""
    import time

    from core.extensions import db

    times, cursor = [], None
    with app.app_context():
        args = {"sort": "id", "limit": 50, **query}
        db.session.connection()  # the transaction, begun before the first page as the bare one is
        for _ in range(pages):
            start = time.perf_counter()
            page = listing.page(parent_id, {**args, "cursor": cursor}, scope=scope)
            times.append(time.perf_counter() - start)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        db.session.rollback()
    return times


def bare_keyset_pages(app, select: str, where: str, order: tuple[str, ...], descending: bool, count: int,
                      *, key_descending: bool | None = None) -> list[float]:
    """Seconds per page of hand-written keyset SQL on a raw DBAPI cursor, ``count`` pages of 50 each
    following the last one: ``SELECT {select}, {order...} FROM ... WHERE {where}`` (``select`` names the
    table), ordered by ``order`` (the sort column, then the unique key; or the key alone). The key runs
    in the sort's direction unless ``key_descending`` says otherwise. The same pages as ours, without the API."""
    import time

    from core.extensions import db

    key_descending = descending if key_descending is None else key_descending
    directions = [descending] * (len(order) - 1) + [key_descending]
    by = ", ".join(f"{c} {'DESC' if d else 'ASC'}" for c, d in zip(order, directions))
    with app.app_context():
        mark = "%s" if db.engine.dialect.name == "postgresql" else "?"
        head, tail = f"SELECT {select.replace(' FROM ', ', ' + ', '.join(order) + ' FROM ', 1)} WHERE {where}", f" ORDER BY {by} LIMIT 51"
        if len(set(directions)) == 1:
            op = "<" if descending else ">"
            after = f" AND ({', '.join(order)}) {op} ({', '.join([mark] * len(order))})"
        else:  # a sort column, then the key the other way
            op = "<" if descending else ">"
            after = f" AND ({order[0]} {op} {mark} OR ({order[0]} = {mark} AND {order[1]} > {mark}))"
        raw = db.engine.raw_connection()
        cur, times, last = raw.cursor(), [], None
        cur.execute("SELECT 1")  # the transaction, begun before the first page
        for _ in range(count):
            start = time.perf_counter()
            if last is None:
                cur.execute(head + tail)
            else:
                cur.execute(head + after + tail, last if len(set(directions)) == 1 else (last[0], *last))
            rows = cur.fetchall()
            times.append(time.perf_counter() - start)
            if len(rows) < 51:
                break
            last = tuple(rows[49][-len(order):])
        raw.close()
    return times


def paging_figures(ours: list[float], http: list[float] | None, bare: list[float]) -> dict:
    """One listing's figures in milliseconds (p50, p99 per path) and the p50 ratios, as ``paging_line`` prints them."""
    import statistics

    def figures(times):
        return None if times is None else {"p50_ms": statistics.median(times) * 1e3, "p99_ms": percentile(times, 0.99) * 1e3}

    bare50 = statistics.median(bare)
    return {"pages": len(ours), "query": figures(ours), "request": figures(http), "bare": figures(bare),
            "bare_over_query": bare50 / statistics.median(ours),
            "bare_over_request": None if http is None else bare50 / statistics.median(http)}


def paging_line(name: str, ours: list[float], http: list[float] | None, bare: list[float], width: int) -> str:
    """One listing's figures: p50 and p99 of our query path, of the whole request (``http``, when
    measured) and of the bare query, and the p50 ratios bare/ours (the rate of ours over the bare one's)."""
    got = paging_figures(ours, http, bare)

    def figures(path):
        return f"p50 {got[path]['p50_ms']:5.1f} p99 {got[path]['p99_ms']:5.1f} ms"

    line = f"{name:>{width}}: query {figures('query')}"
    if http is not None:
        line += f" | request {figures('request')}"
    line += f" | bare SQL {figures('bare')} | bare/query {got['bare_over_query']:.2f}"
    if http is not None:
        line += f", bare/request {got['bare_over_request']:.2f}"
    return line + f" ({got['pages']} pages)"
