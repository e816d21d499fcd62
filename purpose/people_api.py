"""REST views for the brand's people: analysts, stakeholders, relationship profiles, imports and privacy.

Analysts see only the brands they are assigned to (``purpose.access.require_brand_analyst``);
changing people's data (create, import, erase, objection) is for the brand's managers and admins.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict

from flask import Response, current_app, request, stream_with_context
from sqlalchemy import Integer, bindparam, select
from werkzeug.exceptions import RequestEntityTooLarge

from core import sql
from core.accounts import Account, authenticate
from core.auth import authenticated, current_account, limit_password_checks, limit_writes
from core.cooperative import paced
from core.errors import ApiBlueprint, ApiError, not_found
from core.extensions import db, utcnow
from core.listing import Filter, Listing
from core.pagination import list_page
from core.rows import keyset_chunks
from purpose import imports, parquet, privacy, snapshots, staff
from purpose.access import require_brand_analyst, require_brand_manager
from purpose.models import Brand, Purpose, SnapshotPerson, SnapshotStatus, StaffRole, Stakeholder
from purpose.people import Known
from purpose.profiles import Scope, build_profiles, summarise_segments
from purpose.schemas import (SNAPSHOT_SORTS, AnalystOut, EraseAccountArgs, ImportArgs, ImportReportOut, ObjectionArgs,
                             PeopleListArgs, PeoplePage, PeopleSegmentsOut, ProfileAnswerOut, ProfileListArgs, ProfilePage,
                             ScopeArgs, SegmentSummaryOut, SnapshotPersonOut, SnapshotScopeArgs, StakeholderArgs,
                             StakeholderOut)

blp = limit_writes(ApiBlueprint("people", __name__, url_prefix="/api/v1", description="The brand's people and relationships"))

IMPORT_TYPES = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl"}


#: The brand of every request here, prebuilt (core/sql.py): the analysts' listings are read page after page.
_BRAND = select(*sql.columns(Brand)).where(Brand.id == bindparam("id", type_=Integer()))


def _brand(brand_id: int, *, manage: bool = False) -> Brand:
    row = sql.run(_BRAND, {"id": brand_id}).first()
    brand = None if row is None else sql.loaded(row, Brand)[0]
    if brand is None:
        raise not_found("brand")
    (require_brand_manager if manage else require_brand_analyst)(current_account(), brand_id)
    return brand


def _stakeholder(stakeholder_id: int, *, manage: bool = False) -> Stakeholder:
    stakeholder = db.session.get(Stakeholder, stakeholder_id)
    if stakeholder is None:
        raise not_found("stakeholder")
    _brand(stakeholder.brand_id, manage=manage)
    return stakeholder


def _scope(brand_id: int, purpose_id: int | None, args: dict | None = None) -> Scope:
    if purpose_id is not None and db.session.scalar(
            select(Purpose.id).where(Purpose.id == purpose_id, Purpose.brand_id == brand_id)) is None:
        raise ApiError(422, "The purpose is not one of this brand's.", errors={"purpose_id": ["Not a purpose of this brand."]})
    args = args or {}
    return Scope(brand_id, purpose_id, args.get("as_of") or utcnow(), transactions=args.get("transactions", "daily"))


@blp.route("/brands/<id:brand_id>/analysts/<id:account_id>", methods=["PUT"])
@authenticated
@blp.response(200, AnalystOut)
def add_analyst(brand_id, account_id):
    """Assign an analyst to the brand (admin or the brand's manager); assigning twice is harmless.

    The account must hold the platform's ``analyst`` role (409 ``not-an-analyst`` otherwise);
    the appointment counts only while it does."""
    _brand(brand_id, manage=True)
    account = db.session.get(Account, account_id)
    if account is None:
        raise not_found("account")
    return staff.do_appoint(brand_id, account, StaffRole.analyst)


@blp.route("/brands/<id:brand_id>/analysts/<id:account_id>", methods=["DELETE"])
@authenticated
@blp.response(204)
def remove_analyst(brand_id, account_id):
    _brand(brand_id, manage=True)
    staff.do_dismiss(brand_id, account_id, StaffRole.analyst)


@blp.route("/brands/<id:brand_id>/stakeholders", methods=["POST"])
@authenticated
@blp.arguments(StakeholderArgs)
@blp.response(201, StakeholderOut)
def create_stakeholder(args, brand_id):
    """Record one person the brand knows (managers and admins); see the imports for many."""
    _brand(brand_id, manage=True)
    return imports.add_stakeholder(brand_id, args)


@blp.route("/brands/<id:brand_id>/stakeholders", methods=["GET"])
@authenticated
@blp.arguments(ProfileListArgs, location="query")
@blp.response(200, ProfilePage)
def list_profiles(args, brand_id):
    """Relationship profiles of the brand's people, filtered by segment, pyramid level, style or kind."""
    _brand(brand_id)
    profiles, model = build_profiles(_scope(brand_id, args["purpose_id"], args))
    wanted = {"segment": args["segment"], "style": args["style"]}
    items = [p for p in paced(profiles.values())
             if all(v is None or getattr(p, k) == v for k, v in wanted.items())
             and (args["level"] is None or p.pyramid["level"] == args["level"])
             and (args["kind"] is None or p.stakeholder.kind == args["kind"].value)]
    scope = "profiles:{}:{purpose_id}:{segment}:{level}:{style}:{kind}".format(brand_id, **args)
    page = list_page(items, key=lambda p: p.stakeholder.id, scope=scope, args=args)
    page["items"] = [p.as_dict() for p in page["items"]]
    return {**page, "clv_fit": model.fit}


@blp.route("/brands/<id:brand_id>/segments", methods=["GET"])
@authenticated
@blp.arguments(ScopeArgs, location="query")
@blp.response(200, SegmentSummaryOut)
def segment_summary(args, brand_id):
    """Segment, pyramid, style and kind distributions, Pareto share, customer equity and conversions."""
    _brand(brand_id)
    scope = _scope(brand_id, args["purpose_id"], args)
    profiles, model = build_profiles(scope)
    return {"brand_id": brand_id, "purpose_id": scope.purpose_id, "as_of": scope.as_of, **summarise_segments(profiles, model)}


def _not_analysed() -> ApiError:
    return ApiError(404, "This person is not analysed here: they objected, were erased, "
                         "or have nothing in this purpose.", type_="not-analysed")


@blp.route("/stakeholders/<id:stakeholder_id>/profile", methods=["GET"])
@authenticated
@blp.arguments(ScopeArgs, location="query")
@blp.response(200, ProfileAnswerOut)
def get_profile(args, stakeholder_id):
    """One person's relationship profile, scored among the brand's (or the purpose's) people.

    Read from the latest ready people snapshot of the scope when it is current (``snapshot`` says which
    and as of when). Computed for the request, as before, where a snapshot cannot answer: with ``as_of``
    or ``transactions=raw`` (a snapshot is scored now, with daily transactions), before the first
    snapshot is ready, and while the snapshot is stale (the brand's people changed since: a rebuild is
    scheduled, as the people listing does)."""
    stakeholder = _stakeholder(stakeholder_id)
    if args["as_of"] is None and args["transactions"] == "daily":
        answer = _profile_from_snapshot(stakeholder, args["purpose_id"])
        if answer is not None:
            return answer
    profiles, _model = build_profiles(_scope(stakeholder.brand_id, args["purpose_id"], args))
    if stakeholder_id not in profiles:
        raise _not_analysed()
    return {**profiles[stakeholder_id].as_dict(), "snapshot": None}


def _profile_from_snapshot(stakeholder: Stakeholder, purpose_id: int | None) -> dict | None:
    """The profile from the scope's latest ready snapshot, or None where the snapshot cannot answer
    (none yet, or stale: the caller computes it).

    An erased or objecting person has no row in any snapshot from the moment that commits (the rows
    the listing reads are deleted in that transaction), so a current snapshot without them is a 404."""
    brand = db.session.get(Brand, stakeholder.brand_id)
    snapshot, version, _, building = _snapshot_to_read(brand, purpose_id, None)
    if snapshot is None:
        return None
    described = snapshots.describe(snapshot, version)
    if described["stale"]:
        return None
    row = db.session.get(SnapshotPerson, (snapshot.id, stakeholder.id))
    if row is None:
        raise _not_analysed()
    profile = snapshots.profile_of(row)
    if profile is None:
        return None
    return {"stakeholder": asdict(Known.of(stakeholder)), **profile, "snapshot": described, "building": building}


def _snapshot_to_read(brand: Brand, purpose_id: int | None, cursor: str | None):
    """The snapshot a people listing reads, the brand's people version, the inner keyset cursor, and
    whether a build was started or runs.

    A first page reads the latest ready snapshot; a later page the one its cursor names (410 once
    it was dropped). A stale snapshot, or none, schedules a build (one per brand at a time); a build
    this request started counts as running even if it ended before the answer (a handful of people)."""
    _scope(brand.id, purpose_id)  # 422 for another brand's purpose
    version = brand.people_version
    if cursor:
        prefix, _, inner = cursor.partition("~")
        if not prefix.isdigit() or not inner:
            raise ApiError(422, "The cursor is invalid.", errors={"cursor": ["Invalid cursor."]})
        snapshot = snapshots.by_id(int(prefix))
        if (snapshot is None or snapshot.status != SnapshotStatus.ready or snapshot.brand_id != brand.id
                or snapshot.purpose_id != purpose_id):
            raise ApiError(410, "The snapshot this listing was reading has been replaced; start again from the "
                                "first page.", type_="snapshot-expired")
    else:
        snapshot, inner = snapshots.latest_ready(brand.id, purpose_id), None
    started = None
    if snapshot is None or snapshots.is_stale(snapshot, version):
        started = snapshots.schedule(brand.id, purpose_id)
    return snapshot, version, inner, started is not None or snapshots.building(brand.id)


#: The people listing: a snapshot's rows, its filters (query argument -> column) and sorts.
PEOPLE = Listing(
    parent=SnapshotPerson.snapshot_id, key=SnapshotPerson.stakeholder_id, item_schema=SnapshotPersonOut,
    sorts={name: (getattr(SnapshotPerson, column), descending) for name, (column, descending) in SNAPSHOT_SORTS.items()},
    filters=(Filter("segment", (SnapshotPerson.segment,)), Filter("level", (SnapshotPerson.pyramid_level,)),
             Filter("style", (SnapshotPerson.style,)), Filter("kind", (SnapshotPerson.kind,)),
             Filter("community", (SnapshotPerson.community,)),
             Filter("rank_min", (SnapshotPerson.opportunity_rank,), "ge"),
             Filter("rank_max", (SnapshotPerson.opportunity_rank,), "le"),
             Filter("clv_min", (SnapshotPerson.clv,), "ge"), Filter("clv_max", (SnapshotPerson.clv,), "le"),
             Filter("active_after", (SnapshotPerson.last_active_at,), "ge"),
             Filter("active_before", (SnapshotPerson.last_active_at,), "lt"),
             Filter("q", (SnapshotPerson.display_name,), "text", exact=(SnapshotPerson.external_id,))))


def _snapshot_response(snapshot, version: int, building: bool) -> dict:
    return {"snapshot": snapshots.describe(snapshot, version) if snapshot else None, "building": building}


@blp.route("/brands/<id:brand_id>/people", methods=["GET"])
@authenticated
@blp.arguments(PeopleListArgs, location="query")
@blp.response(200, PeoplePage)
@blp.alt_response(202, schema=PeoplePage, description="No snapshot is ready yet: one is being built; ask again.")
def list_people(args, brand_id):
    """Every person's profile from the brand's people snapshot (or the purpose's), filtered, sorted and
    paged by SQL: one ``as_of`` for every page of a listing (the cursor names the snapshot). A stale
    snapshot is still served (``snapshot.stale``) while a rebuild runs in the background. Names and
    external ids are for the brand's staff, who alone may read this (analysts, managers, admins)."""
    brand = _brand(brand_id)
    snapshot, version, inner, building = _snapshot_to_read(brand, args["purpose_id"], args["cursor"])
    if snapshot is None:
        return {"items": [], "next_cursor": None, **_snapshot_response(None, version, building)}, 202
    filters = {k: v for k, v in args.items() if k not in ("limit", "cursor")}
    page = PEOPLE.page(snapshot.id, {**args, "cursor": inner},
                       scope=f"people:{snapshot.id}:{json.dumps(filters, sort_keys=True, default=str)}")
    if page["next_cursor"]:
        page["next_cursor"] = f"{snapshot.id}~{page['next_cursor']}"
    return {**page, **_snapshot_response(snapshot, version, building)}


@blp.route("/brands/<id:brand_id>/people/segments", methods=["GET"])
@authenticated
@blp.arguments(SnapshotScopeArgs, location="query")
@blp.response(200, PeopleSegmentsOut)
@blp.alt_response(202, schema=PeopleSegmentsOut, description="No snapshot is ready yet: one is being built.")
def people_segments(args, brand_id):
    """Counts per segment (with revenue and customer equity), per pyramid level and per kind, from the
    people snapshot by GROUP BY: milliseconds where ``GET /brands/{id}/segments`` recomputes every profile."""
    brand = _brand(brand_id)
    snapshot, version, _, building = _snapshot_to_read(brand, args["purpose_id"], None)
    if snapshot is None:
        return {"people": 0, "segments": [], "pyramid": [], "kinds": {}, "customer_equity": None,
                **_snapshot_response(None, version, building)}, 202
    return {**snapshots.segment_summary(snapshot), **_snapshot_response(snapshot, version, building)}


#: The people listing's columns, in its order: the Parquet export's columns.
PEOPLE_COLUMNS = tuple(SnapshotPersonOut().fields)


def _snapshot_chunks(snapshot_id: int, chunk: int = parquet.ROW_GROUP):
    """The snapshot's people in the listing's columns, ``chunk`` rows a query (keyset by stakeholder id):
    memory holds one chunk, and no transaction is held while the client reads. People erased or objecting
    meanwhile are gone from every chunk read after their erasure committed (their rows are deleted)."""
    return keyset_chunks(SnapshotPerson.stakeholder_id, [getattr(SnapshotPerson, c) for c in PEOPLE_COLUMNS],
                         [SnapshotPerson.snapshot_id == snapshot_id], chunk)


@blp.route("/brands/<id:brand_id>/people.parquet", methods=["GET"])
@authenticated
@blp.arguments(SnapshotScopeArgs, location="query")
@blp.doc(responses={"200": {"description": "Every person of the latest ready people snapshot as Parquet (the "
                                           "listing's columns), streamed a row group at a time.",
                            "content": {parquet.CONTENT_TYPE: {}}}})
@blp.alt_response(202, description="No snapshot is ready yet: ``{snapshot: null, building: true}``; ask again.")
def people_parquet(args, brand_id):
    """Download the brand's (or purpose's) people snapshot as Parquet for pandas, Polars or DuckDB: the
    people listing's columns and types, everyone, streamed as it is written (memory does not grow with
    the brand). A stale snapshot is still served, and a rebuild scheduled, as the listing does; the file's
    metadata and the ``X-Snapshot-*`` headers say which snapshot, as of when, and whether it is stale."""
    brand = _brand(brand_id)
    snapshot, version, _, building = _snapshot_to_read(brand, args["purpose_id"], None)
    if snapshot is None:
        return _snapshot_response(None, version, building), 202
    described = snapshots.describe(snapshot, version)
    about = {"snapshot_id": str(snapshot.id), "brand_id": str(brand_id), "purpose_id": str(snapshot.purpose_id or ""),
             "as_of": snapshot.as_of.isoformat(), "stale": str(described["stale"]).lower()}
    schema = parquet.arrow_schema([getattr(SnapshotPerson, c) for c in PEOPLE_COLUMNS], PEOPLE_COLUMNS, metadata=about)
    name = f"brand-{brand_id}" + (f"-purpose-{snapshot.purpose_id}" if snapshot.purpose_id else "") + "-people.parquet"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "X-Snapshot-Id": about["snapshot_id"],
               "X-Snapshot-As-Of": about["as_of"], "X-Snapshot-Stale": about["stale"]}
    return Response(stream_with_context(parquet.parquet_stream(schema, _snapshot_chunks(snapshot.id))),
                    content_type=parquet.CONTENT_TYPE, headers=headers)


