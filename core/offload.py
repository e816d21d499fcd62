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
``subprocess``), renewing what says the work is alive meanwhile. The child runs at a lower CPU
priority (``OFFLOAD_NICENESS``): on a machine it shares with the web process, the sockets and the
database are served first. Only what another process can reach qualifies: :func:`shareable` says no
for an in-memory SQLite database. A new interpreter costs seconds to start (about 5 s to import
the platform and build the app on a 2-core machine), so callers send only long work this way.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from importlib import import_module
from pathlib import Path
from typing import Callable

from core.config import plain_settings

log = logging.getLogger(__name__)

#: Where ``python -m core.offload`` finds the platform's packages.
ROOT = Path(__file__).resolve().parent.parent


def shareable(config) -> bool:
    """Whether another process reaches this app's database (not an in-memory SQLite one)."""
    return config["SQLALCHEMY_DATABASE_URI"] not in ("sqlite://", "sqlite:///:memory:")


def run(app, target: str, *args, beat: Callable[[], None] | None = None, every: float | None = None,
        limit: float | None = None) -> int:
    """Call ``target`` ("package.module:function") with ``args`` (JSON values) in a new process,
    inside an app context of the same app; wait for it and return its exit status (0: it returned).

    While it runs, ``beat()`` is called every ``every`` seconds (a lease renewed: the work is alive).
    Past ``limit`` seconds the process is killed and ``subprocess.TimeoutExpired`` raised. The process
    runs ``OFFLOAD_NICENESS`` steps below this one's CPU priority."""
    order = {"factory": app.extensions["factory"], "settings": plain_settings(app.config), "target": target,
             "args": list(args), "niceness": app.config["OFFLOAD_NICENESS"]}
    child = subprocess.Popen([sys.executable, "-m", "core.offload"], stdin=subprocess.PIPE, cwd=ROOT)
    try:
        with child.stdin:
            child.stdin.write(json.dumps(order).encode())
    except BrokenPipeError:  # it ended before reading its order: its exit status says how
        pass
    deadline = None if limit is None else time.monotonic() + limit
    while True:
        waits = [t for t in (every, None if deadline is None else max(0.0, deadline - time.monotonic())) if t is not None]
        try:
            return child.wait(timeout=min(waits) if waits else None)
        except subprocess.TimeoutExpired:
            if deadline is not None and time.monotonic() >= deadline:
                child.kill()
                child.wait()
                raise
            if beat is not None:
                beat()


def failure(app, target: str, *args, what: str, timed_out: str, **waiting) -> str | None:
    """:func:`run` (``waiting``: its ``beat``, ``every`` and ``limit``), its outcome as the failure the
    caller records: None when the target returned; else ``"{what}'s process ended with status N"``,
    ``timed_out`` past the limit (the process killed), or ``"{what}'s process could not start"``."""
    try:
        status = run(app, target, *args, **waiting)
    except subprocess.TimeoutExpired:
        return timed_out
    except OSError:  # no process to start (resources)
        log.exception("%s: its process could not start", target)
        return f"{what}'s process could not start"
    return None if status == 0 else f"{what}'s process ended with status {status}"


def in_app(app, work: Callable, *args):
    """``work(*args)`` in an app context of its own (a background task's: the waiting greenlet's beats,
    what it does once the process ended), its session removed after."""
    from core.extensions import db

    with app.app_context():
        try:
            return work(*args)
        finally:
            db.session.remove()


def _named(path: str):
    module, name = path.split(":")
    return getattr(import_module(module), name)


def main() -> None:
    """The child: build the app (threads, no event loop to keep), run the target, exit."""
    order = json.load(sys.stdin)
    os.nice(order["niceness"])
    app = _named(order["factory"])({**order["settings"], "SOCKETIO_ASYNC_MODE": "threading"})
    from core.extensions import db

    with app.app_context():
        try:
            _named(order["target"])(*order["args"])
        finally:
            db.session.remove()


if __name__ == "__main__":
    main()
