"""WebSocket settings the Socket.IO stack does not expose: the handshake's extensions, and
framing each broadcast once (``share_frames``, below).

simple-websocket (the WebSocket server under Engine.IO here, in gevent and threading mode
alike) accepts the permessage-deflate extension whenever a client offers it, and every
browser offers it. The server then keeps a zlib compressor per connection (with context
takeover and 15-bit windows) and compresses every message once per recipient, so a
broadcast costs one compression per member. Measured with clients that offer it as
browsers do (docs/performance.md, ``bench/realtime.py --deflate``): nearly twice the server
CPU per post into a room of 1,000 and about twice the memory per connection.
Socket.IO's reference server (Node) ships with permessage-deflate off for the same reason.

``SOCKETIO_WEBSOCKET_COMPRESSION`` (off by default) chooses. Off, this middleware removes
the client's extension offer from the upgrade request before the handshake, so the
connection is plain WebSocket: nothing else changes for the client, which must accept a
server that declines an extension (RFC 6455, section 9.1).

``share_frames`` subclasses a private Engine.IO module and writes to sockets itself, so it is
contained: ``SOCKETIO_DIRECT_WRITES`` (on by default) chooses it, and a guard keeps it to the
releases of python-engineio, python-socketio, simple-websocket and wsproto it was written
against (:data:`WRITTEN_AGAINST`) that still have what it reads. Anywhere else the server
keeps Engine.IO's stock WebSocket path, and the process logs once why.
"""

from __future__ import annotations

import logging
import os
from importlib.metadata import PackageNotFoundError, version

from engineio import packet as eio_packet
from engineio.socket import Socket as EngineSocket

try:  # private or internal modules: their absence means a release this was not written against
    from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
    from wsproto.connection import ConnectionState
    from wsproto.frame_protocol import FrameProtocol
except ImportError as error:  # pragma: no cover - only on other releases
    SimpleWebSocketWSGI = ConnectionState = FrameProtocol = None
    _IMPORT_ERROR: str | None = f"cannot import {error.name or error}"
else:
    _IMPORT_ERROR = None

log = logging.getLogger(__name__)

OFFER = "HTTP_SEC_WEBSOCKET_EXTENSIONS"

#: The release series (major.minor) ``share_frames`` was written and tested against, per distribution.
WRITTEN_AGAINST = {"python-engineio": ("4.15",), "python-socketio": ("5.18",), "simple-websocket": ("1.1",),
                   "wsproto": ("1.3",)}


