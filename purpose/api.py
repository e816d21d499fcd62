"""REST views for brands, their managers and purposes."""

from __future__ import annotations

from sqlalchemy import select

from core.accounts import Account
from core.auth import authenticated, current_account, limit_writes, require_admin
from core.errors import ApiBlueprint, conflict, not_found
from core.extensions import db
from core.pagination import SortKey, keyset_page
from core.validation import PageArgs
from purpose.access import brand_staff_changed, require_brand_manager
from purpose.models import Brand, BrandManager, Purpose
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
    if db.session.scalar(select(Brand.id).where(Brand.name == args["name"])) is not None:
        raise conflict("A brand with this name already exists.", "brand-exists")
    brand = Brand(**args)
    db.session.add(brand)
    db.session.commit()
    return brand


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
    _get_or_404(Account, account_id, "account")
    lookup = select(BrandManager).where(BrandManager.brand_id == brand_id, BrandManager.account_id == account_id)
    manager = db.session.scalar(lookup)
    if manager is None:
        manager = BrandManager(brand_id=brand_id, account_id=account_id)
        db.session.add(manager)
        db.session.commit()
        brand_staff_changed.send(account_id, brand_id=brand_id)
    return manager


@blp.route("/brands/<id:brand_id>/managers/<id:account_id>", methods=["DELETE"])
@require_admin
@blp.response(204)
def remove_manager(brand_id, account_id):
    """End an account's management of the brand (admin); its open sockets feel it at once."""
    removed = db.session.execute(
        db.delete(BrandManager).where(BrandManager.brand_id == brand_id, BrandManager.account_id == account_id)
    ).rowcount
    db.session.commit()
    if removed:
        brand_staff_changed.send(account_id, brand_id=brand_id)


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
    require_brand_manager(current_account(), brand_id)
    purpose = Purpose(brand_id=brand_id, **args)
    db.session.add(purpose)
    db.session.commit()
    return purpose


@blp.route("/purposes/<id:purpose_id>", methods=["GET"])
@authenticated
@blp.response(200, PurposeOut)
def get_purpose(purpose_id):
    return _get_or_404(Purpose, purpose_id, "purpose")
