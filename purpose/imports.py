"""Streamed, validated, idempotent bulk import of stakeholders and touchpoints (CSV or JSON Lines).

Rows are read one at a time from the stream, validated with the same marshmallow fields
as the API, and written in batches by ``import_store.BatchWriter`` (``COPY`` from a writer process on
PostgreSQL, overlapping the reading of the next batch; Core inserts on SQLite; no ORM object per row) that skip
rows already stored (same brand, source and external id): importing a file twice
stores nothing twice. A bad row is reported with its line number and reason and does
not stop or affect the others; each batch commits on its own. A CSV field longer than
``FIELD_MAX_CHARS`` and a JSON Lines row nested deeper than ``JSON_MAX_DEPTH`` are such bad rows.
When the stream itself fails part way (bytes that are not UTF-8, a body over the size
limit), the caller's ``ImportReport`` still says what the batches before it stored.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterator

import marshmallow as ma
from marshmallow import validate
from sqlalchemy import select

from core.cooperative import paced
from core.extensions import db, utcnow
from core.request_parsing import JSON_MAX_DEPTH, JsonTooDeep, loads_json
from core.validation import EmailAddress, SafeText
from purpose.import_store import BatchWriter
from purpose.import_rows import fast_stakeholder, fast_touchpoint
from purpose.models import ContactPreference, LegalBasis, Purpose, Stakeholder, StakeholderKind, Touchpoint, TouchpointKind
from purpose.snapshots import people_changed, people_changed_statement
from purpose.stakeholders import email_hash, email_hasher, erased_external_id

BATCH = 1000
MAX_REPORTED = 1000
#: The longest CSV field (characters); a longer one rejects its row. Python's csv module's own limit.
FIELD_MAX_CHARS = 131_072
_EXTERNAL_ID = {"required": True, "validate": validate.Length(min=1, max=128)}
#: Items of a list column (``interests``, ``purposes``): at most this many, each at most ITEM_MAX_CHARS.
LIST_MAX_ITEMS, ITEM_MAX_CHARS = 20, 120


class ItemList(ma.fields.List):
    """A list column: a JSON list, or in CSV one cell with items separated by ``;`` (blanks dropped)."""

    def __init__(self, **kwargs):
        super().__init__(SafeText(validate=validate.Length(min=1, max=ITEM_MAX_CHARS)), load_default=list,
                         allow_none=True, validate=validate.Length(max=LIST_MAX_ITEMS), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = [item.strip() for item in value.split(";") if item.strip()]
        elif isinstance(value, list):
            value = [str(item) if isinstance(item, int) and not isinstance(item, bool) else item for item in value]
        return super()._deserialize(value, attr, data, **kwargs)


class _PurposeRef(SafeText):
    """A purpose of the brand by id or by title (case-insensitive); resolved against the brand later."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class StakeholderRow(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    external_id = SafeText(**_EXTERNAL_ID)
    kind = ma.fields.Enum(StakeholderKind, required=True)
    email = EmailAddress(load_default=None, allow_none=True)
    legal_basis = ma.fields.Enum(LegalBasis, load_default=LegalBasis.none)
    contact_preference = ma.fields.Enum(ContactPreference, load_default=None, allow_none=True)
    display_name = SafeText(load_default=None, allow_none=True, validate=validate.Length(max=120))
    interests = ItemList()
    purposes = ItemList()


class TouchpointRow(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    external_id = SafeText(**_EXTERNAL_ID)
    stakeholder_external_id = SafeText(**_EXTERNAL_ID)
    kind = ma.fields.Enum(TouchpointKind, required=True)
    occurred_at = ma.fields.AwareDateTime(required=True)
    amount = ma.fields.Float(load_default=None, allow_none=True, allow_nan=False, validate=validate.Range(min=0))
    currency = ma.fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    other_stakeholder_external_id = SafeText(load_default=None, allow_none=True, validate=validate.Length(max=128))
    event_ref = SafeText(load_default=None, allow_none=True, validate=validate.Length(max=128))
    purpose = _PurposeRef(load_default=None, allow_none=True, validate=validate.Length(max=ITEM_MAX_CHARS))


@dataclass
class ImportReport:
    accepted: int = 0  # stored now
    duplicates: int = 0  # already stored by an earlier import
    rejected: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), the first MAX_REPORTED

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append((line, reason))


def read_rows(stream: io.TextIOBase, fmt: str) -> Iterator[tuple[int, dict | None, str | None]]:
    """Yield (line number, row, error) one row at a time; the file is never held in memory."""
    if fmt == "csv":
        yield from _read_csv(stream)
        return
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            row = loads_json(line)
        except JsonTooDeep:
            yield number, None, f"nested deeper than {JSON_MAX_DEPTH} levels"
            continue
        except ValueError:
            yield number, None, "not valid JSON"
            continue
        yield (number, row, None) if isinstance(row, dict) else (number, None, "not a JSON object")


