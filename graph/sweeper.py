"""Taking over a dead run's report when its lease lapses, not when the broker gets round to it.

A Celery worker killed mid-report leaves its task unacknowledged; Redis hands it out again
only after the visibility timeout, and kombu looks for such tasks about every 100 s, so
the report waited between a minute and an hour whatever its lease said. A task lost before
any worker took it (a dispatch while Redis was down) waited for ever. So every worker runs
a sweeper: every ``GRAPH_REPORT_SWEEP_SECONDS`` it dispatches again

- a ``running`` report whose lease lapsed (its run stopped renewing it: it died), and
- any ``queued`` or ``running`` report nobody has taken for a whole lease since it was
  created or last swept (its task was lost, or the run it was swept for died too).

Each report is marked in the same conditional UPDATE that decides it (``lease_owner =
'sweep'``, ``lease_until = now``), so of several workers' sweepers one dispatches it, once
per lease; the mark leaves it claimable at once. A dispatch more than needed is harmless:
the claim lets one run compute, and the others find it held or finished.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, or_, select, update

from core.extensions import db, utcnow
from graph.models import GraphReport, ReportStatus
from graph.tasks import dispatch

log = logging.getLogger(__name__)
SWEEP_OWNER = "sweep"


def sweep(lease_seconds: float) -> list[int]:
    """Dispatch the reports that are due again (see above); returns their ids."""
    now = utcnow()
    long_ago = now - timedelta(seconds=lease_seconds)
    lapsed = (GraphReport.status == ReportStatus.running) & (GraphReport.lease_until < now) & (
        GraphReport.lease_owner != SWEEP_OWNER)
    forgotten = GraphReport.status.in_([ReportStatus.queued, ReportStatus.running]) & (
        func.coalesce(GraphReport.lease_until, GraphReport.created_at) < long_ago)
    due = or_(lapsed, forgotten)
    swept = []
    for report_id in db.session.scalars(select(GraphReport.id).where(due).order_by(GraphReport.id)).all():
        marked = db.session.execute(
            update(GraphReport).where(GraphReport.id == report_id, due)
            .values(lease_owner=SWEEP_OWNER, lease_until=now).execution_options(synchronize_session=False)).rowcount
        db.session.commit()  # the mark first: another worker's sweeper now leaves this report alone
        if marked:
            dispatch(db.session.get(GraphReport, report_id))
            swept.append(report_id)
    if swept:
        log.warning("Reports %s dispatched again: their run died or their task was lost", swept)
    return swept


def start_sweeper(app: Flask) -> threading.Thread:
    """Sweep every ``GRAPH_REPORT_SWEEP_SECONDS`` in a daemon thread of this (worker) process."""
    interval = app.config["GRAPH_REPORT_SWEEP_SECONDS"]

    def run() -> None:
        while not stop.wait(interval):
            try:
                with app.app_context():
                    sweep(app.config["GRAPH_REPORT_LEASE_SECONDS"])
            except Exception:  # the database or broker out of reach for a moment: the next round tries again
                log.exception("Report sweep failed; the next one tries again")

    stop = threading.Event()
    thread = threading.Thread(target=run, daemon=True, name="report-sweeper")
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
