"""A report's people table: storing it, and paging through it, against bare SQL on the same table.

    .venv/bin/python bench/report_people.py                      # SQLite, 100,000 people
    .venv/bin/python bench/report_people.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

A synthetic analysed graph of ``--people`` nodes (the attributes ``graph.reports.annotate`` writes)
is stored by ``graph.tasks._store_people`` (ours: rows built from the graph, then written) and, for
the baseline, the same tuples already built by one bare ``COPY`` (PostgreSQL) or ``executemany``
(SQLite) on the DBAPI connection. Then pages of 50 through ``GET /reports/{id}/people``
(the Flask test client, as an analyst: authentication, validation, the query, serialisation),
for a few sorts and filters, each page following the last one's cursor; the same pages through the
listing's query path alone (``core.listing``: statement, run, rows as JSON values); and the same pages as
hand-written keyset SQL on the DBAPI cursor (same columns, condition and order; no authentication, no
JSON). Prints p50 and p99 per listing and the ratios.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LISTINGS = {  # name -> (query string, bare SQL condition, order (sort column, key), descending); the key runs ascending
    "influence": ({}, "", ("pagerank", "id"), True),
    "rank": ({"sort": "rank"}, "AND opportunity_rank IS NOT NULL", ("opportunity_rank", "id"), False),
    "community 3 by influence": ({"community": 3}, "AND community = 3", ("pagerank", "id"), True),
    "light, rank 100-5000": ({"sort": "rank", "segment": "light", "rank_min": 100, "rank_max": 5000},
                             "AND segment = 'light' AND opportunity_rank BETWEEN 100 AND 5000 "
                             "AND opportunity_rank IS NOT NULL", ("opportunity_rank", "id"), False),
}


def synthetic_graph(n: int, seed: int = 1):
    import networkx as nx

    rng, G = random.Random(seed), nx.Graph()
    candidates = [v for v in range(n) if rng.random() < 0.6]
    ranks = {v: i for i, v in enumerate(sorted(candidates, key=lambda _v: rng.random()), start=1)}
    for v in range(n):
        kind = "nonuser" if rng.random() < 0.2 else "member"
        G.add_node(f"a:{v}" if kind == "member" else f"s:{v}", kind=kind, label=f"person {v}",
                   segment="nonuser" if kind == "nonuser" else rng.choice(("heavy", "medium", "light", "lapsed")),
                   pyramid_level=rng.randint(0, 6), community=rng.randint(0, 40), pagerank=rng.random() / n,
                   betweenness=rng.random() / 10, core_number=rng.randint(0, 8), opportunity_rank=ranks.get(v, 0),
                   opportunity_score=rng.random() if v in ranks else 0.0, clv=rng.random() * 300,
                   purpose_alignment=rng.random(), stakeholder_id=v if kind == "nonuser" else None)
    return G


def main() -> None:
    from bench._common import bare_keyset_pages, page_through, paging_app, paging_args, paging_line, query_pages

    args = paging_args(__doc__)
    url = args.url

    from core.accounts import Account, GlobalRole
    from core.extensions import db
    from core.rows import refresh_statistics
    from graph.api import REPORT_PEOPLE
    from graph.models import GraphReport, GraphReportGraph, ReportPerson, ReportStatus
    from graph.reports import PEOPLE_COLUMNS, people_rows
    from graph.schemas import ReportPersonOut
    from graph.tasks import _store_people
    from purpose.models import Brand
    from tests.helpers import register

    app = paging_app(url)
    G = synthetic_graph(args.people)
    client = app.test_client()
    admin = register(client, "bench_admin")
    with app.app_context():
        db.session.get(Account, admin.id).role = GlobalRole.admin
        brand = Brand(name="bench")
        db.session.add(brand)
        db.session.flush()
        reports = [GraphReport(brand_id=brand.id, status=ReportStatus.done, params={}) for _ in range(2)]
        db.session.add_all(reports)
        db.session.flush()
        ours_id, bare_id = reports[0].id, reports[1].id
        db.session.add(GraphReportGraph(report_id=ours_id, nodes=len(G), edges=0, data=b""))
        db.session.commit()

        start = time.perf_counter()
        _store_people(ours_id, G)
        db.session.commit()
        ours_store = time.perf_counter() - start

        tuples = [(bare_id, *row) for row in people_rows(G)]
        columns = ("report_id", *PEOPLE_COLUMNS)
        raw = db.engine.raw_connection()
        start = time.perf_counter()
        cur = raw.cursor()
        if url.startswith("postgresql"):
            with cur.copy(f"COPY report_people ({', '.join(columns)}) FROM STDIN") as copy:
                for row in tuples:
                    copy.write_row(row)
        else:
            cur.executemany(f"INSERT INTO report_people ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                            tuples)
        raw.commit()
        bare_store = time.perf_counter() - start
        raw.close()
        refresh_statistics(ReportPerson.__tablename__)  # as the report's store does after its commit
        assert db.session.query(ReportPerson).filter_by(report_id=ours_id).count() == args.people

    print(f"\nreport people table, {args.people:,} people ({url.split(':', 1)[0]})")
    print(f"store: ours {ours_store:.2f} s, bare {'COPY' if url.startswith('postgresql') else 'executemany'} of the same tuples {bare_store:.2f} s, ratio ours/bare time {ours_store / bare_store:.2f}")
    columns = ", ".join(ReportPersonOut().fields)
    for name, (query, condition, order, descending) in LISTINGS.items():
        http = page_through(admin, f"/api/v1/reports/{ours_id}/people", query, args.pages)
        ours = query_pages(app, REPORT_PEOPLE, ours_id, {"sort": "influence", **query}, args.pages, f"bench:{name}")
        bare = bare_keyset_pages(app, f"{columns} FROM report_people", f"report_id = {ours_id} {condition}", order,
                                 descending, len(http), key_descending=False)
        print(paging_line(name, ours, http, bare, 26))


if __name__ == "__main__":
    main()
