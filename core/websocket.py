"""The WebSocket handshake settings that the Socket.IO stack does not expose.

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

OFFER = "HTTP_SEC_WEBSOCKET_EXTENSIONS"


def without_websocket_extensions(wsgi_app):
    """Wrap ``wsgi_app`` so that WebSocket upgrades negotiate no extension."""

    def app(environ, start_response):
        if OFFER in environ and environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            del environ[OFFER]
        return wsgi_app(environ, start_response)

    return app
