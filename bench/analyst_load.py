"""Real-time delivery while an analyst works on the same web process.

    .venv/bin/python bench/analyst_load.py                  # 10,000 people, gevent, SQLite
    .venv/bin/python bench/analyst_load.py --people 2000 --seconds 5

One gunicorn gevent worker serves both a room of ``--room`` members and the REST API. A
member posts one short post after another (20 ms apart) while everyone in the room records
each ``space_event``; first for ``--seconds`` with nothing else going on (the baseline,
measured in the same run), then for as long again while an analyst pages through the
profiles of a synthetic brand of ``--people`` people (``GET /brands/{id}/stakeholders``,
one request after another). Printed: time from send to the last recipient (p50, p99, max)
in both phases, their ratio, posts delivered per second, and how long each analyst page
took. Figures and what they mean: docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realtime import Server, _config, _connect_all, arrival_recorder, prepare_database  # noqa: E402


def prepare(url: str, room: int, people: int) -> tuple[list[str], int, int, int, str]:
    """The room (as in bench/realtime.py), a synthetic brand of ``people``, and an admin's token."""
    from flask_jwt_extended import create_access_token
    from sqlalchemy import select

    from app import create_app
    from core.accounts import Account, LoginSession
    from core.extensions import db
    from devtools.seed import seed_synthetic

    tokens, space_id, thread_id = prepare_database(url, room + 1)
    app = create_app(_config(url))
    with app.app_context():
        brand_id = seed_synthetic(people).brand_id
        admin = db.session.scalar(select(Account).where(Account.email == "admin@demo.example"))
        session = LoginSession(account_id=admin.id)
        db.session.add(session)
        db.session.commit()
        admin_token = create_access_token(str(admin.id), additional_claims={"sid": session.id})
    return tokens, space_id, thread_id, brand_id, admin_token


async def measure(server: Server, tokens, space_id, thread_id, brand_id, admin_token, seconds: float) -> dict:
    arrivals, on_event = arrival_recorder()
    room = len(tokens) - 1
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await _connect_all(session, server.url, tokens[1:], on_event, space_id)
        (poster,) = await _connect_all(session, server.url, tokens[:1])
        run = uuid.uuid4().hex[:8]

        async def posts(label: str) -> dict:
            sent, started, i = {}, time.monotonic(), 0
            while time.monotonic() - started < seconds:
                i += 1
                t = time.perf_counter()
                ack = await poster.call("post", {"thread_id": thread_id, "body": "hi", "client_msg_id": f"{run}-{label}-{i}"})
                sent[ack["post"]["seq"]] = t
                await asyncio.sleep(0.02)
            deadline = time.monotonic() + 60
            while any(arrivals.get(s, [0])[0] < room for s in sent) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            latencies = sorted((arrivals[s][1] - t) * 1000 for s, t in sent.items())
            return {"posts": len(latencies), "posts_per_s": len(latencies) / seconds, "p50_ms": statistics.median(latencies),
                    "p99_ms": latencies[int(0.99 * (len(latencies) - 1))], "max_ms": latencies[-1]}

        for i in range(3):  # warm-up
            await poster.call("post", {"thread_id": thread_id, "body": f"warm-up {i}"})
        url = f"{server.url}/api/v1/brands/{brand_id}/stakeholders?limit=50"
        headers = {"Authorization": f"Bearer {admin_token}"}
        async with session.get(url, headers=headers) as response:  # warm-up: first-use imports
            assert response.status == 200, await response.text()
        quiet = await posts("quiet")
        pages: list[float] = []
        stop = asyncio.Event()

        async def analyst():
            while not stop.is_set():
                started = time.perf_counter()
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    assert response.status == 200
                pages.append(time.perf_counter() - started)

        task = asyncio.ensure_future(analyst())
        busy = await posts("analyst")
        stop.set()
        await task
    return {"quiet": quiet, "analyst": busy, "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=10_000, help="people of the analysed brand")
    parser.add_argument("--room", type=int, default=10, help="members receiving the posts")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    url = args.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    tokens, space_id, thread_id, brand_id, admin_token = prepare(url, args.room, args.people)
    env = {"LIVE_SERVER_CONFIG": json.dumps({**_config(url), "PORT": 5101, "SOCKETIO_ASYNC_MODE": "gevent"})}
    server = Server("tests.live_server:build()", 5101, env, args.room + 50, "gevent")
    try:
        result = asyncio.run(measure(server, tokens, space_id, thread_id, brand_id, admin_token, args.seconds))
    finally:
        server.stop()
    print(f"\nreal-time delivery to a room of {args.room} while an analyst pages through the profiles of "
          f"{args.people:,} people, one gevent worker, database {url.split(':', 1)[0]}, {args.seconds:g} s per phase")
    print(f"{'phase':>8} {'posts/s':>8} {'p50':>9} {'p99':>9} {'max':>9}")
    for phase in ("quiet", "analyst"):
        r = result[phase]
        print(f"{phase:>8} {r['posts_per_s']:>8.1f} {r['p50_ms']:>7.1f}ms {r['p99_ms']:>7.1f}ms {r['max_ms']:>7.1f}ms")
    pages = result["pages"]
    print(f"p99 ratio (analyst / quiet): {result['analyst']['p99_ms'] / result['quiet']['p99_ms']:.1f}; "
          f"analyst pages: {len(pages)}, median {statistics.median(pages):.2f} s each" if pages else "no analyst page finished")


if __name__ == "__main__":
    main()
