"""flask evaluate-ranking: planted truth seeded into the database, ranked by reports run as the API runs them."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from core.extensions import db
from devtools.evaluate import scores
from graph.models import GraphReport, ReportStatus


def test_evaluate_ranking_prints_precision_and_recall_per_seed_and_kind_then_means(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["evaluate-ranking", "--members", "1000", "--seeds", "4242"])  # a seed no test seeds
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    pattern = r"precision@50 ([01]\.\d{3})  recall@50 ([01]\.\d{3})"
    for path in ("database", "in-memory"):
        for kind in ("planted members", "planted nonusers"):
            line = next(x for x in lines if x.startswith("seed 4242") and path in x and kind in x)
            precision, recall = map(float, re.search(pattern, line).groups())
            assert 0.0 <= precision <= 1.0 and 0.0 <= recall <= 1.0
            mean = next(x for x in lines if x.startswith(f"mean {path}") and kind in x)
            assert re.search(pattern, mean).groups() == (f"{precision:.3f}", f"{recall:.3f}")  # one seed: its own
    assert "objected or no-contact people ranked: none" in result.output
    with app.app_context():  # the report was stored and run like a requested one
        assert db.session.scalar(select(func.count()).select_from(GraphReport).where(
            GraphReport.status == ReportStatus.done)) == 1
    again = runner.invoke(args=["evaluate-ranking", "--members", "1000", "--seeds", "4242", "--no-in-memory"])
    assert again.exit_code == 0, again.output  # the community seeded before is reused, not refused
    assert [x for x in lines if "database" in x and x.startswith("seed")] == \
        [x for x in again.output.splitlines() if "database" in x and x.startswith("seed")]


def test_bad_seeds_are_refused(app):
    result = app.test_cli_runner().invoke(args=["evaluate-ranking", "--seeds", "1,x"])
    assert result.exit_code != 0 and "seeds" in result.output


def test_precision_is_over_the_first_min_k_planted_entries_of_each_kind():
    kinds = {f"a:{i}": "member" for i in range(10)} | {f"s:{i}": "nonuser" for i in range(10)}
    order = ["a:0", "s:0", "a:9", "a:1", "s:9", "s:1"]  # members a:0, a:9, a:1; nonusers s:0, s:9, s:1
    member, nonuser = scores(order, kinds, {"a:0", "a:1", "s:0", "s:1", "s:2"}, k=2)
    assert (member.planted, member.precision, member.recall, member.overall) == (2, 0.5, 0.5, 1)
    assert (nonuser.planted, nonuser.precision, nonuser.recall, nonuser.overall) == (3, 0.5, 1 / 3, 1)
