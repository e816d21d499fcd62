"""People snapshots: building one for a brand of 100,000 people, and paging the people listing from
it, against bare SQL on the same table in the same run.

    .venv/bin/python bench/people_snapshot.py                      # SQLite, 100,000 people
    .venv/bin/python bench/people_snapshot.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

The brand's people come in through the import path (``purpose/imports.py``): ``--people``
stakeholders from a CSV (60 % customers with names), and 1 to 6 purchases for 60 % of them over two
years from JSON Lines. Then:

* today's per-request path once (``build_profiles``: what every ``GET /brands/{id}/stakeholders``
  costs), and a snapshot build (``purpose.snapshots.execute_build``: the same profiles, plus rows and
  their ``COPY``/``executemany``, in the caller's thread as the background task runs it);
* pages of 50 through ``GET /brands/{id}/people`` (the Flask test client, as the brand's manager:
  authentication, validation, the snapshot's freshness check, the query, serialisation) for a few sorts
  and filters, each page following the last one's cursor; the same pages through the listing's query
  path alone (``core.listing``: statement, run, rows as JSON values); and the same pages as hand-written
  keyset SQL on the DBAPI cursor (same columns, condition and order; no authentication, no JSON). Prints
  p50 and p99 per listing and the ratios;
* Flask's floor: a bare Flask app's route answering a page of 50 computed beforehand (no authentication,
  validation or database), through the test client as ours is measured. What any Flask endpoint pays
  before it reads its page: the bare query inside such a route would rate at bare / (bare + floor) of
  its own rate, the most a whole request of this stack could reach.
"""

from __future__ import annotations

import gc
import io
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

def listings(now) -> dict:
    """name -> (query string, bare SQL condition, bare order (sort column, key), descending). The last
    three are the goal's shape: two filters and a sort."""
    year_ago = now - timedelta(days=365)
    return {
        "by id": ({}, "", ("stakeholder_id",), False),
        "recency": ({"sort": "recency"}, "AND recency_days IS NOT NULL", ("recency_days", "stakeholder_id"), False),
        "last active": ({"sort": "last_active"}, "AND last_active_at IS NOT NULL", ("last_active_at", "stakeholder_id"), True),
        "clv": ({"sort": "clv"}, "AND clv IS NOT NULL", ("clv", "stakeholder_id"), True),
        "light, active in the year, by last active": (
            {"sort": "last_active", "segment": "light", "active_after": year_ago},
            f"AND segment = 'light' AND last_active_at >= '{year_ago.isoformat()}' AND last_active_at IS NOT NULL",
            ("last_active_at", "stakeholder_id"), True),
        "medium, CLV >= 10, by recency": (
            {"sort": "recency", "segment": "medium", "clv_min": 10},
            "AND segment = 'medium' AND clv >= 10 AND recency_days IS NOT NULL", ("recency_days", "stakeholder_id"), False),
        "heavy, CLV >= 50, by CLV": (
            {"sort": "clv", "segment": "heavy", "clv_min": 50}, "AND segment = 'heavy' AND clv >= 50 AND clv IS NOT NULL",
            ("clv", "stakeholder_id"), True),
    }


def import_people(brand_id: int, n: int, seed: int = 1) -> None:
    from core.extensions import utcnow
    from purpose.imports import import_stakeholders, import_touchpoints

    rng, now = random.Random(seed), utcnow()
    rows = ["external_id,kind,display_name"]
    for i in range(n):
        rows.append(f"p{i},{'customer' if rng.random() < 0.6 else 'prospect'},Person {i}")
    import_stakeholders(io.StringIO("\n".join(rows) + "\n"), "csv", brand_id=brand_id, source="crm")
    buys = []
    for i in range(n):
        if rng.random() < 0.6:
            for j in range(rng.randint(1, 6)):
                when = now - timedelta(days=rng.uniform(0, 730))
                buys.append(json.dumps({"external_id": f"b{i}-{j}", "stakeholder_external_id": f"p{i}", "kind": "purchase",
                                        "occurred_at": when.isoformat(), "amount": round(rng.uniform(5, 300), 2)}))
    import_touchpoints(io.StringIO("\n".join(buys) + "\n"), "jsonl", brand_id=brand_id, source="crm")


