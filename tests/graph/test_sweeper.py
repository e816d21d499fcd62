"""The report sweeper (graph/sweeper.py): a dead run's report is dispatched again when its lease
lapses, a lost task's report after one lease, each once per lease; live and fresh ones are left alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from core.extensions import db, utcnow
from graph.models import GraphReport, ReportStatus
from graph.sweeper import sweep
from graph.tasks import claim
from tests.graph.test_reports_api import talk  # noqa: F401  (fixture)
from tests.graph.test_tasks import queued, row

LEASE = 30


def test_the_sweeper_takes_over_dead_and_forgotten_reports_once_each(app, talk, finished):  # noqa: F811
    app.config["GRAPH_REPORT_LEASE_SECONDS"] = LEASE
    live, dead, fresh, lost = (queued(app, talk) for _ in range(4))
    with app.app_context():
        assert claim(live, "live-worker") == "claimed"  # renewing its lease: not touched
        assert claim(dead, "killed-worker") == "claimed"
        now = utcnow()
        db.session.execute(update(GraphReport).where(GraphReport.id == dead).values(lease_until=now - timedelta(seconds=1)))
        # queued for longer than a lease and never taken: its task was lost (a dispatch while Redis was down)
        db.session.execute(update(GraphReport).where(GraphReport.id == lost).values(created_at=now - timedelta(seconds=2 * LEASE)))
        db.session.commit()
        assert sweep(LEASE) == [dead, lost]
        assert sweep(LEASE) == []  # marked: another worker's sweeper does not dispatch them again
    for report_id in (dead, lost):
        finished(report_id)
    reports = {name: row(app, rid) for name, rid in (("live", live), ("dead", dead), ("fresh", fresh), ("lost", lost))}
    assert (reports["dead"].status, reports["dead"].attempts) == (ReportStatus.done, 2)  # taken over, stored once
    assert (reports["lost"].status, reports["lost"].attempts) == (ReportStatus.done, 1)
    assert (reports["live"].status, reports["live"].lease_owner) == (ReportStatus.running, "live-worker")
    assert (reports["fresh"].status, reports["fresh"].lease_owner) == (ReportStatus.queued, None)
