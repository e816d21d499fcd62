"""Running a report: dispatch, claim under a lease, progress, store once, cancel, time out.

With ``REDIS_URL`` the Celery task ``run_report`` runs on a worker (acks late, rejected
back to the queue when its worker dies). Without it (embedded mode) the same function
runs on a Socket.IO background task in the web process, so the request returns at once.

A run first *claims* the row with one conditional UPDATE (queued, or running under a
lapsed lease); a heartbeat thread renews the lease while it works; the result is stored
with another conditional UPDATE that only the lease holder can make. So a second
delivery never computes alongside the first, a killed worker's report is taken over
once its lease lapses, and the result is stored once.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import datetime, timedelta

from blinker import Namespace
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from flask import current_app
from sqlalchemy import delete, distinct, func, or_, select, update

from community.models import Membership, Space
from community.space_log import account_room
from core import offload
from core.extensions import db, socketio, utcnow
from core.rows import insert_plain, plain_rows, refresh_statistics
from graph import exports
from graph.models import FINISHED, GraphReport, GraphReportGraph, ReportPerson, ReportStatus
from graph.reports import PEOPLE_COLUMNS, STAGES, assemble_report_and_graph, people_rows, person_keys, scrub_person
from purpose.models import Purpose, Stakeholder
from purpose.privacy import person_erased
from purpose.snapshots import people_changed, register_snapshot_source

log = logging.getLogger(__name__)
PROGRESS_EVENT = "report_progress"
#: Sent (sender: the report id) when a run ends, whatever the outcome; tests wait on it.
report_finished = Namespace().signal("report-finished")


class StopRun(Exception):
    """The run lost its claim: the report was cancelled or another worker took it over."""


class TimedOut(Exception):
    pass


def task_id(report_id: int) -> str:
    return f"graph-report-{report_id}"


def progress_payload(report: GraphReport) -> dict:
    return {"report_id": report.id, "status": report.status.value, "stage": report.stage, "percent": report.percent}


def emit_progress(account_id: int | None, payload: dict) -> None:
    """Send ``report_progress`` to the account's room. In a web process it goes through the
    app's client manager; in a worker ``create_app`` built the same manager on Redis, so the
    emit is published on the message queue and delivered by whichever process holds the socket."""
    if account_id is not None:
        socketio.emit(PROGRESS_EVENT, payload, to=account_room(account_id))


def dispatch(report: GraphReport) -> None:
    """Start the report: a Celery task with Redis; in embedded mode a background task, which hands the
    report of a brand of ``GRAPH_REPORT_PROCESS_FROM`` people to a process of its own."""
    config = current_app.config
    if config.get("REDIS_URL"):
        celery = current_app.extensions["celery"]  # this app's, whichever Celery app is the default
        celery.send_task(run_report.name, (report.id,), task_id=task_id(report.id),
                         soft_time_limit=config["GRAPH_REPORT_SOFT_TIME_LIMIT"], time_limit=config["GRAPH_REPORT_TIME_LIMIT"])
    else:
        _start_embedded(current_app._get_current_object(), report.id, report.brand_id)


def _start_embedded(app, report_id: int, brand_id: int) -> None:
    own = offload.shareable(app.config) and _people(brand_id) >= app.config["GRAPH_REPORT_PROCESS_FROM"]
    socketio.start_background_task(_run_in_process if own else _run_embedded, app, report_id)


def _people(brand_id: int) -> int:
    """How many people a report of the brand may draw: its stakeholders and the members of its spaces
    (one person may be both: a measure of size, not a count), in a transaction of its own."""
    members = (select(func.count(distinct(Membership.account_id))).join(Space, Space.id == Membership.space_id)
               .join(Purpose, Purpose.id == Space.purpose_id).where(Purpose.brand_id == brand_id).scalar_subquery())
    stakeholders = select(func.count()).select_from(Stakeholder).where(Stakeholder.brand_id == brand_id).scalar_subquery()
    count = db.session.scalar(select(members + stakeholders))
    db.session.commit()
    return count


def run_claimed(report_id: int, owner: str | None = None) -> str:
    """:func:`execute_report`, again while another run's lease holds the report (a dead process's, not
    lapsed yet); in an app context."""
    while (outcome := execute_report(report_id, owner=owner)) == "held":
        db.session.remove()
        socketio.sleep(current_app.config["GRAPH_REPORT_LEASE_SECONDS"] / 3)
    return outcome


def _run_embedded(app, report_id: int) -> None:
    offload.in_app(app, run_claimed, report_id)


def _run_in_process(app, report_id: int) -> None:
    """Wait for the report's run in a process of its own (core/offload.py), telling its requester the
    progress that process stores (it has no socket to tell them on) every ``GRAPH_REPORT_PROGRESS_SECONDS``,
    and the outcome. A process that could not start, died or ran past ``GRAPH_REPORT_TIME_LIMIT``
    fails the report at once (embedded mode has no sweeper to take it over)."""
    owner, told = uuid.uuid4().hex, {}
    try:
        failure = offload.failure(app, f"{__name__}:run_claimed", report_id, owner, what="the report", timed_out="timed out",
                                  beat=lambda: offload.in_app(app, _relay_progress, report_id, told),
                                  every=app.config["GRAPH_REPORT_PROGRESS_SECONDS"], limit=app.config["GRAPH_REPORT_TIME_LIMIT"])
        offload.in_app(app, _ended_in_process, report_id, owner, failure)
    finally:
        report_finished.send(report_id)


def _relay_progress(report_id: int, told: dict) -> None:
    """Tell the requester the running report's stored stage and percent, when they changed."""
    report = db.session.get(GraphReport, report_id)
    if report is not None and report.status == ReportStatus.running:
        payload = progress_payload(report)
        if payload != told.get("last"):
            emit_progress(report.requested_by, payload)
            told["last"] = payload


