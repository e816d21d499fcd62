"""Socket.IO protocol (docs/realtime.md): connect with a token, join, post, resume, typing, presence.

Handlers only authenticate, validate with the same schemas as REST, and call the
service; the service commits and then broadcasts ``space_event`` to the space's room.
Every handler answers through its acknowledgement: ``{"ok": true, ...}`` or
``{"ok": false, "error": {"code", "message", "errors"?}}``.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from functools import wraps

import marshmallow as ma
from flask import Flask, current_app, request
from flask_jwt_extended import decode_token
from flask_socketio import ConnectionRefusedError, join_room, leave_room
from marshmallow import validate
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from community import access, events_log, moderation_rules, service
from community.connections import Connection, ConnectionTable, guard_frames
from community.models import Space
from community.moderation_audit import moderators_room
from community.presence import build_presence
from community.schemas import PostArgs, PostOut
from core.accounts import Account, access_revoked, find_live_session
from core.auth import spend_write
from core.errors import BUSY_RETRY_AFTER, REDIS_UNAVAILABLE, UNAVAILABLE_RETRY_AFTER, ApiError, ack_error
from core.errors import database_busy, validation_messages
from core.extensions import db, socketio
from purpose.access import brand_staff_changed
from purpose.models import Purpose
from core.validation import StrictSchema

log = logging.getLogger(__name__)
_ID = {"required": True, "strict": True, "validate": validate.Range(min=1, max=2**31 - 1)}
_POST_OUT = PostOut()


class SpaceArgs(StrictSchema):
    space_id = ma.fields.Integer(**_ID)


class ResumeArgs(SpaceArgs):
    after_seq = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=2**31 - 1))


class SocketPostArgs(PostArgs):
    thread_id = ma.fields.Integer(**_ID)


class TypingArgs(StrictSchema):
    thread_id = ma.fields.Integer(**_ID)


_connections = ConnectionTable()


def _presence():
    return current_app.extensions["presence"]


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
    cfg, presence = current_app.config, _presence()
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
        join_room(events_log.account_room(account.id))
    except BaseException:  # refused after all: give its place back now (a later disconnect finds nothing)
        presence.remove_socket(request.sid, account.id, session.id)
        raise
    _connections.open(request.sid, account.id, session.id, burst=cfg["SOCKETIO_EVENT_BURST"])
    _ensure_heartbeat(current_app._get_current_object())


@socketio.on("disconnect")
def on_disconnect(*_reason):
    conn = _connections.close(request.sid)
    if conn is None:
        return
    presence = _presence()
    presence.remove_socket(request.sid, conn.account_id, conn.session_id)
    for space_id in conn.spaces:
        presence.exit(space_id, request.sid, conn.account_id)
        socketio.server.manager.forget(request.sid, space_id)
        _presence_changed(space_id, conn.account_id)


def handler(event: str, schema: type[ma.Schema]):
    """Register a Socket.IO event: rate limit, size limit, live session, validation, error acks."""

    loader = schema()  # one instance per event: schemas keep no state between loads

    def decorate(func):
        @wraps(func)
        def wrapper(data=None):
            conn = _connections.get(request.sid)
            if conn is None:
                return ack_error("unauthorized", "Not connected.")
            cfg = current_app.config
            wait = conn.take_token(cfg["SOCKETIO_EVENTS_PER_SECOND"], cfg["SOCKETIO_EVENT_BURST"])
            if wait:
                return ack_error("rate_limited", "Too many events on this connection; slow down.", retry_after=wait)
            if len(json.dumps(data, default=str)) > cfg["SOCKETIO_MAX_PAYLOAD"]:
                return ack_error("payload_too_large", "The event payload is too large.")
            live = find_live_session(conn.session_id)
            if live is None:
                socketio.server.disconnect(request.sid)
                return ack_error("unauthorized", "Your session has ended.")
            try:
                return func(conn, live[1], loader.load(data if isinstance(data, dict) else {"_": data}))
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
            except Exception as exc:
                db.session.rollback()
                if isinstance(exc, OperationalError) and database_busy(exc):  # nothing stored: resend
                    return ack_error("database_busy", "The database is busy; retry in a moment.", retry_after=BUSY_RETRY_AFTER)
                log.exception("Socket.IO handler %s failed", event)  # a bug: log it, answer, keep the connection
                return ack_error("internal_error", "An unexpected error occurred.")

        return socketio.on(event)(wrapper)

    return decorate


def _enter(conn: Connection, account, space_id: int) -> None:
    limit = current_app.config["SOCKETIO_MAX_SPACES_PER_CONNECTION"]
    if space_id not in conn.spaces and len(conn.spaces) >= limit:
        raise ApiError(409, f"This connection is in {limit} spaces already; leave one first.", type_="too-many-spaces")
    space = access.visible_space(account, space_id)
    moderation_rules.require_not_banned(account, space)
    if access.is_space_staff(account, space):  # flags, queue changes and actions of the space
        join_room(moderators_room(space_id))
    join_room(events_log.space_room(space_id))
    conn.spaces.add(space_id)
    _presence().enter(space_id, request.sid, account.id)
    _presence_changed(space_id, account.id)


@handler("join", SpaceArgs)
def on_join(conn, account, args):
    space = access.visible_space(account, args["space_id"])
    _enter(conn, account, space.id)
    return {"ok": True, "space_id": space.id, "last_seq": space.last_seq}


@handler("leave", SpaceArgs)
def on_leave(conn, account, args):
    space_id = args["space_id"]
    leave_room(events_log.space_room(space_id))  # the manager tells _space_left
    leave_room(moderators_room(space_id))
    _presence().exit(space_id, request.sid, conn.account_id)
    _presence_changed(space_id, conn.account_id)
    return {"ok": True, "space_id": space_id}


@handler("post", SocketPostArgs)
def on_post(conn, account, args):
    spend_write(account.id)  # the same per-account budget as REST writes
    thread, space = access.visible_thread(account, args.pop("thread_id"))
    post, created = service.do_create_post(account, thread, space, **args)
    # A new post has no reactions yet; a resend may have gathered some since.
    post.reaction_summary = service.reaction_summaries([post.id], account.id)[post.id] if not created else []
    return {"ok": True, "created": created, "post": _POST_OUT.dump(post)}


@handler("resume", ResumeArgs)
def on_resume(conn, account, args):
    """Replay what the socket missed, then live events: each exactly once, in order.

    Live events of the space are held back for this socket from before it is subscribed
    until the replay has been sent; held events the replay already carried are dropped.
    The replayed events arrive as ordinary ``space_event`` messages before this ack.
    """
    space = access.visible_space(account, args["space_id"])
    moderation_rules.require_not_banned(account, space)
    manager, sid = socketio.server.manager, request.sid

    def deliver(event: dict) -> None:
        socketio.emit(events_log.EVENT_NAME, event, to=sid, ignore_queue=True)  # local socket: no detour via Redis

    manager.hold(sid, space.id)
    try:
        if space.id not in conn.spaces:
            _enter(conn, account, space.id)
        replay = events_log.replay_after(space.id, args["after_seq"])
    except BaseException:
        manager.forget(sid, space.id)
        raise
    if replay.resync_required:
        manager.forget(sid, space.id)
        return ack_error("resync_required", "Events after this sequence number are no longer kept; reload the space.")
    for event in replay.events:
        deliver(event)
    if replay.more:  # still holding: the client asks for the next page from last_seq
        return {"ok": True, "space_id": space.id, "replayed": len(replay.events), "last_seq": replay.last_seq, "more": True}
    last_seq = manager.release(sid, space.id, replay.last_seq, deliver=deliver)
    return {"ok": True, "space_id": space.id, "replayed": len(replay.events), "last_seq": last_seq, "more": False}


@handler("typing", TypingArgs)
def on_typing(conn, account, args):
    thread, space = access.visible_thread(account, args["thread_id"])
    access.require_member(account, space)
    moderation_rules.require_not_silenced(account, space)  # a muted member may not announce posts they may not send
    now = time.monotonic()
    if now - conn.typing_at.get(thread.id, -1e9) < current_app.config["TYPING_INTERVAL_SECONDS"]:
        return {"ok": True, "throttled": True}
    conn.typing_at[thread.id] = now
    who = {"id": account.id, "handle": account.handle, "display_name": account.display_name}
    payload = {"space_id": space.id, "thread_id": thread.id, "account": who}
    socketio.emit("typing", payload, to=events_log.space_room(space.id), skip_sid=request.sid)
    return {"ok": True, "throttled": False}


@handler("presence", SpaceArgs)
def on_presence(conn, account, args):
    space = access.visible_space(account, args["space_id"])
    return {"ok": True, "space_id": space.id, "online": _presence().online(space.id)}


_pending_presence: dict[int, set[int]] = {}
_pending_lock = threading.Lock()


def _presence_changed(space_id: int, account_id: int) -> None:
    """Note that an account may have come or gone; ``_flush_presence`` tells the room, batched."""
    with _pending_lock:
        _pending_presence.setdefault(space_id, set()).add(account_id)


def _flush_presence(app: Flask) -> None:
    """Broadcast each space's presence changes as one delta: ``{"space_id", "joined", "left"}``.

    Batching keeps presence O(changes) per interval instead of one full list per join,
    which would make a room of n members joining cost O(n^2) messages.
    """
    presence = app.extensions["presence"]
    with _pending_lock:
        pending = dict(_pending_presence)
        _pending_presence.clear()
    items = list(pending.items())
    for i, (space_id, candidates) in enumerate(items):
        try:
            online = set(presence.online(space_id))
        except Exception:  # the store is unreachable: keep what is not told yet for the next beat
            with _pending_lock:
                for later, accounts in items[i:]:
                    _pending_presence.setdefault(later, set()).update(accounts)
            raise
        joined, left = sorted(candidates & online), sorted(candidates - online)
        socketio.emit("presence", {"space_id": space_id, "joined": joined, "left": left}, to=events_log.space_room(space_id))


# Losing access ---------------------------------------------------------------------


def cut_off_space(account_id: int, *, space_id: int, reason: str) -> None:
    """Stop an account's sockets (on every process) from receiving a space's events, at once."""
    room = events_log.space_room(space_id)
    presence = _presence()
    for sid in presence.sockets_of_account(account_id):
        socketio.emit("access_lost", {"space_id": space_id, "reason": reason}, to=sid)
        socketio.server.leave_room(sid, room, namespace="/")
        socketio.server.leave_room(sid, moderators_room(space_id), namespace="/")
        presence.exit(space_id, sid, account_id)
    _presence_changed(space_id, account_id)
    _ensure_heartbeat(current_app._get_current_object())


def _on_role_changed(account_id: int, *, space_id: int) -> None:
    """At once, on every process: a demoted moderator's sockets leave the space's moderators'
    room; a new moderator's sockets enter it."""
    account, space = db.session.get(Account, account_id), db.session.get(Space, space_id)
    if account is not None and space is not None:
        _move_moderator_sockets(account, space)


