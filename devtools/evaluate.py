"""``flask evaluate-ranking``: how well the platform finds planted people worth engaging, end to end.

For every seed, a synthetic community with planted truth (``graph.synthetic``) is written into the
configured database by ``devtools.seed.seed_synthetic`` (the ``seed-demo`` path; a brand seeded
earlier with the same size and seed is reused), a report is stored and run by the functions the
API and its workers use (``graph.api.new_report``, ``graph.tasks.execute_report``), and the
report's ranking is compared with the truth, per kind of planted person (members, nonusers):

- ``precision@k``: the share of planted people among the first ``min(k, planted)`` entries of that
  kind (so a kind with fewer than k planted people can still reach 1.0);
- ``recall@k``: the share of the planted people of that kind found among its first k entries;
- and how many of them are among the first k entries of the whole ranking (both kinds together).

The same is measured on the generator's own graph (``in-memory``), so the line shows what the
database path loses. Ranked entries are the report's (``top`` = ``MAX_TOP``), read per kind.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import click
from sqlalchemy import select

from core.accounts import Account
from core.cli import with_schema
from core.extensions import db
from graph import metrics
from graph.opportunities import rank_opportunities
from devtools.seed import BrandExists, seed_synthetic, synthetic_brand_name
from graph.synthetic import generate_community
from purpose.models import Brand, Stakeholder

KINDS = (("member", "planted members"), ("nonuser", "planted nonusers"))
#: Entries a report lists at most (``ReportArgs.top``): both kinds' first k are read from them.
MAX_TOP = 500
ADMIN_EMAIL = "admin@demo.example"


@dataclass
class KindScore:
    kind: str
    planted: int
    precision: float
    recall: float
    overall: int  # planted people of the kind among the first k entries of the whole ranking


def scores(order: list[str], kinds: dict[str, str], planted: set[str], k: int) -> list[KindScore]:
    """precision@k and recall@k of ``order`` (node keys, best first) per kind (``kinds``: node -> kind)."""
    out = []
    for kind, _label in KINDS:
        wanted = {v for v in planted if kinds.get(v) == kind}
        ranked = [v for v in order if kinds.get(v) == kind]
        if not wanted:
            out.append(KindScore(kind, 0, float("nan"), float("nan"), 0))
            continue
        head = min(k, len(wanted))
        out.append(KindScore(kind, len(wanted), len(set(ranked[:head]) & wanted) / head,
                             len(set(ranked[:k]) & wanted) / len(wanted), len(set(order[:k]) & wanted)))
    return out


def _node_of(brand_id: int) -> dict[str, str]:
    """Synthetic node key -> database node key, from the stakeholder rows seeding wrote (external id = key)."""
    rows = db.session.execute(select(Stakeholder.external_id, Stakeholder.account_id, Stakeholder.id).where(
        Stakeholder.brand_id == brand_id, Stakeholder.source == "synthetic"))
    return {key: f"a:{account}" if account else f"s:{sid}" for key, account, sid in rows}


def _seeded(n_members: int, seed: int) -> tuple[int, dict, object]:
    """(brand id, node map, when it was seeded): seeds the community, or finds the one seeded before."""
    name = synthetic_brand_name(n_members, seed)
    try:
        result = seed_synthetic(n_members, seed=seed, name=name)
        brand_id, node_of = result.brand_id, result.node_of
    except BrandExists:
        brand_id = db.session.scalar(select(Brand.id).where(Brand.name == name))
        node_of = _node_of(brand_id)
    return brand_id, node_of, db.session.scalar(select(Brand.created_at).where(Brand.id == brand_id))


def report_ranking(brand_id: int, as_of, *, seed: int = 0) -> list[dict]:
    """The opportunities of a brand report stored and run as the API's request and worker do."""
    from graph.api import new_report
    from graph.models import GraphReport
    from graph.tasks import execute_report

    admin = db.session.scalar(select(Account).where(Account.email == ADMIN_EMAIL))
    report = new_report(admin, brand_id, {"brand_id": brand_id, "seed": seed, "top": MAX_TOP, "as_of": as_of})
    outcome = execute_report(report.id)
    db.session.expire_all()
    stored = db.session.get(GraphReport, report.id)
    if outcome != "done":
        raise click.ClickException(f"report {report.id} ended {outcome}: {stored.error}")
    return stored.result["opportunities"]


