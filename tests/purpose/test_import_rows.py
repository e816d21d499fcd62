"""purpose/import_rows.py: the fast path gives exactly what the schema gives, or hands the row to the schema."""

from __future__ import annotations

import marshmallow as ma
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purpose.import_rows import fast_stakeholder, fast_touchpoint
from purpose.imports import ITEM_MAX_CHARS, LIST_MAX_ITEMS, StakeholderRow, TouchpointRow

TEXTS = ["c-1", "Nora Quist", " padded", "trail ", "", "   ", "José", "x" * 128, "x" * 129, "a\tb", "a\nb",
         "\u202eevil", "A\u0301", "ann@example.com", "Ann@Example.COM", " ann@example.com ", "not-an-email",
         "a@b", "me@localhost", "@example.com", "ann@", "a@[127.0.0.1]", "a@b@example.com", "ann@exämple.com",
         "a..b@example.com", "customer", "prospect", "Customer", "consent", "none",
         "friendship", "purchase", "event", "2026-10-01T10:00:00Z", "2026-10-01T10:00:00+02:00",
         "2026-10-01T10:00:00.5-05:30", "2026-10-01T10:00:00", "2026-10-01 10:00:00Z", "2026-02-30T10:00:00Z",
         "42.5", "-3", "1e3", "nan", "EUR", "eur", "EURO", "beach; kayaks", "a;;b", ";", "Ocean Clean-up", "7"]
VALUES = st.one_of(st.sampled_from(TEXTS), st.none(), st.integers(-5, 10**6), st.floats(allow_nan=True),
                   st.booleans(), st.lists(st.sampled_from(TEXTS + [3]), max_size=25), st.text(max_size=12))
STAKEHOLDER_FIELDS = ["external_id", "kind", "email", "legal_basis", "contact_preference", "display_name", "interests",
                      "purposes", "unknown"]
TOUCHPOINT_FIELDS = ["external_id", "stakeholder_external_id", "kind", "occurred_at", "amount", "currency",
                     "other_stakeholder_external_id", "event_ref", "purpose", "unknown"]


def _schema_result(schema, row):
    try:
        return schema.load(row)
    except ma.ValidationError:
        return "rejected"


def _agree(fast, schema, row):
    result = fast(row)
    if result is not None:  # the fast path only ever answers what the schema answers
        assert result == _schema_result(schema, row), row
    return result


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(row=st.dictionaries(st.sampled_from(STAKEHOLDER_FIELDS), VALUES))
def test_fast_stakeholder_rows_agree_with_the_schema(row):
    base = {"external_id": "c-1", "kind": "customer"}
    for candidate in (row, {**base, **row}):
        _agree(lambda r: fast_stakeholder(r, list_items=LIST_MAX_ITEMS, item_chars=ITEM_MAX_CHARS), StakeholderRow(), candidate)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(row=st.dictionaries(st.sampled_from(TOUCHPOINT_FIELDS), VALUES))
def test_fast_touchpoint_rows_agree_with_the_schema(row):
    base = {"external_id": "t-1", "stakeholder_external_id": "c-1", "kind": "purchase", "occurred_at": "2026-10-01T10:00:00Z"}
    for candidate in (row, {**base, **row}):
        _agree(lambda r: fast_touchpoint(r, item_chars=ITEM_MAX_CHARS), TouchpointRow(), candidate)


def test_plain_rows_take_the_fast_path_and_others_go_to_the_schema():
    fast = lambda r: fast_stakeholder(r, list_items=LIST_MAX_ITEMS, item_chars=ITEM_MAX_CHARS)  # noqa: E731
    plain = {"external_id": "c-1", "kind": "customer", "email": "Ann@Example.com", "display_name": "Ann Lee",
             "interests": "beach; kayaks", "purposes": ["Ocean Clean-up", 7]}
    assert _agree(fast, StakeholderRow(), plain)["email"] == "ann@example.com"
    for odd in ({"display_name": "José"}, {"external_id": " c-1"}, {"kind": "galactic"}, {"legal_basis": None}):
        assert fast({**plain, **odd}) is None  # the schema decides: NFC text, stripping, its error message
    row = {"external_id": "t-1", "stakeholder_external_id": "c-1", "kind": "event", "occurred_at": "2026-10-01T10:00:00+02:00",
           "amount": "42.5", "currency": "EUR", "event_ref": "beach-day", "purpose": 3}
    assert _agree(lambda r: fast_touchpoint(r, item_chars=ITEM_MAX_CHARS), TouchpointRow(), row)["purpose"] == "3"
    assert fast_touchpoint({**row, "occurred_at": "2026-10-01T10:00:00"}, item_chars=ITEM_MAX_CHARS) is None  # naive
