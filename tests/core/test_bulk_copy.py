"""The import's writer process (core/bulk_copy.py): batches stored in order, each in its own
transaction, rows already stored skipped, a refusal reported with the database's words, and a
parent that dies part way leaves no part of a batch behind."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from core.bulk_copy import CopyProcess, CopyProcessError, copy_text
from tests.helpers import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="COPY needs PostgreSQL (./test.sh's second pass sets TEST_DATABASE_URL)")

COLUMNS = ("external_id", "amount", "tags")


@pytest.fixture
def table():
    name = f"bulk_copy_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {name} (external_id text PRIMARY KEY, amount integer NOT NULL, tags json)")
        conn.execute(f"CREATE TABLE {name}_batches (n integer)")
        yield name
        conn.execute(f"DROP TABLE {name}, {name}_batches")


def _stored(table) -> dict[str, int]:
    with psycopg.connect(TEST_DATABASE_URL) as conn:
        return dict(conn.execute(f"SELECT external_id, amount FROM {table}").fetchall())


def _batches(table) -> int:
    with psycopg.connect(TEST_DATABASE_URL) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}_batches").fetchone()[0]


def _writer(table) -> CopyProcess:
    return CopyProcess(TEST_DATABASE_URL, table, COLUMNS, (f"INSERT INTO {table}_batches VALUES (%(n)s)", {"n": 1}))


def test_batches_are_stored_in_order_and_rows_stored_before_are_skipped(table):
    writer = _writer(table)
    try:
        writer.send(copy_text([("a", 1, '["x"]'), ("b", 2, None), ("c\tand\\tab", 3, None)]), 3)
        assert writer.stored() == 3
        writer.send(copy_text([("d", 4, None), ("a", 99, None)]), 2)  # "a" is stored: the batch goes through staging
        assert writer.stored() == 1
    finally:
        writer.close()
    assert _stored(table) == {"a": 1, "b": 2, "c\tand\\tab": 3, "d": 4}
    assert _batches(table) == 2  # the statement before the rows ran once in each batch's transaction
    assert writer.proc.returncode == 0


def test_a_batch_the_database_refuses_raises_its_message_and_keeps_the_batches_before(table):
    writer = _writer(table)
    try:
        writer.send(copy_text([("a", 1, None)]), 1)
        assert writer.stored() == 1
        writer.send(copy_text([("b", 2, None), ("c", None, None)]), 2)  # amount is NOT NULL
        with pytest.raises(CopyProcessError, match="NotNullViolation.*amount"):
            writer.stored()
        with pytest.raises(CopyProcessError, match="writer process ended"):  # it stopped at the refusal
            writer.send(copy_text([("d", 4, None)]) * 2000, 2000)
            writer.stored()
    finally:
        writer.close()
    assert _stored(table) == {"a": 1}
    assert _batches(table) == 1


def test_a_parent_that_dies_mid_batch_leaves_the_whole_batches_stored_and_none_of_the_cut_one(table):
    writer = _writer(table)
    writer.send(copy_text([("a", 1, None), ("b", 2, None)]), 2)
    text = copy_text([("c", 3, None), ("d", 4, None)])
    writer.proc.stdin.write(len(text).to_bytes(8, "big") + (2).to_bytes(8, "big") + text[: len(text) // 2])
    writer.proc.stdin.close()  # as when the parent is killed: its end of the pipe closes
    assert writer.proc.wait(timeout=30) == 0
    writer.proc.stdout.close()
    assert _stored(table) == {"a": 1, "b": 2}
    assert _batches(table) == 1
