"""Writing a batch of import rows, skipping those already stored: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""

from __future__ import annotations

import enum
import json

from sqlalchemy.dialects import sqlite

from core.extensions import db


def insert_ignoring_duplicates(model, rows: list[dict]) -> int:
    """Insert rows (all with the same keys), skipping those whose (brand, source, external id) is
    stored; returns how many went in.

    PostgreSQL: ``COPY`` into a temporary table, then one ``INSERT ... SELECT ... ON CONFLICT DO
    NOTHING`` (bulk speed; its row count is exact). SQLite: an ``executemany`` of ``INSERT ... ON
    CONFLICT DO NOTHING`` on the Core table, whose row count sqlite3 sums over the rows."""
    if db.engine.dialect.name == "postgresql":
        return _copy_ignoring_duplicates(model.__tablename__, rows)
    stmt = sqlite.insert(model.__table__).on_conflict_do_nothing()
    return db.session.connection().execute(stmt, rows).rowcount


def _copy_value(value):
    """A value as COPY takes it: enums by their stored name, lists as JSON text."""
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


def _copy_ignoring_duplicates(table: str, rows: list[dict]) -> int:
    columns = ", ".join(rows[0])
    keys = list(rows[0])
    staging = f"import_{table}"
    raw = db.session.connection().connection.driver_connection  # psycopg, inside the session's transaction
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA")
        with cur.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_copy_value(row[k]) for k in keys])
        cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} ON CONFLICT DO NOTHING")
        inserted = cur.rowcount
        cur.execute(f"DROP TABLE {staging}")
    return inserted
