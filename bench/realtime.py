"""Real-time benchmark: our post-and-broadcast path against a bare python-socketio server.

    .venv/bin/python bench/realtime.py                       # gevent, SQLite, rooms of 100 and 1,000, 2,000 idle
    .venv/bin/python bench/realtime.py --mode threading      # gunicorn gthread instead
    .venv/bin/python bench/realtime.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/realtime.py --against f281407      # also our server as of that commit, interleaved
    .venv/bin/python bench/realtime.py --deflate              # clients offer permessage-deflate, as browsers do
    .venv/bin/python bench/realtime.py --redis-url redis://127.0.0.1:6379/15   # both through a Redis message queue

Both servers run under the same command (one gunicorn worker; gevent, the production mode,
or gthread with threading and simple-websocket) and are driven by the same client harness:
raw Engine.IO v4 / Socket.IO v5 WebSocket clients multiplexed on one asyncio loop in this
process, so client-side cost is identical. For each room size one extra client (not in the
room) posts sequentially, waiting for each ack; every member records each ``space_event``.
Reported: deliveries per second, time from send to the last recipient (p50, p99), the
server worker's CPU time per post (where the gap to the bare server is), and server memory
per idle connection (worker RSS delta / connections).

Runs on a shared machine vary by a third from one minute to the next, so comparing two
versions of our code from separate runs says little: ``--against REV`` also serves our
platform as of git revision REV (from a temporary worktree, on the same database; tables REV
has and this revision lacks are created empty by REV's models, so a renamed table does not stop it) and alternates all three servers within the run.

By default the harness offers no WebSocket extension, so both servers send plain frames and
the ratio compares the two paths alone. Browsers offer permessage-deflate, which the bare
server (python-socketio's defaults) accepts and ours declines unless configured to
(community/realtime/websocket.py): ``--deflate`` makes every client offer it, to measure what that choice
is worth with the clients a deployment actually has.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepare_database(url: str, members: int) -> tuple[list[str], int, int]:
    """Accounts, one space they all belong to, one thread; returns access tokens, space id, thread id."""
    tokens, ((space_id, thread_id),) = prepare_rooms(url, [members])
    return tokens, space_id, thread_id


def prepare_rooms(url: str, rooms: list[int]) -> tuple[list[str], list[tuple[int, int]]]:
    """A fresh schema with one space and thread per room and ``sum(rooms)`` accounts, the first
    ``rooms[0]`` members of the first space, the next ``rooms[1]`` of the second, and so on.
    Returns every account's access token (in that order) and each room's (space id, thread id)."""
    from flask_jwt_extended import create_access_token

    from app import create_app
    from community.models import Membership, Space, Thread
    from core.accounts import Account, LoginSession, hash_password
    from core.extensions import db
    from purpose.models import Brand, Purpose, PurposeKind

    app = create_app(_config(url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        pw = hash_password("bench-password")
        people = [Account(email=f"m{i}@bench.example", handle=f"m{i}", display_name=f"M{i}", password_hash=pw)
                  for i in range(sum(rooms))]
        db.session.add_all(people)
        brand = Brand(name="Bench")
        db.session.add(brand)
        db.session.flush()
        purpose = Purpose(brand_id=brand.id, kind=PurposeKind.life, title="Bench", tags=[])
        db.session.add(purpose)
        db.session.flush()
        places, start = [], 0
        for n, size in enumerate(rooms):
            space = Space(purpose_id=purpose.id, name=f"Bench {n}", slug="bench" if n == 0 else f"bench-{n}")
            db.session.add(space)
            db.session.flush()
            members = people[start:start + size]
            start += size
            db.session.add_all(Membership(space_id=space.id, account_id=p.id) for p in members)
            thread = Thread(space_id=space.id, title="Bench", author_id=members[0].id)
            db.session.add(thread)
            places.append((space, thread))
        sessions = [LoginSession(account_id=p.id) for p in people]
        db.session.add_all(sessions)
        db.session.commit()
        tokens = [create_access_token(str(s.account_id), additional_claims={"sid": s.id}) for s in sessions]
        return tokens, [(space.id, thread.id) for space, thread in places]


def _config(url: str) -> dict:
    return {"DATABASE_URL": url, "SECRET_KEY": "bench-secret-" * 4, "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
            "ARGON2_PARALLELISM": 1, "LOG_LEVEL": "WARNING", "ACCESS_TOKEN_MINUTES": 600,
            "SOCKETIO_EVENTS_PER_SECOND": 100000, "SOCKETIO_EVENT_BURST": 100000, "RATELIMIT_WRITE": "1000000/minute"}


class Server:
    def __init__(self, target: str, port: int, env: dict, connections: int, mode: str, root: Path = ROOT):
        worker = ["-k", "gthread", "--threads", str(connections)] if mode == "threading" else [
            "-k", "gevent", "--worker-connections", str(connections)]
        cmd = [sys.executable, "-m", "gunicorn", *worker, "-w", "1",
               "-b", f"127.0.0.1:{port}", "--log-level", "error", "--backlog", "4096", target]
        self.process = subprocess.Popen(cmd, cwd=root, env={**os.environ, **env, "PYTHONPATH": str(root)})
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/socket.io/?EIO=4&transport=polling", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"{target} did not start")

    def _worker_pid(self) -> str:
        return Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()[0]

    def worker_rss(self) -> int:
        status = Path(f"/proc/{self._worker_pid()}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) * 1024

    def worker_cpu(self) -> float:
        """CPU seconds (user + system) the worker process has used so far."""
        fields = Path(f"/proc/{self._worker_pid()}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


class RawClient:
    """A minimal Socket.IO v5 client over one WebSocket (connect with auth, events, acks, pings)."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str, on_event=None, deflate: bool = False):
        self.session, self.url, self.token, self.on_event, self.deflate = session, url, token, on_event, deflate
        self.acks: dict[int, asyncio.Future] = {}
        self.next_ack = 0

    async def connect(self) -> None:
        ws_url = self.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        # deflate: offer permessage-deflate as browsers do ("permessage-deflate; client_max_window_bits")
        self.ws = await self.session.ws_connect(ws_url, max_msg_size=0, compress=15 if self.deflate else 0)
        await self.ws.receive()  # Engine.IO open packet
        await self.ws.send_str("40" + json.dumps({"token": self.token}))
        reply = (await self.ws.receive()).data
        if not reply.startswith("40"):
            raise RuntimeError(f"refused: {reply}")
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            reply = self.handle(msg.data)
            if reply:
                await self.ws.send_str(reply)

    def handle(self, data: str) -> str | None:
        """Dispatch one Engine.IO packet (pings, events, acks); returns the reply to send, if any."""
        if data == "2":
            return "3"
        if data.startswith("42") and self.on_event:
            name, payload = json.loads(data[2:])
            self.on_event(name, payload)
        elif data.startswith("43"):
            end = data.index("[")
            future = self.acks.pop(int(data[2:end]), None)
            if future is not None and not future.done():  # an ack after its caller gave up is dropped
                future.set_result(json.loads(data[end:])[0])
        return None

    async def send(self, text: str) -> None:
        await self.ws.send_str(text)

    async def call(self, event: str, payload: dict) -> dict:
        self.next_ack += 1
        future = asyncio.get_running_loop().create_future()
        self.acks[self.next_ack] = future
        await self.send(f"42{self.next_ack}" + json.dumps([event, payload]))
        return await asyncio.wait_for(future, 30)

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


