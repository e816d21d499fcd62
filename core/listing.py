"""Filtered, sorted, keyset-paged listings of one table's rows, for the analysts' tables of people
(a people snapshot's, a graph report's): tens of thousands of rows an analyst pages through.

A :class:`Listing` names the table's rows of one parent (a snapshot, a report), the columns a page
shows, the filters a query may give and the sorts. A page is read by a statement built once per
*shape* (sort, the filters given, first page or not) with ``bindparam`` for the values, run through
:mod:`core.sql` as the post path's statements are, and its rows become plain dicts of JSON values
in one pass: building the statement anew, loading ORM objects and serialising each field through
marshmallow cost twenty times what the database takes to return the page (docs/performance.md,
"People snapshots").

The order always ends in the table's unique key, by default in the sort's direction, so a page's
cursor (the last row's sort value and key, signed as :mod:`core.pagination`'s are) continues with a
row-value comparison ``(sort, key) > (:sort, :key)`` that an index on ``(parent, sort, key)``
answers directly at any depth. A sort on a column that may be empty lists only the rows that have a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import marshmallow as ma
from flask import current_app
from sqlalchemy import Integer, and_, bindparam, or_, select, tuple_

from core import sql
from core.pagination import decode_cursor, encode_cursor

#: Statement shapes kept per listing (sorts x subsets of filters x first page or not).
SHAPES_KEPT = 256


@dataclass(frozen=True)
class Filter:
    """One query argument and the condition it puts on the rows.

    ``op``: ``eq``, ``ge``, ``le``, ``lt`` compare ``columns[0]`` with the value; ``text`` matches rows
    where any of ``columns`` contains the value (case-insensitively) or any of ``exact`` equals it."""

    arg: str
    columns: tuple
    op: str = "eq"
    exact: tuple = ()

    def clause(self):
        column = self.columns[0]
        if self.op == "text":
            like = [c.ilike(bindparam("text_like", type_=c.type), escape="/") for c in self.columns]
            return or_(*like, *(c == bindparam(self.arg, type_=c.type) for c in self.exact))
        value = bindparam(self.arg, type_=column.type)
        return {"eq": column.__eq__, "ge": column.__ge__, "le": column.__le__, "lt": column.__lt__}[self.op](value)


def _like_pattern(text: str) -> str:
    """``%text%`` with LIKE's own characters taken literally (escape character ``/``)."""
    return "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


class Listing:
    """The rows of ``parent`` (a column: the rows of one snapshot, one report) shown as ``item_schema``'s
    fields (columns of the same names), filterable by ``filters``, sortable by ``sorts`` (name ->
    (column, descending)), each order ending in the unique ``key``: in the sort's direction, or
    ascending with ``key_follows_sort=False`` (ties in a report's order by score read as its ranks do)."""

    def __init__(self, *, parent, key, item_schema: type[ma.Schema], sorts: dict, filters: tuple[Filter, ...],
                 key_follows_sort: bool = True):
        self.parent, self.key, self.sorts, self.filters = parent, key, sorts, filters
        self.key_follows_sort = key_follows_sort
        fields = item_schema().fields
        self.names = tuple(fields)
        self.columns = tuple(parent.table.c[name] for name in self.names)
        # The schema's DateTime fields dump ISO 8601 text; every other field here is a JSON value already.
        self._times = tuple(i for i, f in enumerate(fields.values()) if isinstance(f, ma.fields.DateTime))
        self._statement = lru_cache(maxsize=SHAPES_KEPT)(self._build)

    def _build(self, sort: str, given: frozenset, after: bool):
        column, descending = self.sorts[sort]
        # The cursor's values close the row (labelled: a column selected twice would be selected once).
        stmt = select(*self.columns, column.label("sort_value"), self.key.label("sort_key")).where(self.parent == bindparam("parent", type_=self.parent.type))
        for f in self.filters:
            if f.arg in given:
                stmt = stmt.where(f.clause())
        keys = [self.key] if column is self.key else [column, self.key]
        if column is not self.key and column.nullable:
            stmt = stmt.where(column.is_not(None))
        directions = [descending] if len(keys) == 1 else [descending, descending if self.key_follows_sort else False]
        if after:
            bound = [bindparam(f"after_{i}", type_=c.type) for i, c in enumerate(keys)]
            if len(set(directions)) == 1:  # one direction: a row value, which an index answers at any depth
                stmt = stmt.where(tuple_(*keys) < tuple_(*bound) if descending else tuple_(*keys) > tuple_(*bound))
            else:
                first = keys[0] < bound[0] if descending else keys[0] > bound[0]
                stmt = stmt.where(or_(first, and_(keys[0] == bound[0], keys[1] > bound[1])))
        order = [c.desc() if d else c.asc() for c, d in zip(keys, directions)]
        return stmt.order_by(*order).limit(bindparam("limit", type_=Integer()))

    def page(self, parent_id, args: dict, *, scope: str) -> dict:
        """One page: ``{"items": [plain dicts], "next_cursor": str | None}``. ``args`` holds the parsed
        query (``sort``, ``limit``, ``cursor`` and the filters; a filter given as None is not given);
        ``scope`` names the listing and its filters, so a cursor works only where it was made."""
        limit = min(args.get("limit") or current_app.config["PAGE_LIMIT_DEFAULT"], current_app.config["PAGE_LIMIT_MAX"])
        sort = args["sort"]
        column = self.sorts[sort][0]
        width = 1 if column is self.key else 2
        params = {"parent": parent_id, "limit": limit + 1}
        given = frozenset(f.arg for f in self.filters if args.get(f.arg) not in (None, ""))
        for f in self.filters:
            if f.arg in given:
                params[f.arg] = args[f.arg]
                if f.op == "text":
                    params["text_like"] = _like_pattern(args[f.arg])
        if args.get("cursor"):
            for i, value in enumerate(decode_cursor(scope, args["cursor"], width)):
                params[f"after_{i}"] = value
        rows, converters = sql.run_raw(self._statement(sort, given, bool(args.get("cursor"))), params)
        convert = dict(converters)
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last, shown = rows[-1], len(self.names)
            values = [convert[i](last[i]) if i in convert else last[i] for i in (shown, shown + 1)]
            next_cursor = encode_cursor(scope, values[2 - width:])
        # One pass makes the items (zip stops at the shown columns: the cursor's two are left out);
        # a second touches only the columns that convert: the driver's values, then ISO 8601 text.
        items = [dict(zip(self.names, row)) for row in rows]
        for name, to_value in self._shown_converters(convert):
            for item in items:
                value = item[name]
                if value is not None:
                    item[name] = to_value(value)
        return {"items": items, "next_cursor": next_cursor}

    def _shown_converters(self, convert: dict) -> list:
        """``(name, converter)`` for each shown column whose value changes on its way to JSON:
        SQLAlchemy's result conversion (``convert``: column index -> converter), then, for the
        schema's DateTime fields, ISO 8601 text."""
        pairs = []
        for i, name in enumerate(self.names):
            driver = convert.get(i)
            if i in self._times:
                pairs.append((name, datetime.isoformat if driver is None else (lambda v, c=driver: c(v).isoformat())))
            elif driver is not None:
                pairs.append((name, driver))
        return pairs
