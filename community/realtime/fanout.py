"""Socket.IO client managers that hold back a space's live events for a socket while it resumes.

``resume`` must give a reconnecting client every event after its ``after_seq`` once, in
order. The handler marks the socket (``hold``) before subscribing it to the room, reads
the log and sends the replay to that socket; ``release`` then delivers the live events
held meanwhile that are newer than the replay, drops the rest (the replay carried them),
and sets the socket's floor: an event committed before the read whose broadcast arrives
late (through Redis, say) is never delivered to it live as well. Holding happens at each process's local fan-out, so it works the
same with one process (``HoldingManager``) or many sharing Redis (``HoldingRedisManager``).
"""

from __future__ import annotations

import logging
import threading
import time

import socketio

from community.space_log import EVENT_NAME, space_of_room, space_room

log = logging.getLogger(__name__)


class _HoldBack(socketio.Manager):
    """Local fan-out that holds a room's ``space_event`` packets back from sockets being resumed,
    and never delivers a socket an event at or below what its replay already sent (its floor)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._held: dict[tuple[str, int], list[dict]] = {}
        self._floors: dict[int, dict[str, int]] = {}
        self._hold_lock = threading.Lock()
        self.space_left = None  # community.realtime.listeners sets it: called as space_left(sid, space_id)

    def leave_room(self, sid, namespace, room):
        """Every way a socket of this process leaves a room comes here: its own ``leave``, or
        access lost on any process (with Redis, delivered through the message queue). A
        space's room left, the socket's hold and floor for that space go, and ``space_left``
        is told, so the socket's own record of its spaces stays true."""
        result = super().leave_room(sid, namespace, room)
        space_id = space_of_room(room)
        if space_id is not None:
            self.forget(sid, space_id)
            if self.space_left is not None:
                self.space_left(sid, space_id)
        return result

    def hold(self, sid: str, space_id: int) -> None:
        """Start holding (a resume spanning several pages keeps holding until its last page)."""
        with self._hold_lock:
            self._held.setdefault((sid, space_id), [])

    def release(self, sid: str, space_id: int, replayed_up_to: int, *, deliver) -> int:
        """Stop holding: ``deliver`` the held events newer than the replay, in order, and set
        the socket's floor; returns the last seq sent."""
        with self._hold_lock:  # room fan-out waits, so nothing overtakes the held events
            held = self._held.pop((sid, space_id), [])
            newer = sorted((e for e in held if e["seq"] > replayed_up_to), key=lambda e: e["seq"])
            for event in newer:
                deliver(event)
            floor = newer[-1]["seq"] if newer else replayed_up_to
            self._floors.setdefault(space_id, {})[sid] = floor
        return floor

    def forget(self, sid: str, space_id: int) -> None:
        with self._hold_lock:
            self._held.pop((sid, space_id), None)
            self._floors.get(space_id, {}).pop(sid, None)

    def _sids_to_skip(self, data: dict) -> list[str]:
        space_id, seq = data["space_id"], data["seq"]
        skip = []
        with self._hold_lock:
            for (sid, held_space), events in self._held.items():
                if held_space == space_id:
                    events.append(data)
                    skip.append(sid)
            skip += [sid for sid, floor in self._floors.get(space_id, {}).items() if seq <= floor]
        return skip

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        if event == EVENT_NAME and isinstance(data, dict) and room == space_room(data.get("space_id")):
            held = self._sids_to_skip(data)
            if held:
                skip = skip_sid if isinstance(skip_sid, list) else ([skip_sid] if skip_sid else [])
                skip_sid = skip + held
        return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)


class HoldingManager(_HoldBack):
    """One process, no message queue (embedded mode)."""


#: Longest wait between the message-queue listener's attempts to reach Redis again
#: (python-socketio's own doubles up to 60 s, so delivery between processes came back up to a
#: minute after Redis did); one attempt a second costs a refused connection a second.
LISTEN_RETRY_MAX_SECONDS = 1.0
#: Sent to every space room of this process once its listener is back: ``{"space_id", "reason"}``.
RESUME_HINT = "resume_hint"


class HoldingRedisManager(socketio.RedisManager, _HoldBack):
    """Processes sharing Redis: publishing is unchanged; each process holds back at its own fan-out.

    When the message queue's subscription is lost (Redis restarted, the connection cut), the
    listener tries again every ``LISTEN_RETRY_MAX_SECONDS`` at most, and once subscribed again
    tells each of this process's space rooms to ``resume``: what other processes published
    meanwhile never reached it, and the client's own seq shows what it missed.
    """

    def _redis_listen_with_retries(self):
        """python-socketio's loop, with the retry wait capped and the resume hint after a loss."""
        retry_sleep, lost = 0.25, False
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                if lost:
                    # The subscription is in place once Redis confirms it: anything published
                    # after that is delivered, anything before is in the log a resume reads.
                    self.pubsub.get_message(ignore_subscribe_messages=False, timeout=5)
                    self._hint_resume()
                retry_sleep, lost = 0.25, False
                yield from self.pubsub.listen()
            except Exception as exc:
                log.warning("Message queue unreachable (%s); listening again in %.2g s", exc, retry_sleep)
                lost = True
                time.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, LISTEN_RETRY_MAX_SECONDS)

    def _hint_resume(self) -> None:
        """Tell every space room of this process that live events may have been missed."""
        rooms = [room for room in list(self.rooms.get("/", {})) if isinstance(room, str) and space_of_room(room) is not None]
        log.info("Message queue back: hinting %d space rooms to resume", len(rooms))
        for room in rooms:
            payload = {"space_id": space_of_room(room), "reason": "message_queue_reconnected"}
            self.emit(RESUME_HINT, payload, "/", room=room, ignore_queue=True)


def build_client_manager(config: dict):
    if config.get("REDIS_URL"):
        return HoldingRedisManager(config["REDIS_URL"], channel=config["SOCKETIO_CHANNEL"])
    return HoldingManager()
