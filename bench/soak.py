"""Soak: thousands of connected clients and a steady stream of posts for minutes; then where one process breaks.

    .venv/bin/python bench/soak.py --database-url postgresql://postgres@127.0.0.1:5432/soak \\
        --redis-url redis://127.0.0.1:6379/9           # 2,000 clients, 1,000 in one space, 10 posts/s, 5 minutes
    .venv/bin/python bench/soak.py --clients 400 --room 200 --minutes 1 --limit-rates ""   # a quick look

One gunicorn gevent worker (the production worker) serves ``--clients`` Socket.IO clients:
``--room`` of them members of one space, the rest in spaces of 100 (connections that only get
heartbeats and presence). The platform runs with its shipped limits (per-connection event rate,
the write budget, admission and pool limits); only the token lifetime is longer than a run.
Posters, members of the big space each posting at most once a second (inside the default write
budget), send ``--rate`` posts a second on a fixed schedule: open loop, so a slow server does
not slow the schedule down and a backlog shows as latency. The clients are raw Engine.IO /
Socket.IO WebSocket clients multiplexed on one asyncio loop in this process
(``bench/realtime.py``'s harness), on the same machine as the server.

Measured over the run and per minute:

- every post's outcome: acknowledged ok, acknowledged with an error (by code), or no
  acknowledgement within 30 s;
- no acknowledged post lost: each is read back from the database by its ``client_msg_id`` (one
  row, the acked ``seq``), and reached every member of the space exactly once (a count per
  ``seq``: fewer is a loss, more a duplicate);
- time from send to the last of the space's members (p50, p99, max);
- CPU share of the server worker and of this harness (of one core each);
- worker memory per connection, and its growth over the run: RSS every 10 s, growth per
  minute from a least-squares line through the samples after the first minute.

Then, unless ``--limit-rates`` is empty, the same clients go through steps of rising rate,
``--step-seconds`` each: a step holds when every post is acked ok and delivered to everyone
and its p99 stays under ``--p99-limit-ms``. Printed: the highest rate held, and what failed at
the first step that did not hold. Figures: docs/performance.md ("Soak").
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realtime import RawClient, Server, _connect_all, arrival_recorder, prepare_rooms  # noqa: E402

ACK_TIMEOUT_S = 30
BODY = "A post of ordinary length, about as long as a sentence or two in a community thread."


class LeanClient(RawClient):
    """``RawClient`` on a bare asyncio protocol with its own WebSocket framing (RFC 6455: a
    handshake, unmasked frames in, masked frames out, no extensions). aiohttp's client costs
    about 50 µs of CPU per message received, which made this harness, not the server, the
    first to run out of CPU on a 2-core machine at 20,000 deliveries a second."""

    async def connect(self) -> None:
        host, port = self.url.removeprefix("http://").split(":")
        loop = asyncio.get_running_loop()
        self.opened = loop.create_future()
        self.transport, _ = await loop.create_connection(lambda: _Frames(self), host, int(port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
                              f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        await asyncio.wait_for(self.opened, 30)
        self.transport.write(_frame("40" + json.dumps({"token": self.token})))
        reply = await asyncio.wait_for(self.connected, 30)
        if not reply.startswith("40"):
            raise RuntimeError(f"refused: {reply}")

    def packet(self, data: str) -> None:
        if data.startswith("0") and not self.opened.done():  # Engine.IO open
            self.connected = asyncio.get_running_loop().create_future()
            self.opened.set_result(None)
        elif data.startswith(("40", "44")) and not self.connected.done():
            self.connected.set_result(data)
        else:
            reply = self.handle(data)
            if reply:
                self.transport.write(_frame(reply))

    async def send(self, text: str) -> None:
        self.transport.write(_frame(text))

    async def close(self) -> None:
        self.transport.close()


def _frame(text: str) -> bytes:
    """One masked text frame (a client must mask what it sends)."""
    payload = text.encode()
    n = len(payload)
    header = bytes([0x81, 0x80 | n]) if n < 126 else (bytes([0x81, 0xFE]) + n.to_bytes(2, "big") if n < 65536
                                                       else bytes([0x81, 0xFF]) + n.to_bytes(8, "big"))
    mask = os.urandom(4)
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
    return header + mask + masked


class _Frames(asyncio.Protocol):
    """Reads the server's handshake answer, then its frames, handing each text message to the client."""

    def __init__(self, client: LeanClient):
        self.client, self.buffer, self.upgraded = client, bytearray(), False

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(f"no WebSocket upgrade: {bytes(self.buffer[:80])!r}")
            del self.buffer[:end + 4]
            self.upgraded = True
        buf, at = self.buffer, 0
        while len(buf) - at >= 2:
            opcode, n, start = buf[at] & 0x0F, buf[at + 1] & 0x7F, at + 2
            if n == 126:
                if len(buf) - at < 4:
                    break
                n, start = int.from_bytes(buf[at + 2:at + 4], "big"), at + 4
            elif n == 127:
                if len(buf) - at < 10:
                    break
                n, start = int.from_bytes(buf[at + 2:at + 10], "big"), at + 10
            if len(buf) - start < n:
                break
            if opcode == 1:  # text (the server sends no fragments, no extensions were agreed)
                self.client.packet(buf[start:start + n].decode())
            at = start + n
        del buf[:at]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))] if ordered else float("nan")


