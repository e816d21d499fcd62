"""REST views for graph reports: request, list, status, result, cancel, exports, compare, people, communities.

Who: the brand's analysts, its managers and platform admins (``purpose.access``). A report
of a brand the caller may not analyse is a 404 (its existence is not revealed); asking
for a report on, or the list of, a brand the caller can see but not analyse is a 403.
Private spaces (``graph.access``): a report draws only on the private spaces its requester
may see, and is a 404 (and left out of listings) for a reader who cannot see all of them.
"""

from __future__ import annotations

import csv
import io
import json

from flask import Response, current_app, stream_with_context
from sqlalchemy import func, or_, select

from community.access import can_see
from community.models import Space
from core.auth import authenticated, current_account, limit_writes
from core.cooperative import off_the_loop
from core.errors import ApiBlueprint, ApiError, conflict, not_found
from core.extensions import db, utcnow
from core.outbox import on_commit
from core.listing import Filter, Listing
from core.pagination import SortKey, keyset_page
from core.rows import keyset_chunks
from graph import exports
from graph.models import FINISHED, GraphReport, GraphReportGraph, ReportPerson, ReportStatus
from graph.reports import compare_reports
from graph.schemas import (PEOPLE_SORTS, CommunityOut, CompareOut, ReportArgs, ReportListArgs, ReportOut, ReportPage,
                           ReportPeopleArgs, ReportPeoplePage, ReportPersonOut)
from graph.tasks import cancel, dispatch
from graph.access import may_read, private_spaces_for, readable
from purpose import parquet
from purpose.access import require_brand_analyst
from purpose.models import Brand, Purpose

blp = limit_writes(ApiBlueprint("reports", __name__, url_prefix="/api/v1", description="Graph analysis reports"))

#: export format -> content type
EXPORT_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8", "graphml": "application/graphml+xml",
                "gexf": "application/gexf+xml", "png": "image/png"}


def _scope_brand(args: dict) -> int:
    """The brand of the requested scope; 404 for a missing scope or a private space out of sight."""
    account = current_account()
    if args["space_id"] is not None:
        space = db.session.get(Space, args["space_id"])
        if space is None or space.purpose is None:  # a direct conversation belongs to no brand
            raise not_found("space")
        brand_id = space.purpose.brand_id
        if not can_see(account, space):
            raise not_found("space")
        args["purpose_id"] = space.purpose_id
        return brand_id
    if args["purpose_id"] is not None:
        purpose = db.session.get(Purpose, args["purpose_id"])
        if purpose is None:
            raise not_found("purpose")
        return purpose.brand_id
    if db.session.get(Brand, args["brand_id"]) is None:
        raise not_found("brand")
    return args["brand_id"]


def _report(report_id: int) -> GraphReport:
    report = db.session.get(GraphReport, report_id)
    if report is None or not may_read(current_account(), report):
        raise not_found("report")
    return report


def _done(report: GraphReport) -> GraphReport:
    if report.status is not ReportStatus.done:
        raise conflict(f"The report is {report.status.value}; its result exists only once it is done.", "report-not-done")
    return report


def _check_capacity(brand_id: int) -> None:
    """At most GRAPH_REPORT_MAX_ACTIVE reports of a brand queued or running (under a live lease)."""
    active = db.session.scalar(select(func.count()).select_from(GraphReport).where(
        GraphReport.brand_id == brand_id,
        or_(GraphReport.status == ReportStatus.queued,
            (GraphReport.status == ReportStatus.running) & (GraphReport.lease_until >= utcnow()))))
    limit = current_app.config["GRAPH_REPORT_MAX_ACTIVE"]
    if active >= limit:
        raise conflict(f"This brand already has {active} reports queued or running (at most {limit}); "
                       "wait for one to finish or cancel one.", "reports-busy")


@blp.route("/reports", methods=["POST"])
@authenticated
@blp.arguments(ReportArgs)
@blp.response(202, ReportOut)
def request_report(args):
    """Request a report for a brand, a purpose or a space; it runs in the background.

    Progress: ``GET /reports/{id}`` and the Socket.IO event ``report_progress``."""
    brand_id = _scope_brand(args)
    require_brand_analyst(current_account(), brand_id)
    _check_capacity(brand_id)
    report = new_report(current_account(), brand_id, args)
    # After the request's commit: with Redis down the 202 still stands and the report stays
    # queued until a worker's sweeper dispatches it again (graph/sweeper.py).
    on_commit(dispatch, report)
    return report


