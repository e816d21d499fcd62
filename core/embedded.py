"""The embedded server behind ``python app.py`` (and so ``./run.sh``): gevent's WSGI server.

Production serves the platform with gunicorn's gevent worker; the embedded mode serves it
with the same async mode on gevent's own WSGI server, in one process. Engine.IO speaks
WebSocket there through simple-websocket on gevent's socket, as under gunicorn, and nothing
prints the Werkzeug development server's "do not use it in production" warnings, which the
embedded mode's users (a newcomer on a fresh clone) took for an error. Measured against the
Werkzeug server it replaces: docs/performance.md, "The embedded server".

gevent must patch the standard library before anything else is imported, so ``app.py``
calls :func:`patch_for_gevent` first when run as a script. ``SOCKETIO_ASYNC_MODE=threading
python app.py`` still serves with Werkzeug's server (threads), the former embedded server.

It imports nothing outside ``core``: ``app.py`` hands it the app to serve.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from typing import Callable

#: The embedded server's async mode when the environment does not choose one.
EMBEDDED_ASYNC_MODE = "gevent"


def embedded_async_mode() -> str:
    """``gevent`` unless ``SOCKETIO_ASYNC_MODE`` asks for another mode (``threading``)."""
    return os.environ.get("SOCKETIO_ASYNC_MODE") or EMBEDDED_ASYNC_MODE


def patch_for_gevent() -> None:
    """Make the standard library cooperative (sockets, threads, time) when the embedded
    server runs gevent; call it before importing anything else."""
    if embedded_async_mode() == "gevent":
        from gevent import monkey

        monkey.patch_all()


def serve(app, announce: Callable[[str], None]) -> None:
    """Serve ``app`` on its ``HOST`` and ``PORT`` until interrupted; ``announce(url)`` is
    called once the port is bound, so the URL it prints already answers."""
    host, port = app.config["HOST"], app.config["PORT"]
    url = f"http://{host}:{port}"
    if app.config["SOCKETIO_ASYNC_MODE"] != "gevent":
        from core.extensions import socketio

        announce(url)
        socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)
        return
    import gevent

    server = _bound_server(app, host, port)
    for signum in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C: stop quietly, no traceback
        gevent.signal_handler(signum, server.stop, timeout=1)
    announce(url)
    server.serve_forever()
    print("Stopped.", flush=True)


def _bound_server(app, host: str, port: int):
    """gevent's WSGI server, listening; a port already taken stops the process with a hint."""
    from gevent.pywsgi import WSGIServer

    class Server(WSGIServer):
        def handle(self, sock, address):
            # Each reply goes out at once, as gunicorn's sockets do: with Nagle's algorithm on,
            # a reply written in two parts waited for the client's delayed ACK (+40 ms a request).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle(sock, address)

    server = Server((host, port), app)  # one line per request on stderr, as Werkzeug's server wrote
    try:
        server.start()
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        sys.exit(f"Cannot listen on {host}:{port} ({reason}). Is the platform already running? "
                 f"Another port: PORT={port + 1} ./run.sh")
    return server
