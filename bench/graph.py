"""Graph report benchmark: our full report against the bare networkx calls it makes, per size.

    .venv/bin/python bench/graph.py --sizes 10000 100000          # the figures in docs/performance.md
    .venv/bin/python bench/graph.py --sizes 1000000 --no-memory --no-bare --no-exports   # the long run
    .venv/bin/python bench/graph.py --sizes 10000 --database-url postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/graph.py --sizes 100000 --backend parallel   # nx-parallel, when installed
    .venv/bin/python bench/graph.py --sizes 100000 --exports-only       # the graph exports' peak memory

For each size: a fresh database (a SQLite file; with ``--database-url`` that database is
emptied and used as well) is seeded with ``devtools.seed.seed_synthetic`` (about five
interactions per member; seeding time is shown, not counted). Then, in one process:

1. the full report, timed stage by stage: load (profiles, community rows, touchpoints),
   build (the networkx graph), ``reports.assemble_report_and_graph`` (every metric, the
   ranking, the assembly) and each export;
2. each metric alone on the same graph (PageRank, personalized PageRank, k-cores, Louvain,
   128-pivot betweenness, bridging, reach) and the ranking;
3. the bare networkx calls on an in-memory copy of the analysed graph: ``nx.pagerank``,
   personalized ``nx.pagerank``, ``nx.core_number``, ``nx.community.louvain_communities``,
   ``nx.betweenness_centrality(k=128)``.

With ``--exports-only``: the report once, then only the graph exports (GraphML, GEXF, and for
comparison networkx's own ``write_gexf``, which builds the whole document first), each timed and
then measured under ``tracemalloc`` on the stored graph as the API unpacks it.

Overhead = full report / bare calls (goal <= 1.5). Peak memory per stage is measured in a
second pass under ``tracemalloc`` (it slows Python down, so times come from the first
pass only); the process's RSS high-water mark is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import networkx as nx  # noqa: E402

BARE = ("pagerank", "pagerank personalized", "core_number", "louvain_communities", "betweenness k=128")


def _app(url: str):
    from app import create_app
    from core.extensions import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret-that-is-long-enough-for-signing",
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


class Stages:
    """Seconds and tracemalloc peaks per named stage."""

    def __init__(self, memory: bool):
        self.memory, self.seconds, self.peak = memory, {}, {}

    def run(self, name: str, fn, *args, **kwargs):
        if self.memory:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        self.seconds[name] = time.perf_counter() - started
        if self.memory:
            self.peak[name] = max(0, tracemalloc.get_traced_memory()[1] - base)
        return result


def full_report(app, brand_id: int, stages: Stages, seed: int, exports_too: bool = True):
    """Load, build, assemble and export, as the report task does; returns (G, H, report)."""
    from graph import exports
    from graph.load import GraphScope, load_graph
    from graph.reports import assemble_report_and_graph

    marks = []
    with app.app_context():
        started = time.perf_counter()
        G = stages.run("load + build", load_graph, GraphScope(brand_id),
                       progress=lambda step, _p: marks.append((step, time.perf_counter())))
    last = started
    for step, moment in marks:
        stages.seconds[f"  {step}"] = moment - last
        last = moment
    report, H = stages.run("metrics + ranking + assembly", assemble_report_and_graph, G, seed=seed)
    if not exports_too:
        return G, H, report
    for name, fn, arg in (("export json", exports.report_json, report), ("export csv", exports.opportunities_csv, report),
                          ("export graphml", exports.graph_graphml, H), ("export gexf", exports.graph_gexf, H)):
        stages.run(name, fn, arg)
    stages.run("export png", exports.graph_png, H, report)
    return G, H, report


def each_metric(G, stages: Stages, seed: int) -> None:
    from graph import metrics
    from graph.opportunities import rank_opportunities

    H = stages.run("analysable copy", metrics.analysable_graph, G)
    heavy = {v for v, s in H.nodes(data="segment") if s == "heavy"}
    pagerank = stages.run("pagerank", metrics.influence, H)
    proximity = stages.run("personalized pagerank", metrics.personalized_influence, H, heavy)
    core = stages.run("core numbers", metrics.core_numbers, H)
    found = stages.run("communities (louvain)", metrics.communities, H, seed=seed, core_number=core)
    community_of = metrics.community_index(found)
    stages.run("modularity", metrics.modularity, H, found)
    stages.run("betweenness (128 pivots)", metrics.brokers, H, seed=seed)
    stages.run("bridging", metrics.bridging, H, community_of)
    stages.run("reach", metrics.community_reach, H, found, pagerank=pagerank)
    stages.run("ranking", rank_opportunities, H, core_number=core, community_of=community_of, proximity=proximity)


def bare_calls(G, stages: Stages, seed: int) -> None:
    """The networkx calls the report makes, straight on a plain in-memory copy of the analysed graph."""
    from graph import metrics

    H = nx.Graph()
    A = metrics.analysable_graph(G)
    H.add_nodes_from(A)
    H.add_weighted_edges_from((u, v, d["weight"]) for u, v, d in A.edges(data=True))
    heavy = dict.fromkeys((v for v, s in A.nodes(data="segment") if s == "heavy"), 1.0)
    stages.run("pagerank", nx.pagerank, H, tol=1e-6)
    stages.run("pagerank personalized", nx.pagerank, H, tol=1e-6, personalization=heavy, dangling=heavy)
    stages.run("core_number", nx.core_number, H)
    stages.run("louvain_communities", nx.community.louvain_communities, H, seed=seed)
    stages.run("betweenness k=128", nx.betweenness_centrality, H, k=min(128, len(H)), seed=seed)


def seed(url: str, n: int, seed_value: int):
    from core.extensions import db
    from devtools.seed import seed_synthetic

    app = _app(url)
    with app.app_context():
        started = time.perf_counter()
        result = seed_synthetic(n, seed=seed_value, name=f"Bench {n}")
        seconds = time.perf_counter() - started
        db.session.remove()
    return app, result, seconds


def _networkx_gexf(G):
    from graph import exports

    out = tempfile.SpooledTemporaryFile(max_size=exports.SPOOL_BYTES)
    nx.write_gexf(exports.make_scalar(G), out, encoding="utf-8")
    return out


def exports_only(app, brand_id: int, seed_value: int) -> dict:
    """The report once, then each graph export of its stored graph (unpacked afresh, as the API does):
    seconds, then tracemalloc's peak above the unpacked graph, and the file's size."""
    from graph import exports

    timed = Stages(memory=False)
    G, H, _report = full_report(app, brand_id, timed, seed_value, exports_too=False)
    blob = exports.pack_graph(H)
    del G, H
    out = {"stored_mb": len(blob) / 2**20}
    for name, fn in (("graphml", exports.graph_graphml), ("gexf", exports.graph_gexf),
                     ("gexf (networkx writer)", _networkx_gexf)):
        graph = exports.unpack_graph(blob)
        started = time.perf_counter()
        written = fn(graph)
        seconds = time.perf_counter() - started
        size = written.seek(0, 2)
        written.close()
        graph = exports.unpack_graph(blob)
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            fn(graph).close()
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        del graph
        out[name] = {"seconds": seconds, "peak_mib": peak / 2**20, "file_mb": size / 2**20}
        print(f"export {name:24} {seconds:7.1f} s  peak {peak / 2**20:8.1f} MiB above the graph  "
              f"file {size / 2**20:7.1f} MB", flush=True)
    return out


def measure(url: str, n: int, args) -> dict:
    app, seeded, seed_seconds = seed(url, n, args.seed)
    if args.exports_only:
        return {"members": n, "database": url.split(":")[0], "exports": exports_only(app, seeded.brand_id, args.seed)}
    timed = Stages(memory=False)
    started = time.perf_counter()
    G, H, report = full_report(app, seeded.brand_id, timed, args.seed, exports_too=not args.no_exports)
    report_seconds = sum(v for k, v in timed.seconds.items() if not k.startswith("  ") and not k.startswith("export"))
    wall = time.perf_counter() - started
    metric = Stages(memory=False)
    each_metric(G, metric, args.seed)
    bare = Stages(memory=False)
    if not args.no_bare:
        bare_calls(G, bare, args.seed)
    out = {"members": n, "database": url.split(":")[0], "nodes": G.number_of_nodes(), "edges": G.number_of_edges(),
           "seed_s": seed_seconds, "seed_rows": seeded.rows, "report_s": report_seconds, "report_with_exports_s": wall,
           "stages_s": timed.seconds, "metrics_s": metric.seconds, "bare_s": bare.seconds,
           "bare_total_s": sum(bare.seconds.values()), "opportunities": len(report["opportunities"])}
    if out["bare_total_s"]:
        out["overhead"] = report_seconds / out["bare_total_s"]
    if not args.no_memory:
        _print(out)  # the times, before the (slow) memory pass
        print("measuring peak memory per stage (second pass, under tracemalloc)...", flush=True)
        out["peak_bytes"] = memory_pass(app, seeded.brand_id, G, args.seed, not args.no_exports)
    return out


def memory_pass(app, brand_id: int, G, seed_value: int, exports_too: bool) -> dict:
    """The same stages again under tracemalloc: peak bytes allocated during each one."""
    tracemalloc.start()
    try:
        stages = Stages(memory=True)
        full_report(app, brand_id, stages, seed_value, exports_too)
        each_metric(G, stages, seed_value)
        return stages.peak
    finally:
        tracemalloc.stop()


def _print(result: dict) -> None:
    n, peaks = result["members"], result.get("peak_bytes", {})
    print(f"\n== {n:,} members on {result['database']}: {result['nodes']:,} nodes, {result['edges']:,} edges; "
          f"seeded in {result['seed_s']:.1f} s (not counted)")
    print(f"{'stage':34} {'seconds':>9} {'peak MiB':>9}")
    for group in ("stages_s", "metrics_s"):
        for name, seconds in result[group].items():
            peak = peaks.get(name)
            print(f"{name:34} {seconds:9.2f} {'' if peak is None else f'{peak / 2**20:9.1f}'}")
    print(f"{'FULL REPORT (load -> report JSON)':34} {result['report_s']:9.2f}")
    if any(name.startswith("export") for name in result["stages_s"]):
        print(f"{'  with every export':34} {result['report_with_exports_s']:9.2f}")
    if result["bare_s"]:
        for name, seconds in result["bare_s"].items():
            print(f"{'bare nx.' + name:34} {seconds:9.2f}")
        print(f"{'BARE NETWORKX CALLS':34} {result['bare_total_s']:9.2f}")
        print(f"overhead (full report / bare calls): {result['overhead']:.2f}  (goal <= 1.5)")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000], help="members per community")
    parser.add_argument("--database-url", help="also run on this database (EMPTIED first), e.g. PostgreSQL")
    parser.add_argument("--backend", choices=["parallel", "cugraph"], help="networkx backend to dispatch to")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare networkx calls")
    parser.add_argument("--no-exports", action="store_true", help="skip the exports (GraphML at 1M members is over 1 GB)")
    parser.add_argument("--exports-only", action="store_true",
                        help="only the graph exports: time, tracemalloc peak and size of each, networkx's GEXF writer beside ours")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    if args.backend:
        from graph.load import configure_backend

        configure_backend(args.backend)
    results = []
    for n in args.sizes:
        urls = ["sqlite:///" + str(Path(tempfile.mkdtemp(prefix="bench-graph-")) / "bench.db")]
        urls += [args.database_url] if args.database_url else []
        for url in urls:
            results.append(measure(url, n, args))
            if not args.exports_only:
                _print(results[-1])
    print("\ncost curve (full report, microseconds per edge):")
    for r in (r for r in results if "edges" in r):
        print(f"  {r['members']:>9,} members {r['database']:10} {r['edges']:>10,} edges  "
              f"{1e6 * r['report_s'] / max(1, r['edges']):8.1f} us/edge")
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
