"""Bulk reads as plain tuples straight from the driver's cursor, for analyses over many rows,
and bulk writes of plain tuples (``COPY`` on PostgreSQL) for stores of many rows.

SQLAlchemy's result processing (type decorators, enum lookups, row objects) costs more
than the read itself when a report streams millions of rows. These helpers hand back the
driver's own values: integers, floats and strings as they are, enum columns as their
stored names, and timestamps in the driver's form, which :func:`utc` turns into the
timezone-aware UTC datetimes the rest of the code expects (a string on SQLite, a
datetime on PostgreSQL).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone

from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from core import sql
from core.bulk_copy import copy_rows
from core.cooperative import paced, pause
from core.extensions import db

log = logging.getLogger(__name__)

BATCH = 5000


def plain_chunks(stmt, batch: int = BATCH):
    """The statement's rows as lists of up to ``batch`` plain tuples; between two chunks the
    event loop may run (core/cooperative.py).

    On PostgreSQL the rows come through a server-side cursor, ``batch`` per round trip (in the
    session's transaction): a client-side cursor receives the whole result at once, and taking in the
    200,000 touchpoints of a brand of 100,000 people kept the event loop from running for 100 to 150 ms."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        yield from _server_side_chunks(connection, stmt, batch)
        return
    result = connection.execute(stmt)
    try:
        while rows := result.cursor.fetchmany(batch):
            yield rows
            pause()
    finally:
        result.close()


def _server_side_chunks(connection, stmt, batch: int):
    statement, parameters = sql.compiled(stmt, connection.dialect)
    cursor = connection.connection.dbapi_connection.cursor(name=f"rows_{uuid.uuid4().hex}")
    try:
        cursor.execute(statement, parameters)
        while rows := cursor.fetchmany(batch):
            yield rows
            pause()
    except Exception as error:  # as SQLAlchemy's own path: wrapped, a dropped connection invalidated
        connection._handle_dbapi_exception(error, statement, parameters, cursor, None)
    finally:
        if not cursor.closed:
            cursor.close()


def keyset_chunks(key, columns: Sequence, where: Sequence, chunk: int = BATCH):
    """Rows of ``columns`` matching ``where``, in ``key`` order, as lists of up to ``chunk`` tuples,
    one query each (keyset on ``key``): memory holds one chunk, and no transaction is held between
    two (an export's client reads at its pace; a row deleted meanwhile is not read after it is)."""
    last = None
    while True:
        stmt = select(key, *columns).where(*where, *(() if last is None else (key > last,))).order_by(key).limit(chunk)
        rows = db.session.execute(stmt).all()
        db.session.commit()
        yield [tuple(row[1:]) for row in rows]
        if len(rows) < chunk:
            return
        last = rows[-1][0]
        pause()


def plain_rows(stmt, batch: int = BATCH):
    """The statement's rows one by one; the caller's work on them shares the event loop."""
    for chunk in plain_chunks(stmt, batch):
        yield from paced(chunk)


def utc(value) -> datetime | None:
    """A stored UTC timestamp, as the driver returned it, as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite: 'YYYY-MM-DD HH:MM:SS[.ffffff]', stored in UTC
        return datetime.fromisoformat(value + "+00:00")  # six times faster than .replace(tzinfo=...)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def json_list(value) -> list:
    """A JSON list column as the driver returned it (text on SQLite or when cast to text,
    already parsed on PostgreSQL)."""
    if isinstance(value, str):
        return json.loads(value) if value != "[]" else []
    return list(value or [])


def insert_plain(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert plain tuples of ``columns`` in the session's transaction, bypassing per-row ORM and
    Core work: ``COPY`` on PostgreSQL, the driver's ``executemany`` on SQLite."""
    raw = db.session.connection().connection.driver_connection
    if db.engine.dialect.name == "postgresql":
        with raw.cursor() as cur:  # formatting 100,000 rows took the event loop's turns for up to 60 ms at a time
            copy_rows(cur, table, columns, paced(rows))
        return
    raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)


#: Rows SQLite's ANALYZE samples per index (``PRAGMA analysis_limit``): bounded work for a big table.
SQLITE_ANALYSIS_LIMIT = 1000


def refresh_statistics(table: str) -> None:
    """Have the planner read ``table``'s statistics again, after a bulk store has committed (a
    transaction of its own). Right after the ``COPY`` of a people snapshot PostgreSQL still plans
    with the table's old statistics (none at all for a new table; autovacuum analyses later): it
    read every row of a segment and sorted them (16 ms) where the index on the sort answers a page
    in 0.4 ms once the table is analysed (docs/performance.md, "People snapshots"). SQLite samples
    a bounded number of rows per index. Statistics are an optimisation: a failure is logged, not
    raised."""
    sqlite = db.engine.dialect.name == "sqlite"
    try:
        if sqlite:
            db.session.execute(text(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}"))
        db.session.execute(text(f"ANALYZE {table}"))
        db.session.commit()
    except OperationalError:  # busy, locked, a dropped connection: the next store analyses again
        db.session.rollback()
        log.warning("ANALYZE %s failed; its plans use older statistics until the next store", table, exc_info=True)