def _move_moderator_sockets(account: Account, space: Space) -> None:
    account_id, space_id = account.id, space.id
    move = socketio.server.enter_room if access.is_space_staff(account, space) else socketio.server.leave_room
    for sid in _presence().sockets_of_account(account_id):
        move(sid, moderators_room(space_id), namespace="/")


def _on_brand_staff_changed(account_id: int, *, brand_id: int) -> None:
    """A brand manager added or removed: every space of the brand, as for a space role change;
    a private space the account may no longer see cuts its sockets off, as a removal does."""
    account = db.session.get(Account, account_id)
    if account is None:
        return
    for space in db.session.scalars(select(Space).join(Purpose).where(Purpose.brand_id == brand_id)):
        if access.can_see(account, space):
            _move_moderator_sockets(account, space)
        elif account_id in _presence().online(space.id):
            cut_off_space(account_id, space_id=space.id, reason="role_changed")


def _on_access_revoked(account_id: int, *, session_id: str | None, reason: str) -> None:
    """Logout, suspension, stolen refresh token: tell the sockets why, then disconnect them."""
    presence = _presence()
    sids = presence.sockets_of_session(session_id) if session_id else presence.sockets_of_account(account_id)
    for sid in sids:
        socketio.emit("access_revoked", {"reason": reason}, to=sid)
        socketio.server.disconnect(sid, namespace="/")


