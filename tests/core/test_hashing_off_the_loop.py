"""Argon2 runs beside the event loop, not on it: a live gunicorn gevent server answers another
account's request while slow password hashes are in progress (docs/performance.md).

No timing threshold: the assertion is about order. Slow logins are started and seen to be
hashing (the worker's CPU time climbs); a ``GET /brands`` sent then must be answered before
any of the logins is. With argon2 on the event loop, the loop serves nothing until a hash is
done, so at least one login would be answered first."""

from __future__ import annotations

import os
import threading
import time

import requests

from tests.live import WAIT

SLOW_ARGON2 = {"ARGON2_TIME_COST": 6, "ARGON2_MEMORY_COST": 65536, "ARGON2_PARALLELISM": 1}
LOGINS = 3


def _worker_cpu_seconds(server) -> float:
    """CPU time (all threads) of the gunicorn worker serving ``server``."""
    children = open(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read().split()
    fields = open(f"/proc/{children[0]}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_another_request_is_answered_while_passwords_hash(live):
    server = live(**SLOW_ARGON2, RATELIMIT_PASSWORD="1000/minute")
    reader = server.register("reader")  # one slow hash, before the measurement
    done: dict[str, float] = {}

    def login(i):
        answer = requests.post(server.url + "/api/v1/auth/login", timeout=6 * WAIT,
                               json={"email": f"nobody{i}@example.com", "password": "not registered here"})
        assert answer.status_code == 401
        done[f"login{i}"] = time.monotonic()

    busy_from = _worker_cpu_seconds(server)
    threads = [threading.Thread(target=login, args=(i,)) for i in range(LOGINS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + WAIT
    while _worker_cpu_seconds(server) - busy_from < 0.2:  # the hashes are under way
        assert time.monotonic() < deadline, "the logins never started hashing"
        time.sleep(0.01)  # polling the worker's CPU clock, bounded by the deadline
    assert not done, "a login finished before the check could start: make SLOW_ARGON2 slower"
    brands = server.api("GET", "/brands", reader["token"])
    done["brands"] = time.monotonic()
    assert brands.status_code == 200
    for thread in threads:
        thread.join(timeout=6 * WAIT)
    assert len(done) == LOGINS + 1
    assert min(done, key=done.get) == "brands", sorted(done, key=done.get)
