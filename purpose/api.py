"""REST views for brands, their managers and purposes: parse, call ``purpose.staff``, serialise."""

from __future__ import annotations

from sqlalchemy import select

from core.accounts import Account
from core.auth import authenticated, current_account, limit_writes, require_admin
from core.errors import ApiBlueprint, not_found
from core.extensions import db
from core.pagination import SortKey, keyset_page
from core.validation import PageArgs
from purpose import staff
from purpose.models import Brand, Purpose, StaffRole
from purpose.schemas import BrandArgs, BrandOut, BrandPage, ManagerOut, PurposeArgs, PurposeListArgs, PurposeOut, PurposePage

blp = limit_writes(ApiBlueprint("brands", __name__, url_prefix="/api/v1", description="Brands and their purposes"))


def _get_or_404(model, ident: int, what: str):
    row = db.session.get(model, ident)
    if row is None:
        raise not_found(what)
    return row


@blp.route("/brands", methods=["GET"])
@authenticated
@blp.arguments(PageArgs, location="query")
@blp.response(200, BrandPage)
def list_brands(args):
    return keyset_page(select(Brand), [SortKey(Brand.id)], scope="brands", args=args, attrs=["id"])


@blp.route("/brands", methods=["POST"])
@require_admin
@blp.arguments(BrandArgs)
@blp.response(201, BrandOut)
def create_brand(args):
    """Create a brand (admin)."""
    return staff.do_create_brand(args)


@blp.route("/brands/<id:brand_id>", methods=["GET"])
@authenticated
@blp.response(200, BrandOut)
def get_brand(brand_id):
    return _get_or_404(Brand, brand_id, "brand")


@blp.route("/brands/<id:brand_id>/managers/<id:account_id>", methods=["PUT"])
@require_admin
@blp.response(200, ManagerOut)
def add_manager(brand_id, account_id):
    """Make an account a manager of the brand (admin); managing twice is harmless."""
    _get_or_404(Brand, brand_id, "brand")
    return staff.do_appoint(brand_id, _get_or_404(Account, account_id, "account"), StaffRole.manager)


@blp.route("/brands/<id:brand_id>/managers/<id:account_id>", methods=["DELETE"])
@require_admin
@blp.response(204)
def remove_manager(brand_id, account_id):
    """End an account's management of the brand (admin); its open sockets feel it at once."""
    staff.do_dismiss(brand_id, account_id, StaffRole.manager)


@blp.route("/brands/<id:brand_id>/purposes", methods=["GET"])
@authenticated
@blp.arguments(PurposeListArgs, location="query")
@blp.response(200, PurposePage)
def list_purposes(args, brand_id):
    _get_or_404(Brand, brand_id, "brand")
    stmt = select(Purpose).where(Purpose.brand_id == brand_id)
    if args["kind"] is not None:
        stmt = stmt.where(Purpose.kind == args["kind"])
    scope = f"purposes:{brand_id}:{args['kind'].value if args['kind'] else ''}"
    return keyset_page(stmt, [SortKey(Purpose.id)], scope=scope, args=args, attrs=["id"])


@blp.route("/brands/<id:brand_id>/purposes", methods=["POST"])
@authenticated
@blp.arguments(PurposeArgs)
@blp.response(201, PurposeOut)
def create_purpose(args, brand_id):
    """State a life or societal purpose for the brand (admin or the brand's manager)."""
    _get_or_404(Brand, brand_id, "brand")
    return staff.do_create_purpose(current_account(), brand_id, args)


@blp.route("/purposes/<id:purpose_id>", methods=["GET"])
@authenticated
@blp.response(200, PurposeOut)
def get_purpose(purpose_id):
    return _get_or_404(Purpose, purpose_id, "purpose")
