"""The embedded server as a user starts it (``./run.sh``, ``python app.py``), in a process of
its own whose output the test reads line by line as it comes."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

START = 90  # seconds a start may take (imports, migrations, seeding) on a busy 2-core machine
STOP = 15

#: Variables that would take the server out of its embedded defaults.
NOT_EMBEDDED = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SOCKETIO_ASYNC_MODE", "PLATFORM_ENV", "PORT", "HOST")
CHEAP_HASHING = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024", "ARGON2_PARALLELISM": "1"}


def embedded_env(**settings: str) -> dict:
    """This process's environment without the test run's platform settings, plus ``settings``."""
    env = {name: value for name, value in os.environ.items() if name not in NOT_EMBEDDED}
    return {**env, "PYTHONUNBUFFERED": "1", **settings}


class EmbeddedServer:
    """``command`` run in ``cwd`` until its banner says where it serves."""

    def __init__(self, command: list[str], cwd: Path, env: dict):
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True)
        self.lines: list[str] = []
        self._incoming: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        banner = self.wait_for("running at http://")
        self.url = re.search(r"running at (http://\S+)", banner).group(1)

    def _read(self) -> None:
        for line in self.process.stdout:
            self._incoming.put(line.rstrip("\n"))
        self._incoming.put(None)  # the process closed its output: it ended

    def wait_for(self, text: str, timeout: float = START) -> str:
        """The first line (from now on) that contains ``text``; fails at the deadline or the process's end."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._incoming.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"the server ended before printing {text!r}:\n{self.output}")
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout} s:\n{self.output}")

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> None:
        """Ctrl-C, as a user stops it; what it prints on the way out is kept in ``lines``."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=STOP)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP)
            raise AssertionError(f"the server did not stop on Ctrl-C within {STOP} s:\n{self.output}")
        while (line := self._incoming.get(timeout=STOP)) is not None:
            self.lines.append(line)
