"""Token wiring (flask-jwt-extended) and the "who is asking" helpers every view uses."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from functools import cache, wraps

from flask import Flask, current_app, g, request
from flask.sessions import SessionInterface
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint
from flask_jwt_extended import create_access_token, create_refresh_token, get_jti, get_jwt_identity, jwt_required
from flask_jwt_extended import verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError
from limits import parse as parse_limit
from sqlalchemy import select

from core.accounts import Account, LoginSession, dummy_hash, find_live_session, revoke_session, rotate_refresh_jti
from core.errors import REDIS_UNAVAILABLE, ApiError, TooSoon, problem
from core.extensions import db, jwt, limiter
from core.validation import normalise_email

log = logging.getLogger(__name__)

#: OpenAPI security requirement for views that need an access token.
BEARER = [{"bearerAuth": []}]


def issue_tokens(account: Account, session: LoginSession, *, replacing: str | None = None) -> dict:
    """A fresh access and refresh token pair for ``session``; remembers the refresh token's jti.

    ``replacing`` (a refresh) is the jti of the refresh token presented: the session takes the
    new jti only if that one is still its current jti, in one conditional UPDATE, so of two
    refreshes with one token exactly one wins. The other presented a token that is no longer
    current: reuse, which ends the session (401 ``token-revoked``), as a later replay would.
    """
    claims = {"sid": session.id}
    refresh = create_refresh_token(identity=str(account.id), additional_claims=claims)
    if replacing is None:
        session.refresh_jti = get_jti(refresh)
    elif not rotate_refresh_jti(session, replacing, get_jti(refresh)):
        db.session.rollback()
        revoke_session(session, reason="refresh_token_reused")
        raise ApiError(401, "The refresh token was used twice; the session has ended.", type_="token-revoked")
    db.session.commit()
    return {
        "access_token": create_access_token(identity=str(account.id), additional_claims=claims),
        "refresh_token": refresh,
        "token_type": "Bearer",
    }


def current_account() -> Account:
    """The account of the verified access token (views wrapped in ``authenticated`` only)."""
    return g.current_account


def current_session() -> LoginSession:
    return g.current_session


def authenticated(view):
    """Require a valid, unrevoked access token of an active account (and say so in the OpenAPI doc)."""
    return Blueprint.doc(security=BEARER)(jwt_required()(view))


def require_admin(view):
    """``authenticated``, and the account must be a platform admin."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_account().is_admin:
            raise ApiError(403, "Only platform admins may do this.")
        return view(*args, **kwargs)

    return authenticated(wrapper)


def rate_limit_identity() -> str:
    """``account:<id>`` for a request with a valid token, else the client address."""
    try:
        verify_jwt_in_request(optional=True)
        identity = get_jwt_identity()
    except (JWTExtendedException, PyJWTError):
        identity = None
    return f"account:{identity}" if identity else f"ip:{get_remote_address()}"


#: One write budget per account (``RATELIMIT_WRITE``): every write endpoint and every
#: Socket.IO ``post`` draw from it, so more tabs, endpoints or transports do not multiply it.
WRITE_SCOPE = "writes"


def limit_writes(blueprint):
    """Make a blueprint's writes draw from the account's write budget; once, at import."""
    limiter.shared_limit(lambda: current_app.config["RATELIMIT_WRITE"], scope=WRITE_SCOPE,
                         methods=["POST", "PUT", "PATCH", "DELETE"])(blueprint)
    return blueprint


#: One budget per account for everything that checks its password (``RATELIMIT_PASSWORD``):
#: logging in as it, erasing it, changing its password. A stolen access token cannot guess
#: the password faster than someone at the login form, and more addresses do not multiply it.
PASSWORD_SCOPE = "password-checks"


def password_check_identity() -> str:
    """The account whose password a request checks: the one its ``email`` names (login; an
    unknown email gets its own budget, so known and unknown look alike), else the token's."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str):
        return rate_limit_identity()
    email = normalise_email(email)[:254]
    account_id = db.session.scalar(select(Account.id).where(Account.email == email))
    db.session.commit()
    if account_id is not None:
        return f"account:{account_id}"
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), email.encode(), hashlib.sha256).hexdigest()
    return f"email:{digest[:32]}"


def limit_password_checks(view):
    """Draw the view's calls from the password-check budget of the account concerned."""
    return limiter.shared_limit(lambda: current_app.config["RATELIMIT_PASSWORD"], scope=PASSWORD_SCOPE,
                                key_func=password_check_identity, override_defaults=False)(view)


_parsed_limit = cache(parse_limit)  # every socket post asks; the setting's text rarely changes


