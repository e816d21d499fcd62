"""Search benchmark on PostgreSQL: our search path against a bare SQL query on the same table.

    .venv/bin/python bench/search.py --database-url postgresql://postgres@127.0.0.1:5432/h_search
    .venv/bin/python bench/search.py --database-url ... --reuse      # keep the rows of an earlier run

1. Data: a fresh schema (the models' own, with the search index's triggers and GIN index)
   with 1,000,000 posts in 100 public spaces of 200 threads each, written by
   ``INSERT ... SELECT generate_series`` in the database (not through the API). Bodies are 12
   to 40 words drawn log-uniformly from a 3,000-word vocabulary (a Zipf-like spread: a few words
   in a third of the posts, most in a handful); 0.1% of posts hidden, 0.1% deleted. Vectors are
   written in the INSERT with the trigger off and the GIN index built afterwards (the same
   values the trigger writes: checked on a sample).
2. Queries: two words of mid frequency (ranks 5 to 200, the same random pairs for both),
   with a space filter, first page of 20, relevance order, by a member who muted one
   account. Ours: ``run_search`` (what ``GET /api/v1/search`` calls: visibility rules,
   ranking with recency, snippets) with the caller and the space loaded already; the same with
   loading them (an app context and two ORM loads, as a request does); and the whole endpoint
   through the Flask test client (token, session check, parsing, JSON). Bare: one SQL statement with the same tsquery on the same table: match, space filter,
   ``ts_rank_cd`` order, top 20, ``ts_headline`` of those 20. Alternated, p50 and p99 reported,
   and bare p50 / ours p50 (1.0: as fast as bare).
3. Post path: ``do_create_post`` + commit in batches, alternating the search-vector trigger on
   and off (``ALTER TABLE posts DISABLE TRIGGER``; the GIN index then gets NULL keys), on the
   1M-row table; reports wall time, PostgreSQL backend CPU and this process's CPU per post.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTS = 1_000_000
SPACES = 100
THREADS_PER_SPACE = 200
ACCOUNTS = 1_000
VOCABULARY = 3_000


def _config(url: str) -> dict:
    return {"DATABASE_URL": url, "SECRET_KEY": "bench-secret-that-is-long-enough-for-hs256", "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1, "LOG_LEVEL": "WARNING", "ACCESS_TOKEN_MINUTES": 600,
            "RATELIMIT_WRITE": "1000000/minute"}


def _words() -> list[str]:
    """A vocabulary of pronounceable made-up words (no stop words, no stemming collisions)."""
    rng = random.Random(7)
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(3)) + rng.choice("kmnt"))
    return sorted(words)


FRAGMENTS = 10_000


def generate(conn) -> None:
    """The rows, all in SQL but for 10,000 text fragments (a minute or two)."""
    words = _words()
    rng = random.Random(5)
    t0 = time.perf_counter()
    conn.execute("ALTER TABLE posts DISABLE TRIGGER posts_search_vector")
    conn.execute("DROP INDEX IF EXISTS ix_posts_search")
    # A body is two fragments of 6 to 20 words, each word of rank floor(V ** u) for uniform u: a
    # log-uniform (Zipf-like) spread, word n in about 1/n of the slots. 10,000 x 10,000 pairs.
    conn.execute("CREATE TEMP TABLE frag (n int PRIMARY KEY, t text)")
    with conn.cursor().copy("COPY frag (n, t) FROM STDIN") as copy:
        for n in range(FRAGMENTS):
            copy.write_row((n, " ".join(words[int(VOCABULARY ** rng.random()) - 1] for _ in range(rng.randint(6, 20)))))
    conn.execute("""INSERT INTO accounts (id, email, handle, display_name, password_hash, role, status, interests, created_at)
        SELECT i, 'b' || i || '@bench.example', 'bench_' || i, 'Bench ' || i, 'x', 'member', 'active', '[]', now()
        FROM generate_series(1, %s) i""", (ACCOUNTS,))
    conn.execute("INSERT INTO brands (id, name, description, created_at) VALUES (1, 'Bench', '', now())")
    conn.execute("INSERT INTO purposes (id, brand_id, kind, title, statement, tags, created_at) "
                 "VALUES (1, 1, 'life', 'Bench', '', '[]', now())")
    conn.execute("""INSERT INTO spaces (id, purpose_id, name, slug, description, visibility, last_seq, created_at,
                                        slow_mode_seconds, new_member_limits, search_config)
        SELECT s, 1, 'Space ' || s, 'space-' || s, '', 'public', %s, now(), 0, false, 'english'
        FROM generate_series(1, %s) s""", (POSTS // SPACES, SPACES))
    conn.execute("""INSERT INTO threads (id, space_id, title, author_id, created_at, last_activity_at, locked, pinned)
        SELECT t, (t - 1) %% %s + 1, 'Thread ' || t, t %% %s + 1, now(), now(), false, false
        FROM generate_series(1, %s) t""", (SPACES, ACCOUNTS, SPACES * THREADS_PER_SPACE))
    conn.execute(f"""INSERT INTO posts (id, space_id, thread_id, seq, author_id, body, created_at, deleted, hidden,
                                       search_vector)
        SELECT i, (i - 1) % {SPACES} + 1, (i - 1) % {SPACES * THREADS_PER_SPACE} + 1, (i - 1) / {SPACES} + 1,
               i % {ACCOUNTS} + 1, body, now() - ({POSTS} - i) * interval '30 seconds', i % 1000 = 7, i % 1000 = 3,
               CASE WHEN i % 1000 = 7 THEN NULL ELSE to_tsvector('english', body) END
        FROM (SELECT i, a.t || ' ' || b.t AS body
              FROM generate_series(1, {POSTS}) i
              JOIN frag a ON a.n = i % {FRAGMENTS}
              JOIN frag b ON b.n = (i::bigint * 2654435761) % {FRAGMENTS}) g""")
    t1 = time.perf_counter()
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("CREATE INDEX ix_posts_search ON posts USING gin (search_vector)")
    conn.execute("ALTER TABLE posts ENABLE TRIGGER posts_search_vector")
    for table in ("accounts", "brands", "purposes", "spaces", "threads", "posts"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE posts")
    conn.execute("VACUUM ANALYZE threads")
    conn.execute("ANALYZE")
    conn.autocommit = False
    t2 = time.perf_counter()
    # The trigger writes what the INSERT above wrote.
    conn.execute("UPDATE posts SET body = body WHERE id % 997 = 0")
    same = conn.execute("SELECT bool_and(search_vector = to_tsvector('english', body)) FROM posts "
                        "WHERE id % 997 = 0 AND NOT deleted").fetchone()[0]
    conn.rollback()
    assert same, "the generated vectors differ from the trigger's"
    print(f"generated {POSTS:,} posts in {t1 - t0:.0f} s, GIN index and VACUUM ANALYZE in {t2 - t1:.0f} s")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    global POSTS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database of your own: its schema is replaced")
    parser.add_argument("--rows", type=int, default=POSTS, help="posts to generate (a multiple of 20,000)")
    parser.add_argument("--reuse", action="store_true", help="keep the rows of an earlier run")
    parser.add_argument("--queries", type=int, default=300, help="queries per contender")
    parser.add_argument("--posts", type=int, default=300, help="posts per batch of the post-path measure (x 6 batches)")
    args = parser.parse_args()

    import psycopg
    from flask_jwt_extended import create_access_token
    from sqlalchemy import text

    from app import create_app
    from community.conversations import search as search_service
    from community.conversations.service import do_create_post
    from community.models import Membership, PersonalFilter, PersonalFilterKind, Space, Thread
    from core.accounts import Account, LoginSession
    from core.extensions import db

    POSTS = args.rows
    url = args.database_url
    app = create_app(_config(url))
    raw_url = url.replace("postgresql+psycopg://", "postgresql://")
    if not args.reuse:
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            db.create_all()
            db.engine.dispose()
        with psycopg.connect(raw_url) as conn:
            generate(conn)

    words = _words()
    rng = random.Random(11)
    pairs = [(words[rng.randint(5, 200) - 1], words[rng.randint(5, 200) - 1]) for _ in range(args.queries)]
    space_ids = [rng.randint(1, SPACES) for _ in range(args.queries)]

    with app.app_context():
        me = db.session.get(Account, 1)
        if db.session.query(Membership).filter_by(account_id=me.id).count() == 0:
            db.session.add_all([Membership(space_id=s, account_id=me.id) for s in range(1, 6)])
            db.session.add(PersonalFilter(owner_id=me.id, target_id=2, kind=PersonalFilterKind.mute))
            db.session.commit()
        login = LoginSession(account_id=me.id)
        db.session.add(login)
        db.session.commit()
        token = create_access_token(identity=str(me.id), additional_claims={"sid": login.id})
    client = app.test_client()
    probe = client.get("/api/v1/search", query_string={"q": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert probe.status_code == 200, probe.get_json()

    bare_sql = """SELECT id, ts_headline('english', body, q, 'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12,
                         MaxFragments=2') FROM (
                    SELECT id, body, q FROM posts, websearch_to_tsquery('english', %s) q
                    WHERE space_id = %s AND search_vector @@ q
                    ORDER BY ts_rank_cd(search_vector, q) DESC, id DESC LIMIT 20) page"""

    def timed(fn, *a):
        start = time.perf_counter()
        result = fn(*a)
        return result, (time.perf_counter() - start) * 1000

    def ours(i: int) -> tuple[int, float]:  # the search path alone: the caller and the space are loaded already
        with app.app_context():
            account = db.session.get(Account, 1)
            space = db.session.get(Space, space_ids[i])
            page, ms = timed(search_service.run_search, account,
                             search_service.Search(q=" ".join(pairs[i]), space=space, limit=20))
            db.session.rollback()
            return len(page["items"]), ms

    def with_loads(i: int) -> tuple[int, float]:  # and loading the caller and the space, each time
        def work():
            with app.app_context():
                account = db.session.get(Account, 1)
                space = db.session.get(Space, space_ids[i])
                page = search_service.run_search(account, search_service.Search(q=" ".join(pairs[i]), space=space, limit=20))
                db.session.rollback()
                return len(page["items"])
        return timed(work)

    def via_http(i: int) -> tuple[int, float]:
        response, ms = timed(lambda: client.get("/api/v1/search", headers={"Authorization": f"Bearer {token}"},
                                                query_string={"q": " ".join(pairs[i]), "space_id": space_ids[i], "limit": 20}))
        assert response.status_code == 200, response.get_json()
        return len(response.get_json()["items"]), ms

    bare_conn = psycopg.connect(raw_url, autocommit=True)

    def bare(i: int) -> tuple[int, float]:
        rows, ms = timed(lambda: bare_conn.execute(bare_sql, (" ".join(pairs[i]), space_ids[i])).fetchall())
        return len(rows), ms

    contenders = {"ours (run_search)": ours, "ours (+ loading caller, space)": with_loads,
                  "ours (HTTP, test client)": via_http, "bare SQL": bare}
    for fn in contenders.values():  # warm caches and plans
        for i in range(10):
            fn(i)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    found: dict[str, list[int]] = {name: [] for name in contenders}
    for i in range(args.queries):
        for name, fn in contenders.items():
            hits, ms = fn(i)
            found[name].append(hits)
            times[name].append(ms)
    print(f"\n{args.queries} two-word queries with a space filter, first page of 20 (ms):")
    bare_p50 = statistics.median(times["bare SQL"])
    for name, values in times.items():
        p50, p99 = statistics.median(values), percentile(values, 99)
        print(f"  {name:30s} p50 {p50:6.2f}  p99 {p99:6.2f}  mean hits {statistics.mean(found[name]):5.1f}"
              + ("" if name == "bare SQL" else f"  speed vs bare {bare_p50 / p50:.2f}x"))
    with psycopg.connect(raw_url) as conn:
        plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + bare_sql, (" ".join(pairs[0]), space_ids[0])).fetchall()
        matches = conn.execute("SELECT count(*) FROM posts WHERE search_vector @@ websearch_to_tsquery('english', %s)",
                               (" ".join(pairs[0]),)).fetchone()[0]
    print(f"  (the first pair matches {matches:,} posts in all spaces; bare plan's last line: {plan[-1][0]})")

    # The post path with and without the search-vector trigger -----------------------------
    def backend_cpu(pid: int) -> float:
        """Seconds on CPU of the PostgreSQL backend (the scheduler's nanoseconds: finer than /proc/PID/stat's ticks)."""
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9

    results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    with app.app_context():
        account = db.session.get(Account, 1)
        for batch in range(6):
            indexed = batch % 2 == 0
            db.session.execute(text(f"ALTER TABLE posts {'ENABLE' if indexed else 'DISABLE'} TRIGGER posts_search_vector"))
            db.session.commit()
            pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
            db.session.commit()
            cpu0, t0, own0 = backend_cpu(pid), time.perf_counter(), time.process_time()
            for n in range(args.posts):
                thread = db.session.get(Thread, 1 + n % THREADS_PER_SPACE * SPACES)
                space = db.session.get(Space, thread.space_id)
                body = " ".join(rng.choice(words) for _ in range(25))
                do_create_post(account, thread, space, body, None)
                db.session.commit()
            wall, cpu = (time.perf_counter() - t0) / args.posts, (backend_cpu(pid) - cpu0) / args.posts
            own = (time.process_time() - own0) / args.posts  # this process: the web worker's share of a post
            results[indexed].append((wall * 1e6, cpu * 1e6, own * 1e6))
        db.session.execute(text("ALTER TABLE posts ENABLE TRIGGER posts_search_vector"))
        db.session.commit()
    print(f"\npost path (do_create_post + commit, 25-word bodies, {3 * args.posts} posts each way, 1M-row table):")
    for indexed in (False, True):
        wall, cpu, own = (statistics.median(r[i] for r in results[indexed]) for i in range(3))
        print(f"  search vector {'kept  ' if indexed else 'off   '} {wall:7.0f} us/post wall, {cpu:6.0f} us/post PostgreSQL CPU,"
              f" {own:6.0f} us/post Python CPU")
    (wall_on, cpu_on, own_on), (wall_off, cpu_off, own_off) = (
        tuple(statistics.median(r[i] for r in results[k]) for i in range(3)) for k in (True, False))
    print(f"  cost of keeping the index: {100 * (wall_on / wall_off - 1):+.1f}% wall, +{cpu_on - cpu_off:.0f} us PostgreSQL CPU"
          f" per post ({100 * (cpu_on / cpu_off - 1):+.1f}% of PostgreSQL's, "
          f"{100 * ((cpu_on + own_on) / (cpu_off + own_off) - 1):+.1f}% of the post path's CPU, Python and PostgreSQL together)")


if __name__ == "__main__":
    main()
