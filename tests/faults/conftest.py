"""Fault tests: a Redis of the test's own, which it may kill and start again.

The machine's shared Redis is never touched: each test gets a ``redis-server`` subprocess on a
free port, with nothing saved to disk, that ``kill`` stops as a crash would (SIGKILL) and
``start`` brings back, empty, on the same port.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
import redis

from tests.live import free_port


class RedisProcess:
    """A ``redis-server`` subprocess on its own port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client, deadline = redis.Redis(port=self.port, socket_connect_timeout=1), time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                assert self.process.poll() is None, "redis-server exited at start"
                assert time.monotonic() < deadline, "redis-server did not answer within 10 s"
                time.sleep(0.05)  # polling until it serves, bounded by the deadline
            finally:
                client.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis():
    if shutil.which("redis-server") is None:
        message = "needs redis-server on PATH to start a Redis the test may kill"
        if os.environ.get("CI") == "true":  # CI has Redis: a missing server is a broken machine, not a skip
            pytest.fail(message)
        pytest.skip(message)
    server = RedisProcess()
    server.start()
    yield server
    server.kill()
