"""Prebuilt Core statements run in the session's transaction, for the paths that run hundreds
of times a second per process (the post path above all: docs/performance.md).

On those paths SQLAlchemy's own work costs more than the database's: building a
``select(...).where(...)`` anew on every call (operator overloading, coercion, cache-key
generation) and the ORM's unit of work for an INSERT (flush planning, identity bookkeeping)
each take several times as long as SQLite takes to run the statement. So:

- build the statement once, at import, with ``bindparam`` for what varies, and
- :func:`run` it on the session's connection, after flushing pending ORM changes exactly as
  ``Session.execute`` would (statements stay in program order), or
- select the :func:`columns` of one or more models and turn each row into persistent ORM
  objects with :func:`loaded`, or :func:`insert_loaded` a row: either way the objects are
  what a query would have loaded (in the session's identity map, attributes committed, lazy
  relationships working), so the rest of the code (serialisers, checks, later changes)
  treats them like any other, without the ORM's per-query loading machinery.

:func:`run` hands the statement to the DBAPI cursor of the session's connection itself.
SQLAlchemy compiles it once per dialect (and, for an INSERT, per set of columns given):
the SQL text, the order of its parameters, each parameter's and each result column's type
conversion, and the Python-side column defaults an INSERT must fill in. Each run then only
converts the values, executes, and converts the rows, skipping the execution context that
``Connection.execute`` builds for every statement (a quarter of a Socket.IO post's CPU time
on SQLite: docs/performance.md). Errors go through SQLAlchemy's own handler, so callers see
the usual ``IntegrityError`` or ``OperationalError`` and a dropped connection is invalidated.
What this skips: engine events around cursor execution and SQL echo logging (no statement
here is logged), the compiled cache's bookkeeping, and the execution context that callable
column defaults could read (they are called with ``None``; ours take no argument). Only
prebuilt statements belong here: plans are kept per statement object for as long as the
statement lives.

The fast path (executing on the cursor, and :func:`loaded` attaching rows as the ORM's loader
does) reads SQLAlchemy internals that no release promises to keep: :data:`PRIVATE_NAMES`.
It runs only when the setting ``SQL_FAST_PATH`` is on (the default) and the installed
SQLAlchemy is a release it was written against (:data:`SQLALCHEMY_SERIES`) that has every
one of those names. Otherwise every call takes the stock path, with the same results:
``Session.execute`` for :func:`run` (engine events and SQL echo included) and, for
:func:`loaded`, the object built by its constructor and made persistent with the public
``make_transient_to_detached`` and ``Session.add``. A fast path that is asked for but cannot
run is logged once per process, with the reason.
"""

from __future__ import annotations

import logging
import weakref
from functools import cache

import sqlalchemy
from flask import current_app
from sqlalchemy import Column, Integer, MetaData, Table, exc, insert, inspect
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict, instance_state, set_committed_value
from sqlalchemy.orm.instrumentation import ClassManager
from sqlalchemy.orm.state import InstanceState

from core.extensions import db

log = logging.getLogger(__name__)

#: The SQLAlchemy release series (major.minor) the fast path was written and tested against.
SQLALCHEMY_SERIES = ("2.1",)
#: The installed release, as the guard reads it (a test sets it to simulate another).
INSTALLED = sqlalchemy.__version__
#: What the fast path uses that SQLAlchemy does not document, by owner; all must be there.
PRIVATE_NAMES = {
    "SQLCompiler": ("_bind_processors", "_result_columns", "bind_names", "escaped_bind_names",
                    "insert_prefetch", "positiontup"),
    "TypeEngine": ("_cached_result_processor",),
    "Connection": ("_handle_dbapi_exception",),
    "IdentityMap": ("_add_unpresent",),
    "Session": ("hash_key",),
    "ClassManager": ("new_instance",),
    "InstanceState": ("key", "identity_token", "session_id"),
}

_fast_ok: bool | None = None  # the guard's verdict, once per process (None: not asked yet)