def _ended_in_process(report_id: int, owner: str, failure: str | None) -> None:
    """After the report's process: fail a run it left unfinished, or tell the outcome it stored (a
    cancellation was told by whoever cancelled)."""
    report = db.session.get(GraphReport, report_id)
    if report is None:
        return
    if failure is not None and _finish(report, owner, ReportStatus.failed, failure, or_unclaimed=True) == "failed":
        return  # _finish told the requester
    db.session.refresh(report)
    if report.status in (ReportStatus.done, ReportStatus.failed):
        emit_progress(report.requested_by, progress_payload(report))


def resume_embedded(app) -> list[int]:
    """Embedded mode has no broker to deliver a task again: at start-up, run the reports an
    earlier process left queued or running (a running one once its lease has lapsed, as a
    worker would take it over). Returns their ids."""
    with app.app_context():
        left = db.session.execute(select(GraphReport.id, GraphReport.brand_id).where(
            GraphReport.status.in_([ReportStatus.queued, ReportStatus.running])).order_by(GraphReport.id)).all()
        for report_id, brand_id in left:
            _start_embedded(app, report_id, brand_id)
        db.session.remove()
    return [report_id for report_id, _brand in left]


@shared_task(bind=True, name="graph.run_report", acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_report(self, report_id: int):
    """Celery entry point: run the report, or retry later while another worker holds its lease."""
    outcome = execute_report(report_id, owner=self.request.id and f"{self.request.id}:{uuid.uuid4().hex[:8]}")
    if outcome == "held":
        raise self.retry(countdown=current_app.config["GRAPH_REPORT_LEASE_SECONDS"])
    return outcome


def claim(report_id: int, owner: str) -> str:
    """Take the report: ``"claimed"``, ``"held"`` (another live run has it) or ``"finished"``."""
    now, config = utcnow(), current_app.config
    lease = now + timedelta(seconds=config["GRAPH_REPORT_LEASE_SECONDS"])
    claimable = or_(GraphReport.status == ReportStatus.queued,
                    (GraphReport.status == ReportStatus.running) & (GraphReport.lease_until < now))
    taken = db.session.execute(
        update(GraphReport).where(GraphReport.id == report_id, claimable)
        .values(status=ReportStatus.running, lease_owner=owner, lease_until=lease, attempts=GraphReport.attempts + 1,
                started_at=now, stage="load", percent=0).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if taken:
        return "claimed"
    status = db.session.scalar(select(GraphReport.status).where(GraphReport.id == report_id))
    return "held" if status == ReportStatus.running else "finished"


class Heartbeat:
    """Renews the lease every third of its length on its own connection, while a stage runs;
    notices a cancellation or a takeover (the renewal then matches no row)."""

    def __init__(self, report_id: int, owner: str, lease_seconds: int):
        self.report_id, self.owner, self.lease = report_id, owner, lease_seconds
        self.engine, self.lost, self._stop = db.engine, threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"report-{report_id}-lease")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self):
        while not self._stop.wait(self.lease / 3):
            if not renew_lease(self.engine, self.report_id, self.owner, self.lease):
                self.lost.set()
                return


