"""core.sql: statements run on the DBAPI cursor must give what ``Session.execute`` would (types converted,
defaults filled, SQLAlchemy's errors), and objects built from their rows must behave exactly like
objects a query loaded. Every test runs both ways: the fast path (``SQL_FAST_PATH`` on, the default)
and the stock path it falls back to (the setting off, or a SQLAlchemy it was not written against)."""

from __future__ import annotations

import logging
from datetime import timezone

import pytest
from sqlalchemy import bindparam, event, func, select, update
from sqlalchemy.exc import IntegrityError, NoResultFound

from core import sql
from core.accounts import Account, AccountStatus, LoginSession
from core.extensions import db, utcnow


@pytest.fixture(params=[True, False], ids=["fast path", "stock path"])
def app(make_app, request):
    return make_app(SQL_FAST_PATH=request.param)


def _account(handle: str) -> Account:
    account = Account(email=f"{handle}@example.org", handle=handle, display_name=handle.title(), password_hash="x")
    db.session.add(account)
    db.session.commit()
    return account


def _stored(account_id: int) -> Account:
    """The account as the database has it, not as this session remembers it."""
    db.session.expunge_all()
    return db.session.get(Account, account_id)


def test_insert_loaded_gives_the_stored_row_and_later_changes_are_written_once(app):
    with app.app_context():
        account = _account("ines")
        started = utcnow()
        session = sql.insert_loaded(LoginSession, {"account_id": account.id})
        assert session.id and session.created_at >= started and session.created_at.tzinfo is timezone.utc  # defaults applied
        assert session.revoked_at is None
        assert session in db.session and not db.session.dirty  # persistent, nothing to write back

        session.refresh_jti = "jti-1"
        db.session.commit()  # an UPDATE of the loaded row, not a second INSERT
        db.session.expunge_all()
        stored = db.session.scalars(select(LoginSession).where(LoginSession.account_id == account.id)).all()
        assert [(s.id, s.refresh_jti) for s in stored] == [(session.id, "jti-1")]


_SESSION_WITH_ACCOUNT = (
    select(*sql.columns(LoginSession, Account))
    .select_from(Account)
    .outerjoin(LoginSession, LoginSession.account_id == Account.id)
    .where(Account.id == bindparam("account_id"))
)


def test_loaded_splits_a_joined_row_and_gives_none_for_an_outer_join_miss(app):
    with app.app_context():
        account = _account("jonas")
        account_id = account.id
        db.session.expunge_all()

        row = sql.run(_SESSION_WITH_ACCOUNT, {"account_id": account_id}).one()
        session, loaded = sql.loaded(row, LoginSession, Account)
        assert session is None  # no login session yet
        assert (loaded.id, loaded.handle, loaded.email) == (account_id, "jonas", "jonas@example.org")
        assert loaded.created_at.tzinfo is timezone.utc
        assert db.session.get(Account, account_id) is loaded  # in the identity map: no second copy

        loaded.display_name = "Jonas J."
        db.session.commit()
        assert _stored(account_id).display_name == "Jonas J."


def test_run_sees_pending_changes_and_loaded_returns_the_object_the_session_holds(app):
    with app.app_context():
        account = _account("kira")
        account.display_name = "Kira K."  # pending: run() flushes it first, as Session.execute would
        row = sql.run(_SESSION_WITH_ACCOUNT, {"account_id": account.id}).one()
        assert row.display_name == "Kira K."
        assert sql.loaded(row, LoginSession, Account)[1] is account


_RENAME = (
    update(Account.__table__)
    .where(Account.__table__.c.id == bindparam("account_id"), Account.__table__.c.status == AccountStatus.active)
    .values(display_name=bindparam("name"))
    .returning(Account.__table__.c.id, Account.__table__.c.display_name, Account.__table__.c.created_at)
)


