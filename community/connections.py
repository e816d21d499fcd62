"""This process's open Socket.IO connections: who each one is, its event budget, its spaces.

Every server process keeps its own table (a socket lives on one process); what other
processes need to know (an account's sockets and how many there are, presence) is in
``community.presence``, which also caps the sockets one account may hold open
(``SOCKETIO_MAX_CONNECTIONS_PER_ACCOUNT``, over every process).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field


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
