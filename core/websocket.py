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
"""

from __future__ import annotations

from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from wsproto.connection import ConnectionState
from wsproto.frame_protocol import FrameProtocol

OFFER = "HTTP_SEC_WEBSOCKET_EXTENSIONS"


def without_websocket_extensions(wsgi_app):
    """Wrap ``wsgi_app`` so that WebSocket upgrades negotiate no extension."""

    def app(environ, start_response):
        if OFFER in environ and environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            del environ[OFFER]
        return wsgi_app(environ, start_response)

    return app


# Framing each broadcast once --------------------------------------------------------
#
# A broadcast hands the same Engine.IO packet to every recipient's writer, and each writer
# asks simple-websocket to send it, which has wsproto build the WebSocket frame anew: about
# 3.4 µs per recipient in Python. A server's frames are not masked, and without an extension
# a text frame depends on nothing but the message, so one frame serves every recipient.
# Recipients' writers run one after another, so remembering the last message framed is
# enough: a broadcast to n sockets frames once and reuses it n - 1 times.

_last_frame: tuple[str, bytes] = ("", b"")


def _text_frame(message: str) -> bytes:
    global _last_frame
    last_message, frame = _last_frame  # one read of a tuple: safe across threads too
    if message != last_message:
        frame = bytes(FrameProtocol(client=False, extensions=[]).send_data(message, fin=True))
        _last_frame = (message, frame)
    return frame


def share_frames(eio_server) -> None:
    """Make ``eio_server``'s WebSocket connections frame each distinct text message once.

    Only for connections that negotiate no extension (compression, which would make each
    connection's frames its own): call it only together with ``without_websocket_extensions``.
    Ordering is unchanged: each connection's own writer still sends its packets in turn; only
    the bytes of a frame are shared. Engine.IO picks its WebSocket class per server from its
    async driver's table, so this server gets its own table with a subclass in it.
    """
    base = eio_server._async["websocket"]
    if not issubclass(base, SimpleWebSocketWSGI):  # gevent-websocket, say: leave it alone
        return

    class SharedFrameWebSocket(base):
        def send(self, message):
            connection = self.ws
            if not isinstance(message, str):
                return super().send(message)
            if connection.ws.state is not ConnectionState.OPEN:  # closing: what simple-websocket raises
                return super().send(message)
            connection.sock.send(_text_frame(message))  # as simple-websocket sends its own frames

    eio_server._async = {**eio_server._async, "websocket": SharedFrameWebSocket}
