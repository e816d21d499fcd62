"""Configuration: embedded defaults (SQLite under instance/, no Redis) with environment overrides.

Every setting can be overridden by an environment variable of the same name; the
README's configuration table lists them. ``load_config`` never reads the filesystem
except to keep the embedded-mode secret in ``instance/secret_key``.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

#: The secret a production deployment must never run with.
DEFAULT_SECRET = "embedded-development-secret-change-me"

#: Whole-number settings and their defaults (read from the environment by load_config).
INT_SETTINGS = {
    "ACCESS_TOKEN_MINUTES": 15,
    "REFRESH_TOKEN_DAYS": 30,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "IMPORT_MAX_BYTES": 512 * 1024 * 1024,  # bulk import uploads, streamed (never held in memory)
    "PAGE_LIMIT_DEFAULT": 50,
    "PAGE_LIMIT_MAX": 200,
    "SEARCH_RECENCY_DAYS": 60,  # search ranking: relevance counts e times more for each this many days newer
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,
    "ARGON2_PARALLELISM": 2,
    "PORT": 5000,
    "EVENT_RETENTION_DAYS": 7,
    "SOCKETIO_MAX_PAYLOAD": 64 * 1024,
    "SOCKETIO_EVENTS_PER_SECOND": 20,
    "SOCKETIO_EVENT_BURST": 40,
    "SOCKETIO_MAX_CONNECTIONS_PER_ACCOUNT": 20,  # sockets one account may hold open, over every server process
    "SOCKETIO_MAX_SPACES_PER_CONNECTION": 100,  # spaces one socket may have joined at once
    "SOCKETIO_PING_INTERVAL": 25,  # seconds between Engine.IO heartbeats; keep it under the load balancer's idle timeout
    "SOCKETIO_PING_TIMEOUT": 20,  # seconds a client has to answer one before its connection is closed
    "TYPING_INTERVAL_SECONDS": 2,
    "PRESENCE_TTL_SECONDS": 30,
    "PRESENCE_FLUSH_SECONDS": 1,
    "PRESENCE_REDIS_MAX_CONNECTIONS": 50,  # per process; more concurrent presence calls wait (at most 5 s) for one
    "FLAG_HIDE_THRESHOLD": 3,  # the weight of distinct members' pending flags that hides a post pending review
    "FLAG_WEIGHT_REGULAR": 2,  # what a flag from a regular (trust level 3) weighs towards it; every other flag weighs 1
    "NEW_MEMBER_HOURS": 24,  # how long a member counts as new in a space with new-member limits
    "NEW_MEMBER_POSTS_PER_HOUR": 5,  # what a new member may post per hour there
    "DIRECT_MAX_PARTICIPANTS": 20,  # people in one direct (group) conversation, its starter included
    "DIRECT_NEW_ACCOUNT_STARTS_PER_HOUR": 5,  # conversations an account in its first NEW_MEMBER_HOURS may start per hour
    "GRAPH_REPORT_SOFT_TIME_LIMIT": 900,  # seconds before a report stops with "timed out"
    "GRAPH_REPORT_TIME_LIMIT": 960,  # Celery hard limit: the worker process is killed past it
    "GRAPH_REPORT_LEASE_SECONDS": 60,  # a killed worker's report is taken over after this
    "GRAPH_REPORT_SWEEP_SECONDS": 20,  # each worker re-dispatches reports whose run died or whose task was lost (graph/sweeper.py)
    "GRAPH_REPORT_MAX_ATTEMPTS": 3,  # runs of one report (takeovers included) before it fails
    "GRAPH_REPORT_MAX_ACTIVE": 3,  # queued or running reports per brand; more is a 409 until one ends
    "GRAPH_REPORT_PROCESS_FROM": 10000,  # embedded mode: a brand of this many people has its reports run by a process of their own
    "GRAPH_REPORT_PROGRESS_SECONDS": 1,  # how often the server tells a report's progress from that process
    "PEOPLE_SNAPSHOT_LEASE_SECONDS": 300,  # a people snapshot build whose process died is rebuilt after this
    "PEOPLE_SNAPSHOT_MAX_AGE_SECONDS": 86400,  # an older snapshot is stale (recency and activity move on) and rebuilt
    "PEOPLE_SNAPSHOT_KEEP": 2,  # ready snapshots kept per brand and purpose: cursors of the previous one still page
    # Embedded mode (no worker): a brand of at least this many people is built in a process of its own
    # (core/offload.py), not beside the web process's sockets; a new interpreter costs about a second to start.
    "PEOPLE_SNAPSHOT_PROCESS_FROM": 10000,
    "PEOPLE_SNAPSHOT_TIME_LIMIT": 1800,  # seconds such a process may run before it is stopped and the build failed
    # How many steps below the web process's CPU priority (nice) such processes run: the sockets go first.
    "OFFLOAD_NICENESS": 10,
    "CELERY_VISIBILITY_TIMEOUT": 3600,  # Redis broker: an unacknowledged task (its worker died) is redelivered after this
    "DATABASE_LOCK_TIMEOUT_MS": 5000,
    # Each process's connection pool (SQLAlchemy QueuePool): connections kept, extra ones allowed under
    # load, and how long a request or socket event waits for one before it is answered 503 / overloaded.
    "DATABASE_POOL_SIZE": 10,
    "DATABASE_POOL_OVERFLOW": 10,
    "DATABASE_POOL_TIMEOUT_MS": 3000,
    # Admission: socket events that may use the database at once in one process (about the pool's
    # size: more would only queue for a connection), and how long one more waits for a place
    # before it is answered "overloaded" with retry_after (docs/realtime.md, "Overload").
    "SOCKETIO_MAX_CONCURRENT_EVENTS": 20,
    "SOCKETIO_ADMISSION_WAIT_MS": 1000,
    "PASSWORD_RESET_MINUTES": 30,  # how long a password-reset link works (it also dies once used)
    "EVENT_INVITES_PER_DAY": 20,  # guests one member may invite by e-mail in 24 hours (events/guests.py)
    "EVENT_GUEST_LINK_DAYS": 60,  # how long a guest's signed link to an event works
    # Event reminders (events/reminders.py): those going are reminded this many hours before an event
    # starts; the sweep runs every INTERVAL seconds (Celery beat, or a background task in embedded mode).
    "EVENT_REMINDER_HOURS": 24,
    "EVENT_REMINDER_INTERVAL_SECONDS": 900,
    "SMTP_TIMEOUT_SECONDS": 10,  # a statement waits this long for a lock, then the request gets 503 database-busy
    # Notification e-mail (community/notifications/mail.py): a mention or reply still unread this
    # long after it happened is e-mailed; a mail worker's claim on a notification lasts this long.
    "NOTIFICATION_EMAIL_DELAY_SECONDS": 600,
    "NOTIFICATION_EMAIL_LEASE_SECONDS": 300,
    # A post's fan-out to up to this many watchers is written in its transaction; more, by a worker
    # after the commit (community/notifications/fanout.py): the poster's ack does not wait for it.
    "NOTIFICATION_FANOUT_INLINE_MAX": 200,
    # An owed fan-out whose worker never came (Redis down at the commit, a killed process) is run by
    # the sweep once it is this old (Celery beat with REDIS_URL, a timer in embedded mode).
    "NOTIFICATION_FANOUT_RETRY_SECONDS": 60,
    # A resuming client (GET /notifications?after=, `notifications_resume`) also gets the notifications
    # made this long before the last one it saw: a transaction that commits late shows its rows late.
    "NOTIFICATION_RESUME_OVERLAP_SECONDS": 30,
    # Recognition (recognition/): the badge and trust-level job runs this often (0: only `flask grant-badges`).
    "RECOGNITION_INTERVAL_SECONDS": 3600,
    # Trust levels (recognition/trust.py): a level needs days since the account was made, posts, distinct
    # other members who reacted to them, and at most so many flags upheld against them.
    "TRUST_BASIC_DAYS": 1,
    "TRUST_BASIC_POSTS": 1,
    "TRUST_BASIC_MAX_FLAGS_UPHELD": 2,
    "TRUST_MEMBER_DAYS": 15,
    "TRUST_MEMBER_POSTS": 10,
    "TRUST_MEMBER_REACTORS": 3,
    "TRUST_MEMBER_MAX_FLAGS_UPHELD": 1,
    "TRUST_REGULAR_DAYS": 60,
    "TRUST_REGULAR_POSTS": 50,
    "TRUST_REGULAR_REACTORS": 20,
    "TRUST_REGULAR_MAX_FLAGS_UPHELD": 0,
    # Digests (community/notifications/digest.py): the local hour a member's digest goes out unless
    # they chose one; a period whose hour passed more than WINDOW hours ago is skipped (its news
    # waits for the next); a worker's claim lasts LEASE seconds; the sweep runs every INTERVAL
    # seconds (Celery beat, or a background task in embedded mode).
    "NOTIFICATION_DIGEST_HOUR": 8,
    "NOTIFICATION_DIGEST_WINDOW_HOURS": 6,
    "NOTIFICATION_DIGEST_LEASE_SECONDS": 300,
    "NOTIFICATION_DIGEST_INTERVAL_SECONDS": 900,
    # Web Push (community/notifications/push.py): how long a push service keeps an undelivered
    # message (TTL), the HTTP timeout, and subscriptions one member may hold (the oldest goes).
    "PUSH_TTL_SECONDS": 86400,
    "PUSH_TIMEOUT_SECONDS": 10,
    "PUSH_MAX_SUBSCRIPTIONS": 10,
}

_STR_SETTINGS = {
    "PLATFORM_ENV": "development",
    "HOST": "127.0.0.1",
    "RATELIMIT_LOGIN": "10/minute",
    "RATELIMIT_REGISTER": "5/minute",
    "RATELIMIT_WRITE": "120/minute",
    "RATELIMIT_PASSWORD": "10/minute;50/hour",  # per account: logins as it, DELETE /me, password changes
    "RATELIMIT_KEY_PREFIX": "platform",
    "CORS_ALLOWED_ORIGINS": "",  # empty: the platform's own origin (HOST and PORT) only
    "LOG_LEVEL": "INFO",
    "SOCKETIO_CHANNEL": "platform-socketio",
    "SOCKETIO_ASYNC_MODE": "threading",
    "RATELIMIT_PASSWORD_RESET": "5/hour",  # reset requests, per client address and per e-mail address
    "SMTP_URL": "",  # smtp://[user:pass@]host[:port][?starttls=1] or smtps://...; empty: mail is logged (core/mail.py)
    "MAIL_FROM": "no-reply@localhost",
    "PUBLIC_URL": "",  # where people reach the web client, for links in e-mails; empty: http://HOST:PORT
    "NETWORKX_BACKEND": "",  # e.g. "cugraph" or "parallel" (installed separately); empty: networkx's own
    # Web Push's VAPID key (RFC 8292): the private key, base64url (raw 32 bytes or DER) or a PEM file's
    # path; empty: no push. The subject is a mailto: or https: contact for push services.
    "VAPID_PRIVATE_KEY": "",
    "VAPID_SUBJECT": "",
}


_BOOL_SETTINGS = {
    "SOCKETIO_WEBSOCKET_COMPRESSION": False,  # permessage-deflate for WebSocket clients that offer it (community/realtime/websocket.py)
    "SOCKETIO_DIRECT_WRITES": True,  # broadcasts framed once, written straight to sockets (community/realtime/websocket.py)
    "SQL_FAST_PATH": True,  # the post path's statements on the DBAPI cursor (core/sql.py)
    # After a commit that wrote a notification that may be mailed, plan a sweep for when it is due
    # (community/notifications/mail.py); off: only the CLI command or a scheduled task sends them.
    "NOTIFICATION_EMAIL_NUDGE": True,
    # Tests only: accept push subscription endpoints at http://127.0.0.1 (otherwise https only)
    "PUSH_ALLOW_LOCALHOST": False,
    # Redis unreachable: count rate limits in each process's memory until it is back (Flask-Limiter's
    # own fallback) rather than refuse every rate-limited request with 503 (docs/realtime.md, "Redis outages")
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
}

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


class ConfigError(RuntimeError):
    """Raised when the configuration is unsafe or inconsistent; the platform refuses to start."""


def _embedded_secret(instance_path: Path) -> str:
    """Return a per-installation random secret kept in ``instance/secret_key``."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the settings dict from defaults, the environment, then ``overrides``.

    Raises
    ------
    ConfigError
        In production mode with the default or a short secret, or without ``DATABASE_URL``.
    """
    env = os.environ
    overrides = dict(overrides or {})
    cfg: dict = {name: _number(name, env[name]) if name in env else default for name, default in INT_SETTINGS.items()}
    cfg.update({name: env.get(name, default) for name, default in _STR_SETTINGS.items()})
    cfg.update({name: _flag(name, env[name]) if name in env else default for name, default in _BOOL_SETTINGS.items()})
    cfg["REDIS_URL"] = env.get("REDIS_URL") or None
    cfg["DATABASE_URL"] = env.get("DATABASE_URL") or None
    cfg["SECRET_KEY"] = env.get("SECRET_KEY") or None
    cfg["EMAIL_HASH_KEY"] = env.get("EMAIL_HASH_KEY") or None  # unset: SECRET_KEY (purpose/stakeholders.py)
    cfg.update(overrides)

    production = cfg["PLATFORM_ENV"] == "production"
    if production:
        _check_production(cfg)
    if not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = _embedded_secret(Path(instance_path))
    if not cfg["DATABASE_URL"]:
        cfg["DATABASE_URL"] = "sqlite:///" + str(Path(instance_path) / "platform.db")
    _derive(cfg)
    return cfg


def plain_settings(config) -> dict:
    """The settings ``load_config`` reads by their own names (environment or overrides), from a loaded
    config: given back to ``load_config`` as overrides, they build the same configuration elsewhere."""
    names = (*INT_SETTINGS, *_STR_SETTINGS, *_BOOL_SETTINGS, "REDIS_URL", "DATABASE_URL", "SECRET_KEY", "EMAIL_HASH_KEY")
    return {name: config[name] for name in names if name in config}


def _number(name: str, value: str) -> int:
    """A whole-number environment variable, else refused with the setting's name."""
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None


