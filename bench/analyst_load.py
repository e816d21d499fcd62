"""Real-time delivery while an analyst works on the same web process.

    .venv/bin/python bench/analyst_load.py                  # 10,000 people, gevent, SQLite
    .venv/bin/python bench/analyst_load.py --people 2000 --seconds 5
    .venv/bin/python bench/analyst_load.py --workload snapshot --people 100000 --database-url postgresql://...
    .venv/bin/python bench/analyst_load.py --workload report --people 10000 --database-url postgresql://...

One gunicorn gevent worker serves both a room of ``--room`` members and the REST API. A
member posts one short post after another (20 ms apart) while everyone in the room records
each ``space_event``; first for ``--seconds`` with nothing else going on (the baseline,
measured in the same run), then while an analyst works:

* ``--workload profiles`` (default): the analyst pages through the profiles of a synthetic brand
  of ``--people`` people (``GET /brands/{id}/stakeholders``, scored per request), one request after
  another, for ``--seconds``;
* ``--workload snapshot``: ``--people`` people come in through the import path (as in
  bench/people_snapshot.py); the analyst asks for a people listing with two filters and a sort
  (``GET /brands/{id}/people``), which starts the brand's people snapshot build as a background
  task of that same web process (embedded mode), asks again every 200 ms until the snapshot is
  ready, then pages through it for ``--seconds``. The posting phase covers the whole build.
* ``--workload report``: the analyst (the demo admin) requests a graph report of the synthetic brand of
  ``--people`` members (``POST /reports``), which runs as a background task of that same web process
  (embedded mode; in a process of its own from ``GRAPH_REPORT_PROCESS_FROM`` people), and asks for it
  every 200 ms until it is done. The posting phase covers the whole run.

Printed: time from send to the last recipient (p50, p99, max) in both phases, their ratio, posts
delivered per second, how long each analyst page took and, for the snapshot workload, how long
the build (the report) took from the first request to the first page (to done). ``--json FILE`` writes the same figures.
Figures and what they mean: docs/performance.md.
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
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import percentile  # noqa: E402
from bench.realtime import Server, _config, _connect_all, arrival_recorder, prepare_database  # noqa: E402


def prepare(url: str, room: int, people: int, workload: str) -> tuple[list[str], int, int, int, str]:
    """The room (as in bench/realtime.py), a brand of ``people`` (synthetic, or imported with no
    snapshot yet for the snapshot workload), and the token of who reads it: the demo admin, or the
    brand's analyst for the snapshot workload."""
    from flask_jwt_extended import create_access_token
    from sqlalchemy import select

    from app import create_app
    from bench.people_snapshot import import_people
    from core.accounts import Account, GlobalRole, LoginSession
    from core.extensions import db
    from devtools.seed import seed_synthetic
    from purpose.models import Brand, BrandStaff, StaffRole

    tokens, space_id, thread_id = prepare_database(url, room + 1)
    app = create_app(_config(url))
    with app.app_context():
        if workload == "snapshot":
            brand = Brand(name="analysed")
            db.session.add(brand)
            db.session.commit()
            brand_id = brand.id
            import_people(brand_id, people)
            reader = Account(email="analyst@bench.example", handle="bench_analyst", display_name="Analyst",
                             password_hash="x", role=GlobalRole.analyst)
            db.session.add(reader)
            db.session.flush()
            db.session.add(BrandStaff(brand_id=brand_id, account_id=reader.id, role=StaffRole.analyst))
        else:
            brand_id = seed_synthetic(people).brand_id
            reader = db.session.scalar(select(Account).where(Account.email == "admin@demo.example"))
        session = LoginSession(account_id=reader.id)
        db.session.add(session)
        db.session.commit()
        token = create_access_token(str(reader.id), additional_claims={"sid": session.id})
    return tokens, space_id, thread_id, brand_id, token


#: The snapshot workload's listing: two filters and a sort (the issue's page shape), light users active
#: since the given time, most recently active first.
SNAPSHOT_QUERY = "segment=light&active_after={since}&sort=last_active&limit=50"


