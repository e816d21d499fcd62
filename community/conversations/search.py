"""Full-text search over what a member may read: posts, threads, spaces and members.

One query language on both databases: PostgreSQL's ``websearch_to_tsquery`` (words are
ANDed, ``"quoted phrases"``, ``-word`` or ``-"phrase"`` excludes, ``or`` between
alternatives, binding looser than the implied AND: ``a b or c`` is ``(a AND b) OR c``). On
PostgreSQL the query text goes to ``websearch_to_tsquery`` as it is; on SQLite (embedded)
:func:`parse` reads it the same way and :func:`fts5_query` writes FTS5 syntax in which every
word and phrase is a double-quoted string, so no input can make an FTS5 syntax error. A query
that gives nothing to find (empty, only exclusions in an alternative) is a 400 on both.

Visibility is the listings' own (``community.access`` and ``community.moderation.rules``):
spaces the member may see; no deleted posts (they are not in the index either), no hidden
posts or unlisted threads except for staff and their author, no posts by accounts the
member muted or blocked.

Ranking: relevance (``ts_rank_cd``, which counts how close the words stand, or FTS5's bm25,
plus a bonus when the words stand as a phrase) combined with recency as
``log(relevance) + created_at / SEARCH_RECENCY_DAYS``, i.e. relevance multiplied by ``e`` for
every SEARCH_RECENCY_DAYS of age less. The score does not depend on the time of the request,
so keyset cursors over ``(score, id)`` stay valid from page to page.
"""

from __future__ import annotations

import functools
import html
import math
import re
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import (
    Float, Integer, String, and_, bindparam, case, cast, column, exists, func, literal, literal_column, null, or_, select,
    table,
)

from community import access
from community.models import Membership, Post, Reaction, Space, Thread, Visibility
from community.moderation import rules
from community.search_index import CONFIGS
from core.accounts import Account
from core.errors import ApiError
from core import sql
from core.extensions import db
from core.pagination import decode_cursor, encode_cursor

MAX_QUERY_LENGTH = 256
MAX_QUERY_TERMS = 32
KINDS = ("posts", "threads", "spaces", "members")
#: Highlight markers: control characters, which stored text never holds (``SafeText`` refuses
#: them), replaced by ``<mark>`` once the rest of the snippet is HTML-escaped.
_START, _STOP = "\x02", "\x03"
_HEADLINE = f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \""
_PHRASE_BONUS = math.log(4.0)  # the words as a phrase count as four times as relevant
_SECONDS_PER_DAY = 86400.0


# The query language -------------------------------------------------------------------


@dataclass
class Alternative:
    """One side of an ``or``: every positive term must match, no negative one may."""

    positive: list[tuple[str, bool]] = field(default_factory=list)  # (text, is a quoted phrase)
    negative: list[tuple[str, bool]] = field(default_factory=list)


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
_WORDY = re.compile(r"\w")


def bad_query(detail: str) -> ApiError:
    return ApiError(400, detail, type_="bad-search-query", errors={"q": [detail]})


def parse(q: str) -> list[Alternative]:
    """The alternatives of a websearch-style query; 400 when one of them has nothing to find."""
    alternatives, current, terms = [], Alternative(), 0
    for match in _TOKEN.finditer(q):
        quoted = match.group(2) is not None
        negated = bool(match.group(1) if quoted else match.group(3))
        text = (match.group(2) if quoted else match.group(4)).strip()
        if not quoted and not negated and text.lower() == "or":
            if current.positive or current.negative:
                alternatives.append(current)
                current = Alternative()
            continue
        if not _WORDY.search(text):  # punctuation alone: nothing to find (PostgreSQL ignores it too)
            continue
        terms += 1
        (current.negative if negated else current.positive).append((text, quoted))
    if current.positive or current.negative:
        alternatives.append(current)
    if terms > MAX_QUERY_TERMS:
        raise bad_query(f"At most {MAX_QUERY_TERMS} words and phrases.")
    if not alternatives:
        raise bad_query("Give at least one word to search for.")
    if any(not alt.positive for alt in alternatives):
        raise bad_query("Each alternative needs a word to find, not only words to exclude.")
    return alternatives


def _fts5_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def fts5_query(alternatives: list[Alternative]) -> str:
    """FTS5 syntax for the alternatives: every term a quoted string, so nothing the user typed is an operator."""
    parts = []
    for alt in alternatives:
        expr = "(" + " AND ".join(_fts5_string(text) for text, _ in alt.positive) + ")"
        for text, _ in alt.negative:
            expr = f"({expr} NOT {_fts5_string(text)})"
        parts.append(expr)
    return " OR ".join(parts)