def new_report(account, brand_id: int, args: dict) -> GraphReport:
    """Store a queued report of ``args`` (``ReportArgs``, loaded) requested by ``account``: what the
    request stores before it dispatches the run. ``flask evaluate-ranking`` stores its reports here too."""
    as_of, until = args.get("as_of"), args.get("holdout_until")
    params = {"seed": args.get("seed", 0), "top": args.get("top", 50), "half_life_days": args.get("half_life_days", 90.0),
              "since": args["since"].isoformat() if args.get("since") else None, "max_pivots": 128, "resolution": 1.0,
              "as_of": as_of.isoformat() if as_of else None, "holdout_until": until.isoformat() if until else None,
              "transactions": args.get("transactions", "daily"),
              "private_spaces": private_spaces_for(account, brand_id, args.get("purpose_id"), args.get("space_id"))}
    report = GraphReport(brand_id=brand_id, purpose_id=args.get("purpose_id"), space_id=args.get("space_id"),
                         requested_by=account.id, params=params)
    db.session.add(report)
    db.session.commit()
    return report


@blp.route("/reports", methods=["GET"])
@authenticated
@blp.arguments(ReportListArgs, location="query")
@blp.response(200, ReportPage)
def list_reports(args):
    """The brand's reports, newest first; those drawing on a private space you cannot see are left out
    (so a page may hold fewer than ``limit``; follow ``next_cursor`` until it is null)."""
    if db.session.get(Brand, args["brand_id"]) is None:
        raise not_found("brand")
    require_brand_analyst(current_account(), args["brand_id"])
    stmt = select(GraphReport).where(GraphReport.brand_id == args["brand_id"])
    page = keyset_page(stmt, [SortKey(GraphReport.id, descending=True)], scope=f"reports:{args['brand_id']}",
                       args=args, attrs=["id"])
    return {**page, "items": readable(current_account(), args["brand_id"], page["items"])}


@blp.route("/reports/<id:report_id>", methods=["GET"])
@authenticated
@blp.response(200, ReportOut)
def get_report(report_id):
    """Status, stage and percent of a report, with its parameters and snapshot time."""
    return _report(report_id)


@blp.route("/reports/<id:report_id>/result", methods=["GET"])
@authenticated
@blp.response(200, description="The stored report JSON (see docs/analytics.md, Reports).")
def get_result(report_id):
    """The stored report; 409 while it is not done."""
    return _done(_report(report_id)).result


@blp.route("/reports/<id:report_id>/cancel", methods=["POST"])
@authenticated
@blp.response(200, ReportOut)
def cancel_report(report_id):
    """Cancel a queued or running report; 409 when it already finished."""
    report = _report(report_id)
    if report.status in FINISHED or not cancel(report):
        raise conflict(f"The report is already {report.status.value}.", "report-finished")
    return report


def _stored_blob(report: GraphReport) -> bytes:
    stored = db.session.get(GraphReportGraph, report.id)
    if stored is None:
        raise ApiError(404, "This report has no stored graph.", type_="no-graph")
    return stored.data


def _build_export(fmt: str, result: dict, blob: bytes | None, seed: int):
    if fmt == "json":
        return exports.report_json(result)
    if fmt == "csv":
        return exports.opportunities_csv(result)
    graph = exports.unpack_graph(blob)
    if fmt == "png":
        return exports.graph_png(graph, result, seed=seed)
    return exports.graph_graphml(graph) if fmt == "graphml" else exports.graph_gexf(graph)


def _export_body(report: GraphReport, fmt: str):
    blob = None if fmt in ("json", "csv") else _stored_blob(report)
    return off_the_loop(_build_export, fmt, report.result, blob, report.params.get("seed", 0))


def _sent_in_chunks(spooled, size: int = 2**16):
    """A spooled export file, read and sent a chunk at a time, then closed (and deleted)."""
    try:
        while chunk := spooled.read(size):
            yield chunk
    finally:
        spooled.close()


