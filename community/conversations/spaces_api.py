"""REST views for spaces and memberships: parse, call the service, serialise."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from community import access
from community.conversations import service
from community.models import Membership, Space
from community.schemas import MemberArgs, MembershipOut, MembershipPage, SpaceArgs, SpaceListArgs, SpaceOut, SpacePage
from core.auth import authenticated, current_account, limit_writes
from core.errors import ApiBlueprint, not_found
from core.extensions import db
from core.pagination import SortKey, keyset_page
from core.validation import PageArgs
from purpose.models import Purpose

blp = limit_writes(ApiBlueprint("spaces", __name__, url_prefix="/api/v1", description="Community spaces"))


@blp.route("/spaces", methods=["GET"])
@authenticated
@blp.arguments(SpaceListArgs, location="query")
@blp.response(200, SpacePage)
def list_spaces(args):
    """Spaces you may see, oldest first; filter by purpose kind, purpose or brand."""
    stmt = select(Space).where(access.visible_spaces_clause(current_account())).options(selectinload(Space.purpose))
    filters = {k: args[k] for k in ("kind", "purpose_id", "brand_id") if args.get(k) is not None}
    if filters:
        stmt = stmt.join(Purpose, Purpose.id == Space.purpose_id)
        for name, column in (("kind", Purpose.kind), ("purpose_id", Purpose.id), ("brand_id", Purpose.brand_id)):
            if name in filters:
                stmt = stmt.where(column == filters[name])
    scope = "spaces:" + ",".join(f"{k}={getattr(v, 'value', v)}" for k, v in sorted(filters.items()))
    return keyset_page(stmt, [SortKey(Space.id)], scope=scope, args=args, attrs=["id"])


@blp.route("/purposes/<id:purpose_id>/spaces", methods=["POST"])
@authenticated
@blp.arguments(SpaceArgs)
@blp.response(201, SpaceOut)
def create_space(args, purpose_id):
    """Create a space for a purpose (admin or the brand's manager); you become its manager."""
    purpose = db.session.get(Purpose, purpose_id)
    if purpose is None:
        raise not_found("purpose")
    return service.do_create_space(current_account(), purpose, args)


@blp.route("/spaces/<id:space_id>", methods=["GET"])
@authenticated
@blp.response(200, SpaceOut)
def get_space(space_id):
    """One space; a private space you are not in is a 404."""
    return access.community_space(current_account(), space_id)


@blp.route("/spaces/<id:space_id>/join", methods=["POST"])
@authenticated
@blp.response(200, MembershipOut)
def join_space(space_id):
    """Join a visible space (joining twice is harmless)."""
    return service.do_join(current_account(), access.community_space(current_account(), space_id))


@blp.route("/spaces/<id:space_id>/leave", methods=["POST"])
@authenticated
@blp.response(204)
def leave_space(space_id):
    """Leave a space you are a member of."""
    service.do_leave(current_account(), access.community_space(current_account(), space_id))


@blp.route("/spaces/<id:space_id>/members", methods=["GET"])
@authenticated
@blp.arguments(PageArgs, location="query")
@blp.response(200, MembershipPage)
def list_members(args, space_id):
    """Members of a visible space, in the order they joined."""
    space = access.community_space(current_account(), space_id)
    stmt = select(Membership).where(Membership.space_id == space.id)
    return keyset_page(stmt, [SortKey(Membership.id)], scope=f"members:{space.id}", args=args, attrs=["id"])


@blp.route("/spaces/<id:space_id>/members/<id:account_id>", methods=["PUT"])
@authenticated
@blp.arguments(MemberArgs)
@blp.response(200, MembershipOut)
def set_member(args, space_id, account_id):
    """Add an account to the space or change its role (space staff; making a manager, or changing a
    moderator's or manager's role, only by brand managers and admins). Audited."""
    space = access.community_space(current_account(), space_id)
    return service.do_set_member(current_account(), space, account_id, args["role"], args["reason"])


@blp.route("/spaces/<id:space_id>/members/<id:account_id>", methods=["DELETE"])
@authenticated
@blp.response(204)
def remove_member(space_id, account_id):
    """Remove an account from the space (space staff; moderators and managers only by brand managers)."""
    service.do_remove_member(current_account(), access.community_space(current_account(), space_id), account_id)