def phrase_of(alternatives: list[Alternative]) -> str | None:
    """The words as one phrase, for the ranking's phrase bonus: one alternative of two or more plain words."""
    if len(alternatives) != 1 or len(alternatives[0].positive) < 2 or any(q for _, q in alternatives[0].positive):
        return None
    return " ".join(text for text, _ in alternatives[0].positive)


def snippet_html(text: str | None) -> str:
    """The highlighted snippet as HTML: the text escaped, the matches in ``<mark>``."""
    escaped = html.escape(text or "", quote=False)
    return escaped.replace(_START, "<mark>").replace(_STOP, "</mark>")


# One kind of result per indexed table ------------------------------------------------


@dataclass
class Match:
    """The full-text part of a search over one table: the WHERE clause, score and snippet."""

    where: object
    relevance: object
    snippet: object
    joins: list = field(default_factory=list)  # (target, on) to add to the statement (SQLite: the FTS table)


def _regconfig(name: str):
    assert name in CONFIGS  # a constant of ours, never user input
    return literal_column(f"'{name}'::regconfig")


# What varies from one search to the next: parameters of a statement built once per shape.
_Q, _PHRASE = bindparam("q", type_=String()), bindparam("phrase", type_=String())
_FTS, _FTS_PHRASE = bindparam("fts", type_=String()), bindparam("fts_phrase", type_=String())
_ME_ID, _SPACE_ID, _PURPOSE_ID = (bindparam(name, type_=Integer()) for name in ("me_id", "space_id", "purpose_id"))


def _pg_match(table_name: str, configs, config_column, document, phrase: bool) -> Match:
    vector = literal_column(f"{table_name}.search_vector")
    queries = {name: func.websearch_to_tsquery(_regconfig(name), _Q) for name in configs}
    if len(configs) == 1:
        (name,) = configs
        where, tsquery, config = vector.op("@@")(queries[name]), queries[name], _regconfig(name)
    else:  # each space's own configuration; the first OR is on posts alone, so one GIN bitmap scan serves it
        where = and_(or_(*(vector.op("@@")(queries[name]) for name in configs)),
                     or_(*(and_(config_column == name, vector.op("@@")(queries[name])) for name in configs)))
        tsquery = case(*((config_column == name, queries[name]) for name in configs[1:]), else_=queries[configs[0]])
        config = case(*((config_column == name, _regconfig(name)) for name in configs[1:]), else_=_regconfig(configs[0]))
    relevance = func.ln(cast(func.ts_rank_cd(vector, tsquery), Float) + 1e-6)
    if phrase:
        phrases = {name: func.phraseto_tsquery(_regconfig(name), _PHRASE) for name in configs}
        phrase_q = phrases[configs[0]] if len(configs) == 1 else case(
            *((config_column == name, phrases[name]) for name in configs[1:]), else_=phrases[configs[0]])
        relevance = relevance + case((vector.op("@@")(phrase_q), _PHRASE_BONUS), else_=0.0)
    snippet = func.ts_headline(config, document, tsquery, _HEADLINE)
    return Match(where, relevance, snippet)


def _sqlite_match(table_name: str, key_column, phrase: bool) -> Match:
    fts_name = f"{table_name}_fts"
    fts = table(fts_name, column("rowid"))
    fts_ref = literal_column(fts_name)
    where = fts_ref.op("MATCH")(_FTS)
    relevance = -func.bm25(fts_ref)
    if phrase:
        phrased = select(fts.c.rowid).where(fts_ref.op("MATCH")(_FTS_PHRASE)).correlate(None)
        relevance = relevance + case((key_column.in_(phrased), _PHRASE_BONUS), else_=0.0)
    snippet = func.snippet(fts_ref, -1, _START, _STOP, "…", 24)
    return Match(where, relevance, snippet, joins=[(fts, fts.c.rowid == key_column)])


def _recency(created_at, dialect: str):
    """Days since 1970 over SEARCH_RECENCY_DAYS (parameter ``recency_days``)."""
    days = bindparam("recency_days", type_=Float())
    if dialect == "postgresql":
        return cast(func.extract("epoch", created_at), Float) / (days * _SECONDS_PER_DAY)
    return (func.julianday(created_at) - 2440587.5) / days  # days since 1970, as the epoch above


@dataclass
class Search:
    """A parsed request: what to find, where, and the page. ``space``, when given, is one the
    caller may see (``access.visible_space``)."""

    q: str
    kind: str = "posts"
    space: Space | None = None
    thread_id: int | None = None
    author_id: int | None = None
    after: object = None
    before: object = None
    has_reactions: bool | None = None
    sort: str = "relevance"
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class _Shape:
    """What decides a search statement's SQL; everything else is a parameter of it."""

    dialect: str
    kind: str
    sort: str
    admin: bool  # the visibility rules are a constant for an administrator
    in_space: bool
    configs: tuple[str, ...]
    phrase: bool
    thread: bool
    author: bool
    has_reactions: bool | None
    after: bool
    before: bool
    cursor: bool


