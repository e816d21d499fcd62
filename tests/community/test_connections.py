"""This process's connection table: the per-account cap, and giving a place back when a
connection fails after taking it (in-process: the failure is injected into presence)."""

from __future__ import annotations

import pytest

from community.connections import ConnectionTable
from core.extensions import socketio
from tests.conftest import register


def test_the_table_counts_each_accounts_connections_up_to_the_limit():
    table = ConnectionTable()
    assert table.open("a1", 1, "s", burst=5, limit=2) and table.open("a2", 1, "s", burst=5, limit=2)
    assert table.open("a3", 1, "s", burst=5, limit=2) is None  # a third for account 1
    assert table.open("b1", 2, "t", burst=5, limit=2)  # another account has its own count
    assert table.close("a1").account_id == 1 and table.close("a1") is None  # closing twice is harmless
    assert table.open("a3", 1, "s", burst=5, limit=2)
    assert sorted(sid for sid, _conn in table.items()) == ["a2", "a3", "b1"]


class _PresenceDown:
    """Presence whose store is unreachable (Redis down, say) while ``down`` is set."""

    def __init__(self, real):
        self.real, self.down = real, True

    def add_socket(self, *args):
        if self.down:
            raise ConnectionError("presence store unreachable")
        return self.real.add_socket(*args)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_connection_that_fails_after_taking_its_place_gives_it_back(make_app):
    app = make_app(SOCKETIO_MAX_CONNECTIONS_PER_ACCOUNT=1)
    token = register(app.test_client(), "nia").access_token
    presence = app.extensions["presence"] = _PresenceDown(app.extensions["presence"])
    with pytest.raises(ConnectionError):
        socketio.test_client(app, auth={"token": token})
    presence.down = False
    first = socketio.test_client(app, auth={"token": token})  # the failed attempt holds no place
    assert first.is_connected()
    second = socketio.test_client(app, auth={"token": token})
    assert not second.is_connected()  # the limit of one is still enforced
    first.disconnect()
