"""Report runs: idempotent, claimed once, taken over after a lapsed lease, stored once, cancelled,
timed out; and (with TEST_REDIS_URL) a real Celery worker killed mid-report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from core.extensions import db, utcnow
from graph.models import GraphReport, GraphReportGraph, ReportStatus
from graph.tasks import Heartbeat, Run, StopRun, claim, execute_report, resume_embedded, store
from tests.helpers import TEST_REDIS_URL, base_config, needs_redis
from tests.graph.test_reports_api import run, talk  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]


def queued(app, world, **params) -> int:
    """A report row as the API leaves it before any worker has taken it (requested by the analyst,
    who sees none of the brand's private spaces)."""
    with app.app_context():
        report = GraphReport(brand_id=world["brand"], requested_by=world["analyst"].id,
                             params={"seed": 0, "top": 5, "private_spaces": [], **params})
        db.session.add(report)
        db.session.commit()
        return report.id


def row(app, report_id) -> GraphReport:
    with app.app_context():
        report = db.session.get(GraphReport, report_id)
        db.session.expunge(report)
        return report


def stored_graphs(app, report_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(GraphReportGraph).where(GraphReportGraph.report_id == report_id))


def test_a_done_report_is_not_computed_again(app, talk, finished):  # noqa: F811
    report = run(talk["analyst"], finished, brand_id=talk["brand"])
    before = row(app, report["id"])
    with app.app_context():
        assert execute_report(report["id"]) == "finished"
    after = row(app, report["id"])
    assert (after.status, after.attempts, after.finished_at, after.result) == (
        ReportStatus.done, 1, before.finished_at, before.result)
    assert stored_graphs(app, report["id"]) == 1


def test_a_second_delivery_while_the_first_runs_does_nothing(app, talk):  # noqa: F811
    report_id = queued(app, talk)
    with app.app_context():
        assert claim(report_id, "first-worker") == "claimed"
        assert execute_report(report_id, owner="second-worker") == "held"
    report = row(app, report_id)
    assert (report.status, report.lease_owner, report.attempts) == (ReportStatus.running, "first-worker", 1)


def test_a_lapsed_lease_is_taken_over_and_the_result_stored_once(app, talk):  # noqa: F811
    report_id = queued(app, talk)
    with app.app_context():
        assert claim(report_id, "killed-worker") == "claimed"
        # The killed worker stops renewing: its lease runs out.
        db.session.execute(update(GraphReport).where(GraphReport.id == report_id)
                           .values(lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert execute_report(report_id, owner="second-worker") == "done"
        report = db.session.get(GraphReport, report_id)
        late = store(report, "killed-worker", {"opportunities": []}, __import__("networkx").Graph())
    assert late == "stopped"  # the old worker coming back cannot store over it
    report = row(app, report_id)
    assert (report.status, report.attempts, report.lease_owner) == (ReportStatus.done, 2, None)
    assert report.result["graph"]["nodes"] > 0 and stored_graphs(app, report_id) == 1


def test_embedded_start_up_runs_what_a_stopped_process_left_queued_or_running(app, talk, finished):  # noqa: F811
    app.config["GRAPH_REPORT_LEASE_SECONDS"] = 1  # the dead process's lease lapses within a second
    left_queued, left_running, lapsed = queued(app, talk), queued(app, talk), queued(app, talk)
    with app.app_context():
        assert claim(left_running, "stopped-process") == "claimed"  # its lease has not lapsed yet
        assert claim(lapsed, "older-stopped-process") == "claimed"
        db.session.execute(update(GraphReport).where(GraphReport.id == lapsed)
                           .values(lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert resume_embedded(app) == [left_queued, left_running, lapsed]
    for report_id in (left_queued, left_running, lapsed):
        finished(report_id)
    reports = [row(app, report_id) for report_id in (left_queued, left_running, lapsed)]
    assert [(r.status, r.attempts) for r in reports] == [(ReportStatus.done, 1), (ReportStatus.done, 2), (ReportStatus.done, 2)]
    assert all(stored_graphs(app, r.id) == 1 for r in reports)
    assert resume_embedded(app) == []  # nothing left over


def test_cancelling_a_running_report_stops_it_at_its_next_stage_and_nothing_is_stored(app, talk):  # noqa: F811
    report_id = queued(app, talk)
    with app.app_context():
        assert claim(report_id, "worker") == "claimed"
    response = talk["analyst"].post(f"/api/v1/reports/{report_id}/cancel")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    with app.app_context():
        report = db.session.get(GraphReport, report_id)
        with Heartbeat(report_id, "worker", 60) as heartbeat:
            with pytest.raises(StopRun):
                Run(report, "worker", heartbeat)("metrics", 50)
        assert store(report, "worker", {"opportunities": []}, __import__("networkx").Graph()) == "stopped"
    assert row(app, report_id).status is ReportStatus.cancelled and stored_graphs(app, report_id) == 0


def test_a_report_past_its_time_limit_fails_with_timed_out(make_app, talk):  # noqa: F811
    strict = make_app(GRAPH_REPORT_SOFT_TIME_LIMIT=0)
    report_id = queued(strict, talk)
    with strict.app_context():
        assert execute_report(report_id) == "failed"
    report = row(strict, report_id)
    assert (report.status, report.error, report.result) == (ReportStatus.failed, "timed out", None)
    assert talk["analyst"].get(f"/api/v1/reports/{report_id}").get_json()["error"] == "timed out"


def test_a_report_that_keeps_killing_its_workers_gives_up(app, talk):  # noqa: F811
    report_id = queued(app, talk)
    limit = app.config["GRAPH_REPORT_MAX_ATTEMPTS"]
    with app.app_context():
        db.session.execute(update(GraphReport).where(GraphReport.id == report_id).values(attempts=limit))
        db.session.commit()
        assert execute_report(report_id) == "failed"
    report = row(app, report_id)
    assert (report.status, report.error) == (ReportStatus.failed, f"gave up after {limit} attempts")


# --- a real worker on Redis ----------------------------------------------------------------------



def start_worker(database_url: str, extra_env: dict) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": TEST_REDIS_URL, "DATABASE_URL": database_url,
           "SECRET_KEY": base_config(database_url)["SECRET_KEY"], "LOG_LEVEL": "WARNING",
           "SOCKETIO_CHANNEL": base_config(database_url)["SOCKETIO_CHANNEL"], **extra_env}
    command = [sys.executable, "-m", "celery", "-A", "worker:celery_app", "worker", "--concurrency", "1",
               "--pool", "prefork", "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for(app, report_id, predicate, timeout):
    """Poll the report row (the worker is another process: the database is what we share)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = row(app, report_id)
        if predicate(report):
            return report
        threading.Event().wait(0.2)  # the row is the only signal a separate process gives us
    raise AssertionError(f"report {report_id}: {row(app, report_id).status} after {timeout} s")


@needs_redis
def test_a_report_survives_its_worker_being_killed_and_is_stored_once(make_app, database_url, make_actor, live, clients):
    from devtools.seed import seed_synthetic

    lease = 4
    # The broker's own redelivery is left at an hour: only the workers' sweepers can take the
    # report over in time, and they must do so when the lease lapses (graph/sweeper.py).
    overrides = {"REDIS_URL": TEST_REDIS_URL, "GRAPH_REPORT_LEASE_SECONDS": lease}
    app = make_app(**overrides)
    with app.app_context():
        brand_id = seed_synthetic(3000, seed=5).brand_id
    admin = make_actor("admin", "worker_admin")
    admin.client = app.test_client()  # requests go through the app that dispatches to Redis
    env = {"GRAPH_REPORT_LEASE_SECONDS": str(lease), "CELERY_VISIBILITY_TIMEOUT": "3600", "GRAPH_REPORT_SWEEP_SECONDS": "1"}
    watcher = clients(live(REDIS_URL=TEST_REDIS_URL), admin.access_token)  # a web process; the workers emit via Redis
    watcher.sio.on("report_progress", watcher._collector("report_progress"))
    first = start_worker(database_url, env)
    try:
        response = admin.post("/api/v1/reports", json={"brand_id": brand_id, "seed": 1})
        assert response.status_code == 202, response.get_json()
        report_id = response.get_json()["id"]
        # Past loading and into the analysis, then killed like a crashed machine.
        wait_for(app, report_id, lambda r: r.status is ReportStatus.running and r.percent >= 20, 120)
        kill(first)
        assert row(app, report_id).status is ReportStatus.running
        second = start_worker(database_url, env)
        try:
            # taken over within the lease, the sweep interval and the new worker's start (kombu: about an hour here)
            wait_for(app, report_id, lambda r: r.attempts >= 2, 60)
            done = wait_for(app, report_id, lambda r: r.status is ReportStatus.done, 300)
            # The worker tells the requester after its commit: heard before the worker is stopped
            # (stopped between the two, the report is done and its requester learns it by asking).
            events = [watcher.next("report_progress")]
            while events[-1]["status"] != "done":
                events.append(watcher.next("report_progress"))
        finally:
            kill(second)
    finally:
        kill(first)
    assert done.attempts == 2 and done.result["graph"]["nodes"] > 3000
    assert stored_graphs(app, report_id) == 1
    events += watcher.drain("report_progress")
    assert events[-1] == {"report_id": report_id, "status": "done", "stage": "done", "percent": 100}
    assert [e["stage"] for e in events].count("done") == 1 and {"load", "metrics"} <= {e["stage"] for e in events}