class _Caller:
    """The caller as the visibility rules read it (``account.id``, ``account.is_admin``): its id a parameter."""

    id = _ME_ID

    def __init__(self, admin: bool):
        self.is_admin = admin


class _Place:
    """The space searched in, as the rules read it (``space.id``, ``space.purpose_id``): parameters."""

    id, purpose_id = _SPACE_ID, _PURPOSE_ID


def _visible_posts(me, space) -> list:
    """The listings' rules for posts of threads of ``space`` (the searched space, or the ``Space``
    entity for every joined space): no deleted ones, hidden ones only for staff and their author, no
    muted or blocked authors, nothing of an unlisted thread except for staff and its author."""
    return [Post.deleted.is_(False), rules.visible_posts_clause(me, space), rules.visible_threads_clause(me, space)]


@functools.lru_cache(maxsize=512)
def _prebuilt(shape: _Shape):
    """The statement of one shape, built once (as the post path's: core/sql.py). Parameters: ``me_id``,
    ``q`` and ``phrase`` (PostgreSQL) or ``fts`` and ``fts_phrase`` (SQLite), ``recency_days``, ``limit``,
    and as the shape asks ``space_id``, ``purpose_id``, ``thread_id``, ``author_id``, ``after``,
    ``before``, ``cursor_first``, ``cursor_key``."""
    me, pg, configs, phrase = _Caller(shape.admin), shape.dialect == "postgresql", shape.configs, shape.phrase
    space = _Place() if shape.in_space else None
    scope_space = space if space is not None else Space  # a known space: its staff check needs no join
    if shape.kind == "posts":
        m = (_pg_match("posts", configs, Space.search_config, Post.body, phrase) if pg
             else _sqlite_match("posts", Post.id, phrase))
        stmt = (select(Post.id, Post.space_id, Post.thread_id, Post.seq, Post.created_at, Post.hidden,
                       Thread.title.label("title"), Account.id.label("author_id"), Account.handle, Account.display_name)
                .join(Thread, Thread.id == Post.thread_id).join(Account, Account.id == Post.author_id)
                .where(*_visible_posts(me, scope_space)))
        key, created = Post.id, Post.created_at
        if shape.thread:
            stmt = stmt.where(Post.thread_id == bindparam("thread_id", type_=Integer()))
        if shape.author:
            stmt = stmt.where(Post.author_id == bindparam("author_id", type_=Integer()))
        if shape.has_reactions is not None:
            reacted = exists().where(Reaction.post_id == Post.id)
            stmt = stmt.where(reacted if shape.has_reactions else ~reacted)
        space_column = Post.space_id
    elif shape.kind == "threads":
        m = (_pg_match("threads", configs, Space.search_config, Thread.title, phrase) if pg
             else _sqlite_match("threads", Thread.id, phrase))
        stmt = (select(Thread.id, Thread.space_id, Thread.id.label("thread_id"), null().label("seq"),
                       Thread.created_at, literal(False).label("hidden"), Thread.title.label("title"),
                       Account.id.label("author_id"), Account.handle, Account.display_name)
                .join(Account, Account.id == Thread.author_id)
                .where(rules.visible_threads_clause(me, scope_space)))
        key, created = Thread.id, Thread.created_at
        if shape.author:
            stmt = stmt.where(Thread.author_id == bindparam("author_id", type_=Integer()))
        space_column = Thread.space_id
    elif shape.kind == "spaces":
        document = Space.name + " — " + Space.description
        m = (_pg_match("spaces", configs, Space.search_config, document, phrase) if pg
             else _sqlite_match("spaces", Space.id, phrase))
        stmt = select(Space.id, Space.id.label("space_id"), null().label("thread_id"), null().label("seq"),
                      Space.created_at, literal(False).label("hidden"), Space.name.label("title"),
                      null().label("author_id"), null().label("handle"), null().label("display_name")
                      ).where(Space.visibility != Visibility.direct)  # a conversation is found by its messages, not as a space
        key, created, space_column = Space.id, Space.created_at, Space.id
    else:  # members: accounts that are members of a space the caller may see
        document = Account.display_name + " @" + Account.handle
        m = (_pg_match("accounts", ("simple",), None, document, phrase) if pg
             else _sqlite_match("accounts", Account.id, phrase))
        shared = (select(Membership.account_id).join(Space, Space.id == Membership.space_id)
                  .where(access.visible_spaces_clause(me)))
        if space is not None:
            shared = shared.where(Membership.space_id == space.id)
        stmt = (select(Account.id, null().label("space_id"), null().label("thread_id"),
                       null().label("seq"), Account.created_at, literal(False).label("hidden"),
                       Account.display_name.label("title"), Account.id.label("author_id"), Account.handle,
                       Account.display_name)
                .where(Account.id.in_(shared), Account.id.not_in(rules.filtered_out_authors(me))))
        key, created, space_column = Account.id, Account.created_at, None
    if shape.kind != "members":
        if space is not None:  # visible (the caller checked: access.visible_space); its columns are parameters
            stmt = stmt.where(space_column == space.id)
        else:  # the spaces table, for visibility and each space's configuration and staff
            if shape.kind != "spaces":
                stmt = stmt.join(Space, Space.id == space_column)
            # Messages of the caller's own direct conversations are found too; conversations are no spaces to find.
            stmt = stmt.where(access.visible_spaces_clause(me, direct=shape.kind != "spaces"))
    for target, on in m.joins:
        stmt = stmt.join(target, on)
    stmt = stmt.where(m.where)
    if shape.after:
        stmt = stmt.where(created >= bindparam("after", type_=created.type))
    if shape.before:
        stmt = stmt.where(created < bindparam("before", type_=created.type))
    score = m.relevance + _recency(created, shape.dialect)
    first = created if shape.sort == "date" else score
    if shape.cursor:
        bound = bindparam("cursor_first", type_=created.type if shape.sort == "date" else Float())
        stmt = stmt.where(or_(first < bound, and_(first == bound, key < bindparam("cursor_key", type_=Integer()))))
    return (stmt.add_columns(score.label("score"), m.snippet.label("snippet"))
            .order_by(first.desc(), key.desc()).limit(bindparam("limit", type_=Integer())))


