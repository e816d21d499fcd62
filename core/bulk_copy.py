"""Bulk writes by PostgreSQL's ``COPY``: the rows' text, ``COPY`` that skips rows already stored,
and a writer process that stores batches while its parent prepares the next.

This module needs psycopg and nothing of the platform: :class:`CopyProcess` runs this file as
its own program (``python -P core/bulk_copy.py``; ``-P`` keeps ``core/`` off its path), so the
child starts in a fraction of the time an app import would take.

Why a process. An import's Python work (reading, validating, hashing, formatting) and the
database's work on the previous batch can overlap. With the database calls in a thread of the
same process they did not: a thread waking from a socket wait needs the GIL back, and a busy
parent hands it over only every switch interval (5 ms); a batch's round trips (begin, the
people-version update, savepoint, ``COPY``, commit) each paid that, so parent and database took
turns and half of a 2-core machine stayed idle (docs/performance.md, "Bulk import"). A process
has its own interpreter: the parent only writes each batch's bytes to a pipe.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from collections.abc import Sequence

import psycopg
from psycopg._copy_base import TextFormatter
from psycopg.adapt import Transformer

_FRAME = struct.Struct("!QQ")  # parent to child: payload length, rows in it
_RESULT = struct.Struct("!q")  # child to parent: rows stored, or -1 and then an error frame


def copy_rows(cur, table: str, columns: Sequence[str], rows) -> None:
    """``COPY`` the tuples into ``table`` on a psycopg cursor (values as they are: names for enums,
    JSON text for JSON columns), or ``rows`` already formatted by :func:`copy_text`."""
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        if isinstance(rows, bytes):
            copy.write(rows)
            return
        for row in rows:
            copy.write_row(row)


def copy_text(rows) -> bytes:
    """The tuples as ``COPY ... FROM STDIN`` text, formatted by psycopg's own (C) row formatter
    with its default adapters, as ``copy.write_row`` would send them. (``psycopg._copy_base`` is
    not public API; the pinned psycopg and the import tests hold it.)"""
    formatter = TextFormatter(Transformer())
    data = bytearray()
    for row in rows:
        data += formatter.write_row(row)
    data += formatter.end()
    return bytes(data)


def copy_ignoring_duplicates(raw, table: str, columns: Sequence[str], text: bytes, count: int) -> int:
    """Store the ``count`` rows of ``text`` (:func:`copy_text`, no key twice) that are not stored
    yet, on the psycopg connection ``raw`` inside its transaction; returns how many went in.

    They go by ``COPY`` straight into the table, as fast as a bare ``COPY``: the usual case, a
    file not imported before. If one of them is stored already (a re-run, a resumed import,
    another import meanwhile) the unique key refuses the ``COPY``, which ran in a savepoint, and
    the batch goes through :func:`_copy_via_staging`, which skips whatever is stored. A re-run's
    batches fail on their first row, so that costs little. (Looking the batch's keys up first
    would cost an index probe per row on every batch, and a planner without statistics for a
    growing table turns it into a scan.)"""
    try:
        with raw.transaction(), raw.cursor() as cur:  # a savepoint: a refused COPY leaves the batch's transaction usable
            copy_rows(cur, table, columns, text)
    except psycopg.errors.UniqueViolation:
        return _copy_via_staging(raw, table, columns, text)
    return count


def _copy_via_staging(raw, table: str, columns: Sequence[str], text: bytes) -> int:
    """``COPY`` into a temporary table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``:
    safe against rows stored concurrently (its row count is exact)."""
    names = ", ".join(columns)
    staging = f"import_{table}"
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA")
        copy_rows(cur, staging, columns, text)
        cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} ON CONFLICT DO NOTHING")
        inserted = cur.rowcount
        cur.execute(f"DROP TABLE {staging}")
    return inserted


class CopyProcessError(RuntimeError):
    """The writer process could not store a batch (its database error), or ended."""


class CopyProcess:
    """A child process storing batches of ``COPY`` text into ``table`` with
    :func:`copy_ignoring_duplicates`, each batch in a transaction of its own, in the order sent;
    ``before`` (SQL text and its parameters), when given, runs in each batch's transaction first.

    :meth:`send` hands a batch over without waiting; :meth:`stored` waits for the oldest batch
    sent and not yet answered and returns how many of its rows went in, or raises
    :class:`CopyProcessError` with the database's message (the child stops at its first error:
    later batches are not stored). :meth:`close` lets the child finish what it was sent and end.
    The child ends too when its parent dies (its input closes); a batch it had wholly received
    is committed, a part of one is not."""

    def __init__(self, conninfo: str, table: str, columns: Sequence[str], before: tuple[str, dict] | None = None):
        self.proc = subprocess.Popen([sys.executable, "-P", os.path.abspath(__file__)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, close_fds=True)
        header = {"conninfo": conninfo, "table": table, "columns": list(columns), "before": before}
        self._send_frame(json.dumps(header).encode(), 0)  # on the pipe, not the command line: the password stays private

    def send(self, text: bytes, count: int) -> None:
        self._send_frame(text, count)

    def stored(self) -> int:
        inserted = _RESULT.unpack(self._read(_RESULT.size))[0]
        if inserted >= 0:
            return inserted
        length, _ = _FRAME.unpack(self._read(_FRAME.size))
        raise CopyProcessError(self._read(length).decode("utf-8", "replace"))

    def close(self) -> None:
        try:
            if self.proc.stdin and not self.proc.stdin.closed:
                self.proc.stdin.close()
        except BrokenPipeError:
            pass
        finally:
            self.proc.stdout.close()
            self.proc.wait()

    def _send_frame(self, payload: bytes, count: int) -> None:
        try:
            self.proc.stdin.write(_FRAME.pack(len(payload), count))
            self.proc.stdin.write(payload)
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise CopyProcessError("the import's writer process ended") from None

    def _read(self, size: int) -> bytes:
        data = self.proc.stdout.read(size)
        if len(data) != size:
            raise CopyProcessError(f"the import's writer process ended (exit status {self.proc.wait()})")
        return data


def _serve(source, sink) -> int:
    """The child: the header, then one answer per batch until its input ends."""
    def frame() -> tuple[bytes, int] | None:
        head = source.read(_FRAME.size)
        if len(head) != _FRAME.size:
            return None
        length, count = _FRAME.unpack(head)
        payload = source.read(length)
        return (payload, count) if len(payload) == length else None

    header = json.loads(frame()[0])
    table, columns, before = header["table"], header["columns"], header["before"]
    with psycopg.connect(header["conninfo"]) as conn:
        while (batch := frame()) is not None:
            try:
                with conn.transaction():
                    if before is not None:
                        conn.execute(before[0], before[1])
                    inserted = copy_ignoring_duplicates(conn, table, columns, *batch)
            except psycopg.Error as exc:
                message = f"{type(exc).__name__}: {exc}".encode()
                sink.write(_RESULT.pack(-1) + _FRAME.pack(len(message), 0) + message)
                sink.flush()
                return 1
            sink.write(_RESULT.pack(inserted))
            sink.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_serve(sys.stdin.buffer, sys.stdout.buffer))
