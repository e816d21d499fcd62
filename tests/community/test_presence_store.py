"""Presence stores, in memory and in Redis (shared by every server process): the per-account
connection cap, which holds over every process with Redis; who is online in a space; and
giving a place back when a connection fails after taking it (in-process: the failure is
injected into presence)."""

from __future__ import annotations

import threading
import uuid

import pytest

from community.realtime import heartbeat
from community.realtime.presence import MemoryPresence, RedisPresence
from core.extensions import socketio
from tests.helpers import TEST_REDIS_URL, needs_redis, register


def _memory():
    store = MemoryPresence(ttl=30)
    return store, store  # one process: both "processes" are the same store


def _redis():
    prefix = f"test-{uuid.uuid4().hex}"
    return RedisPresence(TEST_REDIS_URL, prefix, ttl=30), RedisPresence(TEST_REDIS_URL, prefix, ttl=30)


_STORES = [pytest.param(_memory, id="memory"), pytest.param(_redis, id="redis", marks=needs_redis)]


@pytest.mark.parametrize("stores", _STORES)
def test_each_accounts_sockets_are_counted_up_to_the_limit_over_every_process(stores):
    one, two = stores()  # with Redis: two processes' views of one store
    assert one.add_socket("a1", 1, "s", limit=2) and two.add_socket("a2", 1, "s", limit=2)
    assert not two.add_socket("a3", 1, "s", limit=2)  # a third for account 1, wherever it connects
    assert one.sockets_of_account(1) == {"a1", "a2"} and two.sockets_of_session("s") == {"a1", "a2"}
    assert one.add_socket("b1", 2, "t", limit=2)  # another account has its own count
    one.remove_socket("a1", 1, "s")
    one.remove_socket("a1", 1, "s")  # removing twice is harmless
    assert two.add_socket("a3", 1, "s", limit=2)
    assert one.sockets_of_account(1) == {"a2", "a3"} and one.sockets_of_account(2) == {"b1"}


@pytest.mark.parametrize("stores", _STORES)
def test_connections_made_at_once_never_pass_the_limit(stores):
    one, two = stores()
    barrier, taken = threading.Barrier(16), []

    def connect(i):
        barrier.wait()
        if (one if i % 2 else two).add_socket(f"s{i}", 7, f"sess{i}", limit=5):
            taken.append(i)

    threads = [threading.Thread(target=connect, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(taken) == 5 and one.sockets_of_account(7) == {f"s{i}" for i in taken}


@pytest.mark.parametrize("stores", _STORES)
def test_an_account_is_online_in_a_space_until_its_last_socket_there_exits(stores):
    one, two = stores()
    one.enter(5, "a1", 1)
    two.enter(5, "a2", 1)  # the same account from another tab, on another process
    one.enter(5, "b1", 2)
    one.enter(6, "a1", 1)
    assert two.online(5) == [1, 2]
    two.exit(5, "a1", 1)  # access lost, handled on whichever process got the request
    assert one.online(5) == [1, 2] and one.online(6) == [1]
    one.exit(5, "a2", 1)
    assert two.online(5) == [2] and two.online(6) == [1]


@needs_redis
def test_a_dead_processs_sockets_stop_counting_when_their_entries_expire():
    prefix = f"test-{uuid.uuid4().hex}"
    dead, alive = RedisPresence(TEST_REDIS_URL, prefix, ttl=-1), RedisPresence(TEST_REDIS_URL, prefix, ttl=30)
    # ttl=-1: the dead process's entries are stored already expired, as they are once it
    # has missed its refreshes for a TTL (the clock is the only difference).
    assert dead.add_socket("gone", 1, "s", limit=1)
    assert alive.sockets_of_account(1) == set() and alive.sockets_of_session("s") == set()
    assert alive.add_socket("new", 1, "s", limit=1)
    assert alive.sockets_of_account(1) == {"new"}


class _PresenceDown:
    """Presence whose store is unreachable (Redis down, say) for the methods in ``failing``
    while ``down`` is set; ``refreshed`` records the sockets of each refresh that got through."""

    def __init__(self, real, *failing):
        self.real, self.failing, self.down, self.refreshed = real, failing, True, []

    def __getattr__(self, name):
        method = getattr(self.real, name)

        def call(*args, **kwargs):
            if self.down and name in self.failing:
                raise ConnectionError("presence store unreachable")
            if name == "refresh":
                self.refreshed.append({sid for sid, _account, _session in args[0]})
            return method(*args, **kwargs)

        return call


def test_a_connection_refused_because_presence_is_unreachable_holds_no_place(make_app):
    app = make_app(SOCKETIO_MAX_CONNECTIONS_PER_ACCOUNT=1)
    token = register(app.test_client(), "nia").access_token
    presence = app.extensions["presence"] = _PresenceDown(app.extensions["presence"], "add_socket")
    with pytest.raises(ConnectionError):
        socketio.test_client(app, auth={"token": token})
    presence.down = False
    first = socketio.test_client(app, auth={"token": token})  # the failed attempt holds no place
    assert first.is_connected()
    second = socketio.test_client(app, auth={"token": token})
    assert not second.is_connected()  # the limit of one is still enforced
    first.disconnect()


def test_presence_survives_its_store_being_unreachable_for_a_moment(app, world, caplog):
    presence = app.extensions["presence"] = _PresenceDown(app.extensions["presence"], "online", "refresh")
    member = socketio.test_client(app, auth={"token": world["member"].access_token})
    assert member.emit("join", {"space_id": world["public"]}, callback=True)["ok"]
    member.get_received()
    heartbeat.beat(app, refresh=True)  # the store is down: logged, and nothing told is lost
    assert "the next heartbeat tries again" in caplog.text
    presence.down = False
    heartbeat.beat(app, refresh=True)  # the next beat (this one, or the process's own) gets through
    told = [m["args"][0] for m in member.get_received() if m["name"] == "presence"]
    assert {"space_id": world["public"], "joined": [world["member"].id], "left": []} in told
    sid = socketio.server.manager.sid_from_eio_sid(member.eio_sid, "/")
    assert sid in presence.refreshed[-1]  # this process's entries are kept alive again
    member.disconnect()


def test_each_app_tells_only_the_presence_changes_of_its_own_sockets(app, make_app, world):
    """Two apps in one process (the suite builds one per test, and their heartbeats go on): the
    other app's heartbeat neither takes this app's changes nor tells them from its own store."""
    other = make_app()
    member = socketio.test_client(app, auth={"token": world["member"].access_token})
    assert member.emit("join", {"space_id": world["public"]}, callback=True)["ok"]
    member.get_received()
    heartbeat.flush_presence(other)  # its store has nobody online: it must not say the member left
    heartbeat.flush_presence(app)
    told = [m["args"][0] for m in member.get_received() if m["name"] == "presence"]
    assert told == [{"space_id": world["public"], "joined": [world["member"].id], "left": []}]
    member.disconnect()