def _read_csv(stream) -> Iterator[tuple[int, dict | None, str | None]]:
    """CSV rows; a row the csv module refuses (a field over ``FIELD_MAX_CHARS``) is reported
    on the line its record starts, and reading goes on with the next record."""
    reader, refused = csv.DictReader(stream), 0  # the reader does not count a line it refused
    while True:
        started = reader.line_num + refused + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            refused += 1
            too_long = "field limit" in str(exc)
            yield started, None, f"a field is longer than {FIELD_MAX_CHARS:,} characters" if too_long else f"not valid CSV ({exc})"
            continue
        yield reader.line_num + refused, {k: (v if v != "" else None) for k, v in row.items() if k is not None}, None


def _message(error: ma.ValidationError) -> str:
    return "; ".join(f"{name}: {' '.join(map(str, msgs if isinstance(msgs, list) else [msgs]))}"
                     for name, msgs in sorted(error.normalized_messages().items()))


def _rows_in_batches(stream, fmt: str, schema: ma.Schema, report: ImportReport, fast: Callable[[dict], dict | None]):
    """Validated rows in batches of BATCH as (line, data) pairs; bad rows go to the report.

    ``fast`` (``purpose.import_rows``) gives the schema's result for a plain row without running it,
    and None for any other row, which the schema then accepts or rejects with its message."""
    batch = []
    for line, row, error in paced(read_rows(stream, fmt)):  # an upload parses in the web process: let its sockets run
        if error is None:
            data = fast(row)
            if data is not None:
                batch.append((line, data))
            else:
                try:
                    batch.append((line, schema.load(row)))
                except ma.ValidationError as exc:
                    error = _message(exc)
        if error is not None:
            report.reject(line, error)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


#: The columns an import writes, in the order of the tuples it builds.
STAKEHOLDER_COLUMNS = ("brand_id", "source", "external_id", "kind", "email", "email_hash", "legal_basis",
                       "contact_preference", "display_name", "interests", "purpose_ids", "objected", "created_at")
TOUCHPOINT_COLUMNS = ("brand_id", "source", "external_id", "kind", "stakeholder_id", "other_stakeholder_id",
                      "occurred_at", "amount", "currency", "event_ref", "purpose_id")


def _writer(model, columns: tuple[str, ...], report: ImportReport, progress, brand_id: int) -> BatchWriter:
    """Each batch also bumps the brand's people version in its transaction (``purpose/snapshots.py``)."""
    def stored(inserted: int, given: int) -> None:
        report.accepted += inserted
        report.duplicates += given - inserted
        if progress:
            progress(report)

    return BatchWriter(model, columns, stored, before=people_changed_statement(brand_id))


def _any_erased(brand_id: int, source: str) -> bool:
    """Whether the brand has erased anyone of ``source``: most never have, and then no batch needs
    the lookup below (on PostgreSQL a table growing within the import's transaction can make the
    planner scan it whole for each batch: 823 rows/s at 100,000 rows)."""
    return db.session.scalar(select(Stakeholder.id).where(
        Stakeholder.brand_id == brand_id, Stakeholder.source == source, Stakeholder.erased_at.is_not(None)).limit(1)) is not None


def _without_erased(batch: list, brand_id: int, source: str) -> list:
    """Drop rows of people erased earlier: their external id is stored only as a keyed hash."""
    hashed = {erased_external_id(d["external_id"]): i for i, (_l, d) in enumerate(batch) if d["external_id"]}
    if not hashed:
        return batch
    erased = db.session.scalars(select(Stakeholder.external_id).where(
        Stakeholder.brand_id == brand_id, Stakeholder.source == source, Stakeholder.external_id.in_(hashed)))
    skip = {hashed[h] for h in erased}
    return [row for i, row in enumerate(batch) if i not in skip] if skip else batch


class PurposeRefs:
    """The brand's purposes by id and by lower-cased title: what ``purposes`` and ``purpose`` cells name."""

    def __init__(self, brand_id: int):
        self.by_ref: dict[str, int] = {}
        for pid, title in db.session.execute(select(Purpose.id, Purpose.title).where(Purpose.brand_id == brand_id)):
            self.by_ref.setdefault(title.strip().lower(), pid)
            self.by_ref[str(pid)] = pid

    def resolve(self, refs) -> tuple[list[int], list[str]]:
        """(purpose ids in the order given, without repeats; the references that name no purpose of the brand)."""
        ids, unknown = [], []
        for ref in refs:
            pid = self.by_ref.get(ref.strip().lower())
            if pid is None:
                unknown.append(ref)
            elif pid not in ids:
                ids.append(pid)
        return ids, unknown


