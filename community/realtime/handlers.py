"""The Socket.IO events members send: join, leave, post, resume, typing, presence, notifications_resume.

Each only authenticates (``protocol.handler``), checks access and calls the service;
the envelope commits once the handler returns, and then what the actions queued (the
``space_event`` broadcast to the space's room, mention notices) follows (core/outbox.py).
"""

from __future__ import annotations

import time

import marshmallow as ma
from flask import current_app, request
from flask_socketio import join_room, leave_room
from marshmallow import validate

from community import access, space_log
from community.conversations import service
from community.moderation import rules as moderation_rules
from community.moderation.audit import moderators_room
from community.notifications import service as notifications
from community.realtime.connections import Connection
from community.realtime.heartbeat import current_presence, presence_changed
from community.realtime.protocol import handler
from community.schemas import PostArgs, PostOut, reaction_summaries
from core.auth import spend_write
from core.errors import ApiError, ack_error
from core.extensions import socketio
from core.validation import StrictSchema

_ID = {"required": True, "strict": True, "validate": validate.Range(min=1, max=2**31 - 1)}
_POST_OUT = PostOut()


class SpaceRef(StrictSchema):
    """A space named by id in a socket event (REST's ``SpaceArgs`` creates one)."""

    space_id = ma.fields.Integer(**_ID)


class ResumeArgs(SpaceRef):
    after_seq = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=2**31 - 1))


class NotificationsResumeArgs(StrictSchema):
    after = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=2**31 - 1))
    limit = ma.fields.Integer(load_default=100, strict=True, validate=validate.Range(min=1, max=100))


class SocketPostArgs(PostArgs):
    thread_id = ma.fields.Integer(**_ID)


class TypingArgs(StrictSchema):
    thread_id = ma.fields.Integer(**_ID)


def _enter(conn: Connection, account, space_id: int) -> None:
    limit = current_app.config["SOCKETIO_MAX_SPACES_PER_CONNECTION"]
    if space_id not in conn.spaces and len(conn.spaces) >= limit:
        raise ApiError(409, f"This connection is in {limit} spaces already; leave one first.", type_="too-many-spaces")
    space = access.visible_space(account, space_id)
    moderation_rules.require_not_banned(account, space)
    if access.is_space_staff(account, space):  # flags, queue changes and actions of the space
        join_room(moderators_room(space_id))
    join_room(space_log.space_room(space_id))
    conn.spaces.add(space_id)
    current_presence().enter(space_id, request.sid, account.id)
    presence_changed(space_id, account.id)


@handler("join", SpaceRef)
def on_join(conn, account, args):
    space = access.visible_space(account, args["space_id"])
    _enter(conn, account, space.id)
    return {"ok": True, "space_id": space.id, "last_seq": space.last_seq}


@handler("leave", SpaceRef)
def on_leave(conn, account, args):
    space_id = args["space_id"]
    leave_room(space_log.space_room(space_id))  # the manager tells _space_left
    leave_room(moderators_room(space_id))
    current_presence().exit(space_id, request.sid, conn.account_id)
    presence_changed(space_id, conn.account_id)
    return {"ok": True, "space_id": space_id}


@handler("post", SocketPostArgs)
def on_post(conn, account, args):
    spend_write(account.id)  # the same per-account budget as REST writes
    thread, space = access.visible_thread(account, args.pop("thread_id"))
    post, created = service.do_create_post(account, thread, space, **args)
    # A new post has no reactions yet; a resend may have gathered some since.
    post.reaction_summary = reaction_summaries([post.id], account.id)[post.id] if not created else []
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
        socketio.emit(space_log.EVENT_NAME, event, to=sid, ignore_queue=True)  # local socket: no detour via Redis

    manager.hold(sid, space.id)
    try:
        if space.id not in conn.spaces:
            _enter(conn, account, space.id)
        replay = space_log.replay_after(space.id, args["after_seq"])
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


@handler("notifications_resume", NotificationsResumeArgs)
def on_notifications_resume(conn, account, args):
    """What a reconnecting client missed of its notifications, in the ack: those after the last id it
    saw and any made in the moments before it (``notifications.missed_clause``; keep them by id),
    oldest first, with the unread count. ``more``: ask again after the last id."""
    rows, more = notifications.missed(account, args["after"], args["limit"])
    return {"ok": True, "notifications": [notifications.payload(row) for row in rows], "more": more,
            "unread": notifications.unread_count(account)}


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
    socketio.emit("typing", payload, to=space_log.space_room(space.id), skip_sid=request.sid)
    return {"ok": True, "throttled": False}


@handler("presence", SpaceRef)
def on_presence(conn, account, args):
    space = access.visible_space(account, args["space_id"])
    return {"ok": True, "space_id": space.id, "online": current_presence().online(space.id)}
