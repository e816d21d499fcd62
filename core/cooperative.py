"""Keeping a web process's event loop turning while one request does long work.

In production a web process is one gunicorn gevent worker: every socket and request it
serves shares one event loop, and a greenlet only lets the others run when it waits for
I/O. A request that computes for a while without waiting (the profiles of a brand's
people: about 1.5 s for 10,000 people, 15 s for 100,000) would stall every socket of
that process for as long; real-time posts would reach nobody meanwhile
(docs/performance.md, "Real-time delivery while an analyst works"). Two tools:

- :func:`pause` for long work that touches the database or the app: its loops call it
  often (it costs a clock read); once ``SLICE_SECONDS`` have passed since the loop last
  ran, it lets the loop run once (pending socket reads and writes, other greenlets), then
  carries on.
- :func:`off_the_loop` for pure work (no app context, no database): it runs on a native
  thread, and the loop keeps running beside it.

Under gunicorn's gthread worker or ``python app.py`` (threads), and in Celery workers,
the operating system already shares the CPU; there ``pause`` is a negligible yield.
"""

from __future__ import annotations

import time

#: Longest stretch of work between two turns of the event loop.
SLICE_SECONDS = 0.005
#: ``time.sleep`` is gevent's under the gevent worker (gunicorn monkey-patches it). A delay
#: above zero lets the loop poll sockets once before this greenlet runs again; zero may not.
_TURN = 1e-6

_loop_ran_at = time.perf_counter()


def pause() -> None:
    """Let the event loop run if this stretch of work has gone on for ``SLICE_SECONDS``."""
    global _loop_ran_at
    if time.perf_counter() - _loop_ran_at >= SLICE_SECONDS:
        time.sleep(_TURN)
        _loop_ran_at = time.perf_counter()


def paced(items):
    """Iterate ``items``, letting the event loop run between two of them when it is due."""
    for item in items:
        yield item
        pause()


def off_the_loop(fn, *args):
    """Run CPU-heavy pure work (no app context, no database) on a native thread when the
    server runs gevent, so one big export does not stall every other request; else directly."""
    from gevent import monkey

    if monkey.is_module_patched("threading"):
        import gevent

        return gevent.get_hub().threadpool.apply(fn, args)
    return fn(*args)
