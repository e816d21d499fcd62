"""Who is connected where, shared by every server process: sockets per account and session, presence per space.

With Redis (``REDIS_URL``) the state lives in Redis so that any process can find the
sockets of an account (to cut them off when access is lost) and every process sees the
same presence. Without Redis (embedded mode, one process) it lives in memory.

Every entry (a socket of an account and of a login session, a socket in a space) carries
an expiry that its own process refreshes (``refresh``) every third of
``PRESENCE_TTL_SECONDS``; when a process dies its entries stop being refreshed and drop out
within the TTL, so presence, the sockets an account holds and the per-account connection
cap are all cleaned up without the dead process.

``add_socket`` also enforces ``SOCKETIO_MAX_CONNECTIONS_PER_ACCOUNT`` over every process
at once: counting the account's live sockets and adding the new one is one atomic step.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import defaultdict
from functools import wraps

from core.errors import REDIS_UNAVAILABLE

log = logging.getLogger(__name__)


def _expires_anyway(method):
    """Removing an entry while Redis is unreachable: log it and carry on. Nothing refreshes
    that entry any more (its socket closed or left the space), so it expires within
    ``PRESENCE_TTL_SECONDS``; a disconnect or ``leave`` must not fail for it."""

    @wraps(method)
    def remove(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except REDIS_UNAVAILABLE as exc:
            log.warning("Redis unreachable: %s left to expire within the presence TTL (%s)", method.__name__, exc)

    return remove


class MemoryPresence:
    """In-process store for embedded mode."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._by_key: dict[str, set[str]] = defaultdict(set)
        self._spaces: dict[int, dict[str, tuple[int, float]]] = defaultdict(dict)

    def add_socket(self, sid: str, account_id: int, session_id: str, *, limit: int) -> bool:
        """Record a socket; False (and nothing recorded) when the account already holds ``limit``."""
        with self._lock:
            sockets = self._by_key[f"acct:{account_id}"]
            if len(sockets) >= limit and sid not in sockets:
                return False
            sockets.add(sid)
            self._by_key[f"sess:{session_id}"].add(sid)
            return True

    def remove_socket(self, sid: str, account_id: int, session_id: str) -> None:
        with self._lock:
            for key in (f"acct:{account_id}", f"sess:{session_id}"):
                self._by_key[key].discard(sid)
                if not self._by_key[key]:
                    del self._by_key[key]

    def sockets_of_account(self, account_id: int) -> set[str]:
        with self._lock:
            return set(self._by_key.get(f"acct:{account_id}", ()))

    def sockets_of_session(self, session_id: str) -> set[str]:
        with self._lock:
            return set(self._by_key.get(f"sess:{session_id}", ()))

    def enter(self, space_id: int, sid: str, account_id: int) -> None:
        with self._lock:
            self._spaces[space_id][sid] = (account_id, time.time() + self.ttl)

    def exit(self, space_id: int, sid: str, account_id: int) -> None:
        with self._lock:
            self._spaces[space_id].pop(sid, None)

    def refresh(self, sockets: list[tuple[str, int, str]], entries: list[tuple[int, str, int]]) -> None:
        """Nothing to do for ``sockets`` here: they live and die with this one process."""
        expiry = time.time() + self.ttl
        with self._lock:
            for space_id, sid, _account_id in entries:
                if sid in self._spaces[space_id]:
                    self._spaces[space_id][sid] = (self._spaces[space_id][sid][0], expiry)

    def online(self, space_id: int) -> list[int]:
        now = time.time()
        with self._lock:
            entries = self._spaces[space_id]
            for sid in [s for s, (_a, exp) in entries.items() if exp < now]:
                del entries[sid]
            return sorted({account for account, _exp in entries.values()})