def _scope(me: Account, search: Search) -> str:
    """What a cursor is valid for: the same caller, query and filters."""
    parts = [search.kind, search.sort, str(me.id), search.q, str(search.space.id if search.space else ""),
             str(search.thread_id or ""), str(search.author_id or ""), str(search.after or ""), str(search.before or ""),
             str(search.has_reactions)]
    return "search:" + "\x1f".join(parts)


def _configs(search: Search, dialect: str) -> tuple[str, ...]:
    if search.kind == "members":
        return ("simple",)
    if search.space is not None:
        return (search.space.search_config,)
    if dialect == "postgresql":  # the configurations in use (spaces are few): usually one, so one tsquery
        return tuple(sorted(db.session.scalars(select(Space.search_config).distinct()))) or CONFIGS[:1]
    return CONFIGS


def run_search(me: Account, search: Search) -> dict:
    """One page of results, best first (or newest first with ``sort="date"``), with the next cursor."""
    if len(search.q) > MAX_QUERY_LENGTH:
        raise bad_query(f"At most {MAX_QUERY_LENGTH} characters.")
    alternatives = parse(search.q)
    dialect = db.session.get_bind().dialect.name
    phrase = phrase_of(alternatives)
    scope = _scope(me, search)
    params = {"me_id": me.id, "recency_days": float(current_app.config["SEARCH_RECENCY_DAYS"]), "limit": search.limit + 1}
    if dialect == "postgresql":
        params.update(q=search.q, phrase=phrase)
    else:
        params.update(fts=fts5_query(alternatives), fts_phrase=None if phrase is None else _fts5_string(phrase))
    if search.space is not None:
        params.update(space_id=search.space.id, purpose_id=search.space.purpose_id)
    for name in ("thread_id", "author_id", "after", "before"):
        if getattr(search, name) is not None:
            params[name] = getattr(search, name)
    if search.cursor:
        params["cursor_first"], params["cursor_key"] = decode_cursor(scope, search.cursor, 2)
    shape = _Shape(dialect, search.kind, search.sort, me.is_admin, search.space is not None, _configs(search, dialect),
                   phrase is not None, search.kind == "posts" and search.thread_id is not None,
                   search.kind in ("posts", "threads") and search.author_id is not None,
                   search.has_reactions if search.kind == "posts" else None,
                   search.after is not None, search.before is not None, bool(search.cursor))
    rows = sql.run(_prebuilt(shape), params)
    next_cursor = None
    if len(rows) > search.limit:
        rows = rows[:search.limit]
        last = rows[-1]
        next_cursor = encode_cursor(scope, [last.created_at if search.sort == "date" else last.score, last.id])
    return {"items": [_hit(search.kind, row) for row in rows], "next_cursor": next_cursor}


def _hit(kind: str, row) -> dict:
    author = None if row.author_id is None else {"id": row.author_id, "handle": row.handle, "display_name": row.display_name}
    return {
        "kind": kind[:-1], "id": row.id, "space_id": row.space_id, "thread_id": row.thread_id, "seq": row.seq,
        "title": row.title, "snippet": snippet_html(row.snippet), "author": author, "created_at": row.created_at,
        "hidden": bool(row.hidden),
    }