async def _connect_all(session, url, tokens, on_event=None, space_id=None, deflate=False, client=None) -> list[RawClient]:
    clients = [(client or RawClient)(session, url, t, on_event, deflate) for t in tokens]
    for start in range(0, len(clients), 100):
        batch = clients[start:start + 100]
        await asyncio.gather(*(c.connect() for c in batch))
        if space_id is not None:
            await asyncio.gather(*(c.call("join", {"space_id": space_id}) for c in batch))
    return clients


def arrival_recorder():
    """``(arrivals, on_event)``: ``on_event`` records in ``arrivals[seq]`` how many members have
    received that ``space_event`` and when the last one did."""
    arrivals: dict[int, list] = {}

    def on_event(name, payload):
        if name == "space_event":
            entry = arrivals.setdefault(payload["seq"], [0, 0.0])
            entry[0] += 1
            entry[1] = time.perf_counter()

    return arrivals, on_event


async def broadcast_run(server: Server, tokens: list[str], space_id: int, thread_id: int, size: int, posts: int,
                        deflate: bool = False) -> dict:
    arrivals, on_event = arrival_recorder()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        members = await _connect_all(session, server.url, tokens[1:size + 1], on_event, space_id, deflate)
        (poster,) = await _connect_all(session, server.url, tokens[:1], deflate=deflate)
        for i in range(5):  # warm-up, not measured
            await poster.call("post", {"thread_id": thread_id, "body": f"warm-up {i}"})
        arrivals.clear()
        sent: dict[int, float] = {}
        run_id = uuid.uuid4().hex[:12]  # fresh idempotency keys: a reused key would (rightly) not broadcast
        body = "A post of ordinary length, about as long as a sentence or two in a community thread."
        cpu_before, harness_before = server.worker_cpu(), time.process_time()
        first = time.perf_counter()
        for i in range(posts):
            t = time.perf_counter()
            ack = await poster.call("post", {"thread_id": thread_id, "body": body, "client_msg_id": f"{run_id}-{i}"})
            sent[ack["post"]["seq"]] = t
        deadline = time.monotonic() + 120
        while any(arrivals.get(s, [0])[0] < size for s in sent) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        server_cpu, harness_cpu = server.worker_cpu() - cpu_before, time.process_time() - harness_before
        latencies = sorted((arrivals[s][1] - t) * 1000 for s, t in sent.items())
        last = max(arrivals[s][1] for s in sent)
        delivered = sum(arrivals[s][0] for s in sent)
        for client in members + [poster]:
            await client.close()
    return {"deliveries_per_s": delivered / (last - first), "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[int(0.99 * (len(latencies) - 1))], "complete": delivered == size * posts,
            "server_cpu_ms": server_cpu * 1000 / posts, "harness_cpu_ms": harness_cpu * 1000 / posts}


