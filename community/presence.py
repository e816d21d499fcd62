"""Who is connected where, shared by every server process: sockets per account and session, presence per space.

With Redis (``REDIS_URL``) the state lives in Redis so that any process can find the
sockets of an account (to cut them off when access is lost) and every process sees the
same presence. Without Redis (embedded mode, one process) it lives in memory.

Presence entries carry an expiry that their own process refreshes (``refresh``) every
third of ``PRESENCE_TTL_SECONDS``; when a process dies its entries stop being refreshed
and drop out within the TTL, so presence is cleaned up without the dead process.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict


class MemoryPresence:
    """In-process store for embedded mode."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._by_key: dict[str, set[str]] = defaultdict(set)
        self._spaces: dict[int, dict[str, tuple[int, float]]] = defaultdict(dict)

    def add_socket(self, sid: str, account_id: int, session_id: str) -> None:
        with self._lock:
            self._by_key[f"acct:{account_id}"].add(sid)
            self._by_key[f"sess:{session_id}"].add(sid)

    def remove_socket(self, sid: str, account_id: int, session_id: str) -> None:
        with self._lock:
            self._by_key[f"acct:{account_id}"].discard(sid)
            self._by_key[f"sess:{session_id}"].discard(sid)

    def sockets_of_account(self, account_id: int) -> set[str]:
        with self._lock:
            return set(self._by_key.get(f"acct:{account_id}", ()))

    def sockets_of_session(self, session_id: str) -> set[str]:
        with self._lock:
            return set(self._by_key.get(f"sess:{session_id}", ()))

    def enter(self, space_id: int, sid: str, account_id: int) -> None:
        with self._lock:
            self._spaces[space_id][sid] = (account_id, time.time() + self.ttl)

    def exit(self, space_id: int, sid: str) -> None:
        with self._lock:
            self._spaces[space_id].pop(sid, None)

    def refresh(self, entries: list[tuple[int, str, int]]) -> None:
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
    """Redis store: sets of socket ids per account and session, a sorted set per space."""

    def __init__(self, url: str, prefix: str, ttl: float):
        import redis

        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix
        self.ttl = ttl

    def _key(self, *parts) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def add_socket(self, sid: str, account_id: int, session_id: str) -> None:
        pipe = self.redis.pipeline()
        for key in (self._key("acct", account_id), self._key("sess", session_id)):
            pipe.sadd(key, sid)
            pipe.expire(key, 7 * 86400)
        pipe.execute()

    def remove_socket(self, sid: str, account_id: int, session_id: str) -> None:
        pipe = self.redis.pipeline()
        pipe.srem(self._key("acct", account_id), sid)
        pipe.srem(self._key("sess", session_id), sid)
        pipe.execute()

    def sockets_of_account(self, account_id: int) -> set[str]:
        return {m.decode() for m in self.redis.smembers(self._key("acct", account_id))}

    def sockets_of_session(self, session_id: str) -> set[str]:
        return {m.decode() for m in self.redis.smembers(self._key("sess", session_id))}

    def enter(self, space_id: int, sid: str, account_id: int) -> None:
        self.redis.zadd(self._key("space", space_id), {f"{account_id}:{sid}": time.time() + self.ttl})

    def exit(self, space_id: int, sid: str) -> None:
        key = self._key("space", space_id)
        members = [m for m in self.redis.zrange(key, 0, -1) if m.decode().endswith(f":{sid}")]
        if members:
            self.redis.zrem(key, *members)

    def refresh(self, entries: list[tuple[int, str, int]]) -> None:
        expiry = time.time() + self.ttl
        pipe = self.redis.pipeline()
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
        return RedisPresence(config["REDIS_URL"], f"rt:{config['SOCKETIO_CHANNEL']}", ttl)
    return MemoryPresence(ttl)
