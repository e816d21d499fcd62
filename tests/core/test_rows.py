"""Bulk reads as plain tuples (core/rows.py): every row, in order, in batches, on either database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.extensions import db, utcnow
from core.rows import plain_chunks, plain_rows, utc
from purpose.models import Brand, Stakeholder, StakeholderKind


def test_every_row_comes_back_once_in_order_in_batches_with_statements_between_them(app):
    """On PostgreSQL the rows come through a server-side cursor, a batch per round trip. Reading them
    through SQLAlchemy's streaming result lost the row it had buffered on execution, and with it one
    person from each people snapshot (the first stakeholder of the brand)."""
    with app.app_context():
        brand = Brand(name="Rows")
        db.session.add(brand)
        db.session.flush()
        now = utcnow()
        for i in range(7):
            db.session.add(Stakeholder(brand_id=brand.id, kind=StakeholderKind.customer, external_id=f"c-{i}",
                                       display_name=f"Person {i}", created_at=now - timedelta(days=i)))
        db.session.commit()
        stmt = (select(Stakeholder.external_id, Stakeholder.kind, Stakeholder.created_at)
                .where(Stakeholder.brand_id == brand.id, Stakeholder.kind == StakeholderKind.customer,
                       Stakeholder.created_at > now - timedelta(days=5, hours=12))
                .order_by(Stakeholder.created_at.desc()))
        sizes, read = [], []
        for chunk in plain_chunks(stmt, batch=2):
            sizes.append(len(chunk))
            read.extend(chunk)
            assert db.session.scalar(select(Brand.name).where(Brand.id == brand.id)) == "Rows"  # the session stays usable
        assert sizes == [2, 2, 2]
        assert [external_id for external_id, _kind, _at in read] == [f"c-{i}" for i in range(6)]
        assert {kind for _id, kind, _at in read} == {"customer"}  # enum columns as their stored names
        assert utc(read[0][2]) == now
        assert [row[0] for row in plain_rows(stmt, batch=4)] == [f"c-{i}" for i in range(6)]
        assert list(plain_chunks(stmt.where(Stakeholder.external_id == "nobody"))) == []
        chosen = stmt.where(Stakeholder.external_id.in_(["c-1", "c-4", "c-6"]))  # an IN list, expanded
        assert [row[0] for row in plain_rows(chosen, batch=1)] == ["c-1", "c-4"]
