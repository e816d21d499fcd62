"""Keeping a web process's event loop turning while one request does long work.

In production a web process is one gunicorn gevent worker: every socket and request it
serves shares one event loop, and a greenlet only lets the others run when it waits for
I/O. A request that computes for a while without waiting (the profiles of a brand's
people: about 1.5 s for 10,000 people, 15 s for 100,000) would stall every socket of
that process for as long; real-time posts would reach nobody meanwhile
(docs/performance.md, "Real-time delivery while an analyst works"). Two tools:

- :func:`pause` (and :func:`paced` for loops) for long work: call it often (it costs a
  clock read); once ``SLICE_SECONDS`` have passed since the loop last ran, it lets the loop
  handle what is pending (socket reads and writes, the greenlets they woke), then carries
  on. Under threads (``SOCKETIO_ASYNC_MODE=threading``, gunicorn's gthread worker) and in Celery workers the
  operating system already shares the CPU, and it does nothing more.
- :func:`off_the_loop` for pure work in one long call (no app context, no database): it
  runs on a native thread. The loop keeps running beside it, but each of its GIL waits can
  take the interpreter's switch interval, so prefer :func:`pause` where the work is a loop.
- :func:`collections_deferred` around work that builds millions of objects kept until it ends:
  Python's cyclic garbage collector would otherwise stop everything for each full pass over them.
"""

from __future__ import annotations

import gc
import threading
import time
from contextlib import contextmanager

#: Longest stretch of work between two turns of the event loop.
SLICE_SECONDS = 0.001

_loop_ran_at = time.perf_counter()
_turn = None  # what lets the event loop run once: chosen on first use by _choose_turn


def _choose_turn():
    """Under gevent (gunicorn's gevent worker patches ``time``): ``gevent.idle``, which returns
    once the loop has handled everything pending (socket reads and writes, other greenlets)
    and costs no timer wait. Elsewhere (threads, Celery workers) the operating system shares
    the CPU, and there is nothing to do."""
    from gevent import monkey

    if monkey.is_module_patched("time"):
        import gevent

        return gevent.idle
    return lambda: None


def pause() -> None:
    """Let the event loop run if this stretch of work has gone on for ``SLICE_SECONDS``."""
    global _loop_ran_at, _turn
    if time.perf_counter() - _loop_ran_at >= SLICE_SECONDS:
        if _turn is None:
            _turn = _choose_turn()
        _turn()
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


def native_lock():
    """A lock of the operating system's threads, also where gevent patched ``threading``: a patched
    lock (gevent's, as every lock a module makes at import in a gevent worker is) hangs the native
    threads of :func:`off_the_loop` that contend for it. Only native threads may wait on it (a
    greenlet waiting on it would hold the whole event loop)."""
    from gevent import monkey

    return monkey.get_original("threading", "Lock")()


_deferrals = 0
_collector_was_on = True
_deferrals_lock = threading.Lock()


@contextmanager
def collections_deferred():
    """Keep Python's cyclic garbage collector from running while the work inside builds millions of
    objects that stay alive until it ends (a brand's people and profiles). A full collection traverses
    every live object, 0.3 to 0.6 s at 100,000 people, and meanwhile no greenlet (under threads, no
    other thread) runs: a snapshot build triggered several, and real-time delivery on the same process
    stalled for as long (bench/analyst_load.py). Reference counting still frees what dies; cyclic
    garbage made meanwhile waits for the first collection after the work. Nested and concurrent uses
    keep the collector off until the last one ends; it is switched back on only if it was on."""
    global _deferrals, _collector_was_on
    with _deferrals_lock:
        if _deferrals == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _deferrals += 1
    try:
        yield
    finally:
        with _deferrals_lock:
            _deferrals -= 1
            if _deferrals == 0 and _collector_was_on:
                gc.enable()