def _import(brand_id: int, args: dict, importer, **options):
    _brand(brand_id, manage=True)
    fmt = IMPORT_TYPES.get(request.mimetype)
    if fmt is None:
        raise ApiError(415, "Send the rows as text/csv or application/x-ndjson (JSON Lines).", type_="unsupported-media-type")
    request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]
    text = io.TextIOWrapper(request.stream, encoding="utf-8-sig", newline="" if fmt == "csv" else None)
    report = imports.ImportReport()
    try:
        importer(text, fmt, brand_id=brand_id, source=args["source"], report=report, **options)
    except UnicodeDecodeError:
        raise ApiError(400, "The file is not UTF-8 text from some point on; the rows before it were imported "
                            "as the report says.", type_="not-utf8", extensions=_report_body(report)) from None
    except RequestEntityTooLarge:
        raise ApiError(413, f"The upload is larger than {current_app.config['IMPORT_MAX_BYTES']} bytes; the rows "
                            "before the limit were imported as the report says.", extensions=_report_body(report)) from None
    return _report_body(report)


def _report_body(report) -> dict:
    """What an import stored and refused: also sent with an error that stopped it part way."""
    return {**vars(report), "errors": [{"line": line, "reason": reason} for line, reason in report.errors]}


@blp.route("/brands/<id:brand_id>/imports/stakeholders", methods=["POST"])
@authenticated
@blp.arguments(ImportArgs, location="query")
@blp.response(200, ImportReportOut)
def import_stakeholders(args, brand_id):
    """Bulk import stakeholders from the request body (CSV or JSON Lines), streamed and idempotent."""
    return _import(brand_id, args, imports.import_stakeholders)