def _installed(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "none"


#: The installed releases, as the guard reads them (a test sets one to simulate another).
INSTALLED = {distribution: _installed(distribution) for distribution in WRITTEN_AGAINST}
_warned = False  # the fallback is logged once per process


def without_websocket_extensions(wsgi_app):
    """Wrap ``wsgi_app`` so that WebSocket upgrades negotiate no extension."""

    def app(environ, start_response):
        if OFFER in environ and environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            del environ[OFFER]
        return wsgi_app(environ, start_response)

    return app


# Framing each broadcast once, and sending it without a detour --------------------------
#
# A broadcast hands the same Engine.IO packet to every recipient's socket. Stock, each socket
# puts it on its queue; the socket's writer greenlet wakes (a queue get with a timeout: a
# timer started and cancelled, two greenlet switches), asks simple-websocket to send it, and
# simple-websocket has wsproto build the WebSocket frame anew (3.4 µs per recipient in
# Python). At rooms of 100 all of that cost more than the send system calls themselves.
#
# 1. One frame per message. A server's frames are not masked, and without an extension (the
#    default here: compression is declined) a text frame depends on nothing but the message,
#    so one frame serves every recipient. Recipients are served one after another, so
#    remembering the last message framed is enough.
# 2. (gevent only) Straight to the socket when nothing is ahead of it. A packet for a socket
#    whose queue is empty and whose writer is not in the middle of a send is written at once
#    by the caller, with one non-blocking write of the whole frame. Under gevent nothing runs
#    in between unless a send blocks, so nothing can overtake it and no two writes
#    interleave. If the kernel takes only part of the frame (the client is not reading), the
#    rest goes on the socket's queue, so its writer sends it (blocking, as stock) before
#    anything after it: order per socket is exactly as stock, and a slow client never stalls
#    the broadcast to the others. Anything else (binary packets, a socket still upgrading
#    or closing, TLS terminated in the server process) takes the stock path.

_last_frame: tuple[str, bytes] = ("", b"")


def _text_frame(message: str) -> bytes:
    global _last_frame
    last_message, frame = _last_frame  # one read of a tuple: safe across threads too
    if message != last_message:
        frame = bytes(FrameProtocol(client=False, extensions=[]).send_data(message, fin=True))
        _last_frame = (message, frame)
    return frame


class _Rest(bytes):
    """The part of a frame the kernel did not take at once. It goes on the Engine.IO socket's
    queue like a packet: the socket's writer calls ``encode`` and hands the result (itself)
    to the WebSocket's ``send``, which writes it before anything queued after it."""

    def encode(self) -> _Rest:
        return self


def unsupported(eio_server) -> str | None:
    """Why ``share_frames`` cannot serve ``eio_server`` with the installed releases, or None."""
    if _IMPORT_ERROR:
        return _IMPORT_ERROR
    for distribution, series in WRITTEN_AGAINST.items():
        installed = INSTALLED[distribution]
        if ".".join(installed.split(".")[:2]) not in series:
            return f"{distribution} {installed}, not a release it was written against ({', '.join(series)})"
    missing = [name for owner, names in ((EngineSocket, ("send", "check_ping_timeout")),
                                         (eio_packet, ("MESSAGE",)), (ConnectionState, ("OPEN",)),
                                         (FrameProtocol, ("send_data",)), (SimpleWebSocketWSGI, ("send",)),
                                         (eio_server, ("_async", "async_mode")))
               for name in names if not hasattr(owner, name)]
    if missing:
        return f"no {', '.join(missing)} in the installed Engine.IO stack"
    return None


def share_frames(eio_server, enabled: bool = True) -> None:
    """Give ``eio_server``'s WebSocket connections one frame per message, written straight to
    the socket when nothing is ahead of it (gevent), as described above.

    Only for connections that negotiate no extension (compression makes each connection's
    frames its own): call it only together with ``without_websocket_extensions``. Engine.IO
    picks its WebSocket class per server from its async driver's table, so this server gets
    its own table with a subclass in it. ``enabled`` is the ``SOCKETIO_DIRECT_WRITES`` setting:
    off, or on releases the guard refuses (logged once), the server is left stock.
    """
    global _warned
    if not enabled:
        return
    reason = unsupported(eio_server)
    if reason is not None:
        if not _warned:
            log.warning("community.realtime.websocket: SOCKETIO_DIRECT_WRITES is on but %s: "
                        "WebSocket sends take Engine.IO's stock path", reason)
            _warned = True
        return
    base = eio_server._async.get("websocket")
    if base is None or not issubclass(base, SimpleWebSocketWSGI):  # gevent-websocket, say: leave it alone
        return
    plain_socket = None  # under gevent: its socket class, the only kind written to directly
    if eio_server.async_mode == "gevent":
        from gevent.socket import socket as plain_socket

    class SharedFrameWebSocket(base):
        def __init__(self, handler, server):
            super().__init__(handler, server)
            self.sending = False  # the writer is inside a send (under gevent: blocked in it)
            self.engine_socket = getattr(handler, "__self__", None)  # the Engine.IO socket served
            if plain_socket is not None and isinstance(self.engine_socket, EngineSocket):
                self.engine_socket.send = self.send_packet  # this socket only

        def send(self, message):
            """What the socket's writer calls for each packet, in order."""
            connection = self.ws
            if isinstance(message, _Rest):
                payload = message
            elif isinstance(message, str) and connection.ws.state is ConnectionState.OPEN:
                payload = _text_frame(message)
            else:  # binary, or closing: simple-websocket's own way (and its errors)
                return super().send(message)
            self.sending = True
            try:
                connection.sock.sendall(payload)
            finally:
                self.sending = False
            return None

        def send_packet(self, pkt):
            """Engine.IO's ``Socket.send`` for this socket: at once when nothing is ahead."""
            sock = self.engine_socket
            connection = getattr(self, "ws", None)  # set once the handshake has begun
            if (
                connection is None
                or self.sending
                or sock.queue.qsize()
                or not isinstance(pkt.data, str)
                or pkt.packet_type != eio_packet.MESSAGE
                or not sock.upgraded
                or sock.upgrading
                or sock.closed
                or connection.ws.state is not ConnectionState.OPEN
                or type(connection.sock) is not plain_socket  # non-blocking, and no TLS in this process
            ):
                return EngineSocket.send(sock, pkt)
            if not sock.check_ping_timeout():  # as stock: a client gone silent is closed, not sent to
                return None
            frame = _text_frame(pkt.encode())
            try:
                sent = os.write(connection.sock.fileno(), frame)  # the socket is non-blocking under gevent
            except BlockingIOError:
                sent = 0
            except OSError:  # the connection broke: the stock path meets it and closes the socket
                return EngineSocket.send(sock, pkt)
            if sent < len(frame):
                sock.queue.put(_Rest(frame[sent:]))
            return None

    eio_server._async = {**eio_server._async, "websocket": SharedFrameWebSocket}
