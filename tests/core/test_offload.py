"""core/offload.py: a target run by a new interpreter built from the app's own settings."""

from __future__ import annotations

import os
import subprocess

import pytest

from core import offload
from core.extensions import db


def write_pid(path: str, status: int) -> None:
    """A target: leaves the process id and the database it reached where the test reads them, then
    ends its process with ``status``."""
    with open(path, "w") as out:
        out.write(f"{os.getpid()} {db.engine.url.render_as_string(hide_password=False)}")
    os._exit(status)


def test_the_target_runs_in_another_process_on_the_same_database_while_the_caller_beats(app, tmp_path):
    """The exit status is the process's: 3 here, 1 for an exception and 0 for a target that returns
    (tests/purpose/test_snapshots.py, whose builds run this way)."""
    marker, beats = tmp_path / "ran", []
    # Starting an interpreter and building the app takes seconds: the caller beats meanwhile.
    assert offload.run(app, "tests.core.test_offload:write_pid", str(marker), 3, beat=lambda: beats.append(1), every=0.05) == 3
    pid, url = marker.read_text().split(" ", 1)
    assert int(pid) != os.getpid()
    assert url == app.config["SQLALCHEMY_DATABASE_URI"]
    assert beats


def test_a_process_past_its_limit_is_killed(app):
    with pytest.raises(subprocess.TimeoutExpired):
        offload.run(app, "time:sleep", 3600, limit=0.5)


def test_only_a_database_another_process_reaches_is_shareable(app):
    assert offload.shareable(app.config)  # the tests' file or server database
    assert not offload.shareable({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert not offload.shareable({"SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:"})