def renew_lease(connectable, report_id: int, owner: str, seconds: float, **values) -> bool:
    stmt = (update(GraphReport).where(GraphReport.id == report_id, GraphReport.lease_owner == owner,
                                      GraphReport.status == ReportStatus.running)
            .values(lease_until=utcnow() + timedelta(seconds=seconds), **values))
    with connectable.begin() as conn:
        return bool(conn.execute(stmt).rowcount)


class Run:
    """One claimed run: progress updates that renew the lease and check cancel and deadline."""

    def __init__(self, report: GraphReport, owner: str, heartbeat: Heartbeat):
        config = current_app.config
        self.report, self.owner, self.heartbeat = report, owner, heartbeat
        self.lease = config["GRAPH_REPORT_LEASE_SECONDS"]
        self.deadline = time.monotonic() + config["GRAPH_REPORT_SOFT_TIME_LIMIT"]
        self.stage, self.percent = None, -1

    def __call__(self, stage: str, percent: float) -> None:
        if self.heartbeat.lost.is_set():
            raise StopRun()
        if time.monotonic() > self.deadline:
            raise TimedOut()
        percent, stage = int(max(0, min(99, percent))), stage[:40]
        if (stage, percent) == (self.stage, self.percent):
            return
        if not renew_lease(db.engine, self.report.id, self.owner, self.lease, stage=stage, percent=percent):
            raise StopRun()
        self.stage, self.percent = stage, percent  # not on the ORM object: the loader's queries would flush it
        emit_progress(self.report.requested_by, {"report_id": self.report.id, "status": "running",
                                                 "stage": stage, "percent": percent})
        socketio.sleep(0)  # let a cooperative (gevent) server serve others between stages

    def loader_progress(self, stage: str, value: float) -> None:
        """The loader's progress (percent of the loading) mapped onto the load stage."""
        self("load", value / 100 * (STAGES["load"] - 1))


def execute_report(report_id: int, *, owner: str | None = None) -> str:
    """Claim, load, analyse and store the report; returns what happened."""
    owner = owner or uuid.uuid4().hex
    claimed = claim(report_id, owner)
    if claimed != "claimed":
        return claimed
    report = db.session.get(GraphReport, report_id)
    db.session.refresh(report)
    db.session.commit()  # end the read transaction: the heartbeat writes meanwhile (SQLite snapshots)
    if report.attempts > current_app.config["GRAPH_REPORT_MAX_ATTEMPTS"]:
        return _finish(report, owner, ReportStatus.failed, f"gave up after {report.attempts - 1} attempts")
    emit_progress(report.requested_by, progress_payload(report))
    with Heartbeat(report_id, owner, current_app.config["GRAPH_REPORT_LEASE_SECONDS"]) as heartbeat:
        run = Run(report, owner, heartbeat)
        try:
            result, graph = _compute(report, run)
            run("store", STAGES["assemble"])
            return store(report, owner, result, graph)
        except (TimedOut, SoftTimeLimitExceeded):
            db.session.rollback()  # the limit may strike mid-statement
            return _finish(report, owner, ReportStatus.failed, "timed out", at=run)
        except StopRun:
            return "stopped"
        except Exception as exc:  # a failed report says so; the details go to the log
            log.exception("graph report %s failed", report_id)
            db.session.rollback()
            return _finish(report, owner, ReportStatus.failed, f"the analysis failed ({type(exc).__name__})", at=run)
        finally:
            report_finished.send(report_id)


