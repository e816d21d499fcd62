"""The full-text search index: database objects kept current in the writing transaction.

PostgreSQL: a ``search_vector tsvector`` column on ``posts``, ``threads``, ``spaces`` and
``accounts``, set by a BEFORE trigger from the indexed columns (posts and threads in their
space's text-search configuration, ``spaces.search_config``; spaces in their own; accounts in
``simple``: names are not stemmed), with a GIN index each. A deleted post's vector is NULL,
so it leaves the index in the transaction that deletes (or erases) it. The triggers fire
only when an indexed column is written (``UPDATE OF``): the post path's
``UPDATE spaces SET last_seq`` and ``UPDATE threads SET last_activity_at`` do not re-index.

SQLite (embedded): an FTS5 external-content table per indexed table (``posts_fts`` ...),
kept in sync by AFTER triggers; deleted posts are left out of ``posts_fts``.

None of these objects is in the models (the post path never reads a vector back): they are
created by migration 0009 and, for ``db.create_all`` (tests), by the ``after_create`` hooks
below. :func:`include_object` keeps them out of the models/migrations comparison.
"""

from __future__ import annotations

from sqlalchemy import event

from community.models import Post, Space, Thread
from core.accounts import Account

#: Text-search configurations a space may use: English (stemming, stop words) or simple.
CONFIGS = ("english", "simple")

# (table, indexed columns, text-search configuration expression on PostgreSQL, FTS5 tokenizer,
#  SQLite condition for a row to be indexed)
_TABLES = {
    "posts": (("body",), "(SELECT search_config FROM spaces WHERE id = NEW.space_id)::regconfig",
              "porter unicode61 remove_diacritics 2", "NOT {row}.deleted"),
    "threads": (("title",), "(SELECT search_config FROM spaces WHERE id = NEW.space_id)::regconfig",
                "porter unicode61 remove_diacritics 2", "1"),
    "spaces": (("name", "description"), "NEW.search_config::regconfig", "porter unicode61 remove_diacritics 2", "1"),
    "accounts": (("handle", "display_name"), "'simple'::regconfig", "unicode61 remove_diacritics 2", "1"),
}


def _postgresql(table: str) -> tuple[list[str], list[str]]:
    columns, config, _tokenizer, _cond = _TABLES[table]
    document = " || ' ' || ".join(f"coalesce(NEW.{c}, '')" for c in columns)
    vector = f"to_tsvector({config}, {document})"
    if table == "posts":
        vector = f"CASE WHEN NEW.deleted THEN NULL ELSE {vector} END"
    watched = ", ".join(columns + (("deleted", "space_id") if table == "posts" else ("space_id",) if table == "threads"
                                   else ("search_config",) if table == "spaces" else ()))
    create = [
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS search_vector tsvector",
        f"CREATE OR REPLACE FUNCTION {table}_search_vector() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN NEW.search_vector := {vector}; RETURN NEW; END $$",
        f"CREATE TRIGGER {table}_search_vector BEFORE INSERT OR UPDATE OF {watched} ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_search_vector()",
        f"CREATE INDEX IF NOT EXISTS ix_{table}_search ON {table} USING gin (search_vector)",
    ]
    drop = [
        f"DROP TRIGGER IF EXISTS {table}_search_vector ON {table}",
        f"DROP FUNCTION IF EXISTS {table}_search_vector()",
        f"DROP INDEX IF EXISTS ix_{table}_search",
        f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector",
    ]
    return create, drop


def _sqlite(table: str) -> tuple[list[str], list[str]]:
    columns, _config, tokenizer, cond = _TABLES[table]
    fts, cols = f"{table}_fts", ", ".join(columns)

    def values(row: str) -> str:
        return ", ".join(f"{row}.{c}" for c in columns)

    old_cond, new_cond = cond.format(row="old"), cond.format(row="new")
    create = [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({cols}, content='{table}', content_rowid='id', "
        f"tokenize='{tokenizer}')",
        f"INSERT INTO {fts}(rowid, {cols}) SELECT id, {cols} FROM {table} AS new WHERE {new_cond}",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON {table} WHEN {new_cond} BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {values('new')}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON {table} WHEN {old_cond} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {values('old')}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_update AFTER UPDATE OF {cols}{', deleted' if table == 'posts' else ''} "
        f"ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) SELECT 'delete', old.id, {values('old')} WHERE {old_cond}; "
        f"INSERT INTO {fts}(rowid, {cols}) SELECT new.id, {values('new')} WHERE {new_cond}; END",
    ]
    drop = [f"DROP TRIGGER IF EXISTS {fts}_{what}" for what in ("insert", "delete", "update")]
    drop.append(f"DROP TABLE IF EXISTS {fts}")
    return create, drop


def search_index_sql(dialect: str, table: str) -> tuple[list[str], list[str]]:
    """(create, drop) statements of ``table``'s search index on ``dialect``."""
    if dialect == "postgresql":
        return _postgresql(table)
    if dialect == "sqlite":
        return _sqlite(table)
    return [], []


#: Names of the index's objects that the models do not declare (see :func:`include_object`).
FTS_TABLES = {f"{table}_fts{suffix}" for table in _TABLES for suffix in ("", "_data", "_idx", "_docsize", "_config")}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter: the search index's columns, indexes and FTS5 tables are not in the models."""
    if type_ == "table" and name in FTS_TABLES:
        return False
    if type_ == "column" and name == "search_vector":
        return False
    if type_ == "index" and name in {f"ix_{table}_search" for table in _TABLES}:
        return False
    return True


def _hook(model, table: str) -> None:
    @event.listens_for(model.__table__, "after_create")
    def _create(_target, connection, **_kw) -> None:
        for statement in search_index_sql(connection.dialect.name, table)[0]:
            connection.exec_driver_sql(statement)

    @event.listens_for(model.__table__, "before_drop")
    def _drop(_target, connection, **_kw) -> None:
        for statement in search_index_sql(connection.dialect.name, table)[1]:
            connection.exec_driver_sql(statement)


for _model, _table in ((Post, "posts"), (Thread, "threads"), (Space, "spaces"), (Account, "accounts")):
    _hook(_model, _table)
