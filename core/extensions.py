"""Extension objects, created unbound at import and bound in ``create_app`` with ``init_app``."""

from __future__ import annotations

from datetime import datetime, timezone

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, TypeDecorator, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, registry

from core.outbox import OutboxSession

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (UTC), on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None or value.tzinfo is timezone.utc:  # PostgreSQL's, its sessions being in UTC (core.config)
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def string_enum(cls, length: int = 16):
    """A Python enum stored as its name in a VARCHAR (no native ENUM type: adding a value is a
    plain migration on SQLite and PostgreSQL alike), checked on the way in."""
    return db.Enum(cls, native_enum=False, length=length, validate_strings=True)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


# Objects stay readable after commit, so views serialise what they just stored without reloading it;
# the session runs the effects queued with ``core.outbox.on_commit`` once its transaction commits.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False, "class_": OutboxSession})


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """Embedded SQLite: WAL (readers never block the writer) and enforced foreign keys (the busy
    timeout is the driver's ``timeout``, from ``DATABASE_LOCK_TIMEOUT_MS``).

    ``synchronous=NORMAL`` with WAL keeps the database consistent on a crash and loses at
    most the last transactions on a power cut; production runs PostgreSQL.
    """
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):  # busy wait: DATABASE_LOCK_TIMEOUT_MS
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()
migrate = Migrate(compare_type=True, render_as_batch=True)
jwt = JWTManager()
socketio = SocketIO()


def _rate_limit_key() -> str:
    """Rate-limit writes per account when a valid token is present, else per client address."""
    from core.auth import rate_limit_identity  # local: auth imports this module

    return rate_limit_identity()


limiter = Limiter(key_func=_rate_limit_key, headers_enabled=True)
