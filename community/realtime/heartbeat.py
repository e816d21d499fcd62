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


class PendingPresence:
    """The accounts that may have come to or gone from each space since the last flush: one per
    app (``app.extensions["presence_pending"]``), so a heartbeat tells only its own app's changes,
    asking its own store who is online."""

    def __init__(self):
        self._spaces: dict[int, set[int]] = {}
        self._lock = threading.Lock()

    def note(self, space_id: int, account_id: int) -> None:
        with self._lock:
            self._spaces.setdefault(space_id, set()).add(account_id)

    def take(self) -> list[tuple[int, set[int]]]:
        with self._lock:
            items, self._spaces = list(self._spaces.items()), {}
        return items

    def put_back(self, items) -> None:
        with self._lock:
            for space_id, accounts in items:
                self._spaces.setdefault(space_id, set()).update(accounts)


def presence_changed(space_id: int, account_id: int) -> None:
    """Note that an account may have come or gone; :func:`flush_presence` tells the room, batched."""
    current_app.extensions["presence_pending"].note(space_id, account_id)


def flush_presence(app: Flask) -> None:
    """Broadcast each space's presence changes as one delta: ``{"space_id", "joined", "left"}``.

    Batching keeps presence O(changes) per interval instead of one full list per join,
    which would make a room of n members joining cost O(n^2) messages.
    """
    presence, pending = app.extensions["presence"], app.extensions["presence_pending"]
    items = pending.take()
    for i, (space_id, candidates) in enumerate(items):
        try:
            online = set(presence.online(space_id))
        except Exception:  # the store is unreachable: keep what is not told yet for the next beat
            pending.put_back(items[i:])
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
