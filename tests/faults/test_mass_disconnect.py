"""Many sockets closing at once against a Redis that takes few clients: every disconnect is
handled (presence cleaned at once, not after its TTL), because each process uses a bounded
pool for presence (``PRESENCE_REDIS_MAX_CONNECTIONS``) instead of one connection per
concurrent greenlet, which had made 323 disconnects fail when Redis refused more clients."""

from __future__ import annotations

import threading
import time

import redis

from tests.helpers import needs_redis
from tests.live import live_community

pytestmark = needs_redis

SOCKETS = 60


def test_a_mass_disconnect_cleans_presence_at_once_within_a_small_redis_client_limit(app, live, clients, own_redis):
    redis.Redis.from_url(own_redis.url).config_set("maxclients", 16)  # far fewer than the sockets closing at once
    server = live(REDIS_URL=own_redis.url, PRESENCE_REDIS_MAX_CONNECTIONS=4, PRESENCE_TTL_SECONDS=60,
                  SOCKETIO_MAX_CONNECTIONS_PER_ACCOUNT=SOCKETS + 1)
    world = live_community(app, server, members=("kim", "lou"))
    space = world["public"]
    watcher = clients(server, world["lou"]["token"])
    assert watcher.call("join", {"space_id": space})["ok"]
    crowd = [clients(server, world["kim"]["token"]) for _ in range(SOCKETS)]
    for sock in crowd:
        assert sock.call("join", {"space_id": space})["ok"]
    assert world["kim"]["id"] in watcher.call("presence", {"space_id": space})["online"]

    closers = [threading.Thread(target=sock.close) for sock in crowd]
    for closer in closers:
        closer.start()
    for closer in closers:
        closer.join()
    deadline = time.monotonic() + 10  # far below the 60 s after which a failed removal would expire
    while world["kim"]["id"] in watcher.call("presence", {"space_id": space})["online"]:
        assert time.monotonic() < deadline, "presence still lists the account whose sockets all closed"
        time.sleep(0.1)  # polling the server's state with a deadline, not standing in for an event