async def idle_run(server: Server, tokens: list[str], space_id: int, count: int, deflate: bool = False) -> float:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        warm = await _connect_all(session, server.url, tokens[:10], space_id=space_id, deflate=deflate)
        before = server.worker_rss()
        clients = await _connect_all(session, server.url, tokens[10:count + 10], space_id=space_id, deflate=deflate)
        await asyncio.sleep(1)  # let the server settle its buffers before reading RSS
        after = server.worker_rss()
        for client in warm + clients:
            await client.close()
    return (after - before) / count


def _median_run(runs: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in runs) for key in ("deliveries_per_s", "p50_ms", "p99_ms", "server_cpu_ms", "harness_cpu_ms")} | {
        "complete": all(r["complete"] for r in runs)}


@contextlib.contextmanager
def worktree(revision: str | None):
    """A temporary checkout of ``revision`` (None: nothing)."""
    if revision is None:
        yield None
        return
    path = Path(tempfile.mkdtemp(prefix="bench-against-"))
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(path), revision], cwd=ROOT, check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False)


def _add_missing_tables(root: Path, config: dict) -> None:
    """Tables the older revision has and this one does not (renamed since, say) are created on the
    shared database by that revision's own models, empty, so its server can run its queries."""
    script = ("import json, sys; from app import create_app; from core.extensions import db; "
              "app = create_app(json.loads(sys.argv[1])); ctx = app.app_context(); ctx.push(); db.create_all()")
    subprocess.run([sys.executable, "-c", script, json.dumps(config)], cwd=root, check=True,
                   env={**os.environ, "PYTHONPATH": str(root)})


