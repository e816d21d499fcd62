"""Direct-message post path against a community space's, in one process and one run.

    .venv/bin/python bench/direct.py                                   # SQLite, 400 posts each
    .venv/bin/python bench/direct.py --database-url postgresql://postgres@127.0.0.1:5432/bench

A message in a one-to-one is a post of the conversation's space, through the same REST post
path, plus the conversation's own check (one prebuilt query: the other person still there,
no block either way, not suspended). The baseline is a post in a public space by a member.
Posts alternate between the two so that both see the same machine load; each is one full
HTTP request through the Flask test client (authentication, validation, commit). The schema
is made with ``create_all`` on the given database: use an empty or throwaway one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "direct.db")

    from sqlalchemy import text

    from app import create_app
    from core.accounts import Account, GlobalRole
    from core.extensions import db

    config = {"DATABASE_URL": url, "SECRET_KEY": "bench-secret-that-is-long-enough-for-hs256", "ARGON2_TIME_COST": 1,
              "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1, "RATELIMIT_WRITE": "1000000/minute",
              "RATELIMIT_REGISTER": "1000/minute", "LOG_LEVEL": "WARNING"}
    app = create_app(config)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        db.create_all()
    client = app.test_client()

    def register(handle):
        body = {"email": f"{handle}@example.com", "handle": handle, "display_name": handle, "password": "a long bench password"}
        data = client.post("/api/v1/auth/register", json=body).get_json()
        return data["account"]["id"], {"Authorization": f"Bearer {data['access_token']}"}

    (admin_id, admin), (_ann_id, ann), (_ben_id, ben) = register("bench_admin"), register("ann"), register("ben")
    with app.app_context():
        db.session.get(Account, admin_id).role = GlobalRole.admin
        db.session.commit()
    brand = client.post("/api/v1/brands", json={"name": "Bench"}, headers=admin).get_json()
    purpose = client.post(f"/api/v1/brands/{brand['id']}/purposes", json={"kind": "life", "title": "Run"}, headers=admin).get_json()
    space = client.post(f"/api/v1/purposes/{purpose['id']}/spaces", json={"name": "S", "slug": "s"}, headers=admin).get_json()
    client.post(f"/api/v1/spaces/{space['id']}/join", headers=ann)
    thread = client.post(f"/api/v1/spaces/{space['id']}/threads", json={"title": "t", "body": "b"}, headers=ann).get_json()
    conversation = client.post("/api/v1/conversations", json={"handles": ["ben"]}, headers=ann).get_json()
    targets = {"space": f"/api/v1/threads/{thread['id']}/posts", "direct": f"/api/v1/conversations/{conversation['id']}/messages"}
    del ben  # Ben only receives

    times: dict[str, list[float]] = {"space": [], "direct": []}
    for i in range(args.posts + 20):
        for name, path in targets.items():
            start = time.perf_counter()
            response = client.post(path, json={"body": f"message {i}"}, headers=ann)
            elapsed = time.perf_counter() - start
            assert response.status_code == 201, response.get_json()
            if i >= 20:  # warm-up left out
                times[name].append(elapsed)
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"{url.split(':')[0]}: {args.posts} posts each, median per REST post: "
          f"space {medians['space']:.2f} ms, direct {medians['direct']:.2f} ms, "
          f"ratio direct/space {medians['direct'] / medians['space']:.2f}")


if __name__ == "__main__":
    main()
