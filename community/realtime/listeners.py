"""Losing access, felt at once: sockets leave rooms or disconnect, on every process.

The receivers of the access signals (``community.access``, ``core.accounts``,
``purpose.access``) and ``init_realtime``, which connects them when ``create_app`` runs
(docs/architecture.md: wiring happens there, never at import).
"""

from __future__ import annotations

import threading

from flask import Flask, current_app
from sqlalchemy import select

from community import access, space_log
from community.models import Space
from community.moderation.audit import moderators_room
from community.realtime import handlers, protocol  # noqa: F401 (importing them registers the events)
from community.realtime.connections import OPEN, guard_frames
from community.realtime.heartbeat import PendingPresence, current_presence, ensure_heartbeat, presence_changed
from community.realtime.presence import build_presence
from core.accounts import Account, access_revoked
from core.extensions import db, socketio
from purpose.access import brand_staff_changed
from purpose.models import Purpose


def cut_off_space(account_id: int, *, space_id: int, reason: str) -> None:
    """Stop an account's sockets (on every process) from receiving a space's events, at once."""
    room = space_log.space_room(space_id)
    presence = current_presence()
    for sid in presence.sockets_of_account(account_id):
        socketio.emit("access_lost", {"space_id": space_id, "reason": reason}, to=sid)
        socketio.server.leave_room(sid, room, namespace="/")
        socketio.server.leave_room(sid, moderators_room(space_id), namespace="/")
        presence.exit(space_id, sid, account_id)
    presence_changed(space_id, account_id)
    ensure_heartbeat(current_app._get_current_object())


def _on_role_changed(account_id: int, *, space_id: int) -> None:
    """At once, on every process: a demoted moderator's sockets leave the space's moderators'
    room; a new moderator's sockets enter it."""
    account, space = db.session.get(Account, account_id), db.session.get(Space, space_id)
    if account is not None and space is not None:
        _move_moderator_sockets(account, space)


def _move_moderator_sockets(account: Account, space: Space) -> None:
    account_id, space_id = account.id, space.id
    move = socketio.server.enter_room if access.is_space_staff(account, space) else socketio.server.leave_room
    for sid in current_presence().sockets_of_account(account_id):
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
        elif account_id in current_presence().online(space.id):
            cut_off_space(account_id, space_id=space.id, reason="role_changed")


def _on_access_revoked(account_id: int, *, session_id: str | None, reason: str) -> None:
    """Logout, suspension, stolen refresh token: tell the sockets why, then disconnect them."""
    presence = current_presence()
    sids = presence.sockets_of_session(session_id) if session_id else presence.sockets_of_account(account_id)
    for sid in sids:
        socketio.emit("access_revoked", {"reason": reason}, to=sid)
        socketio.server.disconnect(sid, namespace="/")


def _space_left(sid: str, space_id: int) -> None:
    """A socket of this process left a space's room (its own ``leave`` or access lost, decided
    on any process): it is no longer in the space, for the per-connection limit, a later
    ``resume`` (which must enter the room again) and the presence heartbeat."""
    conn = OPEN.get(sid)
    if conn is not None:
        conn.spaces.discard(space_id)


def init_realtime(app: Flask) -> None:
    app.extensions["presence"] = build_presence(app.config)
    app.extensions["presence_pending"] = PendingPresence()
    # gevent's when the worker monkey-patched threading (gunicorn's gevent worker), a thread one otherwise
    app.extensions["socket_admission"] = threading.BoundedSemaphore(app.config["SOCKETIO_MAX_CONCURRENT_EVENTS"])
    socketio.server.manager.space_left = _space_left
    guard_frames(socketio.server, OPEN, rate=app.config["SOCKETIO_EVENTS_PER_SECOND"],
                 burst=app.config["SOCKETIO_EVENT_BURST"])
    # Connected here, not at import (docs/architecture.md); blinker keys receivers by id, so
    # every app built in one process connects each once.
    access_revoked.connect(_on_access_revoked)
    access.space_access_lost.connect(cut_off_space)
    access.space_role_changed.connect(_on_role_changed)
    brand_staff_changed.connect(_on_brand_staff_changed)