def unsupported() -> str | None:
    """Why the fast path cannot run on the installed SQLAlchemy, or None when it can."""
    series = ".".join(INSTALLED.split(".")[:2])
    if series not in SQLALCHEMY_SERIES:
        return f"SQLAlchemy {INSTALLED}, not a release it was written against ({', '.join(SQLALCHEMY_SERIES)})"
    table = Table("guard", MetaData(), Column("id", Integer, primary_key=True), Column("n", Integer, default=0))
    compiled = insert(table).returning(table.c.id).compile(dialect=sqlite.dialect(), column_keys=["id"])
    owners = {"SQLCompiler": compiled, "TypeEngine": Integer(), "Connection": Connection,
              "IdentityMap": Session().identity_map, "Session": Session(), "ClassManager": ClassManager,
              "InstanceState": InstanceState}
    missing = [f"{owner}.{name}" for owner, names in PRIVATE_NAMES.items() for name in names
               if not hasattr(owners[owner], name)]
    if not missing and len(compiled._result_columns[0]) != 4:  # (key, name, objects, type)
        missing.append("SQLCompiler._result_columns entries of four")
    return f"SQLAlchemy {INSTALLED} lacks {', '.join(missing)}" if missing else None


def _fast() -> bool:
    """Whether this call takes the fast path: the app's setting, then the guard's verdict."""
    if not current_app.config.get("SQL_FAST_PATH", True):
        return False
    if _fast_ok is None:
        _refuse(unsupported())
    return _fast_ok


def _refuse(reason: str | None) -> None:
    """Record the guard's verdict; a refusal is logged once per process."""
    global _fast_ok
    if reason is not None and _fast_ok is not False:
        log.warning("core.sql: SQL_FAST_PATH is on but %s: every statement takes the stock path (Session.execute)", reason)
    _fast_ok = reason is None


class Row(tuple):
    """A result row: a tuple whose columns can also be read by name (the first column of that name)."""

    __slots__ = ()
    _positions: dict[str, int] = {}

    def __getattr__(self, name: str):
        try:
            return self[self._positions[name]]
        except KeyError:
            raise AttributeError(name) from None


class Rows(list):
    """The rows a statement returned, with the few ``Result`` methods the callers use."""

    def first(self):
        return self[0] if self else None

    def one(self):
        if len(self) != 1:
            raise (exc.NoResultFound if not self else exc.MultipleResultsFound)(f"Expected one row, got {len(self)}.")
        return self[0]

    def scalar_one(self):
        return self.one()[0]


class _Plan:
    """One statement compiled for one dialect: what each run needs, worked out once."""

    __slots__ = ("sql", "positional", "names", "binds", "defaults", "results", "converted", "row")

    def __init__(self, stmt, dialect, column_keys: frozenset | None):
        compiled = stmt.compile(dialect=dialect, column_keys=sorted(column_keys) if column_keys is not None else None)
        self.sql = compiled.string
        self.positional = compiled.positional
        by_name = {name: param for param, name in compiled.bind_names.items()}
        order = compiled.positiontup if compiled.positional else list(by_name)
        # Python-side defaults of the columns an INSERT was not given (utcnow, False, a uuid, ...)
        self.defaults = {column.key: column.default for column in compiled.insert_prefetch}
        processors = compiled._bind_processors
        # (key in the caller's params, or None for a value fixed in the statement; that value; converter)
        self.binds = []
        for name in order:
            param = by_name[name]
            given = name in self.defaults or (column_keys is not None and param.key in column_keys) or (
                param.value is None and param.callable is None)
            self.binds.append((param.key if given else None, None if given else param.effective_value, processors.get(name)))
        self.names = [compiled.escaped_bind_names.get(name, name) for name in order]
        columns = compiled._result_columns
        self.results = [_result_processor(type_, dialect) for _key, _name, _objs, type_ in columns]
        # Only the columns that convert are touched per row (most are the driver's values as they are).
        self.converted = tuple((i, c) for i, c in enumerate(self.results) if c is not None)
        positions: dict[str, int] = {}
        for index, (key, _name, _objs, _type) in enumerate(columns):
            positions.setdefault(key, index)
        self.row = type("Row", (Row,), {"__slots__": (), "_positions": positions})

    def parameters(self, params: dict):
        if self.defaults:
            missing = {key: default.arg(None) if default.is_callable else default.arg
                       for key, default in self.defaults.items() if key not in params}
            params = {**params, **missing}
        values = []
        for key, fixed, convert in self.binds:
            value = params[key] if key is not None else fixed
            values.append(convert(value) if convert is not None else value)  # None too, as SQLAlchemy does
        return values if self.positional else dict(zip(self.names, values))


