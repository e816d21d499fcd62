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
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import insert, inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict, set_committed_value

from core.extensions import db


def run(stmt, params: dict | None = None):
    """Execute a (prebuilt) Core statement in the current transaction; returns the result."""
    session = db.session()
    session.flush()  # a no-op when nothing is pending, as it almost always is here
    return session.connection().execute(stmt, params)


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
        obj = session.identity_map.get(mapper.identity_key_from_primary_key(identity))
        if obj is None:
            obj = mapper.class_manager.new_instance()
            instance_dict(obj).update(zip(keys, values))  # as the ORM's loader fills it: no change events
            make_transient_to_detached(obj)
            session.add(obj)
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
