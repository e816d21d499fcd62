"""REST views for badges and trust levels.

Who may do what: any signed-in member sees an account's badges and trust level (its profile) and the
badge catalogue; a brand's managers (and admins) define the brand's manual badges, award them with a
reason and revoke them (both audited); admins set and lock trust levels.
"""

from __future__ import annotations

from sqlalchemy import select

from core.accounts import Account
from core.auth import authenticated, current_account, limit_writes, require_admin
from core.errors import ApiBlueprint, not_found
from core.extensions import db
from purpose.models import Brand
from recognition import service, trust
from recognition.models import Badge
from recognition.schemas import (AccountBadgesOut, BadgeArgs, BadgeOut, GrantArgs, GrantOut, RevokeArgs, TrustLevelArgs,
                                 TrustLevelOut, TRUST_LEVELS)

blp = limit_writes(ApiBlueprint("recognition", __name__, url_prefix="/api/v1", description="Badges and trust levels"))


def _account(account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None:
        raise not_found("account")
    return account


def _grant_out(grant, badge) -> dict:
    return {"id": grant.id, "account_id": grant.account_id, "badge": badge, "granted_at": grant.granted_at,
            "granted_by": grant.granted_by, "reason": grant.reason}


@blp.route("/accounts/<id:account_id>/badges", methods=["GET"])
@authenticated
@blp.response(200, AccountBadgesOut)
def account_badges(account_id):
    """An account's badges (oldest first) and trust level, as its profile shows them."""
    account = _account(account_id)
    return {"account_id": account.id, "trust_level": account.trust_level,
            "trust_level_name": TRUST_LEVELS[account.trust_level],
            "badges": [_grant_out(g, b) for g, b in service.badges_of(account.id)]}


@blp.route("/accounts/<id:account_id>/trust-level", methods=["PUT"])
@require_admin
@blp.arguments(TrustLevelArgs)
@blp.response(200, TrustLevelOut)
def set_trust_level(args, account_id):
    """Set an account's trust level and whether the recognition job may change it (admins).
    The new level applies to the account's next request and socket event."""
    account = trust.set_trust_level(_account(account_id), args["level"], args["locked"])
    return {"account_id": account.id, "trust_level": account.trust_level,
            "trust_level_name": TRUST_LEVELS[account.trust_level], "trust_level_locked": account.trust_level_locked}


@blp.route("/badges", methods=["GET"])
@authenticated
@blp.response(200, BadgeOut(many=True))
def list_badges():
    """The platform's badges (automatic and by code) that have been made so far."""
    return db.session.scalars(select(Badge).where(Badge.brand_id.is_(None)).order_by(Badge.key, Badge.id)).all()


@blp.route("/brands/<id:brand_id>/badges", methods=["GET"])
@authenticated
@blp.response(200, BadgeOut(many=True))
def list_brand_badges(brand_id):
    """The brand's manual badges."""
    if db.session.get(Brand, brand_id) is None:
        raise not_found("brand")
    return db.session.scalars(select(Badge).where(Badge.brand_id == brand_id).order_by(Badge.key, Badge.id)).all()


@blp.route("/brands/<id:brand_id>/badges", methods=["POST"])
@authenticated
@blp.arguments(BadgeArgs)
@blp.response(201, BadgeOut)
def create_brand_badge(args, brand_id):
    """Define a manual badge of the brand (its managers, admins)."""
    if db.session.get(Brand, brand_id) is None:
        raise not_found("brand")
    return service.create_brand_badge(current_account(), brand_id, **args)


@blp.route("/badges/<id:badge_id>/grants", methods=["POST"])
@authenticated
@blp.arguments(GrantArgs)
@blp.response(201, GrantOut)
def award_badge(args, badge_id):
    """Award a manual badge of a brand to a member, with a reason (the brand's managers, admins);
    audited, and the member is notified. 409 when they hold it already."""
    grant = service.award_manual(current_account(), badge_id, args["account_id"], args["reason"])
    return _grant_out(grant, db.session.get(Badge, grant.badge_id))


@blp.route("/badge-grants/<id:grant_id>/revoke", methods=["POST"])
@authenticated
@blp.arguments(RevokeArgs)
@blp.response(204)
def revoke_badge(args, grant_id):
    """Take back a manual badge, with a reason (the brand's managers, admins); audited."""
    service.revoke_manual(current_account(), grant_id, args["reason"])