def _result_processor(type_, dialect):
    """The column's result conversion, decided without the cursor's column type (a plan is made
    before any run). psycopg's numeric types want that type to choose theirs (its driver returns
    float8 as ``float`` and numeric as ``Decimal`` already): those keep the driver's value."""
    try:
        return type_._cached_result_processor(dialect, None)
    except (TypeError, exc.InvalidRequestError):  # "Unknown PG numeric type: None"
        return None


#: Each statement's plans, by dialect and columns given; a statement's plans go with it (a caller
#: that keeps only so many prebuilt statements, as search does per shape, bounds what is kept here).
_plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _plan(stmt, dialect, column_keys: frozenset | None) -> _Plan:
    plans = _plans.get(stmt)
    if plans is None:
        plans = _plans[stmt] = {}
    key = (dialect.name, dialect.driver, column_keys)
    plan = plans.get(key)
    if plan is None:
        plan = plans[key] = _Plan(stmt, dialect, column_keys)
    return plan


def compiled(stmt, dialect) -> tuple[str, list | dict]:
    """A statement with its values fixed in it (``IN`` lists too), as ``dialect`` runs it: its SQL and
    its parameters, converted as SQLAlchemy converts them. For a driver cursor of one's own (a
    server-side cursor, ``core.rows``); compiled on each call, unlike :func:`run`'s plans."""
    statement = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    processors, values = statement._bind_processors, statement.construct_params()
    converted = {name: processors[name](value) if name in processors else value for name, value in values.items()}
    if statement.positional:
        return statement.string, [converted[name] for name in statement.positiontup]
    escaped = statement.escaped_bind_names
    return statement.string, {escaped.get(name, name): value for name, value in converted.items()}


def run(stmt, params: dict | None = None) -> Rows:
    """Execute a prebuilt Core statement in the session's transaction on the DBAPI cursor; returns its rows.

    Pending ORM changes are flushed first, exactly as ``Session.execute`` would (statements stay
    in program order). An INSERT may leave out columns that have a default.
    """
    raw, plan = _execute(stmt, params or {})
    if plan is None:  # the stock path's rows, converted already
        return raw
    converted, row = plan.converted, plan.row
    if not converted:
        return Rows(map(row, raw))
    rows = Rows()
    for values in raw:
        values = list(values)
        for i, convert in converted:
            values[i] = convert(values[i])
        rows.append(row(values))
    return rows


def run_raw(stmt, params: dict | None = None) -> tuple[list, tuple]:
    """:func:`run` leaving the conversion to the caller: the rows as the driver gave them (tuples) and
    the ``(column index, converter)`` pairs of the columns SQLAlchemy would convert (a converter takes
    None too). For a caller that turns each row into something else in one pass of its own, touching
    only the columns it shows (``core.listing``); on the stock path the rows come converted and the
    pairs are empty."""
    raw, plan = _execute(stmt, params or {})
    return raw, (() if plan is None else plan.converted)