def _compute(report: GraphReport, run: Run):
    from graph.load import GraphScope, load_graph  # the one database-aware module of graph/

    params = report.params
    since, as_of, until = params.get("since"), params.get("as_of"), params.get("holdout_until")
    scope = GraphScope(brand_id=report.brand_id, purpose_id=report.purpose_id, space_id=report.space_id,
                       since=datetime.fromisoformat(since) if since else None,
                       as_of=datetime.fromisoformat(as_of) if as_of else report.created_at,
                       private_spaces=frozenset(params["private_spaces"]) if "private_spaces" in params else None)
    run("load", 0)
    G = load_graph(scope, half_life_days=params.get("half_life_days", 90.0), progress=run.loader_progress,
                   transactions=params.get("transactions", "daily"),
                   holdout_until=datetime.fromisoformat(until) if until else None)
    db.session.commit()  # the loader's reads are done; later writes start fresh transactions
    run("metrics", STAGES["load"])
    return assemble_report_and_graph(G, seed=params.get("seed", 0), top=params.get("top", 50), progress=run,
                                     max_pivots=params.get("max_pivots", 128))


def _scrub_erased_since(report: GraphReport, result: dict, graph) -> dict:
    """People erased while the report ran leave it before it is stored."""
    erased = db.session.scalars(select(Stakeholder.id).where(
        Stakeholder.brand_id == report.brand_id, Stakeholder.erased_at >= report.created_at))
    for stakeholder_id in erased:
        result, _ = scrub_person(result, stakeholder_id=stakeholder_id, account_id=None)
        exports.without_people(graph, set(), stakeholder_id)
    return result


def store(report: GraphReport, owner: str, result: dict, graph) -> str:
    """Store the result, once: only the lease holder of a still-running report can.

    A done report gives the brand's people snapshots their communities, influence and ranks, so it
    bumps the brand's people version (the next listing rebuilds the snapshot from it). That takes the
    brand row's lock first, as an erasure does before it scrubs the reports: one order, no deadlock."""
    people_changed(report.brand_id)
    result = _scrub_erased_since(report, result, graph)
    now = utcnow()
    snapshot = result.get("snapshot_at")
    stored = db.session.execute(
        update(GraphReport).where(GraphReport.id == report.id, GraphReport.lease_owner == owner,
                                  GraphReport.status == ReportStatus.running)
        .values(status=ReportStatus.done, stage="done", percent=100, result=result, finished_at=now,
                snapshot_at=datetime.fromisoformat(snapshot) if snapshot else report.created_at,
                lease_owner=None, lease_until=None).execution_options(synchronize_session=False)).rowcount
    if not stored:
        db.session.rollback()
        return "stopped"
    db.session.add(GraphReportGraph(report_id=report.id, nodes=graph.number_of_nodes(), edges=graph.number_of_edges(),
                                    data=exports.pack_graph(graph)))
    _store_people(report.id, graph)
    db.session.commit()
    # The requester hears at once; the people table's statistics (an ANALYZE) are housekeeping after.
    emit_progress(report.requested_by, {"report_id": report.id, "status": "done", "stage": "done", "percent": 100})
    refresh_statistics(ReportPerson.__tablename__)
    return "done"


def _store_people(report_id: int, graph) -> None:
    """The report's people table, in the store's transaction (``COPY`` on PostgreSQL)."""
    rows = [(report_id, *row) for row in people_rows(graph)]
    insert_plain(ReportPerson.__tablename__, ("report_id", *PEOPLE_COLUMNS), rows)


