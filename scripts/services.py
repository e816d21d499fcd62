"""Check (and on a development machine, start) the PostgreSQL and Redis the second test pass uses.

``python scripts/services.py check`` exits 0 when both answer at TEST_DATABASE_URL and
TEST_REDIS_URL. ``start`` runs the local start commands for whichever is down, when the
servers are installed on this machine (Debian's packages); it never installs anything.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys


def _postgres_ok(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=3).close()
        return True
    except psycopg.Error as exc:
        print(f"PostgreSQL at {url.split('@')[-1]}: {exc}".strip(), file=sys.stderr)
        return False


def _redis_ok(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=3).ping())
    except redis.RedisError as exc:
        print(f"Redis at {url.split('@')[-1]}: {exc}", file=sys.stderr)
        return False


def check() -> bool:
    return _postgres_ok(os.environ["TEST_DATABASE_URL"]) & _redis_ok(os.environ["TEST_REDIS_URL"])


def start() -> None:
    if not _postgres_ok(os.environ["TEST_DATABASE_URL"]) and shutil.which("pg_ctlcluster"):
        for version in sorted(os.path.basename(p) for p in glob.glob("/etc/postgresql/*")):
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False)
    if not _redis_ok(os.environ["TEST_REDIS_URL"]) and shutil.which("redis-server"):
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", "", "--appendonly", "no"],
            check=False,
        )


if __name__ == "__main__":
    if sys.argv[1:] == ["check"]:
        sys.exit(0 if check() else 1)
    if sys.argv[1:] == ["start"]:
        start()
        sys.exit(0)
    sys.exit("usage: services.py check|start")
