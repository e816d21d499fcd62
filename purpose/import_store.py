"""Writing batches of import rows, skipping those already stored: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg
from sqlalchemy import JSON
from sqlalchemy.dialects import sqlite

from core.extensions import db
from core.rows import copy_rows


class BatchWriter:
    """Stores batches of one model's rows (tuples of ``columns``' values, enums by their stored
    name, lists as lists) in the order given, each in a transaction of its own,
    skipping rows whose (brand, source, external id) is stored, and calls ``stored(inserted,
    given)`` for each batch in the caller's thread once it is committed.

    On PostgreSQL a batch is written by a thread with its own connection while the caller reads
    and validates the next one: the database's work (the ``COPY``, the commit; see
    :func:`_copy_ignoring_duplicates`) overlaps the per-row Python work instead of following it. At most one batch is in flight, so commits keep the file's
    order. ``close()`` waits for it (also when the caller stops on an error: what it reports
    stored is then stored). SQLite writes inside the process under the GIL, so there the
    batch is written on the caller's session at once. ``on_batch(connection=...)``, when given, runs in
    each batch's transaction before its rows (imports bump the brand's people version with it)."""

    def __init__(self, model, columns: Sequence[str], stored: Callable[[int, int], None], on_batch: Callable | None = None):
        self.table, self.columns, self.stored, self.on_batch = model.__table__, tuple(columns), stored, on_batch
        self.overlap = db.engine.dialect.name == "postgresql"
        self.engine = db.engine
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="import-writer") if self.overlap else None
        self.in_flight: tuple[Future, int] | None = None

    def write(self, rows: list[tuple]) -> None:
        self._settle()
        if not rows:
            self.stored(0, 0)
        elif self.overlap:
            self.in_flight = (self.pool.submit(self._copy_batch, rows), len(rows))
            db.session.commit()  # ends the caller's read transaction (its lookups); it wrote nothing
        else:
            if self.on_batch is not None:
                self.on_batch(connection=db.session.connection())
            stmt = sqlite.insert(self.table).on_conflict_do_nothing()
            named = [dict(zip(self.columns, row)) for row in rows]
            inserted = db.session.connection().execute(stmt, named).rowcount  # sqlite3 sums it over the rows
            db.session.commit()
            self.stored(inserted, len(rows))

    def close(self) -> None:
        try:
            self._settle()
        finally:
            if self.pool is not None:
                self.pool.shutdown()

    def __enter__(self) -> "BatchWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _settle(self) -> None:
        if self.in_flight is not None:
            future, given = self.in_flight
            self.in_flight = None
            self.stored(future.result(), given)  # a failed batch raises here, in the caller's thread

    def _copy_batch(self, rows: list[tuple]) -> int:
        with self.engine.begin() as conn:
            if self.on_batch is not None:
                self.on_batch(connection=conn)
            return _copy_ignoring_duplicates(conn.connection.driver_connection, self.table, self.columns, rows)


def _json_positions(table, columns: Sequence[str]) -> list[int]:
    """Where ``columns`` holds a JSON column: COPY takes its lists as JSON text. Every other value
    goes as it is (psycopg's ``write_row`` dumps it in C)."""
    return [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]


def _copy_ignoring_duplicates(raw, table, columns: Sequence[str], rows: list[tuple]) -> int:
    """Store the rows not stored yet, on the psycopg connection ``raw`` inside its transaction;
    returns how many went in. The rows of a batch share brand and source (one import).

    Repeats within the batch are left out and the rest go by ``COPY`` straight into the table,
    as fast as a bare ``COPY``: the usual case, a file not imported before. If one of them is
    stored already (a re-run, a resumed import, another import meanwhile) the unique key refuses
    the ``COPY``, which ran in a savepoint, and the batch goes through :func:`_copy_via_staging`,
    which skips whatever is stored. A re-run's batches fail on their first row, so that costs
    little. (Looking the batch's ids up first would cost an index probe per row on every batch,
    and a planner without statistics for a growing table turns it into a scan.)"""
    key, seen, fresh = columns.index("external_id"), set(), []
    for row in rows:
        if row[key] not in seen:
            seen.add(row[key])
            fresh.append(row)
    jsons = _json_positions(table, columns)
    if jsons:
        fresh = [_with_json_text(row, jsons) for row in fresh]
    try:
        with raw.transaction(), raw.cursor() as cur:  # a savepoint: a refused COPY leaves the batch's transaction usable
            copy_rows(cur, table.name, columns, fresh)
    except psycopg.errors.UniqueViolation:
        return _copy_via_staging(raw, table.name, columns, fresh)
    return len(fresh)


def _with_json_text(row: tuple, positions: list[int]) -> tuple:
    if all(row[i] is None for i in positions):
        return row
    values = list(row)
    for i in positions:
        if values[i] is not None:
            values[i] = json.dumps(values[i])
    return tuple(values)


def _copy_via_staging(raw, table: str, columns: Sequence[str], rows: list[tuple]) -> int:
    """``COPY`` into a temporary table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``:
    safe against rows stored concurrently (its row count is exact)."""
    names = ", ".join(columns)
    staging = f"import_{table}"
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA")
        copy_rows(cur, staging, columns, rows)
        cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} ON CONFLICT DO NOTHING")
        inserted = cur.rowcount
        cur.execute(f"DROP TABLE {staging}")
    return inserted
