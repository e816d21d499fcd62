"""The Socket.IO connection and every event's envelope (docs/realtime.md).

``connect`` authenticates with the access token and counts the socket against the
account's cap on every process; ``handler`` registers an event with what every event
gets: rate and size limits, a live-session check, validation with the same schemas as
REST, and an acknowledgement for every outcome: ``{"ok": true, ...}`` or
``{"ok": false, "error": {"code", "message", "errors"?, "retry_after"?}}``.
"""

from __future__ import annotations

import json
import logging
from functools import wraps

import marshmallow as ma
from flask import current_app, request
from flask_jwt_extended import decode_token
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from community import space_log
from community.realtime.connections import OPEN
from community.realtime.heartbeat import current_presence, ensure_heartbeat, presence_changed
from core.accounts import find_live_session
from core.errors import BUSY_RETRY_AFTER, OVERLOAD_RETRY_AFTER, REDIS_UNAVAILABLE, UNAVAILABLE_RETRY_AFTER, ApiError, ack_error
from core.errors import database_busy, validation_messages
from core.extensions import db, socketio

log = logging.getLogger(__name__)


def _refuse(code: str, message: str):
    """Refuse the connection; the client's ``connect_error`` gets ``{"message", "data": {"code"}}``."""
    raise ConnectionRefusedError(message, {"code": code})


@socketio.on("connect")
def on_connect(auth):
    token = auth.get("token") if isinstance(auth, dict) else None
    if not isinstance(token, str) or not token:
        _refuse("unauthorized", "Send the access token in the auth payload: {token: ...}.")
    try:
        claims = decode_token(token)
    except Exception as exc:  # any decoding failure is a refusal, never a crash
        _refuse("token_expired" if "expired" in str(exc).lower() else "invalid_token", "The token is invalid or expired.")
    live = find_live_session(claims.get("sid", "")) if claims.get("type") == "access" else None
    if live is None:
        _refuse("token_revoked", "The token is not a live access token.")
    session, account = live
    cfg, presence = current_app.config, current_presence()
    limit = cfg["SOCKETIO_MAX_CONNECTIONS_PER_ACCOUNT"]
    try:
        added = presence.add_socket(request.sid, account.id, session.id, limit=limit)  # counted over every process
    except REDIS_UNAVAILABLE:  # the cap cannot be counted, nor the socket found for a revocation: retry later
        log.warning("Socket.IO connection refused: Redis unreachable")
        raise ConnectionRefusedError("The service is unavailable for a moment; reconnect shortly.",
                                     {"code": "unavailable", "retry_after": UNAVAILABLE_RETRY_AFTER}) from None
    if not added:
        _refuse("too_many_connections", f"This account already has {limit} connections open; close one first.")
    try:
        join_room(space_log.account_room(account.id))
    except BaseException:  # refused after all: give its place back now (a later disconnect finds nothing)
        presence.remove_socket(request.sid, account.id, session.id)
        raise
    OPEN.open(request.sid, account.id, session.id, burst=cfg["SOCKETIO_EVENT_BURST"])
    ensure_heartbeat(current_app._get_current_object())


@socketio.on("disconnect")
def on_disconnect(*_reason):
    conn = OPEN.close(request.sid)
    if conn is None:
        return
    presence = current_presence()
    presence.remove_socket(request.sid, conn.account_id, conn.session_id)
    for space_id in conn.spaces:
        presence.exit(space_id, request.sid, conn.account_id)
        socketio.server.manager.forget(request.sid, space_id)
        presence_changed(space_id, conn.account_id)


def handler(event: str, schema: type[ma.Schema]):
    """Register a Socket.IO event: rate limit, size limit, live session, validation, error acks."""

    loader = schema()  # one instance per event: schemas keep no state between loads

    def decorate(func):
        @wraps(func)
        def wrapper(data=None):
            conn = OPEN.get(request.sid)
            if conn is None:
                return ack_error("unauthorized", "Not connected.")
            cfg = current_app.config
            wait = conn.take_token(cfg["SOCKETIO_EVENTS_PER_SECOND"], cfg["SOCKETIO_EVENT_BURST"])
            if wait:
                return ack_error("rate_limited", "Too many events on this connection; slow down.", retry_after=wait)
            if len(json.dumps(data, default=str)) > cfg["SOCKETIO_MAX_PAYLOAD"]:
                return ack_error("payload_too_large", "The event payload is too large.")
            admission = current_app.extensions["socket_admission"]
            if not admission.acquire(timeout=cfg["SOCKETIO_ADMISSION_WAIT_MS"] / 1000):  # shed load early
                return ack_error("overloaded", "The server is busy; retry in a moment.", retry_after=OVERLOAD_RETRY_AFTER)
            try:
                return _answer(event, func, conn, loader, data)
            finally:
                admission.release()

        return socketio.on(event)(wrapper)

    return decorate


def _answer(event: str, func, conn, loader: ma.Schema, data) -> dict:
    """Run an admitted event: every outcome, a database or Redis failure included, is an ack."""
    try:
        live = find_live_session(conn.session_id)
        if live is None:
            socketio.server.disconnect(request.sid)
            return ack_error("unauthorized", "Your session has ended.")
        answer = func(conn, live[1], loader.load(data if isinstance(data, dict) else {"_": data}))
        db.session.commit()  # the event's boundary: one commit, then what its actions queued (core/outbox.py)
        return answer
    except ma.ValidationError as exc:
        return ack_error("validation_error", "The payload is invalid.", errors=validation_messages(exc))
    except ApiError as exc:  # slow mode, new-member limits and write budgets carry retry_after
        return ack_error(exc.type_.replace("-", "_"), exc.description, errors=exc.errors,
                         retry_after=getattr(exc, "retry_after", None))
    except REDIS_UNAVAILABLE:  # presence or the shared write budget out of reach: nothing was done
        db.session.rollback()
        log.warning("Socket.IO %s answered unavailable: Redis unreachable", event)
        return ack_error("unavailable", "The service is unavailable for a moment; retry shortly.",
                         retry_after=UNAVAILABLE_RETRY_AFTER)
    except PoolTimeout:  # no connection came free in time: overloaded, nothing was done
        db.session.rollback()
        log.warning("Socket.IO %s answered overloaded: database pool exhausted", event)
        return ack_error("overloaded", "The server is busy; retry in a moment.", retry_after=OVERLOAD_RETRY_AFTER)
    except IntegrityError:  # a concurrent change won: nothing of this event was stored
        db.session.rollback()
        return ack_error("conflict", "The change conflicts with another made at the same time; retry.")
    except Exception as exc:
        db.session.rollback()
        if isinstance(exc, OperationalError) and database_busy(exc):  # nothing stored: resend
            return ack_error("database_busy", "The database is busy; retry in a moment.", retry_after=BUSY_RETRY_AFTER)
        log.exception("Socket.IO handler %s failed", event)  # a bug: log it, answer, keep the connection
        return ack_error("internal_error", "An unexpected error occurred.")