def _export_view(fmt: str):
    def view(report_id):
        report = _done(_report(report_id))
        body = _export_body(report, fmt)
        if hasattr(body, "read"):  # GraphML and GEXF: written to a spooled file, sent as it is read
            body = _sent_in_chunks(body)
        return Response(body, content_type=EXPORT_TYPES[fmt],
                        headers={"Content-Disposition": f'attachment; filename="report-{report.id}.{fmt}"'})

    view.__name__ = f"export_{fmt}"
    view.__doc__ = f"Download the report as {fmt.upper()} ({EXPORT_TYPES[fmt]}); 409 while it is not done."
    doc = {"200": {"description": f"The {fmt} file, as an attachment.", "content": {EXPORT_TYPES[fmt].split(';')[0]: {}}}}
    blp.route(f"/reports/<id:report_id>/export.{fmt}", methods=["GET"])(blp.doc(responses=doc)(authenticated(view)))


for _fmt in EXPORT_TYPES:
    _export_view(_fmt)


def _people_of(blob: bytes) -> dict:
    graph = exports.unpack_graph(blob)
    return {v: (a.get("kind"), a.get("stakeholder_id")) for v, a in graph.nodes(data=True)}


@blp.route("/reports/<id:report_id>/compare/<id:other_id>", methods=["GET"])
@authenticated
@blp.response(200, CompareOut)
def compare(report_id, other_id):
    """Compare two done reports of one brand (the older snapshot against the newer): who moved
    up among the opportunities, who is new or dropped out, who converted from nonuser to member."""
    first, second = _done(_report(report_id)), _done(_report(other_id))
    if first.brand_id != second.brand_id:
        raise ApiError(422, "The two reports are of different brands.", errors={"other_id": ["Another brand's report."]})
    older, newer = sorted((first, second), key=lambda r: (r.snapshot_at, r.id))
    older_people, newer_people = (off_the_loop(_people_of, _stored_blob(r)) for r in (older, newer))
    result = compare_reports(older.result, newer.result, older_people=older_people, newer_people=newer_people)
    return {"older_id": older.id, "newer_id": newer.id, **result}


def _people_stored(report: GraphReport) -> GraphReport:
    """A done report with its people table; 409 for a report stored before the table existed."""
    _done(report)
    stored = db.session.get(GraphReportGraph, report.id)
    has_rows = db.session.scalar(select(ReportPerson.id).where(ReportPerson.report_id == report.id).limit(1))
    if has_rows is None and stored is not None and stored.nodes > 0:
        raise conflict("This report was stored before reports kept a people table; request a new one.", "no-people-table")
    return report


#: A report's people listing: its rows, filters (query argument -> column) and sorts.
REPORT_PEOPLE = Listing(
    parent=ReportPerson.report_id, key=ReportPerson.id, item_schema=ReportPersonOut,
    sorts={name: (getattr(ReportPerson, column), descending) for name, (column, descending) in PEOPLE_SORTS.items()},
    filters=(*(Filter(name, (getattr(ReportPerson, name),))
               for name in ("kind", "segment", "community", "pyramid_level", "style_preference")),
             Filter("rank_min", (ReportPerson.opportunity_rank,), "ge"),
             Filter("rank_max", (ReportPerson.opportunity_rank,), "le"),
             Filter("clv_min", (ReportPerson.clv,), "ge"), Filter("clv_max", (ReportPerson.clv,), "le"),
             Filter("q", (ReportPerson.name, ReportPerson.label), "text", exact=(ReportPerson.external_id,))),
    key_follows_sort=False)  # equal scores in rank order


@blp.route("/reports/<id:report_id>/people", methods=["GET"])
@authenticated
@blp.arguments(ReportPeopleArgs, location="query")
@blp.response(200, ReportPeoplePage)
def report_people(args, report_id):
    """Everyone the report analysed, filtered and sorted, a page at a time (not only the top lists):
    community, PageRank, betweenness, core number, opportunity rank and score, segment, pyramid level,
    CLV. Names and external ids are shown to the brand's staff, who alone may read reports."""
    report = _people_stored(_report(report_id))
    filters = {k: v for k, v in args.items() if k not in ("limit", "cursor")}
    return REPORT_PEOPLE.page(report.id, args,
                              scope=f"report-people:{report.id}:{json.dumps(filters, sort_keys=True, default=str)}")


#: People listed per list of ``GET /reports/{id}/communities/{index}``.
COMMUNITY_LIST = 10