def slope_per_minute(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of (seconds, bytes) samples, in bytes per minute."""
    if len(samples) < 2:
        return float("nan")
    xs, ys = [s[0] for s in samples], [s[1] for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else float("nan")


class Phase:
    """Posts at ``rate`` a second for ``seconds`` from ``posters`` (round robin), and what became of each."""

    def __init__(self, label: str, rate: float, seconds: float):
        self.label, self.rate, self.seconds = label, rate, seconds
        self.run = f"{label}-{uuid.uuid4().hex[:10]}"
        self.outcomes: Counter = Counter()
        self.sent: dict[str, float] = {}       # client_msg_id -> send time (perf_counter)
        self.acked: dict[str, int] = {}        # client_msg_id -> seq, acked ok
        self.ack_ms: list[float] = []
        self.errored: set[str] = set()         # acked with an error: must not be stored

    async def drive(self, posters: list[RawClient], thread_id: int, started: float) -> None:
        tasks, k = [], 0
        while k < self.rate * self.seconds:
            target = started + k / self.rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(self._send(posters[k % len(posters)], thread_id, k)))
            k += 1
        await asyncio.gather(*tasks)

    async def _send(self, poster: RawClient, thread_id: int, k: int) -> None:
        cmid = f"{self.run}-{k}"
        t = time.perf_counter()
        self.sent[cmid] = t
        try:
            ack = await poster.call("post", {"thread_id": thread_id, "body": BODY, "client_msg_id": cmid})
        except asyncio.TimeoutError:
            self.outcomes["no ack in 30 s"] += 1
            return
        if ack.get("ok"):
            self.outcomes["ok"] += 1
            self.acked[cmid] = ack["post"]["seq"]
            self.ack_ms.append((time.perf_counter() - t) * 1000)
        else:
            self.outcomes[ack["error"]["code"]] += 1
            self.errored.add(cmid)


def stored_posts(url: str, run: str) -> dict[str, list[int]]:
    """client_msg_id -> the seqs stored under it, for this phase's posts."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    stored: dict[str, list[int]] = {}
    with engine.connect() as conn:
        for cmid, seq in conn.execute(text("SELECT client_msg_id, seq FROM posts WHERE client_msg_id LIKE :p"), {"p": run + "-%"}):
            stored.setdefault(cmid, []).append(seq)
    engine.dispose()
    return stored


async def run_phase(phase: Phase, server: Server, posters, thread_id, arrivals, room: int, url: str,
                    samples: list | None = None) -> dict:
    """One phase of posting; returns its figures. ``samples`` collects (elapsed s, worker RSS) every 10 s."""
    started = time.perf_counter()
    cpu0, harness0 = server.worker_cpu(), time.process_time()
    stop = asyncio.Event()

    async def sample():
        while not stop.is_set():
            if samples is not None:
                samples.append((time.perf_counter() - started, server.worker_rss()))
            try:
                await asyncio.wait_for(stop.wait(), 10)
            except asyncio.TimeoutError:
                pass

    sampler = asyncio.ensure_future(sample())
    await phase.drive(posters, thread_id, started)
    sending_s = time.perf_counter() - started
    deadline = time.monotonic() + ACK_TIMEOUT_S
    seqs = set(phase.acked.values())
    while any(arrivals.get(s, [0])[0] < room for s in seqs) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    wall = time.perf_counter() - started
    server_cpu, harness_cpu = server.worker_cpu() - cpu0, time.process_time() - harness0
    stop.set()
    await sampler

    stored = stored_posts(url, phase.run)
    lost = [c for c, seq in phase.acked.items() if stored.get(c) != [seq]]
    stored_despite_error = [c for c in phase.errored if c in stored]
    received = {s: arrivals.get(s, [0, 0.0])[0] for s in seqs}
    undelivered = sum(max(0, room - n) for n in received.values())
    duplicated = sum(max(0, n - room) for n in received.values())
    by_seq_sent = {seq: phase.sent[c] for c, seq in phase.acked.items()}
    complete = [s for s in seqs if received[s] >= room]
    latencies = [(arrivals[s][1] - by_seq_sent[s]) * 1000 for s in complete]
    minutes: dict[int, list[float]] = {}
    for s in complete:
        minutes.setdefault(int((by_seq_sent[s] - started) // 60), []).append((arrivals[s][1] - by_seq_sent[s]) * 1000)
    return {
        "rate": phase.rate, "posts": len(phase.sent), "outcomes": dict(phase.outcomes), "lost": len(lost),
        "stored_despite_error": len(stored_despite_error), "stored_unacked": len(set(stored) - set(phase.acked)),
        "undelivered": undelivered, "duplicated": duplicated,
        "achieved_rate": len(phase.sent) / sending_s,
        "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99), "max_ms": max(latencies, default=float("nan")),
        "ack_p50_ms": percentile(phase.ack_ms, 0.5), "ack_p99_ms": percentile(phase.ack_ms, 0.99),
        "server_cpu_share": server_cpu / wall, "harness_cpu_share": harness_cpu / wall,
        "per_minute": {m: (len(v), percentile(v, 0.5), percentile(v, 0.99)) for m, v in sorted(minutes.items())},
    }


def holds(result: dict, p99_limit_ms: float) -> str | None:
    """None when a limit step held, else what failed."""
    failures = []
    if result["outcomes"].get("ok", 0) != result["posts"]:
        failures.append("not every post acked ok: " + ", ".join(f"{k} {v}" for k, v in result["outcomes"].items()))
    if result["lost"] or result["undelivered"] or result["duplicated"]:
        failures.append(f"lost {result['lost']}, undelivered {result['undelivered']}, duplicated {result['duplicated']}")
    if not result["p99_ms"] <= p99_limit_ms:
        failures.append(f"p99 {result['p99_ms']:.0f} ms over {p99_limit_ms:.0f} ms")
    return "; ".join(failures) or None


async def soak(args, server: Server, tokens: list[str], rooms: list[tuple[int, int]]) -> dict:
    room = args.room
    (space_id, thread_id), others = rooms[0], rooms[1:]
    arrivals, on_event = arrival_recorder()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        warm = await _connect_all(session, server.url, tokens[:10], on_event, space_id, client=args.client)
        await asyncio.sleep(1)
        rss_before = server.worker_rss()
        members = warm + await _connect_all(session, server.url, tokens[10:room], on_event, space_id, client=args.client)
        start = room
        for other_space, _ in others:
            members += await _connect_all(session, server.url, tokens[start:start + 100], None, other_space, client=args.client)
            start += 100
        await asyncio.sleep(2)
        rss_connected = server.worker_rss()
        result = {"clients": len(members), "bytes_per_connection": (rss_connected - rss_before) / (len(members) - 10)}
        posters = members[:max(20, int(max([args.rate, *args.limit_rates] or [args.rate])))]
        for i, poster in enumerate(posters[:3]):  # warm-up, not measured
            await poster.call("post", {"thread_id": thread_id, "body": f"warm-up {i}"})
        samples: list[tuple[float, int]] = []
        if args.minutes > 0:
            phase = Phase("soak", args.rate, args.minutes * 60)
            result["soak"] = await run_phase(phase, server, posters[:max(20, int(args.rate))], thread_id, arrivals, room,
                                             args.url, samples)
            later = [(t, rss) for t, rss in samples if t >= 60] or samples
            result["rss"] = {"connected": rss_connected, "first": samples[0][1], "last": samples[-1][1],
                             "growth_per_minute": slope_per_minute(later), "samples": len(samples)}
        result["steps"] = []
        for rate in args.limit_rates:
            step = await run_phase(Phase(f"step{rate}", rate, args.step_seconds), server, posters[:max(20, rate)],
                                   thread_id, arrivals, room, args.url)
            step["failed"] = holds(step, args.p99_limit_ms)
            result["steps"].append(step)
            print(f"  step {rate:>4} posts/s: p99 {step['p99_ms']:.0f} ms, server CPU {step['server_cpu_share']:.0%}, "
                  f"harness CPU {step['harness_cpu_share']:.0%}: {step['failed'] or 'held'}", flush=True)
            if step["failed"]:
                break
        for client in members:
            await client.close()
    return result


def report(args, result: dict) -> None:
    db_kind = args.url.split(":", 1)[0]
    print(f"\nsoak: {result['clients']:,} clients ({args.room:,} in one space, the rest in spaces of 100), one gevent "
          f"worker, database {db_kind}" + (", Redis message queue" if args.redis_url else ", no Redis"))
    print(f"memory per connection: {result['bytes_per_connection'] / 1024:.1f} KiB")
    s = result.get("soak")
    if s:
        print(f"{args.rate:g} posts/s for {args.minutes:g} min: {s['posts']:,} posts sent at {s['achieved_rate']:.2f}/s; "
              f"outcomes {s['outcomes']}")
        print(f"  acked posts lost {s['lost']}, stored despite an error ack {s['stored_despite_error']}, stored without "
              f"an ok ack {s['stored_unacked']}; deliveries missing {s['undelivered']}, duplicated {s['duplicated']} "
              f"(of {len(s['outcomes']) and s['outcomes'].get('ok', 0) * args.room:,})")
        print(f"  send to last of {args.room:,}: p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms, max {s['max_ms']:.1f} ms; "
              f"ack p50 {s['ack_p50_ms']:.1f} ms, p99 {s['ack_p99_ms']:.1f} ms")
        print(f"  CPU: server worker {s['server_cpu_share']:.0%} of a core, harness {s['harness_cpu_share']:.0%}")
        for minute, (n, p50, p99) in s["per_minute"].items():
            print(f"    minute {minute + 1}: {n} posts, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        rss = result["rss"]
        print(f"  worker RSS: {rss['connected'] / 2**20:.0f} MiB connected, {rss['first'] / 2**20:.0f} -> "
              f"{rss['last'] / 2**20:.0f} MiB over the run; growth after the first minute "
              f"{rss['growth_per_minute'] / 1024:+.0f} KiB/min ({rss['samples']} samples)")
    held = [st["rate"] for st in result["steps"] if not st["failed"]]
    if result["steps"]:
        failed = next((st for st in result["steps"] if st["failed"]), None)
        print(f"limit ({args.step_seconds:g} s steps, p99 limit {args.p99_limit_ms:g} ms): held up to "
              f"{max(held) if held else 'none'} posts/s"
              + (f"; at {failed['rate']:g} posts/s: {failed['failed']} (server CPU {failed['server_cpu_share']:.0%}, "
                 f"harness {failed['harness_cpu_share']:.0%})" if failed else "; every step held"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file (dropped and recreated)")
    parser.add_argument("--redis-url", default=None, help="the platform's REDIS_URL (rooms, presence, limits), as in production")
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--room", type=int, default=1000, help="clients in the space that gets the posts")
    parser.add_argument("--rate", type=float, default=10, help="posts per second during the soak")
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--limit-rates", default="20,25,30,35,40,50,60,80", help="rates of the limit steps ('' for none)")
    parser.add_argument("--step-seconds", type=float, default=30)
    parser.add_argument("--p99-limit-ms", type=float, default=1000)
    parser.add_argument("--aiohttp", action="store_true", help="clients on aiohttp (bench/realtime.py's) instead of the lean ones")
    args = parser.parse_args()
    args.client = RawClient if args.aiohttp else LeanClient
    if (args.clients - args.room) % 100 or args.room < 20:
        parser.error("--clients minus --room must be a multiple of 100, and --room at least 20")
    args.limit_rates = [int(r) for r in args.limit_rates.split(",") if r.strip()]
    args.url = args.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "soak.db")
    rooms_spec = [args.room] + [100] * ((args.clients - args.room) // 100)
    tokens, rooms = prepare_rooms(args.url, rooms_spec)
    config = {"DATABASE_URL": args.url, "SECRET_KEY": "bench-secret-" * 4, "LOG_LEVEL": "WARNING",
              "ACCESS_TOKEN_MINUTES": 600, "SOCKETIO_ASYNC_MODE": "gevent", "PORT": 5111}
    if args.redis_url:
        config |= {"REDIS_URL": args.redis_url, "SOCKETIO_CHANNEL": f"soak-{uuid.uuid4().hex[:6]}"}
    server = Server("tests.live_server:build()", 5111, {"LIVE_SERVER_CONFIG": json.dumps(config)}, args.clients + 200, "gevent")
    try:
        result = asyncio.run(soak(args, server, tokens, rooms))
    finally:
        server.stop()
    report(args, result)


if __name__ == "__main__":
    main()
