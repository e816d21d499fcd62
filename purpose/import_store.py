"""Writing batches of import rows, skipping those already stored: ``COPY`` from a writer process on
PostgreSQL, ``executemany`` on SQLite."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from psycopg.conninfo import make_conninfo
from sqlalchemy import JSON
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import Executable

from core.bulk_copy import CopyProcess, copy_text
from core.extensions import db


class BatchWriter:
    """Stores batches of one model's rows (tuples of ``columns``' values, enums by their stored
    name, lists as lists) in the order given, each in a transaction of its own,
    skipping rows whose (brand, source, external id) is stored, and calls ``stored(inserted,
    given)`` for each batch in the caller's thread once it is committed. ``before``, when given,
    is a statement run in each batch's transaction before its rows (imports bump the brand's
    people version with it).

    On PostgreSQL the caller formats a batch as ``COPY`` text and hands it to a writer process
    (``core.bulk_copy.CopyProcess``) that stores it while the caller reads and validates the
    next one: the database's work overlaps the per-row Python work instead of following it. At
    most one batch is in flight, so commits keep the file's order. ``close()`` waits for it
    (also when the caller stops on an error: what it reports stored is then stored). A batch
    the database refuses raises ``CopyProcessError`` in the caller's thread, at the next
    ``write`` or at ``close``. SQLite writes inside the process under the GIL, so there the
    batch is written on the caller's session at once."""

    def __init__(self, model, columns: Sequence[str], stored: Callable[[int, int], None], before: Executable | None = None):
        self.table, self.columns, self.stored, self.before = model.__table__, tuple(columns), stored, before
        self.process: CopyProcess | None = None
        self.in_flight: int | None = None  # rows given in the batch sent and not yet answered
        if db.engine.dialect.name == "postgresql":
            self.process = CopyProcess(_conninfo(), self.table.name, self.columns, _compiled(before))
        self.jsons = [i for i, name in enumerate(self.columns) if isinstance(self.table.c[name].type, JSON)]

    def write(self, rows: list[tuple]) -> None:
        if self.process is not None and rows:
            text, count = self._copy_text(rows)  # while the writer stores the last batch
            self._settle()
            self.process.send(text, count)
            self.in_flight = len(rows)
            db.session.commit()  # ends the caller's read transaction (its lookups); it wrote nothing
            return
        self._settle()
        if not rows:
            self.stored(0, 0)
            return
        if self.before is not None:
            db.session.connection().execute(self.before)  # Core, as on PostgreSQL: no ORM session sync
        stmt = sqlite.insert(self.table).on_conflict_do_nothing()
        named = [dict(zip(self.columns, row)) for row in rows]
        inserted = db.session.connection().execute(stmt, named).rowcount  # sqlite3 sums it over the rows
        db.session.commit()
        self.stored(inserted, len(rows))

    def close(self) -> None:
        try:
            self._settle()
        finally:
            if self.process is not None:
                self.process.close()

    def __enter__(self) -> "BatchWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _settle(self) -> None:
        if self.in_flight is not None:
            given, self.in_flight = self.in_flight, None
            self.stored(self.process.stored(), given)  # a refused batch raises here, in the caller's thread

    def _copy_text(self, rows: list[tuple]) -> tuple[bytes, int]:
        """The batch's rows as ``COPY`` text, repeats within the batch left out (the first of each
        external id kept; ``COPY`` would refuse the batch for them), and how many rows that is."""
        key, seen, fresh = self.columns.index("external_id"), set(), []
        for row in rows:
            if row[key] not in seen:
                seen.add(row[key])
                fresh.append(row if not self.jsons else _with_json_text(row, self.jsons))
        return copy_text(fresh), len(fresh)


def _conninfo() -> str:
    """How the engine's connections connect (host, database, user, password, options such as the
    lock timeout), for the writer process to connect the same way."""
    with db.engine.connect() as conn:
        info = conn.connection.driver_connection.info
        return make_conninfo(info.dsn, password=info.password) if info.password else info.dsn


def _compiled(statement: Executable | None) -> tuple[str, dict] | None:
    """The statement as SQL text and parameters for psycopg."""
    if statement is None:
        return None
    compiled = statement.compile(dialect=db.engine.dialect)
    return str(compiled), dict(compiled.params)


def _with_json_text(row: tuple, positions: list[int]) -> tuple:
    """COPY takes a JSON column's lists as JSON text."""
    if all(row[i] is None for i in positions):
        return row
    values = list(row)
    for i in positions:
        if values[i] is not None:
            values[i] = json.dumps(values[i])
    return tuple(values)