async def measure(server: Server, tokens, space_id, thread_id, brand_id, admin_token, seconds: float,
                  workload: str = "profiles") -> dict:
    arrivals, on_event = arrival_recorder()
    room = len(tokens) - 1
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await _connect_all(session, server.url, tokens[1:], on_event, space_id)
        (poster,) = await _connect_all(session, server.url, tokens[:1])
        run = uuid.uuid4().hex[:8]

        async def posts(label: str, until=None) -> dict:
            """Posts for ``seconds``, or until ``until`` is set if given (at least ``seconds``)."""
            sent, started, i = {}, time.monotonic(), 0
            while time.monotonic() - started < seconds or (until is not None and not until.is_set()):
                i += 1
                t = time.perf_counter()
                ack = await poster.call("post", {"thread_id": thread_id, "body": "hi", "client_msg_id": f"{run}-{label}-{i}"})
                sent[ack["post"]["seq"]] = t
                await asyncio.sleep(0.02)
            duration = time.monotonic() - started
            deadline = time.monotonic() + 60
            while any(arrivals.get(s, [0])[0] < room for s in sent) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            latencies = sorted((arrivals[s][1] - t) * 1000 for s, t in sent.items())
            return {"posts": len(latencies), "posts_per_s": len(latencies) / duration, "p50_ms": statistics.median(latencies),
                    "p99_ms": latencies[int(0.99 * (len(latencies) - 1))], "max_ms": latencies[-1], "seconds": duration}

        for i in range(3):  # warm-up
            await poster.call("post", {"thread_id": thread_id, "body": f"warm-up {i}"})
        headers = {"Authorization": f"Bearer {admin_token}"}
        if workload == "report":
            url = warm_up = f"{server.url}/api/v1/brands/{brand_id}"
        elif workload == "snapshot":
            since = (datetime.now(timezone.utc) - timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
            url = f"{server.url}/api/v1/brands/{brand_id}/people?{SNAPSHOT_QUERY.format(since=since)}"
            warm_up = f"{server.url}/api/v1/brands/{brand_id}"  # no build started before the phase
        else:
            url = warm_up = f"{server.url}/api/v1/brands/{brand_id}/stakeholders?limit=50"
        async with session.get(warm_up, headers=headers) as response:  # first-use imports
            await response.read()
        quiet = await posts("quiet")
        pages: list[float] = []
        stop, built = asyncio.Event(), asyncio.Event()
        build: dict = {}

        async def reporter():
            started = time.perf_counter()
            async with session.post(f"{server.url}/api/v1/reports", json={"brand_id": brand_id}, headers=headers) as response:
                body = await response.json()
                assert response.status == 202, body
            while body["status"] not in ("done", "failed", "cancelled"):
                await asyncio.sleep(0.2)
                async with session.get(f"{server.url}/api/v1/reports/{body['id']}", headers=headers) as response:
                    body = await response.json()
            assert body["status"] == "done", body
            build["seconds"], build["people"] = time.perf_counter() - started, None
            built.set()

        async def analyst():
            cursor, started = None, time.perf_counter()
            while not stop.is_set():
                t = time.perf_counter()
                async with session.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers) as response:
                    body = await response.json()
                    assert response.status in (200, 202), body
                if response.status == 202:  # the build runs: ask again shortly, as a client would
                    await asyncio.sleep(0.2)
                    continue
                if not built.is_set():
                    build["seconds"] = time.perf_counter() - started
                    build["people"] = body["snapshot"]["people"]
                    built.set()
                pages.append(time.perf_counter() - t)
                cursor = body["next_cursor"]

        if workload == "profiles":
            built.set()
        task = asyncio.ensure_future(reporter() if workload == "report" else analyst())
        busy = await posts("analyst", until=built)
        stop.set()
        await task
    return {"quiet": quiet, "analyst": busy, "pages": pages, "build": build or None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=10_000, help="people of the analysed brand")
    parser.add_argument("--room", type=int, default=10, help="members receiving the posts")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase (at least)")
    parser.add_argument("--workload", choices=("profiles", "snapshot", "report"), default="profiles")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    url = args.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    tokens, space_id, thread_id, brand_id, admin_token = prepare(url, args.room, args.people, args.workload)
    env = {"LIVE_SERVER_CONFIG": json.dumps({**_config(url), "PORT": 5101, "SOCKETIO_ASYNC_MODE": "gevent"})}
    server = Server("tests.live_server:build()", 5101, env, args.room + 50, "gevent")
    try:
        result = asyncio.run(measure(server, tokens, space_id, thread_id, brand_id, admin_token, args.seconds,
                                     args.workload))
    finally:
        server.stop()
    doing = {"profiles": "pages through the profiles of", "snapshot": "has the people snapshot built, then pages through it, for",
             "report": "has a graph report run of"}[args.workload]
    print(f"\nreal-time delivery to a room of {args.room} while an analyst {doing} "
          f"{args.people:,} people, one gevent worker, database {url.split(':', 1)[0]}, at least {args.seconds:g} s per phase")
    print(f"{'phase':>8} {'posts/s':>8} {'p50':>9} {'p99':>9} {'max':>9} {'seconds':>8}")
    for phase in ("quiet", "analyst"):
        r = result[phase]
        print(f"{phase:>8} {r['posts_per_s']:>8.1f} {r['p50_ms']:>7.1f}ms {r['p99_ms']:>7.1f}ms {r['max_ms']:>7.1f}ms "
              f"{r['seconds']:>8.1f}")
    if result["build"] and args.workload == "report":
        print(f"graph report, request to done: {result['build']['seconds']:.1f} s")
    elif result["build"]:
        print(f"snapshot build of {result['build']['people']:,} people, first request to first page: "
              f"{result['build']['seconds']:.1f} s")
    pages = result["pages"]
    print(f"p99 ratio (analyst / quiet): {result['analyst']['p99_ms'] / result['quiet']['p99_ms']:.1f}; "
          f"analyst pages: {len(pages)}, median {statistics.median(pages) * 1e3:.1f} ms, "
          f"p99 {percentile(pages, 0.99) * 1e3:.1f} ms" if pages else "no analyst page finished")
    if args.json:
        Path(args.json).write_text(json.dumps({**result, "workload": args.workload, "people": args.people,
                                               "database": url.split(":", 1)[0]}, indent=2))


if __name__ == "__main__":
    main()