def _finish(report: GraphReport, owner: str, status: ReportStatus, error: str | None, *, at: Run | None = None,
            or_unclaimed: bool = False) -> str:
    """End a run that did not store: failed (with ``error``); ``at`` is where it stopped. With
    ``or_unclaimed``, also a report still queued (its run ended before it claimed it)."""
    stage, percent = (at.stage, at.percent) if at is not None and at.stage else (report.stage, report.percent)
    held = (GraphReport.lease_owner == owner) & (GraphReport.status == ReportStatus.running)
    done = db.session.execute(
        update(GraphReport).where(GraphReport.id == report.id,
                                  or_(held, GraphReport.status == ReportStatus.queued) if or_unclaimed else held)
        .values(status=status, error=error, finished_at=utcnow(), lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if done:
        emit_progress(report.requested_by, {"report_id": report.id, "status": status.value, "stage": stage,
                                            "percent": max(percent, 0)})
    return status.value if done else "stopped"


def cancel(report: GraphReport) -> bool:
    """Cancel a queued or running report; a running one stops at its next progress check."""
    changed = db.session.execute(
        update(GraphReport).where(GraphReport.id == report.id, GraphReport.status.notin_(FINISHED))
        .values(status=ReportStatus.cancelled, stage="cancelled", finished_at=utcnow(), lease_owner=None,
                lease_until=None).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    db.session.refresh(report)
    if changed:
        if current_app.config.get("REDIS_URL"):
            current_app.extensions["celery"].control.revoke(task_id(report.id))
        emit_progress(report.requested_by, progress_payload(report))
    return bool(changed)


def scrub_erased_person(brand_id, *, stakeholder_id=None, account_id=None, **_):
    """``person_erased`` listener: remove the person from every stored report of the brand."""
    keys = person_keys(stakeholder_id, account_id)
    for report in db.session.scalars(select(GraphReport).where(GraphReport.brand_id == brand_id,
                                                               GraphReport.status == ReportStatus.done)):
        report.result, _ = scrub_person(report.result, stakeholder_id=stakeholder_id, account_id=account_id)
        db.session.execute(delete(ReportPerson).where(ReportPerson.report_id == report.id, _person_row(keys, stakeholder_id)))
        stored = db.session.get(GraphReportGraph, report.id)
        if stored is not None:
            graph = exports.unpack_graph(stored.data)
            if exports.without_people(graph, keys, stakeholder_id):
                stored.data, stored.nodes, stored.edges = exports.pack_graph(graph), len(graph), graph.number_of_edges()
    db.session.commit()


def _person_row(keys: set, stakeholder_id: int | None):
    clauses = [ReportPerson.node.in_(keys)] + ([ReportPerson.stakeholder_id == stakeholder_id] if stakeholder_id else [])
    return or_(*clauses)


def snapshot_measures(brand_id: int, purpose_id: int | None) -> tuple[int | None, dict[int, tuple]]:
    """The people snapshots' graph columns (``purpose/snapshots.py``): the latest done report of the same
    scope (the brand, or the purpose; not a space's) and, per stakeholder, (community, PageRank, opportunity rank)."""
    report_id = db.session.scalar(
        select(GraphReport.id).where(GraphReport.brand_id == brand_id, GraphReport.status == ReportStatus.done,
                                     GraphReport.space_id.is_(None),
                                     GraphReport.purpose_id.is_(None) if purpose_id is None else GraphReport.purpose_id == purpose_id)
        .order_by(GraphReport.finished_at.desc(), GraphReport.id.desc()).limit(1))
    if report_id is None:
        return None, {}
    rows = plain_rows(select(ReportPerson.stakeholder_id, ReportPerson.community, ReportPerson.pagerank,
                             ReportPerson.opportunity_rank)
                      .where(ReportPerson.report_id == report_id, ReportPerson.stakeholder_id.is_not(None)))
    return report_id, {sid: (community, pagerank, rank) for sid, community, pagerank, rank in rows}


def init_graph_tasks() -> None:
    """Called by ``create_app``: stored reports forget an erased person (idempotent); people snapshots
    carry the latest done report's community, PageRank and opportunity rank."""
    person_erased.connect(scrub_erased_person, weak=False)
    register_snapshot_source(snapshot_measures)
