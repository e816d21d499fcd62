"""Long work lets the web process's event loop run (core/cooperative.py)."""

from __future__ import annotations

import time

from core import cooperative
from core.cooperative import paced


def test_a_long_loop_lets_the_sockets_run_between_its_items(loop_turns):
    assert sum(paced(range(50))) == sum(range(50))
    assert len(loop_turns) >= 50


def test_work_shorter_than_a_slice_runs_on_without_yielding(loop_turns, monkeypatch):
    monkeypatch.setattr(cooperative, "SLICE_SECONDS", 60.0)
    monkeypatch.setattr(cooperative, "_loop_ran_at", time.perf_counter())
    assert list(paced(range(50))) == list(range(50))
    assert loop_turns == []


def test_the_garbage_collector_waits_for_long_work_and_resumes_after_it():
    """A full collection over a brand's people stalled the whole process for 0.3 to 0.6 s each time:
    the collector is off while such work runs, back on after it (nested, failing, or not)."""
    import gc

    import pytest

    from core.cooperative import collections_deferred

    assert gc.isenabled()
    with collections_deferred():
        assert not gc.isenabled()
        with collections_deferred():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer work still runs
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collections_deferred():
        1 / 0
    assert gc.isenabled()
    gc.disable()  # someone else's choice is kept
    try:
        with collections_deferred():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