def test_run_converts_values_both_ways_and_keeps_values_fixed_in_the_statement(app):
    with app.app_context():
        account = sql.insert_loaded(Account, {"email": "lea@example.org", "handle": "lea", "display_name": "Lea",
                                              "password_hash": "x", "interests": ["cooking", "ocean"]})
        assert account.interests == ["cooking", "ocean"] and account.status is AccountStatus.active  # JSON back, enum default
        db.session.commit()
        account_id = account.id

        row = sql.run(_RENAME, {"account_id": account_id, "name": "Lea L."}).one()
        assert row == (account.id, "Lea L.", account.created_at) and row.display_name == "Lea L."
        assert row.created_at.tzinfo is timezone.utc  # a timestamp, not SQLite's text
        db.session.commit()

        account.status = AccountStatus.suspended  # the statement's own condition (status = active) now fails
        db.session.commit()
        assert sql.run(_RENAME, {"account_id": account_id, "name": "Nobody"}).first() is None
        with pytest.raises(NoResultFound):
            sql.run(_RENAME, {"account_id": account_id, "name": "Nobody"}).one()
        db.session.rollback()
        assert _stored(account_id).display_name == "Lea L."


def test_run_raw_gives_rows_that_its_converters_make_into_runs(app):
    """A caller of run_raw that converts the columns it is told to gets exactly run's rows (a
    timestamp aware of UTC on SQLite too), on both paths."""
    with app.app_context():
        account = sql.insert_loaded(Account, {"email": "ida@example.org", "handle": "ida", "display_name": "Ida",
                                              "password_hash": "x"})
        db.session.commit()
        params = {"account_id": account.id, "name": "Ida I."}
        raw, converters = sql.run_raw(_RENAME, params)
        convert = dict(converters)
        assert [tuple(convert[i](v) if i in convert else v for i, v in enumerate(r)) for r in raw] == [
            tuple(sql.run(_RENAME, params).one())]
        assert sql.run(_RENAME, params).one().created_at.tzinfo is timezone.utc
        db.session.rollback()


def test_a_constraint_violation_is_sqlalchemys_integrity_error_and_stores_nothing(app):
    with app.app_context():
        first = _account("mila")
        with pytest.raises(IntegrityError):  # the same handle again: what service code catches for idempotent sends
            sql.insert_loaded(Account, {"email": "other@example.org", "handle": "mila", "display_name": "M", "password_hash": "x"})
        db.session.rollback()
        assert sql.run(_SESSION_WITH_ACCOUNT, {"account_id": first.id}).one().handle == "mila"  # the session goes on
        assert db.session.scalar(select(func.count()).select_from(Account)) == 1


def test_only_the_stock_path_is_seen_by_engine_events(app):
    """What the setting gives back when off: the statements pass through the engine (events, echo)."""
    seen = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            account = _account("nora")
            seen.clear()
            assert sql.run(_SESSION_WITH_ACCOUNT, {"account_id": account.id}).one().handle == "nora"
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert len(seen) == (0 if app.config["SQL_FAST_PATH"] else 1)


def test_a_sqlalchemy_it_was_not_written_against_takes_the_stock_path_and_says_so_once(make_app, monkeypatch, caplog):
    monkeypatch.setattr(sql, "INSTALLED", "2.2.0")  # as if another release were installed
    monkeypatch.setattr(sql, "_fast_ok", None)  # the guard has not been asked in this process yet
    app = make_app()  # SQL_FAST_PATH on, the default
    seen = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context(), caplog.at_level(logging.WARNING, logger="core.sql"):
        account = _account("olga")
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            session = sql.insert_loaded(LoginSession, {"account_id": account.id})
            row = sql.run(_SESSION_WITH_ACCOUNT, {"account_id": account.id}).one()
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert len(seen) == 2  # both statements went through Session.execute
        assert sql.loaded(row, LoginSession, Account) == (session, account)
        assert session in db.session and not db.session.dirty
    warnings = [r for r in caplog.records if r.name == "core.sql"]
    assert len(warnings) == 1 and "SQLAlchemy 2.2.0" in warnings[0].getMessage()


def test_the_guard_names_a_missing_private_attribute(monkeypatch):
    assert sql.unsupported() is None  # the pinned SQLAlchemy is one the fast path was written against
    monkeypatch.setitem(sql.PRIVATE_NAMES, "SQLCompiler", (*sql.PRIVATE_NAMES["SQLCompiler"], "_gone_in_a_later_release"))
    assert "SQLCompiler._gone_in_a_later_release" in sql.unsupported()
