"""Bulk import benchmark: our streamed, validated, idempotent import against a bare bulk insert.

    .venv/bin/python bench/import.py                                   # SQLite, 100,000 rows
    .venv/bin/python bench/import.py --database-url postgresql://postgres@127.0.0.1:5432/test

Ours reads a JSON Lines file row by row, validates each row, hashes the email and
inserts in batches skipping duplicates. The baseline inserts the same rows, already
parsed and hashed, in one go: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.
Each of ``--rounds`` rounds runs both into an emptied table, one after the other; the
figures are the medians over the rounds, the ratio the median of the rounds' ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

COLUMNS = ("brand_id", "source", "external_id", "kind", "email", "email_hash", "legal_basis", "objected", "created_at")


def bare_insert(url: str, rows: list[tuple]) -> None:
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url) as conn, conn.cursor() as cur:
            with cur.copy(f"COPY stakeholders ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    import sqlite3

    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    conn.executemany(f"INSERT INTO stakeholders ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", rows)
    conn.commit()
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = args.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "import.db")

    from sqlalchemy import delete

    from app import create_app
    from core.extensions import db
    from purpose.imports import import_stakeholders
    from purpose.models import Brand, Stakeholder
    from purpose.stakeholders import email_hash

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret-" * 4, "LOG_LEVEL": "WARNING"})
    path = Path(tempfile.mkdtemp()) / "people.jsonl"
    with path.open("w") as f:
        for i in range(args.rows):
            f.write(json.dumps({"external_id": f"p-{i}", "kind": "prospect", "email": f"p{i}@example.com"}) + "\n")
    ours_times, bare_times = [], []
    with app.app_context():
        db.drop_all()
        db.create_all()
        ours_brand, bare_brand = Brand(name="ours"), Brand(name="bare")
        db.session.add_all([ours_brand, bare_brand])
        db.session.commit()
        now = datetime.now(timezone.utc)
        prepared = [(bare_brand.id, "bench", f"p-{i}", "prospect", f"p{i}@example.com", email_hash(f"p{i}@example.com"),
                     "none", False, now if url.startswith("postgresql") else now.replace(tzinfo=None).isoformat(" "))
                    for i in range(args.rows)]
        for _round in range(args.rounds):
            db.session.execute(delete(Stakeholder))
            db.session.commit()
            start = time.perf_counter()
            with path.open(encoding="utf-8") as stream:
                report = import_stakeholders(stream, "jsonl", brand_id=ours_brand.id, source="bench")
            ours_times.append(time.perf_counter() - start)
            assert report.accepted == args.rows
            db.session.execute(delete(Stakeholder))
            db.session.commit()
            start = time.perf_counter()
            bare_insert(url.replace("postgresql+psycopg://", "postgresql://"), prepared)
            bare_times.append(time.perf_counter() - start)
        db.engine.dispose()
    kind = "PostgreSQL COPY" if url.startswith("postgresql") else "SQLite executemany"
    ratios = [bare / ours for ours, bare in zip(ours_times, bare_times)]
    print(f"\nimport of {args.rows:,} stakeholder rows ({url.split(':', 1)[0]}), {args.rounds} rounds")
    print(f"ours (stream, validate, hash, idempotent insert): {args.rows / statistics.median(ours_times):>10,.0f} rows/s")
    print(f"bare {kind} of the same rows, pre-parsed:      {args.rows / statistics.median(bare_times):>10,.0f} rows/s")
    print(f"ratio ours / bare per round: {', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
