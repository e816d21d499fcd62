"""The embedded server (``python app.py``) on gevent's WSGI server against Werkzeug's, the
server it replaced (still there as ``SOCKETIO_ASYNC_MODE=threading python app.py``).

    .venv/bin/python bench/embedded.py                 # 3 rounds, 300 REST calls and 200 posts a round
    .venv/bin/python bench/embedded.py --rounds 5

Each round starts each server in turn, Werkzeug then gevent, as a user does: ``python app.py``
on a fresh SQLite database (first start: migrate and seed the demo), then again on that database
(a later start). Measured from this process: seconds from the start to the first page (``GET /``
answering 200) and the server's CPU seconds until then (the steadier figure on a busy machine), then on one keep-alive connection the round-trip of ``GET
/api/v1/spaces/{id}/threads``, and over Socket.IO (WebSocket) the time from sending a ``post``
to its ack and to its delivery to a second client in the space. Prints medians over the rounds
and the ratio gevent / Werkzeug.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
SERVERS = {"werkzeug": "threading", "gevent": "gevent"}  # name: SOCKETIO_ASYNC_MODE
LOGIN = {"email": "admin@demo.example", "password": "demo-password-2026"}
FAST_LIMITS = {"RATELIMIT_WRITE": "1000000/minute", "SOCKETIO_EVENTS_PER_SECOND": "100000",
               "SOCKETIO_EVENT_BURST": "100000", "RATELIMIT_LOGIN": "1000/minute"}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux: /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(mode: str, database: Path, port: int) -> tuple[subprocess.Popen, float, float]:
    """``python app.py`` in ``mode``; returns the process, the seconds to its first page and
    the CPU seconds it used until then."""
    env = {**os.environ, **FAST_LIMITS, "SOCKETIO_ASYNC_MODE": mode, "PORT": str(port),
           "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench-secret-long-enough-for-hs256-signing-00"}
    began = time.monotonic()
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    while time.monotonic() - began < 300:
        try:
            if requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200:
                return process, time.monotonic() - began, cpu_seconds(process.pid)
        except requests.ConnectionError:
            time.sleep(0.02)  # polling for the first page: the figure's resolution
    process.kill()
    raise RuntimeError(f"{mode}: no first page within 300 s")


def rest_round_trips(url: str, token: str, space: int, count: int) -> list[float]:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    times = []
    for _ in range(count):
        began = time.perf_counter()
        assert http.get(f"{url}/api/v1/spaces/{space}/threads", timeout=10).status_code == 200
        times.append(time.perf_counter() - began)
    return times


def socket_round_trips(url: str, token: str, space: int, thread: int, count: int) -> tuple[list[float], list[float]]:
    """(post to ack, post to delivery at a second client) for ``count`` posts, one at a time."""
    poster, reader, arrived = socketio.Client(), socketio.Client(), queue.Queue()
    reader.on("space_event", lambda event: arrived.put(time.perf_counter()))
    for client in (poster, reader):
        client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        assert client.call("join", {"space_id": space}, timeout=10)["ok"]
    acks, deliveries = [], []
    try:
        for i in range(count):
            began = time.perf_counter()
            assert poster.call("post", {"thread_id": thread, "body": f"bench {i}"}, timeout=10)["ok"]
            acks.append(time.perf_counter() - began)
            deliveries.append(arrived.get(timeout=10) - began)
    finally:
        poster.disconnect()
        reader.disconnect()
    return acks, deliveries


def measure_round_trips(url: str, args) -> dict:
    token = requests.post(f"{url}/api/v1/auth/login", json=LOGIN, timeout=10).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    space = requests.get(f"{url}/api/v1/spaces?kind=societal", headers=headers, timeout=10).json()["items"][0]["id"]
    requests.post(f"{url}/api/v1/spaces/{space}/join", headers=headers, timeout=10)
    thread = requests.get(f"{url}/api/v1/spaces/{space}/threads", headers=headers, timeout=10).json()["items"][0]["id"]
    rest = rest_round_trips(url, token, space, args.requests)
    acks, deliveries = socket_round_trips(url, token, space, thread, args.posts)
    return {"rest": rest, "ack": acks, "delivery": deliveries}


def one_round(mode: str, port: int, args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "platform.db"
        figures = {}
        for start_kind in ("first start", "later start"):
            process, seconds, cpu = start(mode, database, port)
            try:
                figures[start_kind], figures[start_kind + " cpu"] = seconds, cpu
                if start_kind == "later start":
                    figures.update(measure_round_trips(f"http://127.0.0.1:{port}", args))
            finally:
                process.kill()
                process.wait()
        return figures


def report(results: dict) -> None:
    def median_of(name, key, scale):
        values = [round_[key] for round_ in results[name]]
        return statistics.median(v * scale for v in values) if not isinstance(values[0], list) else \
            statistics.median(statistics.median(v) * scale for v in values)

    def p99_of(name, key):
        pooled = sorted(v for round_ in results[name] for v in round_[key])
        return pooled[int(0.99 * (len(pooled) - 1))] * 1000

    rows = [("first start to first page, s", "first start", 1), ("  its CPU time, s", "first start cpu", 1),
            ("later start to first page, s", "later start", 1), ("  its CPU time, s", "later start cpu", 1),
            ("REST GET threads, ms (p50)", "rest", 1000), ("Socket.IO post to ack, ms (p50)", "ack", 1000),
            ("Socket.IO post to delivery, ms (p50)", "delivery", 1000)]
    print(f"{'':40} {'werkzeug':>10} {'gevent':>10} {'gevent/werkzeug':>16}")
    for label, key, scale in rows:
        w, g = median_of("werkzeug", key, scale), median_of("gevent", key, scale)
        print(f"{label:40} {w:10.3f} {g:10.3f} {g / w:16.2f}")
    for key in ("rest", "ack", "delivery"):
        w, g = p99_of("werkzeug", key), p99_of("gevent", key)
        print(f"{key + ', ms (p99, all rounds)':40} {w:10.3f} {g:10.3f} {g / w:16.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--port", type=int, default=5097)
    args = parser.parse_args()
    results = {name: [] for name in SERVERS}
    for round_number in range(args.rounds):
        for name, mode in SERVERS.items():  # alternating, so a drift in the machine's speed hits both
            results[name].append(one_round(mode, args.port, args))
            print(f"round {round_number + 1} {name}: first page {results[name][-1]['first start']:.1f} s, "
                  f"later {results[name][-1]['later start']:.1f} s", flush=True)
    report(results)


if __name__ == "__main__":
    main()