def _flag(name: str, value: str) -> bool:
    """An on/off environment variable: 1/true/yes/on or 0/false/no/off (any case), else refused."""
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of {', '.join(_TRUE)} or {', '.join(v for v in _FALSE if v)}, not {value!r}")


#: Logged when production runs without Redis (README, "Running in production").
NO_REDIS_IN_PRODUCTION = (
    "PLATFORM_ENV=production without REDIS_URL: run one web process only (no message queue "
    "between processes; rate limits are counted per process), and graph reports run inside it, "
    "where its sockets wait while a report's graph algorithms run (seconds for a brand of 10,000 "
    "people, tens of seconds at 100,000). Set REDIS_URL and run a Celery worker."
)


def _check_production(cfg: dict) -> None:
    secret = cfg.get("SECRET_KEY") or ""
    if not secret or secret == DEFAULT_SECRET or len(secret) < 32:
        raise ConfigError("PLATFORM_ENV=production needs SECRET_KEY set to a random value of 32+ characters")
    if not cfg.get("DATABASE_URL"):
        raise ConfigError("PLATFORM_ENV=production needs DATABASE_URL (PostgreSQL)")
    if not cfg.get("REDIS_URL"):  # allowed (one small process), but its operator should know the cost
        logging.getLogger(__name__).warning(NO_REDIS_IN_PRODUCTION)


