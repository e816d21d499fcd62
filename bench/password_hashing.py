"""Another account's request latency while passwords hash, on a live gunicorn gevent server.

    .venv/bin/python bench/password_hashing.py               # 3 concurrent slow logins, 5 rounds
    .venv/bin/python bench/password_hashing.py --logins 6 --rounds 3

Starts the server as production does (gunicorn's gevent worker) on a fresh SQLite database with
costly argon2 settings (time cost 6, 64 MiB), then measures the round trip of ``GET /brands`` for
one account: first alone, then while ``--logins`` wrong-password logins of another account hash.
Prints the medians and the ratio busy / idle (1.0: hashing costs other requests nothing).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from core.extensions import db  # noqa: E402
from tests.live import LiveServer  # noqa: E402

SLOW = {"ARGON2_TIME_COST": 6, "ARGON2_MEMORY_COST": 65536, "ARGON2_PARALLELISM": 1}


def _brands_ms(server, token: str) -> float:
    started = time.perf_counter()
    assert server.api("GET", "/brands", token).status_code == 200
    return (time.perf_counter() - started) * 1000


def _busy_round(server, token: str, victim: str, logins: int) -> list[float]:
    """GET /brands repeatedly while ``logins`` wrong-password logins are in flight."""
    threads = [threading.Thread(target=requests.post, args=(server.url + "/api/v1/auth/login",),
                                kwargs={"json": {"email": victim, "password": "wrong password!"}, "timeout": 120})
               for _ in range(logins)]
    for thread in threads:
        thread.start()
    samples = []
    while any(thread.is_alive() for thread in threads):
        samples.append(_brands_ms(server, token))
    for thread in threads:
        thread.join()
    return samples[1:]  # the first may have left before the logins arrived


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = {"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench-secret-" + "x" * 40,
                  "RATELIMIT_PASSWORD": "100000/minute", "RATELIMIT_LOGIN": "100000/minute", "LOG_LEVEL": "WARNING", **SLOW}
        with create_app(config).app_context():
            db.create_all()
        server = LiveServer(config)
        try:
            reader, victim = server.register("bench_reader"), server.register("bench_victim")
            idle = [_brands_ms(server, reader["token"]) for _ in range(50)]
            busy = [ms for _ in range(args.rounds) for ms in _busy_round(server, reader["token"], "bench_victim@example.com", args.logins)]
        finally:
            server.stop()
    idle_ms, busy_ms = statistics.median(idle), statistics.median(busy)
    print(f"GET /brands alone: median {idle_ms:.1f} ms over {len(idle)}; while {args.logins} logins hash: "
          f"median {busy_ms:.1f} ms, max {max(busy):.1f} ms over {len(busy)}")
    print(f"ratio busy / idle: {busy_ms / idle_ms:.2f}")


if __name__ == "__main__":
    main()
