"""Parquet exports of people tables: written a row group at a time as they are sent, read back with
pyarrow; the people snapshot's file through the REST API holds exactly what its listing does."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from purpose.parquet import parquet_stream
from tests.purpose.test_snapshots import built, crowd, listing, newest_build, rebuilt  # noqa: F401  (fixtures)

PARQUET = "application/vnd.apache.parquet"


def test_each_chunk_is_sent_as_a_row_group_before_the_next_is_read():
    schema = pa.schema([("id", pa.int64()), ("name", pa.string()), ("at", pa.timestamp("us", tz="UTC"))])
    read = []

    def chunks():
        for start in (0, 1000, 2000):
            read.append(start)
            yield [(i, f"p{i}" if i % 7 else None, datetime(2026, 1, 1, tzinfo=timezone.utc)) for i in range(start, start + 1000)]

    sent = []
    for part in parquet_stream(schema, chunks()):
        sent.append((len(read), len(part)))
    # A row group's bytes leave before the next chunk is read: what the process holds is one chunk.
    assert [n for n, _ in sent[:3]] == [1, 2, 3] and all(size > 0 for _, size in sent)
    data = pq.ParquetFile(io.BytesIO(b"".join(p for p in parquet_stream(schema, chunks()))))
    assert data.num_row_groups == 3 and data.metadata.num_rows == 3000
    table = data.read()
    assert table.schema == schema and table.column("id").to_pylist() == list(range(3000))
    assert table.column("name").null_count == len([i for i in range(3000) if i % 7 == 0])
    empty = pq.read_table(io.BytesIO(b"".join(parquet_stream(schema, iter([])))))
    assert empty.num_rows == 0 and empty.schema == schema


def everyone(actor, brand, **query) -> list[dict]:
    items, cursor = [], None
    while True:
        page = listing(actor, brand, limit=2, **query, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def as_listed(row: dict) -> dict:
    """A Parquet row as the JSON listing writes it (timestamps in ISO 8601)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def test_the_snapshot_as_parquet_is_the_listing_and_leaves_out_the_erased(crowd, app, built):
    manager, brand = crowd["manager"], crowd["brand"]
    waiting = manager.get(f"/api/v1/brands/{brand}/people.parquet")
    assert waiting.status_code == 202 and waiting.get_json() == {"snapshot": None, "building": True}
    built(newest_build(app, brand))
    response = manager.get(f"/api/v1/brands/{brand}/people.parquet")
    assert response.status_code == 200 and response.content_type == PARQUET
    assert response.headers["Content-Disposition"] == f'attachment; filename="brand-{brand}-people.parquet"'
    table = pq.read_table(io.BytesIO(response.data))
    page = listing(manager, brand)
    snapshot = page["snapshot"]
    meta = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
    assert meta["snapshot_id"] == str(snapshot["id"]) == response.headers["X-Snapshot-Id"]
    assert meta["stale"] == "false" and datetime.fromisoformat(meta["as_of"]) == datetime.fromisoformat(snapshot["as_of"])
    rows = [as_listed(r) for r in table.to_pylist()]
    listed = everyone(manager, brand)
    assert rows == listed and len(rows) == 6 and table.column_names == list(listed[0])
    assert {r["display_name"] for r in rows} >= {"Bea Big", "Nils Ngo"}  # staff columns, as the listing shows them
    assert table.schema.field("last_active_at").type == pa.timestamp("us", tz="UTC")

    big = next(r for r in rows if r["external_id"] == "big")
    assert manager.delete(f"/api/v1/stakeholders/{big['stakeholder_id']}").status_code == 204
    stale = manager.get(f"/api/v1/brands/{brand}/people.parquet")  # the same snapshot, stale, without them
    assert stale.headers["X-Snapshot-Id"] == str(snapshot["id"]) and stale.headers["X-Snapshot-Stale"] == "true"
    after = [as_listed(r) for r in pq.read_table(io.BytesIO(stale.data)).to_pylist()]
    assert big["stakeholder_id"] not in {r["stakeholder_id"] for r in after} and len(after) == 5
    assert manager.put(f"/api/v1/stakeholders/{next(r for r in rows if r['external_id'] == 'mid')['stakeholder_id']}"
                       "/objection", json={"objected": True}).status_code == 200
    objected = pq.read_table(io.BytesIO(manager.get(f"/api/v1/brands/{brand}/people.parquet").data))
    assert "mid" not in objected.column("external_id").to_pylist() and objected.num_rows == 4


def test_only_the_brands_staff_download_it(crowd, app, built):
    manager, brand, analyst = crowd["manager"], crowd["brand"], crowd["analyst"]
    rebuilt(app, built, manager, brand)
    for outsider in (crowd["member"], crowd["outsider"], analyst):  # the analyst is not assigned yet
        assert outsider.get(f"/api/v1/brands/{brand}/people.parquet").status_code == 403
    assert manager.put(f"/api/v1/brands/{brand}/analysts/{analyst.id}").status_code == 200
    assert analyst.get(f"/api/v1/brands/{brand}/people.parquet").status_code == 200
    assert manager.get(f"/api/v1/brands/{brand}/people.parquet?purpose_id=999999").status_code == 422
    assert manager.get("/api/v1/brands/999999/people.parquet").status_code == 404


@pytest.mark.parametrize("query", ["colour=red", "purpose_id=0"])
def test_bad_queries_are_422(crowd, query):
    assert crowd["manager"].get(f"/api/v1/brands/{crowd['brand']}/people.parquet?{query}").status_code == 422
