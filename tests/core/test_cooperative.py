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
