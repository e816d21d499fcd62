"""Presence on the wire: batched ``presence`` deltas, and this process's heartbeat.

Joins and departures are noted with ``presence_changed`` and told once per
``PRESENCE_FLUSH_SECONDS`` as one delta per space; the same heartbeat refreshes this
process's entries in the presence store, so they expire when the process dies.
"""

from __future__ import annotations

import itertools
import logging
import threading

from flask import Flask, current_app

from community import space_log
from community.realtime.connections import OPEN
from core.extensions import socketio

log = logging.getLogger(__name__)


def current_presence():
    """The presence store of this app (``community.realtime.presence``: in memory or Redis)."""
    return current_app.extensions["presence"]


_pending_presence: dict[int, set[int]] = {}
_pending_lock = threading.Lock()


def presence_changed(space_id: int, account_id: int) -> None:
    """Note that an account may have come or gone; ``_flush_presence`` tells the room, batched."""
    with _pending_lock:
        _pending_presence.setdefault(space_id, set()).add(account_id)


def flush_presence(app: Flask) -> None:
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
        socketio.emit("presence", {"space_id": space_id, "joined": joined, "left": left}, to=space_log.space_room(space_id))


def run_heartbeat(app: Flask) -> None:
    """Flush presence changes every ``PRESENCE_FLUSH_SECONDS``; refresh this process's presence
    entries every third of ``PRESENCE_TTL_SECONDS`` (when the process dies they expire)."""
    tick = app.config["PRESENCE_FLUSH_SECONDS"]
    refresh_every = max(1, round(app.config["PRESENCE_TTL_SECONDS"] / 3 / tick))
    for count in itertools.count(1):
        socketio.sleep(tick)
        beat(app, refresh=count % refresh_every == 0)


def beat(app: Flask, *, refresh: bool) -> None:
    """One heartbeat. A failure (Redis unreachable for a moment, say) is logged and the next
    beat tries again: a heartbeat that stopped would let every entry of this process expire,
    its members would drop out of presence and its sockets out of reach of revocation."""
    try:
        with app.app_context():
            flush_presence(app)
    except Exception:
        log.exception("Presence changes could not be told; the next heartbeat tries again")
    if not refresh:
        return
    connections = OPEN.items()
    sockets = [(sid, c.account_id, c.session_id) for sid, c in connections]
    # tuple(): a copy, taken at once, since in threading mode a join may add a space meanwhile
    entries = [(space, sid, c.account_id) for sid, c in connections for space in tuple(c.spaces)]
    try:
        if sockets:
            app.extensions["presence"].refresh(sockets, entries)
    except Exception:
        log.exception("Presence entries could not be refreshed; the next heartbeat tries again")


def ensure_heartbeat(app: Flask) -> None:
    if not app.extensions.get("presence_heartbeat"):
        app.extensions["presence_heartbeat"] = socketio.start_background_task(run_heartbeat, app)