@blp.route("/reports/<id:report_id>/communities/<int:index>", methods=["GET"])
@authenticated
@blp.response(200, CommunityOut)
def report_community(report_id, index):
    """One community of the report: its size, kinds, segments, pyramid levels and customer equity, its
    key members (PageRank), brokers (betweenness) and best opportunities; ``GET /reports/{id}/people
    ?community=`` lists all its people. 404 for an index the report does not have."""
    report = _people_stored(_report(report_id))
    of_it = (ReportPerson.report_id == report.id, ReportPerson.community == index)
    size = db.session.scalar(select(func.count()).select_from(ReportPerson).where(*of_it))
    if not size:
        raise not_found("community")

    def counts(column) -> dict:
        rows = db.session.execute(select(column, func.count()).where(*of_it).group_by(column).order_by(column))
        return {str(value if value is not None else "unknown"): n for value, n in rows}

    def top(*order, where=()):
        return list(db.session.scalars(select(ReportPerson).where(*of_it, *where).order_by(*order).limit(COMMUNITY_LIST)))

    return {"index": index, "size": size, "kinds": counts(ReportPerson.kind), "segments": counts(ReportPerson.segment),
            "pyramid": counts(ReportPerson.pyramid_level),
            "customer_equity": float(db.session.scalar(select(func.coalesce(func.sum(ReportPerson.clv), 0.0)).where(*of_it))),
            "key_members": top(ReportPerson.pagerank.desc(), ReportPerson.id),
            "brokers": top(ReportPerson.betweenness.desc(), ReportPerson.id, where=(ReportPerson.betweenness > 0,)),
            "opportunities": top(ReportPerson.opportunity_rank, ReportPerson.id,
                                 where=(ReportPerson.opportunity_rank.is_not(None),))}


PEOPLE_CSV_COLUMNS = tuple(ReportPersonOut().fields)
_TEXT_COLUMNS = {"node", "kind", "label", "name", "external_id", "segment", "style_preference"}


def _people_chunks(report_id: int, chunk: int = 5000):
    """The people table in the listing's columns, ``chunk`` rows a query (keyset by id), so memory
    holds one chunk whatever the size of the brand; no transaction is held while the client reads."""
    return keyset_chunks(ReportPerson.id, [getattr(ReportPerson, c) for c in PEOPLE_CSV_COLUMNS],
                         [ReportPerson.report_id == report_id], chunk)


def _csv_rows(report_id: int):
    """The people table as CSV, written as it is read, a chunk at a time."""
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow(PEOPLE_CSV_COLUMNS)
    text = [i for i, c in enumerate(PEOPLE_CSV_COLUMNS) if c in _TEXT_COLUMNS]
    for rows in _people_chunks(report_id):
        for row in rows:
            values = list(row)
            for i in text:
                values[i] = exports.csv_safe(values[i])
            out.writerow(values)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


@blp.route("/reports/<id:report_id>/people.csv", methods=["GET"])
@authenticated
@blp.doc(responses={"200": {"description": "Everyone of the report as CSV (the people listing's columns), "
                                           "streamed.", "content": {"text/csv": {}}}})
def report_people_csv(report_id):
    """Download everyone the report analysed as CSV, streamed as it is read (memory does not grow with
    the brand); formulas in text cells are neutralised for spreadsheets."""
    report = _people_stored(_report(report_id))
    return Response(stream_with_context(_csv_rows(report.id)), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="report-{report.id}-people.csv"'})


@blp.route("/reports/<id:report_id>/people.parquet", methods=["GET"])
@authenticated
@blp.doc(responses={"200": {"description": "Everyone of the report as Parquet (the people listing's columns), "
                                           "streamed a row group at a time.", "content": {parquet.CONTENT_TYPE: {}}}})
def report_people_parquet(report_id):
    """Download everyone the report analysed as Parquet (pandas, Polars, DuckDB): the columns and types of
    the people listing, one row group per chunk read, sent as it is written (memory does not grow with the
    brand). The file's metadata names the report and its snapshot time."""
    report = _people_stored(_report(report_id))
    schema = parquet.arrow_schema([getattr(ReportPerson, c) for c in PEOPLE_CSV_COLUMNS], PEOPLE_CSV_COLUMNS,
                                  metadata={"report_id": str(report.id), "brand_id": str(report.brand_id),
                                            "snapshot_at": report.snapshot_at.isoformat() if report.snapshot_at else ""})
    chunks = _people_chunks(report.id, parquet.ROW_GROUP)
    return Response(stream_with_context(parquet.parquet_stream(schema, chunks)), content_type=parquet.CONTENT_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="report-{report.id}-people.parquet"'})
