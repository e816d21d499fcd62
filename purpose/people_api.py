"""REST views for the brand's people: analysts, stakeholders, relationship profiles, imports and privacy.

Analysts see only the brands they are assigned to (``purpose.access.require_brand_analyst``);
changing people's data (create, import, erase, objection) is for the brand's managers and admins.
"""

from __future__ import annotations

import io

from flask import current_app, request
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from core.accounts import Account, authenticate
from core.auth import authenticated, current_account, limit_password_checks, limit_writes
from core.cooperative import paced
from core.errors import ApiBlueprint, ApiError, not_found
from core.extensions import db, utcnow
from core.pagination import list_page
from purpose import imports, privacy, staff
from purpose.access import require_brand_analyst, require_brand_manager
from purpose.models import Brand, Purpose, StaffRole, Stakeholder
from purpose.profiles import Scope, build_profiles, summarise_segments
from purpose.schemas import (AnalystOut, ImportArgs, ImportReportOut, ObjectionArgs, ProfileListArgs,
                             ProfileOut, ProfilePage, ScopeArgs, SegmentSummaryOut, StakeholderArgs, StakeholderOut, EraseAccountArgs)

blp = limit_writes(ApiBlueprint("people", __name__, url_prefix="/api/v1", description="The brand's people and relationships"))

IMPORT_TYPES = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl"}


def _brand(brand_id: int, *, manage: bool = False) -> Brand:
    brand = db.session.get(Brand, brand_id)
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


@blp.route("/stakeholders/<id:stakeholder_id>/profile", methods=["GET"])
@authenticated
@blp.arguments(ScopeArgs, location="query")
@blp.response(200, ProfileOut)
def get_profile(args, stakeholder_id):
    """One person's relationship profile, scored among the brand's (or the purpose's) people."""
    stakeholder = _stakeholder(stakeholder_id)
    profiles, _model = build_profiles(_scope(stakeholder.brand_id, args["purpose_id"], args))
    if stakeholder_id not in profiles:
        raise ApiError(404, "This person is not analysed here: they objected, were erased, "
                            "or have nothing in this purpose.", type_="not-analysed")
    return profiles[stakeholder_id].as_dict()


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
