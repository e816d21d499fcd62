"""The baseline: a bare python-socketio server doing what our post path does, minus the platform.

It accepts connections, joins rooms, and on ``post`` assigns a sequence number and emits a
``space_event`` of the same shape as ours to the room, then acks. No auth, no database,
no validation: the cost of Socket.IO itself. Served exactly like the platform
(the same gunicorn worker), in the same async mode, and through a Redis message queue when
the platform is given one.
"""

from __future__ import annotations

import itertools
import os
import threading
from datetime import datetime, timezone

import socketio

# BENCH_REDIS_URL: share a Redis message queue, as production processes do (bench/realtime.py --redis-url)
_queue = socketio.RedisManager(os.environ["BENCH_REDIS_URL"], channel="bench-bare") if os.environ.get("BENCH_REDIS_URL") else None
sio = socketio.Server(async_mode=os.environ.get("BENCH_ASYNC_MODE", "threading"), cors_allowed_origins=[], client_manager=_queue)
_seq = itertools.count(1)
_lock = threading.Lock()


@sio.event
def connect(sid, environ, auth):
    return True


@sio.on("join")
def join(sid, data):
    sio.enter_room(sid, f"space:{data['space_id']}")
    return {"ok": True, "space_id": data["space_id"], "last_seq": 0}


@sio.on("post")
def post(sid, data):
    with _lock:
        seq = next(_seq)
    now = datetime.now(timezone.utc).isoformat()
    stored = {"id": seq, "space_id": 1, "thread_id": data["thread_id"], "seq": seq, "parent_id": None,
              "author": {"id": 1, "handle": "poster", "display_name": "Poster"}, "body": data["body"],
              "created_at": now, "edited_at": None, "deleted": False}
    sio.emit("space_event", {"space_id": 1, "seq": seq, "kind": "post_created", "at": now, "data": {"post": stored}},
             room="space:1")
    return {"ok": True, "created": True, "post": stored}


app = socketio.WSGIApp(sio)