def _derive(cfg: dict) -> None:
    """Fill the settings the extensions read, from the platform's own names."""
    url = cfg["DATABASE_URL"]
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    cfg.setdefault("SQLALCHEMY_DATABASE_URI", url)
    lock_wait = cfg["DATABASE_LOCK_TIMEOUT_MS"]
    # PostgreSQL sessions in UTC, the platform's one time zone: psycopg then returns timestamps already
    # in datetime.timezone.utc, which UTCDateTime passes through (no conversion per value read).
    waiting = ({"options": f"-c lock_timeout={lock_wait} -c timezone=UTC"} if url.startswith("postgresql")
               else {"timeout": lock_wait / 1000})
    in_memory = url in ("sqlite://", "sqlite:///:memory:")  # one connection, nothing to pool
    pool = {} if in_memory else {"pool_size": cfg["DATABASE_POOL_SIZE"], "max_overflow": cfg["DATABASE_POOL_OVERFLOW"],
                                 "pool_timeout": cfg["DATABASE_POOL_TIMEOUT_MS"] / 1000}
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True, "connect_args": waiting, **pool})
    cfg.setdefault("JWT_SECRET_KEY", cfg["SECRET_KEY"])
    cfg.setdefault("JWT_ACCESS_TOKEN_EXPIRES", timedelta(minutes=cfg["ACCESS_TOKEN_MINUTES"]))
    cfg.setdefault("JWT_REFRESH_TOKEN_EXPIRES", timedelta(days=cfg["REFRESH_TOKEN_DAYS"]))
    cfg.setdefault("JWT_TOKEN_LOCATION", ["headers"])
    cfg.setdefault("CELERY", {"broker_transport_options": {"visibility_timeout": cfg["CELERY_VISIBILITY_TIMEOUT"]}})
    cfg.setdefault("RATELIMIT_STORAGE_URI", cfg["REDIS_URL"] or "memory://")
    cfg.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    if cfg["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):  # an unreachable Redis fails fast
        cfg.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 5})
    origins = [o.strip() for o in cfg["CORS_ALLOWED_ORIGINS"].split(",") if o.strip()]
    own = [f"http://{cfg['HOST']}:{cfg['PORT']}", f"http://localhost:{cfg['PORT']}"]
    cfg.setdefault("CORS_ORIGINS_LIST", origins or own)
    cfg["PUBLIC_URL"] = (cfg["PUBLIC_URL"] or own[0]).rstrip("/")
    if cfg["SMTP_URL"] and not cfg["SMTP_URL"].startswith(("smtp://", "smtps://")):
        raise ConfigError(f"SMTP_URL must be smtp://host[:port] or smtps://host[:port], not {cfg['SMTP_URL']!r}")
    cfg.setdefault("API_TITLE", "Brand Community Platform")
    cfg.setdefault("API_VERSION", "v1")
    cfg.setdefault("OPENAPI_VERSION", "3.0.3")
    cfg.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    cfg.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    cfg.setdefault("OPENAPI_SWAGGER_UI_PATH", "docs")
    cfg.setdefault("OPENAPI_SWAGGER_UI_URL", "/api/v1/docs-assets/")
    cfg.setdefault("JSON_SORT_KEYS", False)