def main() -> None:
    from bench._common import (bare_keyset_pages, flask_floor, page_through, paging_app, paging_args, paging_figures,
                               paging_line, query_pages)

    args = paging_args(__doc__)
    url = args.url

    from core.extensions import db, utcnow
    from purpose.models import Brand, BrandStaff, PeopleSnapshot, StaffRole
    from purpose.profiles import Scope, build_profiles
    from purpose.people_api import PEOPLE, PEOPLE_COLUMNS
    from purpose.snapshots import execute_build
    from tests.helpers import register

    app = paging_app(url)
    client = app.test_client()
    manager = register(client, "bench_manager")
    with app.app_context():
        brand = Brand(name="bench")
        db.session.add(brand)
        db.session.flush()
        brand_id = brand.id
        db.session.add(BrandStaff(brand_id=brand_id, account_id=manager.id, role=StaffRole.manager))
        db.session.commit()
        start = time.perf_counter()
        import_people(brand_id, args.people)
        imported = time.perf_counter() - start

        start = time.perf_counter()
        profiles, model = build_profiles(Scope(brand_id, None, utcnow()))
        per_request = time.perf_counter() - start
        clv_status = model.status
        del profiles, model  # a web process does not hold them: their objects would slow every collection below
        gc.collect()
        db.session.commit()

        snapshot = PeopleSnapshot(brand_id=brand_id, lease_owner="bench", lease_until=utcnow() + timedelta(hours=1))
        db.session.add(snapshot)
        db.session.commit()
        start = time.perf_counter()
        outcome = execute_build(snapshot.id, "bench")
        build = time.perf_counter() - start
        assert outcome == "ready", outcome
        snapshot_id = snapshot.id
        db.session.remove()

    print(f"\npeople snapshot, {args.people:,} people ({url.split(':', 1)[0]}), CLV model {clv_status}")
    print(f"import (stakeholders and purchases): {imported:.1f} s")
    print(f"profiles per request today (build_profiles): {per_request:.2f} s; snapshot build (profiles + rows + store): "
          f"{build:.2f} s, ratio build/profiles {build / per_request:.2f}")
    columns = ", ".join(PEOPLE_COLUMNS)
    out = {"people": args.people, "database": url.split(":", 1)[0], "clv_model": clv_status, "import_seconds": imported,
           "profiles_seconds": per_request, "build_seconds": build, "listings": {}}
    for name, (query, condition, order, descending) in listings(utcnow()).items():
        def same_snapshot(body):
            assert body["snapshot"]["id"] == snapshot_id, body

        text = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in query.items()}
        http = page_through(manager, f"/api/v1/brands/{brand_id}/people", text, args.pages, same_snapshot)
        ours = query_pages(app, PEOPLE, snapshot_id, query, args.pages, f"bench:{name}")
        bare = bare_keyset_pages(app, f"{columns} FROM snapshot_people", f"snapshot_id = {snapshot_id} {condition}", order,
                                 descending, len(http))
        print(paging_line(name, ours, http, bare, 42))
        out["listings"][name] = {**paging_figures(ours, http, bare), "filters": len(query) - ("sort" in query)}
    first_page = manager.get(f"/api/v1/brands/{brand_id}/people", query_string={"limit": 50}).get_json()
    floor = statistics.median(flask_floor(first_page, 300))
    out["flask_floor_ms"] = floor * 1e3
    reach = [l["bare"]["p50_ms"] / (l["bare"]["p50_ms"] + floor * 1e3) for l in out["listings"].values()]
    print(f"Flask's floor (a bare Flask route answering a page of 50 computed beforehand: no authentication, validation "
          f"or database): p50 {floor * 1e3:.2f} ms; the bare query inside such a route would rate at "
          f"{min(reach):.2f}-{max(reach):.2f} of its own rate")
    start = time.perf_counter()
    response = manager.get(f"/api/v1/brands/{brand_id}/people/segments")
    segments = time.perf_counter() - start
    assert response.status_code == 200
    print(f"segments summary from the snapshot (GROUP BY): {segments * 1e3:.1f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({**out, "segments_ms": segments * 1e3}, indent=2))


if __name__ == "__main__":
    main()