def spend_write(account_id: int) -> None:
    """Take one write from the account's budget outside an HTTP view (a Socket.IO post);
    429 ``rate-limited`` with the seconds until it refills when it is spent."""
    budget = _parsed_limit(current_app.config["RATELIMIT_WRITE"])
    # The key flask-limiter gives a shared limit: [prefix,] identity, scope (tests/core check they meet).
    keys = [key for key in (limiter._key_prefix, f"account:{account_id}", WRITE_SCOPE) if key]

    def hit(rate_limiter) -> float | None:
        """None when the write was taken, else the time the budget refills."""
        return None if rate_limiter.hit(budget, *keys) else rate_limiter.get_window_stats(budget, *keys).reset_time

    reset_at = _with_storage_fallback(hit)
    if reset_at is not None:
        raise TooSoon(f"Too many writes: the limit is {current_app.config['RATELIMIT_WRITE']}. Retry later.",
                      "rate-limited", reset_at - time.time())


#: While the rate-limit store is unreachable, how often a socket's write tries it again.
STORAGE_RECHECK_SECONDS = 1.0
_storage_recheck_at = 0.0


def _with_storage_fallback(check):
    """``check(rate_limiter)`` against the shared store, failing over as Flask-Limiter's own
    request checks do (the same flags, so HTTP and sockets agree): when Redis cannot be
    reached and ``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED`` (the default), over to the limiter's
    in-memory storage (budgets per process until Redis is back, tried again at most once a
    second here); otherwise the error stands (a 503 ``service-unavailable`` / ack ``unavailable``).
    """
    global _storage_recheck_at
    if limiter._storage_dead and time.monotonic() >= _storage_recheck_at:
        _storage_recheck_at = time.monotonic() + STORAGE_RECHECK_SECONDS
        if limiter.storage.check():
            log.info("Rate-limit storage recovered")
            limiter._storage_dead = False
    try:
        return check(limiter.limiter)
    except REDIS_UNAVAILABLE:
        if not limiter._in_memory_fallback_enabled or limiter._storage_dead:
            raise
        log.warning("Rate-limit storage unreachable: counting write budgets in memory, per process")
        limiter._storage_dead = True
        _storage_recheck_at = time.monotonic() + STORAGE_RECHECK_SECONDS
        return check(limiter.limiter)


class _NoCookieSession(SessionInterface):
    """Who is asking comes from the bearer token alone: no cookie session is read or written.

    Besides closing off cookie-borne state, this saves Flask from building a signing
    serializer for every request and every Socket.IO event (a few per cent of the post path).
    """

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response) -> None:
        return None


def init_auth(app: Flask) -> None:
    jwt.init_app(app)
    app.session_interface = _NoCookieSession()
    with app.app_context():
        dummy_hash()  # made now, so that not even the first unknown email costs more than a known one


@jwt.token_in_blocklist_loader
def _token_revoked(_header: dict, payload: dict) -> bool:
    """A token is refused when its session is revoked, its account suspended, or (refresh) reused."""
    cached = g.get("_session_check")
    if cached is not None and cached[0] == payload["jti"]:
        return cached[1]
    live = find_live_session(payload.get("sid", ""))
    revoked = live is None
    if live is not None:
        session, account = live
        if payload["type"] == "refresh" and payload["jti"] != session.refresh_jti:
            revoke_session(session, reason="refresh_token_reused")  # an already-rotated token came back: theft
            revoked = True
        g.current_session, g.current_account = session, account
    g._session_check = (payload["jti"], revoked)
    return revoked


@jwt.user_lookup_loader
def _user_lookup(_header: dict, _payload: dict):
    return g.get("current_account")


#: Every way flask-jwt-extended can refuse a token, as (loader, problem type, detail): all 401.
_TOKEN_REFUSALS = (
    (jwt.unauthorized_loader, "unauthorized", "An access token is required (Authorization: Bearer <token>)."),
    (jwt.invalid_token_loader, "invalid-token", "The token is invalid."),
    (jwt.expired_token_loader, "token-expired", "The token has expired; refresh it or log in again."),
    (jwt.revoked_token_loader, "token-revoked", "The token has been revoked (logged out, suspended or reused)."),
    (jwt.needs_fresh_token_loader, "fresh-token-required", "A fresh login is required."),
    (jwt.user_lookup_error_loader, "token-revoked", "The token's account no longer exists."),
    (jwt.token_verification_failed_loader, "invalid-token", "The token was refused."),
)


def _refusal(type_: str, detail: str):
    def respond(*_args):
        return problem(401, detail, type_=type_, headers={"WWW-Authenticate": "Bearer"})

    return respond


for _loader, _type, _detail in _TOKEN_REFUSALS:
    _loader(_refusal(_type, _detail))