def _heartbeat(app: Flask) -> None:
    """Flush presence changes every ``PRESENCE_FLUSH_SECONDS``; refresh this process's presence
    entries every third of ``PRESENCE_TTL_SECONDS`` (when the process dies they expire)."""
    tick = app.config["PRESENCE_FLUSH_SECONDS"]
    refresh_every = max(1, round(app.config["PRESENCE_TTL_SECONDS"] / 3 / tick))
    for count in itertools.count(1):
        socketio.sleep(tick)
        _beat(app, refresh=count % refresh_every == 0)


def _beat(app: Flask, *, refresh: bool) -> None:
    """One heartbeat. A failure (Redis unreachable for a moment, say) is logged and the next
    beat tries again: a heartbeat that stopped would let every entry of this process expire,
    its members would drop out of presence and its sockets out of reach of revocation."""
    try:
        with app.app_context():
            _flush_presence(app)
    except Exception:
        log.exception("Presence changes could not be told; the next heartbeat tries again")
    if not refresh:
        return
    connections = _connections.items()
    sockets = [(sid, c.account_id, c.session_id) for sid, c in connections]
    # tuple(): a copy, taken at once, since in threading mode a join may add a space meanwhile
    entries = [(space, sid, c.account_id) for sid, c in connections for space in tuple(c.spaces)]
    try:
        if sockets:
            app.extensions["presence"].refresh(sockets, entries)
    except Exception:
        log.exception("Presence entries could not be refreshed; the next heartbeat tries again")


def _ensure_heartbeat(app: Flask) -> None:
    if not app.extensions.get("presence_heartbeat"):
        app.extensions["presence_heartbeat"] = socketio.start_background_task(_heartbeat, app)


def _space_left(sid: str, space_id: int) -> None:
    """A socket of this process left a space's room (its own ``leave`` or access lost, decided
    on any process): it is no longer in the space, for the per-connection limit, a later
    ``resume`` (which must enter the room again) and the presence heartbeat."""
    conn = _connections.get(sid)
    if conn is not None:
        conn.spaces.discard(space_id)


def init_realtime(app: Flask) -> None:
    app.extensions["presence"] = build_presence(app.config)
    socketio.server.manager.space_left = _space_left
    guard_frames(socketio.server, _connections, rate=app.config["SOCKETIO_EVENTS_PER_SECOND"],
                 burst=app.config["SOCKETIO_EVENT_BURST"])
    # Connected here, not at import (docs/architecture.md); blinker keys receivers by id, so
    # every app built in one process connects each once.
    access_revoked.connect(_on_access_revoked)
    service.space_access_lost.connect(cut_off_space)
    service.space_role_changed.connect(_on_role_changed)
    brand_staff_changed.connect(_on_brand_staff_changed)