def _unknown_purposes(field_name: str, unknown: list[str]) -> str:
    return f"{field_name}: no purpose of this brand has the id or title {', '.join(map(repr, unknown))}"


def import_stakeholders(stream, fmt: str, *, brand_id: int, source: str, progress: Callable | None = None,
                        report: ImportReport | None = None) -> ImportReport:
    """Import stakeholder rows for a brand from ``source`` into ``report`` (a new one by default);
    see the module docstring. A row of a person erased earlier counts as a duplicate and stores nothing."""
    report, now, purposes = report or ImportReport(), utcnow(), PurposeRefs(brand_id)
    fast = partial(fast_stakeholder, list_items=LIST_MAX_ITEMS, item_chars=ITEM_MAX_CHARS)
    erased_before, hashed = _any_erased(brand_id, source), email_hasher()
    with _writer(Stakeholder, STAKEHOLDER_COLUMNS, report, progress, brand_id) as writer:
        for batch in _rows_in_batches(stream, fmt, StakeholderRow(), report, fast):
            kept = _without_erased(batch, brand_id, source) if erased_before else batch
            report.duplicates += len(batch) - len(kept)
            values = []
            for line, d in kept:
                purpose_ids, unknown = purposes.resolve(d["purposes"] or ())
                if unknown:
                    report.reject(line, _unknown_purposes("purposes", unknown))
                    continue
                preference, email = d["contact_preference"], d["email"]
                values.append((  # STAKEHOLDER_COLUMNS; enums by their stored name
                    brand_id, source, d["external_id"], d["kind"].name, email, hashed(email) if email else None,
                    d["legal_basis"].name, preference.name if preference else None, d["display_name"],
                    list(dict.fromkeys(d["interests"])) if d["interests"] else None, purpose_ids or None, False, now,
                ))
            writer.write(values)
    return report


def add_stakeholder(brand_id: int, data: dict) -> Stakeholder:
    """Store one stakeholder (the API's single-row path); a taken (source, external id) is a 409."""
    stakeholder = Stakeholder(brand_id=brand_id, email_hash=email_hash(data["email"]) if data["email"] else None, **data)
    db.session.add(stakeholder)
    people_changed(brand_id)
    db.session.commit()
    return stakeholder


def _stakeholder_ids(brand_id: int, source: str, refs: set[str]) -> dict[str, int]:
    rows = db.session.execute(
        select(Stakeholder.external_id, Stakeholder.id)
        .where(Stakeholder.brand_id == brand_id, Stakeholder.source == source, Stakeholder.external_id.in_(refs))
    )
    return dict(rows.all())


def import_touchpoints(stream, fmt: str, *, brand_id: int, source: str, stakeholder_source: str | None = None,
                       progress: Callable | None = None, report: ImportReport | None = None) -> ImportReport:
    """Import touchpoint rows; ``stakeholder_external_id`` refers to stakeholders from ``stakeholder_source``."""
    report, purposes = report or ImportReport(), PurposeRefs(brand_id)
    fast = partial(fast_touchpoint, item_chars=ITEM_MAX_CHARS)
    with _writer(Touchpoint, TOUCHPOINT_COLUMNS, report, progress, brand_id) as writer:
        for batch in _rows_in_batches(stream, fmt, TouchpointRow(), report, fast):
            refs = {d["stakeholder_external_id"] for _l, d in batch} | {d["other_stakeholder_external_id"] for _l, d in batch}
            ids = _stakeholder_ids(brand_id, stakeholder_source or source, refs - {None})
            values = []
            for line, d in batch:
                other = d["other_stakeholder_external_id"]
                if d["stakeholder_external_id"] not in ids or (other is not None and other not in ids):
                    report.reject(line, "stakeholder_external_id: no such stakeholder in this brand and source")
                    continue
                purpose_ids, unknown = purposes.resolve([d["purpose"]] if d["purpose"] else [])
                if unknown:
                    report.reject(line, _unknown_purposes("purpose", unknown))
                    continue
                values.append((  # TOUCHPOINT_COLUMNS
                    brand_id, source, d["external_id"], d["kind"].name, ids[d["stakeholder_external_id"]], ids.get(other),
                    d["occurred_at"], d["amount"], d["currency"], d["event_ref"], purpose_ids[0] if purpose_ids else None,
                ))
            writer.write(values)
    return report
