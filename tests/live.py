"""Helpers for tests against live server processes with real Socket.IO clients over real sockets."""

from __future__ import annotations

import base64
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path

import requests
import socketio

from tests.helpers import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
WAIT = 10  # seconds any single expected delivery may take before the test fails


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A platform server in its own process; ``stop`` kills it like a crash would."""

    def __init__(self, config: dict, env: dict | None = None):
        # A free port can be taken by another test process (pytest-xdist) before gunicorn binds
        # it; gunicorn then exits at once, and the server starts again on another port.
        for attempt in range(3):
            self._start(config, env)
            if self._wait_until_serving():
                break
            if attempt == 2:
                raise RuntimeError(f"live server exited with {self.process.returncode}")
        self.http = requests.Session()

    def _start(self, config: dict, env: dict | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Its own origin is the allowed Socket.IO origin; served as in production (gevent worker).
        config = {**config, "PORT": self.port, "SOCKETIO_ASYNC_MODE": "gevent"}
        env = {**os.environ, **(env or {}), "LIVE_SERVER_CONFIG": json.dumps(config), "PYTHONPATH": str(ROOT)}
        command = [
            sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "--worker-connections", "1000",
            "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "tests.live_server:build()",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)

    def _wait_until_serving(self) -> bool:
        """True once the server answers; False if it exited first."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if requests.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return True
            except requests.RequestException:
                time.sleep(0.05)  # polling until the worker serves, bounded by the deadline
        raise RuntimeError("live server did not start within 30 s")

    def api(self, method: str, path: str, token: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.request(method, self.url + "/api/v1" + path, headers=headers, timeout=WAIT, **kwargs)

    def register(self, handle: str) -> dict:
        body = {"email": f"{handle}@example.com", "handle": handle, "display_name": handle.title(), "password": PASSWORD}
        response = self.api("POST", "/auth/register", json=body)
        assert response.status_code == 201, response.text
        data = response.json()
        return {"id": data["account"]["id"], "token": data["access_token"], "refresh": data["refresh_token"], "handle": handle}

    def stop(self) -> None:
        """Kill the master and its worker at once, as a crash would (no clean shutdown)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def handle_messages_in_order(sio: socketio.Client) -> None:
    """Make ``sio`` handle each message on its reading thread, in the order the server sent them.

    python-socketio's client hands every message to a thread of its own (the engine.io client
    triggers ``message`` with ``run_async=True``), so an event the server sent before an ack may be
    queued after the ack's waiter wakes: a test that reads what arrived "before the ack" then
    misses it now and then. A browser's client handles messages in order; so do these. The
    collectors only queue, so nothing a handler does can block the reading thread."""
    trigger = sio.eio._trigger_event

    def in_order(event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return trigger(event, *args, **kwargs)

    sio.eio._trigger_event = in_order


class LiveClient:
    """A python-socketio client that queues every event it receives, by name."""

    def __init__(self, server: LiveServer, token: str | None):
        self.sio = socketio.Client(reconnection=False)
        handle_messages_in_order(self.sio)
        self.received: dict[str, queue.Queue] = {}
        self.connect_error = None
        self.disconnected = queue.Queue()
        for name in ("space_event", "typing", "presence", "access_lost", "access_revoked", "mention", "conversation"):
            self.sio.on(name, self._collector(name))
        self.sio.on("connect_error", self._on_connect_error)
        self.sio.on("disconnect", lambda *a: self.disconnected.put(True))
        self.server = server
        self.token = token

    def _collector(self, name):
        q = self.received.setdefault(name, queue.Queue())
        return lambda data: q.put(data)

    def _on_connect_error(self, data):
        self.connect_error = data

    def connect(self) -> "LiveClient":
        auth = {"token": self.token} if self.token else None
        self.sio.connect(self.server.url, auth=auth, transports=["websocket"], wait_timeout=WAIT)
        return self

    def call(self, event: str, data=None) -> dict:
        return self.sio.call(event, data, timeout=WAIT)

    def next(self, name: str = "space_event", timeout: float = WAIT):
        return self.received[name].get(timeout=timeout)

    def take(self, count: int, name: str = "space_event") -> list:
        """The next ``count`` events of ``name``, in the order they arrived (each waited for)."""
        return [self.next(name) for _ in range(count)]

    def drain(self, name: str = "space_event") -> list:
        items = []
        while not self.received[name].empty():
            items.append(self.received[name].get_nowait())
        return items

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


def connect_once_a_place_is_free(server: LiveServer, token: str, *, deadline: float) -> LiveClient:
    """Connect, trying again while the server refuses with ``too_many_connections`` (a place
    is freed when the server has handled a disconnect, or a dead process's entry expires);
    fails the test at ``deadline`` (a ``time.monotonic()`` value)."""
    while True:
        client = LiveClient(server, token)
        try:
            return client.connect()
        except socketio.exceptions.ConnectionError:
            assert client.connect_error["data"]["code"] == "too_many_connections"
            assert time.monotonic() < deadline, "the connection's place was never freed"
            time.sleep(0.1)  # polling a condition with a deadline, not standing in for an event


def live_community(app, server: LiveServer, *, members: tuple[str, ...], outsiders: tuple[str, ...] = ()) -> dict:
    """A brand with a public and a private space on a live server, and a thread in the public one.

    ``members`` belong to both spaces; ``outsiders`` to none. Returns the server, the ids
    (``public``, ``private``, ``thread``) and each person's ``{"id", "token", "refresh", "handle"}``.
    """
    from core.accounts import Account, GlobalRole
    from core.extensions import db

    admin = server.register("live_admin")
    with app.app_context():
        db.session.get(Account, admin["id"]).role = GlobalRole.admin
        db.session.commit()
    tok = admin["token"]
    brand = server.api("POST", "/brands", tok, json={"name": "Live brand"}).json()
    purpose = server.api("POST", f"/brands/{brand['id']}/purposes", tok, json={"kind": "societal", "title": "Oceans"}).json()
    spaces = {
        name: server.api("POST", f"/purposes/{purpose['id']}/spaces", tok, json={"name": name, "slug": name, "visibility": name}).json()["id"]
        for name in ("public", "private")
    }
    people = {handle: server.register(handle) for handle in members + outsiders}
    for space_id in spaces.values():
        for handle in members:
            server.api("PUT", f"/spaces/{space_id}/members/{people[handle]['id']}", tok, json={"role": "member"})
    first = people[members[0]]["token"]
    thread = server.api("POST", f"/spaces/{spaces['public']}/threads", first, json={"title": "Hi", "body": "first"}).json()
    return {"server": server, **spaces, "thread": thread["id"], "admin": admin, **people}


def resume_during_burst(poster: LiveClient, make_reader, thread_id: int, space_id: int, *, posts: int = 40) -> tuple[list, list]:
    """``poster`` sends ``posts`` posts; after the tenth, a reader from ``make_reader()`` resumes
    from seq 1. Returns the seqs the poster was acked and those the reader received, up to the last."""
    import threading

    acks, some_sent = [], threading.Event()

    def burst():
        for i in range(posts):
            acks.append(poster.call("post", {"thread_id": thread_id, "body": f"busy {i}"})["post"]["seq"])
            if i == 9:
                some_sent.set()

    worker = threading.Thread(target=burst)
    worker.start()
    assert some_sent.wait(timeout=WAIT)
    reader = make_reader()
    assert reader.call("resume", {"space_id": space_id, "after_seq": 1})["ok"]
    worker.join()
    received = []
    while not received or received[-1] < acks[-1]:
        received.append(reader.next()["seq"])
    assert reader.drain() == []
    return acks, received


class StalledReader:
    """A Socket.IO client over a bare WebSocket that reads only when asked: a phone that stops
    reading (asleep, in a tunnel) while its connection stays open. Its receive buffer is
    small, so what the server sends meanwhile piles up on the server's side."""

    def __init__(self, server: LiveServer, token: str):
        import websocket

        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
            timeout=WAIT, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),),
        )
        assert self.ws.recv().startswith("0")  # Engine.IO open
        self.ws.send("40" + json.dumps({"token": token}))
        assert self.packet().startswith("40")  # Socket.IO connect accepted
        self._acks, self._backlog = 0, []

    def packet(self) -> str:
        """The next Socket.IO packet, answering Engine.IO pings on the way."""
        while (message := self.ws.recv()) == "2":
            self.ws.send("3")
        return message

    def call(self, event: str, data: dict) -> dict:
        """Send with an acknowledgement and read up to it, keeping what comes before it."""
        self._acks += 1
        self.ws.send(f"42{self._acks}" + json.dumps([event, data]))
        while not (message := self.packet()).startswith(f"43{self._acks}"):
            self._backlog.append(message)
        return json.loads(message[len(f"43{self._acks}"):])[0]

    def events(self, count: int) -> list[dict]:
        """Read until ``count`` ``space_event`` messages have arrived; return them in order."""
        events = []
        while len(events) < count:
            message = self._backlog.pop(0) if self._backlog else self.packet()
            if message.startswith("42"):
                name, data = json.loads(message[2:])
                if name == "space_event":
                    events.append(data)
        return events

    def close(self) -> None:
        self.ws.close()


def websocket_upgrade(server: LiveServer, offer: str) -> tuple[dict, int, bytes]:
    """Upgrade to a WebSocket on the Socket.IO endpoint as a browser does, offering the
    extensions ``offer``; return the handshake's response headers (lower-case names), the first
    frame's RSV1 bit (set: the frame is compressed) and that frame's payload, inflated when
    compressed (the Engine.IO open packet)."""
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Extensions: {offer}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        sock.sendall(request.encode())
        stream = sock.makefile("rb")
        status = stream.readline()
        assert status.startswith(b"HTTP/1.1 101"), status
        headers = {}
        while (line := stream.readline().strip()):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        first, length = stream.read(2)
        if length == 126:
            length = int.from_bytes(stream.read(2), "big")
        payload = stream.read(length)
    rsv1 = (first >> 6) & 1
    if rsv1:
        payload = zlib.decompressobj(-zlib.MAX_WBITS).decompress(payload + b"\x00\x00\xff\xff")
    return headers, rsv1, payload