@blp.route("/brands/<id:brand_id>/imports/touchpoints", methods=["POST"])
@authenticated
@blp.arguments(ImportArgs, location="query")
@blp.response(200, ImportReportOut)
def import_touchpoints(args, brand_id):
    """Bulk import touchpoints (purchases, events, referrals, ...) from CSV or JSON Lines."""
    return _import(brand_id, args, imports.import_touchpoints, stakeholder_source=args["stakeholder_source"])


@blp.route("/stakeholders/<id:stakeholder_id>/export", methods=["GET"])
@authenticated
@blp.response(200)
def export_stakeholder(stakeholder_id):
    """Everything stored about the person (a data subject access request), as JSON."""
    return privacy.export_person(_stakeholder(stakeholder_id, manage=True))


@blp.route("/stakeholders/<id:stakeholder_id>", methods=["DELETE"])
@authenticated
@blp.response(204)
def erase_stakeholder(stakeholder_id):
    """Erase the person: personal data removed or anonymised everywhere, stored reports included."""
    privacy.erase_person(_stakeholder(stakeholder_id, manage=True))


@blp.route("/stakeholders/<id:stakeholder_id>/objection", methods=["PUT"])
@authenticated
@blp.arguments(ObjectionArgs)
@blp.response(200, StakeholderOut)
def set_objection(args, stakeholder_id):
    """Record or withdraw the person's objection to analysis."""
    stakeholder = privacy.set_objection(_stakeholder(stakeholder_id, manage=True), args["objected"])
    return stakeholder


@blp.route("/me/export", methods=["GET"])
@authenticated
@blp.response(200)
def export_me():
    """Everything the platform stores about you: your account, each brand's record of you, your posts."""
    return privacy.export_account(current_account())


@blp.route("/me", methods=["DELETE"])
@authenticated
@limit_password_checks
@blp.arguments(EraseAccountArgs)
@blp.response(204)
def erase_me(args):
    """Erase yourself from the platform: posts deleted, brands' records erased, the account anonymised."""
    account = current_account()
    try:
        authenticate(account.email, args["password"])
    except ApiError:
        raise ApiError(403, "The password is wrong; nothing was erased.", type_="password-mismatch") from None
    privacy.erase_account(account)
