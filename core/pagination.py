"""Keyset (cursor) pagination: stable under concurrent inserts, no OFFSET scans.

A cursor is the sort key of the last row of a page, signed so that clients cannot
forge or tamper with it (a tampered cursor is a 422 on the ``cursor`` field). Every
list orders by a unique key, ending in the primary key, so no row is skipped or
repeated between pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, literal, or_

from core.errors import ApiError
from core.extensions import db


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset order, with its direction."""

    column: object
    descending: bool = False


def _serializer() -> URLSafeSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=4)
def _serializer_for(secret: str) -> URLSafeSerializer:
    """The cursor signer of one secret (its key is derived once, not on every page; it keeps no state)."""
    return URLSafeSerializer(secret, salt="page-cursor")


def _encode_value(value):
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _decode_value(value):
    return datetime.fromisoformat(value["t"]) if isinstance(value, dict) else value


def encode_cursor(scope: str, values: list) -> str:
    return _serializer().dumps([scope, [_encode_value(v) for v in values]])


def decode_cursor(scope: str, token: str, size: int) -> list:
    """The sort key a cursor names; a 422 on ``cursor`` when forged or from another list."""
    try:
        found_scope, values = _serializer().loads(token)
        if found_scope != scope or len(values) != size:
            raise ValueError("cursor of another list")
        return [_decode_value(v) for v in values]
    except (BadSignature, ValueError, TypeError, KeyError):
        raise ApiError(422, "The cursor is invalid.", errors={"cursor": ["Invalid cursor."]}) from None


def _after(keys: list[SortKey], values: list):
    """The SQL condition "sorts after ``values``" for a lexicographic keyset order."""
    # Bound with each column's type: booleans compare as values, timestamps convert to UTC.
    bound = [literal(value, key.column.type) for key, value in zip(keys, values)]
    clauses = []
    for i, key in enumerate(keys):
        equal_prefix = [keys[j].column == bound[j] for j in range(i)]
        beyond = key.column < bound[i] if key.descending else key.column > bound[i]
        clauses.append(and_(*equal_prefix, beyond))
    return or_(*clauses)


def keyset_page(stmt, keys: list[SortKey], *, scope: str, args: dict, attrs: list[str]) -> dict:
    """Run ``stmt`` for one page and return ``{"items": [...], "next_cursor": str | None}``.

    Parameters
    ----------
    stmt : Select
        The filtered query, without ORDER BY or LIMIT.
    keys : list of SortKey
        The order; the last key must be unique (the primary key).
    scope : str
        Names the list (and its filter) so a cursor cannot be replayed on another list.
    args : dict
        Parsed ``PageArgs``: ``limit`` and ``cursor``.
    attrs : list of str
        Attribute names on each row giving the sort key values, in ``keys`` order.
    """
    limit = args.get("limit") or current_app.config["PAGE_LIMIT_DEFAULT"]
    limit = min(limit, current_app.config["PAGE_LIMIT_MAX"])
    if args.get("cursor"):
        stmt = stmt.where(_after(keys, decode_cursor(scope, args["cursor"], len(keys))))
    order = [k.column.desc() if k.descending else k.column.asc() for k in keys]
    rows = list(db.session.scalars(stmt.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(scope, [getattr(rows[-1], a) for a in attrs])
    return {"items": rows, "next_cursor": next_cursor}


def list_page(items: list, *, key, scope: str, args: dict) -> dict:
    """One page of an already computed list, in ascending ``key`` order (a unique integer).

    For results computed in memory (profiles scored against their whole population); the
    cursor is the last key, signed and tied to ``scope`` like ``keyset_page``'s.
    """
    limit = min(args.get("limit") or current_app.config["PAGE_LIMIT_DEFAULT"], current_app.config["PAGE_LIMIT_MAX"])
    ordered = sorted(items, key=key)
    if args.get("cursor"):
        (after,) = decode_cursor(scope, args["cursor"], 1)
        ordered = [item for item in ordered if key(item) > after]
    page, more = ordered[:limit], len(ordered) > limit
    return {"items": page, "next_cursor": encode_cursor(scope, [key(page[-1])]) if more else None}