def _execute(stmt, params: dict) -> tuple[list, _Plan | None]:
    """The statement's rows as the driver returns them and its plan; or, on the stock path
    (``SQL_FAST_PATH`` off, or a statement the fast path cannot compile), converted rows and None."""
    session = db.session()
    if not _fast():
        return _run_stock(session, stmt, params), None
    session.flush()  # a no-op when nothing is pending, as it almost always is here
    connection = session.connection()
    dialect = connection.dialect
    try:
        plan = _plan(stmt, dialect, frozenset(params) if stmt.is_insert else None)
    except (AttributeError, KeyError, TypeError, ValueError) as error:  # an internal not as written against
        _refuse(f"compiling for {dialect.name} failed ({error!r})")
        return _run_stock(session, stmt, params), None
    parameters = plan.parameters(params)
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(plan.sql, parameters)
        # The plan knows whether rows come back (a SELECT, a RETURNING): asking the cursor for its
        # description builds a column object per column on every call with psycopg.
        raw = cursor.fetchall() if plan.results else []
        cursor.close()
    except BaseException as error:  # SQLAlchemy's own path: wraps, invalidates a dropped connection, raises
        connection._handle_dbapi_exception(error, plan.sql, parameters, cursor, None)
    return raw, plan


def _run_stock(session, stmt, params: dict) -> Rows:
    """:func:`run` the stock way: ``Session.execute``, its rows as the same :class:`Row` and :class:`Rows`."""
    result = session.execute(stmt, params)
    if not getattr(result, "returns_rows", True):  # a CursorResult of an UPDATE or DELETE without RETURNING
        return Rows()
    row = _stock_row(tuple(result.keys()))
    return Rows(row(values) for values in result)


@cache
def _stock_row(keys: tuple[str, ...]) -> type:
    positions: dict[str, int] = {}
    for index, key in enumerate(keys):
        positions.setdefault(key, index)
    return type("Row", (Row,), {"__slots__": (), "_positions": positions})


@cache
def _layout(model) -> tuple[list[str], list, list[int]]:
    """The model's column attribute keys, their columns, and the positions of its primary key."""
    props = inspect(model).column_attrs
    keys = [prop.key for prop in props]
    columns = [prop.columns[0] for prop in props]
    return keys, columns, [columns.index(c) for c in inspect(model).primary_key]


def columns(*models) -> list:
    """Every mapped column of the models, in the order :func:`loaded` reads them back."""
    return [column for model in models for column in _layout(model)[1]]


def loaded(row, *models) -> tuple:
    """Split a row of :func:`columns` into one persistent object per model (None where an
    outer join found nothing). An object already in the session is returned as it is there,
    as a query would. The ORM's ``load`` events and ``@reconstructor`` hooks do not run: no
    model here uses them; one that does should be read with an ordinary query."""
    session = db.session()
    fast = _fast()
    objects, start = [], 0
    for model in models:
        keys, _, pk = _layout(model)
        values = row[start:start + len(keys)]
        start += len(keys)
        identity = tuple(values[i] for i in pk)
        if None in identity:
            objects.append(None)
            continue
        mapper = inspect(model)
        key = mapper.identity_key_from_primary_key(identity)
        obj = session.identity_map.get(key)
        if obj is None and not fast:  # the stock way: built, then persistent with its values as loaded
            obj = model(**dict(zip(keys, values)))
            make_transient_to_detached(obj)
            session.add(obj)
        elif obj is None:  # attach it as the ORM's loader does (orm/loading.py): no events, no cascades
            obj = mapper.class_manager.new_instance()
            instance_dict(obj).update(zip(keys, values))
            state = instance_state(obj)
            state.key, state.identity_token, state.session_id = key, None, session.hash_key
            session.identity_map._add_unpresent(state, key)
        objects.append(obj)
    return tuple(objects)


@cache
def _insert_returning_all(model):
    return insert(model.__table__).returning(*columns(model))


def insert_loaded(model, values: dict):
    """INSERT one row of ``model`` (column defaults apply) and return it as a persistent object."""
    return loaded(run(_insert_returning_all(model), values).one(), model)[0]


def set_loaded(obj, **values) -> None:
    """Record on a loaded object what a Core UPDATE just stored, so the ORM does not write it again."""
    for key, value in values.items():
        set_committed_value(obj, key, value)