def evaluate_seed(n_members: int, seed: int, *, k: int = 50, in_memory: bool = True) -> dict:
    """Scores of one seed through the database (and on the generator's graph): ``{"db": [...], "memory": [...]}``."""
    started = time.perf_counter()
    brand_id, node_of, seeded_at = _seeded(n_members, seed)
    G, truth = generate_community(n_members, n_spaces=max(2, n_members // 250), seed=seed)
    planted = truth["planted_worth_engaging"]
    kinds = {v: G.nodes[v]["kind"] for v in G}
    back = {db_key: key for key, db_key in node_of.items()}
    ranked = report_ranking(brand_id, seeded_at)
    order = [back.get(e["node"], e["node"]) for e in ranked]
    out = {"db": scores(order, kinds, planted, k), "seconds": 0.0}
    if in_memory:
        analysis = metrics.analyse(G, seed=0)
        memory = rank_opportunities(G, core_number=analysis["core_number"], community_of=analysis["community_of"],
                                    proximity=analysis["proximity"], limit=None)
        out["memory"] = scores([e["node"] for e in memory], kinds, planted, k)
    never = truth["objected"] | truth["style_none"]
    out["never_ranked"] = not never & set(order)
    out["seconds"] = time.perf_counter() - started
    return out


def _line(seed, path: str, score: KindScore, k: int) -> str:
    label = dict(KINDS)[score.kind]
    return (f"seed {seed:<6} {path:<9} {label:<17} (n={score.planted:>4})  precision@{k} {score.precision:.3f}  "
            f"recall@{k} {score.recall:.3f}  (in the overall top {k}: {score.overall})")


@click.command("evaluate-ranking")
@click.option("--members", default=5000, show_default=True, help="Members of each synthetic community (at least 1,000).")
@click.option("--seeds", default="101,102,103", show_default=True, help="Comma-separated seeds, one community each.")
@click.option("--k", default=50, show_default=True, help="Cut-off of precision@k and recall@k.")
@click.option("--no-in-memory", is_flag=True, help="Skip the comparison on the generator's own graph.")
@with_schema
def evaluate_ranking_command(members: int, seeds: str, k: int, no_in_memory: bool) -> None:
    """Seed synthetic communities with planted truth into the database, run a report on each through the
    API's code path, and print precision@k and recall@k of the planted members and nonusers."""
    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError:
        raise click.BadParameter("seeds are integers separated by commas", param_hint="--seeds")
    if not seed_list:
        raise click.BadParameter("give at least one seed", param_hint="--seeds")
    if members < 1000:
        raise click.BadParameter("at least 1,000 members (smaller communities plant too few people)", param_hint="--members")
    results = {}
    for seed in seed_list:
        result = evaluate_seed(members, seed, k=k, in_memory=not no_in_memory)
        results[seed] = result
        for path in ("db", "memory"):
            for score in result.get(path, ()):
                click.echo(_line(seed, "database" if path == "db" else "in-memory", score, k))
        click.echo(f"seed {seed:<6} objected or no-contact people ranked: {'none' if result['never_ranked'] else 'SOME'}"
                   f"  ({result['seconds']:.0f} s)")
    for path in ("db", "memory"):
        for i, (kind, label) in enumerate(KINDS):
            rows = [r[path][i] for r in results.values() if path in r and r[path][i].planted]
            if rows:
                click.echo(f"mean {'database' if path == 'db' else 'in-memory':<9} {label:<17}  "
                           f"precision@{k} {statistics.fmean(r.precision for r in rows):.3f}  "
                           f"recall@{k} {statistics.fmean(r.recall for r in rows):.3f}")