def run_all(args, tokens, space_id, thread_id, ours_config) -> tuple[dict, dict]:
    """All servers up at once; for each room size alternate them ``--repeat`` times. Returns
    ``(per server, ratios)``: ratios are each run's rate over the bare server's run next to it,
    then the median, for every server but the bare one."""
    connections = max(args.idle, *args.sizes) + 200  # gunicorn refuses (queues) connections past this

    def ours(port: int, root: Path = ROOT) -> Server:
        # With --redis-url each server publishes on its own channel, so none hears another's posts.
        queue = {"REDIS_URL": args.redis_url, "SOCKETIO_CHANNEL": f"bench-{port}"} if args.redis_url else {}
        env = {"LIVE_SERVER_CONFIG": json.dumps({**ours_config, **queue, "PORT": port}), "BENCH_ASYNC_MODE": args.mode}
        return Server("tests.live_server:build()", port, env, connections, args.mode, root)

    bare_env = {"BENCH_ASYNC_MODE": args.mode} | ({"BENCH_REDIS_URL": args.redis_url} if args.redis_url else {})

    with worktree(args.against) as before_root:
        servers = {}
        try:  # a server that fails to start still stops the ones already running
            servers["ours"] = ours(5101)
            servers["bare"] = Server("bench.bare_socketio:app", 5102, bare_env, connections, args.mode)
            if before_root is not None:
                _add_missing_tables(before_root, ours_config)
                servers["before"] = ours(5103, before_root)
            results = {kind: {} for kind in servers}
            ratios = {kind: {} for kind in servers if kind != "bare"}
            for size in args.sizes:
                runs = {kind: [] for kind in servers}
                for _ in range(args.repeat):
                    for kind, server in servers.items():
                        runs[kind].append(asyncio.run(broadcast_run(server, tokens, space_id, thread_id, size, args.posts, args.deflate)))
                for kind in servers:
                    results[kind][size] = _median_run(runs[kind])
                for kind in ratios:
                    ratios[kind][size] = statistics.median(
                        o["deliveries_per_s"] / b["deliveries_per_s"] for o, b in zip(runs[kind], runs["bare"]))
            for kind, server in servers.items():
                results[kind]["idle_bytes"] = asyncio.run(idle_run(server, tokens, space_id, args.idle, args.deflate))
        finally:
            for server in servers.values():
                server.stop()
    return results, ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="our server's database (default: a temporary SQLite file)")
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs per room size (medians reported)")
    parser.add_argument("--mode", choices=["threading", "gevent"], default="gevent",
                        help="async mode of both servers (gunicorn gthread or gevent worker)")
    parser.add_argument("--against", metavar="REV", default=None,
                        help="also run our server as of this git revision (same schema), interleaved, reported as 'before'")
    parser.add_argument("--redis-url", default=None,
                        help="every server broadcasts through this Redis message queue, as production processes do")
    parser.add_argument("--deflate", action="store_true",
                        help="clients offer permessage-deflate, as every browser does (the default harness offers nothing)")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    url = args.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    members = max(max(args.sizes) + 1, args.idle + 10)
    tokens, space_id, thread_id = prepare_database(url, members)
    results, ratios = run_all(args, tokens, space_id, thread_id, {**_config(url), "SOCKETIO_ASYNC_MODE": args.mode})
    bare = results["bare"]
    db_kind = url.split(":", 1)[0]
    print(f"\nreal-time benchmark: {args.posts} posts per room size, median of {args.repeat} alternating runs, "
          f"database {db_kind}, async mode {args.mode}" + (", Redis message queue" if args.redis_url else "")
          + (", clients offer permessage-deflate" if args.deflate else "") + (f", 'before' is {args.against}" if args.against else ""))
    print(f"{'room':>6} {'server':>7} {'deliv/s':>9} {'bare deliv/s':>13} {'ratio':>6} {'p50':>8} {'p99':>8} {'bare p50':>9} {'bare p99':>9}")
    for size in args.sizes:
        b = bare[size]
        for kind, ratio in ratios.items():
            o = results[kind][size]
            print(f"{size:>6} {kind:>7} {o['deliveries_per_s']:>9,.0f} {b['deliveries_per_s']:>13,.0f} {ratio[size]:>6.2f} "
                  f"{o['p50_ms']:>6.1f}ms {o['p99_ms']:>6.1f}ms {b['p50_ms']:>7.1f}ms {b['p99_ms']:>7.1f}ms"
                  + ("" if o["complete"] and b["complete"] else "  INCOMPLETE DELIVERY"))
    for size in args.sizes:
        cpu = ", ".join(f"{kind} {results[kind][size]['server_cpu_ms']:.2f} ms" for kind in results)
        harness = ", ".join(f"{kind} {results[kind][size]['harness_cpu_ms']:.2f} ms" for kind in results)
        print(f"room {size}: server CPU per post {cpu}; harness CPU per post {harness}")
    for kind in ratios:
        print(f"memory per idle connection ({args.idle} clients): {kind} {results[kind]['idle_bytes'] / 1024:.1f} KiB, "
              f"bare {bare['idle_bytes'] / 1024:.1f} KiB, ratio {results[kind]['idle_bytes'] / bare['idle_bytes']:.2f}")


if __name__ == "__main__":
    main()
