"""Issue 22's goals for analysts at brand scale, in one run, each with its verdict.

    .venv/bin/python bench/analyst.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/<empty db>
    .venv/bin/python bench/analyst.py --people 20000 --pages 10              # SQLite, a quick look
    .venv/bin/python bench/analyst.py --database-url ... --graphml           # also the GraphML export (slow)

Runs, one after another, each in its own process on the same database (EMPTIED by each):

1. bench/people_snapshot.py: ``--people`` people through the import path, a snapshot build in the
   caller's thread, then pages of 50 through ``GET /brands/{id}/people`` (the whole request), through the
   listing's query path alone and as hand-written keyset SQL on the same table, for listings with two
   filters and a sort. Goals: a page's p99 at most 100 ms; at least 0.5x the bare query's rate (both
   the request's and the query path's ratio are shown); the build at most 60 s.
2. bench/analyst_load.py ``--workload snapshot``: the same people, the build started by an analyst's
   request as a background task of a gevent web process that also serves a room of 10 posting members.
   Goal: real-time delivery unaffected: p99 to the last recipient under 50 ms (the real-time goal)
   while the build runs; the build under that load at most 60 s too.
3. with ``--graphml``: bench/graph.py ``--exports-only`` at ``--people`` members (on a temporary SQLite
   file): the GraphML export of a stored report. Goal: its peak memory (above the unpacked graph,
   tracemalloc) at most 300 MB.

Figures go in docs/performance.md with the command that made them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(script: str, *args: str) -> dict:
    """Runs ``bench/<script>`` with ``args`` and ``--json``; its figures."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "figures.json"
        subprocess.run([sys.executable, str(ROOT / "bench" / script), *args, "--json", str(out)], cwd=ROOT, check=True)
        return json.loads(out.read_text())


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=20, help="pages per listing")
    parser.add_argument("--database-url", default=None, help="EMPTIED by each part; default: temporary SQLite files")
    parser.add_argument("--graphml", action="store_true", help="also the GraphML export of a report of --people members")
    args = parser.parse_args()
    database = ["--database-url", args.database_url] if args.database_url else []

    paging = _run("people_snapshot.py", "--people", str(args.people), "--pages", str(args.pages), *database)
    load = _run("analyst_load.py", "--workload", "snapshot", "--people", str(args.people), "--seconds", "5", *database)
    exports = None
    if args.graphml:
        # on a temporary SQLite file: the export writes the stored graph, whichever database it came from
        exports = _run("graph.py", "--sizes", str(args.people), "--exports-only")

    rows = []
    shaped = {name: listing for name, listing in paging["listings"].items() if listing["filters"] >= 2}
    worst_p99 = max(listing["request"]["p99_ms"] for listing in shaped.values())
    rows.append(("page of 50, two filters and a sort: p99 <= 100 ms",
                 f"worst request p99 {worst_p99:.1f} ms over {len(shaped)} listings", _verdict(worst_p99 <= 100)))
    request_ratio = min(listing["bare_over_request"] for listing in shaped.values())
    query_ratio = min(listing["bare_over_query"] for listing in shaped.values())
    floor = paging["flask_floor_ms"]
    ceiling = min(l["bare"]["p50_ms"] / (l["bare"]["p50_ms"] + floor) for l in shaped.values())
    rows.append((">= 0.5x the bare query's rate: the whole request",
                 f"lowest bare/request {request_ratio:.2f}; a bare Flask route answering the bare query would reach "
                 f"{ceiling:.2f} (Flask's floor {floor:.2f} ms)", _verdict(request_ratio >= 0.5)))
    rows.append((">= 0.5x the bare query's rate: the listing's query path",
                 f"lowest bare/query {query_ratio:.2f}", _verdict(query_ratio >= 0.5)))
    rows.append((f"snapshot build of {args.people:,} people <= 60 s (caller's thread)",
                 f"{paging['build_seconds']:.1f} s (CLV model {paging['clv_model']})", _verdict(paging["build_seconds"] <= 60)))
    build = load["build"]
    rows.append(("... and started by a request, beside real-time traffic",
                 f"{build['seconds']:.1f} s, first request to first page", _verdict(build["seconds"] <= 60)))
    quiet, busy = load["quiet"]["p99_ms"], load["analyst"]["p99_ms"]
    rows.append(("real-time delivery unaffected: p99 < 50 ms during the build",
                 f"p99 {busy:.1f} ms during ({quiet:.1f} ms quiet), {load['analyst']['posts_per_s']:.1f} posts/s "
                 f"({load['quiet']['posts_per_s']:.1f} quiet)", _verdict(busy < 50)))
    if exports is not None:
        graphml = exports[-1]["exports"]["graphml"]
        rows.append((f"GraphML export of a {args.people:,}-member report: peak <= 300 MB",
                     f"{graphml['peak_mib']:.1f} MiB above the unpacked graph, {graphml['seconds']:.1f} s",
                     _verdict(graphml["peak_mib"] * 2**20 <= 300e6)))
    print(f"\nissue 22's goals, {args.people:,} people, database {paging['database']}")
    width = max(len(row[0]) for row in rows)
    for goal, figure, verdict in rows:
        print(f"{goal:<{width}}  {verdict:<7}  {figure}")


if __name__ == "__main__":
    main()