class RedisPresence:
    """Redis store: sorted sets scored by expiry, of socket ids per account and per session,
    and of ``account:sid`` per space."""

    # Drop the account's expired sockets; refuse past the limit (unless this socket is
    # already counted); add the socket to the account's and the session's sets; keep both
    # keys while a member may still be live. One script, so two connects cannot both pass.
    _ADD_SOCKET = """
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
    if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) and not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
        return 0
    end
    for _, key in ipairs(KEYS) do
        redis.call('ZADD', key, ARGV[3], ARGV[1])
        redis.call('EXPIRE', key, ARGV[5])
    end
    return 1
    """

    def __init__(self, url: str, prefix: str, ttl: float, max_connections: int = 50):
        import redis

        # Bounded waits: an unreachable Redis answers in seconds (``unavailable``), never hangs a socket.
        # A bounded pool: a mass disconnect (thousands of sockets at once) queues for at most
        # ``max_connections`` connections instead of opening one per greenlet until Redis refuses more.
        pool = redis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=5,
                                                     socket_connect_timeout=2, socket_timeout=5)
        self.redis = redis.Redis(connection_pool=pool)
        self.prefix = prefix
        self.ttl = ttl
        self._add_socket = self.redis.register_script(self._ADD_SOCKET)

    def _key(self, *parts) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    # "sockets:" keys are sorted sets; the sets of sockets of earlier versions were at
    # "acct:"/"sess:", so a rolling upgrade never meets a key of the other type.
    def _account_sockets(self, account_id: int) -> str:
        return self._key("sockets", "acct", account_id)

    def _session_sockets(self, session_id: str) -> str:
        return self._key("sockets", "sess", session_id)

    def _socket_keys(self, account_id: int, session_id: str) -> list[str]:
        return [self._account_sockets(account_id), self._session_sockets(session_id)]

    def _live(self, key: str) -> set[str]:
        return {m.decode() for m in self.redis.zrangebyscore(key, time.time(), "+inf")}

    def add_socket(self, sid: str, account_id: int, session_id: str, *, limit: int) -> bool:
        """Record a socket; False (and nothing recorded) when the account already holds ``limit``
        live sockets over all processes."""
        now = time.time()
        keep = max(1, math.ceil(self.ttl))
        return bool(self._add_socket(keys=self._socket_keys(account_id, session_id), args=[sid, now, now + self.ttl, limit, keep]))

    @_expires_anyway
    def remove_socket(self, sid: str, account_id: int, session_id: str) -> None:
        pipe = self.redis.pipeline()
        for key in self._socket_keys(account_id, session_id):
            pipe.zrem(key, sid)
        pipe.execute()

    def sockets_of_account(self, account_id: int) -> set[str]:
        return self._live(self._account_sockets(account_id))

    def sockets_of_session(self, session_id: str) -> set[str]:
        return self._live(self._session_sockets(session_id))

    def enter(self, space_id: int, sid: str, account_id: int) -> None:
        self.redis.zadd(self._key("space", space_id), {f"{account_id}:{sid}": time.time() + self.ttl})

    @_expires_anyway
    def exit(self, space_id: int, sid: str, account_id: int) -> None:
        self.redis.zrem(self._key("space", space_id), f"{account_id}:{sid}")  # one entry, not a scan of the space

    def refresh(self, sockets: list[tuple[str, int, str]], entries: list[tuple[int, str, int]]) -> None:
        """Extend this process's ``sockets`` (sid, account, session) and space ``entries``
        (space, sid, account) by another TTL."""
        expiry, keep = time.time() + self.ttl, max(1, math.ceil(self.ttl))
        by_key: dict[str, dict[str, float]] = defaultdict(dict)
        for sid, account_id, session_id in sockets:
            for key in self._socket_keys(account_id, session_id):
                by_key[key][sid] = expiry
        pipe = self.redis.pipeline()
        for key, members in by_key.items():
            # No XX here: a process cut off from Redis for longer than the TTL must be able
            # to find its sockets again (to cut them off when access is lost). The price: a
            # socket that disconnects while this refresh is on its way may be listed (and
            # counted) again until its entry expires.
            pipe.zadd(key, members)
            pipe.expire(key, keep)
        for space_id, sid, account_id in entries:
            # XX: only refresh entries still there; one removed elsewhere (access lost) stays removed.
            pipe.zadd(self._key("space", space_id), {f"{account_id}:{sid}": expiry}, xx=True)
        pipe.execute()

    def online(self, space_id: int) -> list[int]:
        key = self._key("space", space_id)
        self.redis.zremrangebyscore(key, "-inf", time.time())
        return sorted({int(m.decode().split(":", 1)[0]) for m in self.redis.zrange(key, 0, -1)})


def build_presence(config: dict):
    ttl = float(config["PRESENCE_TTL_SECONDS"])
    if config.get("REDIS_URL"):
        return RedisPresence(config["REDIS_URL"], f"rt:{config['SOCKETIO_CHANNEL']}", ttl,
                             max_connections=config["PRESENCE_REDIS_MAX_CONNECTIONS"])
    return MemoryPresence(ttl)
