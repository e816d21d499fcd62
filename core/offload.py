"""Long work of the embedded mode in a process of its own.

With ``REDIS_URL`` a Celery worker runs the long background work; in embedded mode there is
no worker, and such work ran as a background task of the web process, beside every socket
it serves. Pacing (core/cooperative.py) keeps the event loop turning, but each of a post's
database waits still hands the work a slice, a few steps cannot be cut, and the work shares
the process's one interpreter: during a 100,000-person snapshot build a post reached its
room at p99 about 90 ms against 17 ms quietly (docs/performance.md, "People snapshots").

:func:`run` starts a new interpreter (``python -m core.offload``), which builds the same
app from this one's settings (``core.config.plain_settings``, sent on its standard input,
never on a command line), calls the target inside an app context and exits; the caller's
greenlet (or thread) waits for it without holding the event loop (gevent's patched
``subprocess``). Only what another process can reach qualifies: :func:`shareable` says no
for an in-memory SQLite database. A new interpreter costs about a second to start, so
callers send only long work this way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import import_module
from pathlib import Path

from core.config import plain_settings

#: How much lower the child's CPU priority is than its parent's (``nice``): on a machine the web process
#: shares, its sockets and the database are served first, and the long work takes what is left.
NICENESS = 10

#: Where ``python -m core.offload`` finds the platform's packages.
ROOT = Path(__file__).resolve().parent.parent


def shareable(config) -> bool:
    """Whether another process reaches this app's database (not an in-memory SQLite one)."""
    return config["SQLALCHEMY_DATABASE_URI"] not in ("sqlite://", "sqlite:///:memory:")


def run(app, target: str, *args) -> int:
    """Call ``target`` ("package.module:function") with ``args`` (JSON values) in a new process,
    inside an app context of the same app; wait for it and return its exit status (0: it returned)."""
    order = {"factory": app.extensions["factory"], "settings": plain_settings(app.config), "target": target,
             "args": list(args)}
    child = subprocess.Popen([sys.executable, "-m", "core.offload"], stdin=subprocess.PIPE, cwd=ROOT)
    child.communicate(json.dumps(order).encode())
    return child.returncode


def _named(path: str):
    module, name = path.split(":")
    return getattr(import_module(module), name)


def main() -> None:
    """The child: build the app (threads, no event loop to keep), run the target, exit."""
    os.nice(NICENESS)
    order = json.load(sys.stdin)
    app = _named(order["factory"])({**order["settings"], "SOCKETIO_ASYNC_MODE": "threading"})
    from core.extensions import db

    with app.app_context():
        try:
            _named(order["target"])(*order["args"])
        finally:
            db.session.remove()


if __name__ == "__main__":
    main()
