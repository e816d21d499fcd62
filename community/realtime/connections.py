"""This process's open Socket.IO connections: who each one is, its event budget, its spaces.

Every server process keeps its own table (a socket lives on one process); what other
processes need to know (an account's sockets and how many there are, presence) is in
``community.realtime.presence``, which also caps the sockets one account may hold open
(``SOCKETIO_MAX_CONNECTIONS_PER_ACCOUNT``, over every process). ``guard_frames`` checks
every frame before python-socketio dispatches it, so malformed ones count against the budget.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from dataclasses import dataclass, field

from core.errors import ack_error

log = logging.getLogger(__name__)


@dataclass
class Connection:
    account_id: int
    session_id: str
    tokens: float
    refilled_at: float
    spaces: set[int] = field(default_factory=set)
    typing_at: dict[int, float] = field(default_factory=dict)

    def take_token(self, rate: float, burst: int) -> float:
        """Take one event from the budget (``rate`` a second, at most ``burst`` saved up): 0 when
        taken, else the seconds until one can be, rounded up to the next hundredth."""
        now = time.monotonic()
        self.tokens = min(burst, self.tokens + (now - self.refilled_at) * rate)
        self.refilled_at = now
        if self.tokens < 1:
            return math.ceil((1 - self.tokens) / rate * 100) / 100
        self.tokens -= 1
        return 0.0


class ConnectionTable:
    """Open connections by socket id."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_sid: dict[str, Connection] = {}

    def open(self, sid: str, account_id: int, session_id: str, *, burst: int) -> Connection:
        """Record a new connection with a full event budget."""
        with self._lock:
            conn = self._by_sid[sid] = Connection(account_id, session_id, float(burst), time.monotonic())
            return conn

    def close(self, sid: str) -> Connection | None:
        with self._lock:
            return self._by_sid.pop(sid, None)

    def get(self, sid: str) -> Connection | None:
        return self._by_sid.get(sid)

    def items(self) -> list[tuple[str, Connection]]:
        with self._lock:
            return list(self._by_sid.items())


#: This process's open connections (one table per process; a socket lives on one process).
OPEN = ConnectionTable()


# Malformed frames ------------------------------------------------------------------

#: A Socket.IO packet's head: type, attachments, namespace, ack id (protocol v5).
_PACKET_HEAD = re.compile(r"^\d(?:\d+-)?(?:(/[^,]*),)?(\d{1,9})?")


def _event_problem(pkt) -> str | None:
    """Why a decoded EVENT packet cannot be dispatched, or None: its payload must be an array
    whose first item is the event's name."""
    if not isinstance(pkt.data, list) or not pkt.data:
        return "an event's payload must be a non-empty array"
    if not isinstance(pkt.data[0], str):
        return "an event's name must be a string"
    return None


def _head_of(data) -> tuple[str, int | None]:
    """The namespace and ack id of a frame that could not be decoded, read from its head."""
    match = _PACKET_HEAD.match(data) if isinstance(data, str) else None
    if match is None:
        return "/", None
    return match.group(1) or "/", int(match.group(2)) if match.group(2) else None


def guard_frames(server, table: ConnectionTable, *, rate: float, burst: int) -> None:
    """Check every Socket.IO frame before python-socketio dispatches it (docs/realtime.md, "Errors").

    A frame that does not decode (bad JSON, nesting too deep, an integer of thousands of digits)
    or an event whose payload is not ``[name, ...]`` would raise inside python-socketio, which
    logs a full traceback per frame and answers nothing. Here it takes one event from the
    connection's budget like any event, is answered ``invalid_payload`` when it carries an ack
    id (``rate_limited`` once the budget is spent), and is logged on one line, while the budget
    lasts, so a flood of bad frames cannot flood the log either.
    """
    from socketio import packet

    dispatch = server._handle_eio_message

    def refuse(eio_sid, namespace: str, ack_id: int | None, reason: str) -> None:
        sid = server.manager.sid_from_eio_sid(eio_sid, namespace)
        conn = table.get(sid) if sid else None
        if conn is None:  # not connected (yet): nothing to count or answer
            log.info("malformed Socket.IO frame before connecting (%s)", reason)
            return
        wait = conn.take_token(rate, burst)
        if wait:
            body = ack_error("rate_limited", "Too many events on this connection; slow down.", retry_after=wait)
        else:
            log.warning("malformed Socket.IO frame from %s (account %s): %s", sid, conn.account_id, reason)
            body = ack_error("invalid_payload", f"The frame is not a valid Socket.IO event: {reason}.")
        if ack_id is not None:
            server._send_packet(eio_sid, server.packet_class(packet.ACK, namespace=namespace, data=[body], id=ack_id))

    def checked(eio_sid, data):
        if eio_sid in server._binary_packet:  # an attachment of a binary packet already accepted
            return dispatch(eio_sid, data)
        try:
            pkt = server.packet_class(encoded_packet=data)
        except (ValueError, TypeError, RecursionError) as exc:
            return refuse(eio_sid, *_head_of(data), _decode_reason(exc))
        if pkt.packet_type == packet.EVENT:
            if (reason := _event_problem(pkt)) is not None:
                return refuse(eio_sid, pkt.namespace or "/", pkt.id, reason)
            return server._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)
        try:
            return dispatch(eio_sid, data)
        except ValueError as exc:  # binary packets out of place, unknown packet types
            return refuse(eio_sid, pkt.namespace or "/", pkt.id, str(exc).rstrip("."))

    server._handle_eio_message = checked
    server.eio.on("message", checked)


def _decode_reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "the payload is nested too deeply"
    if "digits" in str(exc):
        return "a number in the payload has too many digits"
    return "the frame does not decode"
